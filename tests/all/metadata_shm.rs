//! The agent metadata read from the provider's shared-memory file, when no provider library
//! is loaded: a file written here with the agent's layout (built from `libc` types, as the
//! agent's C++ declares it: a process-shared mutex, a `bool`, `agent_metadata_t`, the
//! groups count and 128 inline groups of 256 bytes) below the working directory, as the
//! agent keeps it below its home.
//!
//! One test function: the working directory is the process's.

use std::os::raw::c_char;
use std::path::Path;

use syscollector::ffi::metadata::{self, Found, SHARED_FILE};

#[repr(C)]
struct AgentMetadataT {
    agent_id: [c_char; 256],
    agent_name: [c_char; 256],
    agent_version: [c_char; 256],
    architecture: [c_char; 256],
    hostname: [c_char; 256],
    os_name: [c_char; 256],
    os_type: [c_char; 256],
    os_platform: [c_char; 256],
    os_version: [c_char; 256],
    groups: *mut *mut c_char,
    groups_count: libc::size_t,
}

#[repr(C)]
struct Shared {
    mutex: libc::pthread_mutex_t,
    has_metadata: bool,
    base_metadata: AgentMetadataT,
    groups_count: libc::size_t,
    groups: [[c_char; 256]; 128],
}

fn put(dst: &mut [c_char; 256], s: &str) {
    for (d, b) in dst.iter_mut().zip(s.bytes().take(255)) {
        *d = b as c_char;
    }
}

/// A filled shared block, its mutex initialised process-shared as the agent does.
fn shared(has: bool, groups: &[&str]) -> Box<Shared> {
    // SAFETY: all-zero is a valid value for every field (the pointer is null).
    let mut s: Box<Shared> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: standard initialisation of a process-shared mutex in owned memory.
    unsafe {
        let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
        libc::pthread_mutexattr_init(&mut attr);
        libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
        libc::pthread_mutex_init(&mut s.mutex, &attr);
        libc::pthread_mutexattr_destroy(&mut attr);
    }
    s.has_metadata = has;
    let m = &mut s.base_metadata;
    put(&mut m.agent_id, "007");
    put(&mut m.agent_name, "shm-agent");
    put(&mut m.agent_version, "v5.0.0");
    put(&mut m.architecture, "aarch64");
    put(&mut m.hostname, "shm-host");
    put(&mut m.os_name, "Ubuntu");
    put(&mut m.os_type, "linux");
    put(&mut m.os_platform, "ubuntu");
    put(&mut m.os_version, "24.04");
    // Another process's pointer: must never be followed.
    m.groups = 0xdead_0000 as *mut *mut c_char;
    m.groups_count = 3;
    s.groups_count = groups.len();
    for (slot, g) in s.groups.iter_mut().zip(groups) {
        put(slot, g);
    }
    s
}

fn bytes(s: &Shared) -> Vec<u8> {
    // SAFETY: reading an initialised value as its bytes.
    unsafe {
        std::slice::from_raw_parts(
            (s as *const Shared).cast::<u8>(),
            std::mem::size_of::<Shared>(),
        )
    }
    .to_vec()
}

fn write(s: &Shared) {
    std::fs::write(SHARED_FILE, bytes(s)).unwrap();
}

#[test]
fn shared_memory_file_fallback() {
    // It changes the working directory, which every test of this binary shares.
    if !crate::helpers::alone_in_child("metadata_shm::shared_memory_file_fallback") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();

    // No provider loaded, no file: nothing, and no session.
    assert_eq!(metadata::find(), Found::Absent);
    assert_eq!(metadata::current(), None);

    std::fs::create_dir_all("var/run").unwrap();
    // The file exists but agent-info has not filled it yet.
    write(&shared(false, &["default"]));
    assert_eq!(metadata::find(), Found::NotYet);
    assert_eq!(metadata::current(), None);

    // Filled: every field, the groups from the inline table.
    write(&shared(true, &["default", "web servers"]));
    let m = metadata::current().expect("metadata from the shared-memory file");
    assert_eq!(m.agent_id, "007");
    assert_eq!(m.agent_name, "shm-agent");
    assert_eq!(m.agent_version, "v5.0.0");
    assert_eq!(m.architecture, "aarch64");
    assert_eq!(m.hostname, "shm-host");
    assert_eq!(m.os_name, "Ubuntu");
    assert_eq!(m.os_type, "linux");
    assert_eq!(m.os_platform, "ubuntu");
    assert_eq!(m.os_version, "24.04");
    assert_eq!(m.groups, vec!["default", "web servers"]);

    // Metadata without groups: found, but no session (the reference waits for the groups).
    write(&shared(true, &[]));
    match metadata::find() {
        Found::Metadata(m) => {
            assert_eq!(m.agent_id, "007");
            assert!(m.groups.is_empty());
        }
        other => panic!("expected metadata, got {other:?}"),
    }
    assert_eq!(metadata::current(), None);

    // A groups count beyond the table is capped at its 128 entries.
    let mut s = shared(true, &["g"; 128]);
    s.groups_count = 1 << 40;
    write(&s);
    assert_eq!(metadata::current().unwrap().groups.len(), 128);

    // The writer holds the mutex (mid-update): not read, and no wait on the lock.
    let mut s = shared(true, &["default"]);
    // SAFETY: the mutex was initialised above; locked and unlocked in this thread.
    assert_eq!(unsafe { libc::pthread_mutex_lock(&mut s.mutex) }, 0);
    write(&s);
    assert_eq!(metadata::find(), Found::NotYet);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::pthread_mutex_unlock(&mut s.mutex) }, 0);
    write(&s);
    assert!(matches!(metadata::find(), Found::Metadata(_)));

    // A file of another size (another layout, a truncated file) is refused.
    let good = bytes(&shared(true, &["default"]));
    for len in [good.len() - 1, good.len() + 1, 0] {
        let mut b = good.clone();
        b.resize(len, 0);
        std::fs::write(SHARED_FILE, &b).unwrap();
        assert_eq!(metadata::find(), Found::Absent, "a file of {len} bytes");
    }

    // A FIFO in its place neither blocks nor counts.
    std::fs::remove_file(SHARED_FILE).unwrap();
    let fifo = std::ffi::CString::new(SHARED_FILE).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    assert_eq!(metadata::find(), Found::Absent);
    assert!(Path::new(SHARED_FILE).exists());
}
