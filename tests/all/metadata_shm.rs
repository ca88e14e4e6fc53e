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

// ---- The beta providers (beta1 … rc1, issue 12 point 7) ----

/// The beta providers' `agent_metadata_t`, as `src/shared_modules/agent_metadata/include/
/// metadata_provider.h` declares it from beta1 on: nine strings, then the cluster name and
/// node, then the groups.
#[repr(C)]
struct AgentMetadataBetaT {
    strings: [[c_char; 256]; 9],
    cluster_name: [c_char; 256],
    cluster_node: [c_char; 256],
    groups: *mut *mut c_char,
    groups_count: libc::size_t,
}

/// The beta providers' shared block (`SharedMetadata` in `metadata_provider.cpp`): a
/// `std::atomic<bool> updating`, `bool has_metadata`, the metadata, the groups count, 128
/// groups of 256 bytes.
#[repr(C)]
struct SharedBeta {
    updating: u8,
    has_metadata: u8,
    base: AgentMetadataBetaT,
    groups_count: libc::size_t,
    groups: [[c_char; 256]; 128],
}

fn shared_beta(updating: bool, has: bool, groups: &[&str]) -> Box<SharedBeta> {
    // SAFETY: all-zero is a valid value for every field (the pointer is null).
    let mut s: Box<SharedBeta> = Box::new(unsafe { std::mem::zeroed() });
    s.updating = u8::from(updating);
    s.has_metadata = u8::from(has);
    for (slot, v) in s.base.strings.iter_mut().zip([
        "042",
        "beta-agent",
        "v5.0.0",
        "x86_64",
        "beta-host",
        "Debian GNU/Linux",
        "linux",
        "debian",
        "13",
    ]) {
        put(slot, v);
    }
    put(&mut s.base.cluster_name, "wazuh");
    put(&mut s.base.cluster_node, "master-node");
    s.base.groups = 0xbeef_0000 as *mut *mut c_char;
    s.base.groups_count = 9;
    s.groups_count = groups.len();
    for (slot, g) in s.groups.iter_mut().zip(groups) {
        put(slot, g);
    }
    s
}

fn beta_bytes(s: &SharedBeta) -> Vec<u8> {
    // SAFETY: reading an initialised value as its bytes.
    unsafe {
        std::slice::from_raw_parts(
            (s as *const SharedBeta).cast::<u8>(),
            std::mem::size_of::<SharedBeta>(),
        )
    }
    .to_vec()
}

#[test]
fn beta_shared_memory_layout() {
    if !crate::helpers::alone_in_child("metadata_shm::beta_shared_memory_layout") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    std::fs::create_dir_all("var/run").unwrap();
    // The two layouts differ in size, which is how the file tells which one it is.
    assert_ne!(
        std::mem::size_of::<SharedBeta>(),
        std::mem::size_of::<Shared>()
    );
    assert_eq!(std::mem::size_of::<SharedBeta>(), 35_616);

    std::fs::write(
        SHARED_FILE,
        beta_bytes(&shared_beta(false, false, &["default"])),
    )
    .unwrap();
    assert_eq!(metadata::find(), Found::NotYet);

    std::fs::write(
        SHARED_FILE,
        beta_bytes(&shared_beta(false, true, &["default", "db"])),
    )
    .unwrap();
    let m = metadata::current().expect("metadata from the beta file");
    assert_eq!(m.agent_id, "042");
    assert_eq!(m.agent_name, "beta-agent");
    assert_eq!(m.agent_version, "v5.0.0");
    assert_eq!(m.architecture, "x86_64");
    assert_eq!(m.hostname, "beta-host");
    assert_eq!(m.os_name, "Debian GNU/Linux");
    assert_eq!(m.os_type, "linux");
    assert_eq!(m.os_platform, "debian");
    assert_eq!(m.os_version, "13");
    assert_eq!(m.cluster_name.as_deref(), Some("wazuh"));
    assert_eq!(m.cluster_node.as_deref(), Some("master-node"));
    assert_eq!(m.groups, vec!["default", "db"]);

    // The agent is rewriting the block: not read now.
    std::fs::write(
        SHARED_FILE,
        beta_bytes(&shared_beta(true, true, &["default"])),
    )
    .unwrap();
    assert_eq!(metadata::find(), Found::NotYet);

    // An alpha0 file next to it still reads as alpha0 (no cluster).
    write(&shared(true, &["default"]));
    let m = metadata::current().unwrap();
    assert_eq!(m.agent_id, "007");
    assert_eq!(m.cluster_name, None);

    // Sizes near the beta one are refused.
    let good = beta_bytes(&shared_beta(false, true, &["default"]));
    for len in [good.len() - 8, good.len() + 8] {
        let mut b = good.clone();
        b.resize(len, 0);
        std::fs::write(SHARED_FILE, &b).unwrap();
        assert_eq!(metadata::find(), Found::Absent, "a file of {len} bytes");
    }
}

/// The C stand-in provider (c_tests/metadata_provider.c) built as the betas'
/// libagent_metadata.so, once per process.
fn beta_provider() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir =
        std::env::temp_dir().join(format!("syscollector-beta-provider-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("libagent_metadata.so");
    let status = std::process::Command::new("cc")
        .args([
            "-Wall",
            "-Wextra",
            "-Werror",
            "-O1",
            "-shared",
            "-fPIC",
            "-DAGENT_METADATA_BETA",
            "-Wl,-soname,libagent_metadata.so",
            "-o",
        ])
        .arg(&lib)
        .arg(root.join("c_tests/metadata_provider.c"))
        .arg("-lpthread")
        .status()
        .expect("a C compiler");
    assert!(status.success(), "the beta provider does not compile");
    lib
}

#[test]
fn beta_provider_library_and_its_file() {
    // Loads a library into the process and changes the working directory.
    if !crate::helpers::alone_in_child("metadata_shm::beta_provider_library_and_its_file") {
        return;
    }
    let lib = beta_provider();
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    std::fs::create_dir_all("var/run").unwrap();
    let name = std::ffi::CString::new(lib.to_string_lossy().as_bytes()).unwrap();
    // Loaded locally, as libagent_info.so's dependency is in wazuh-modulesd.
    // SAFETY: a NUL-terminated path; the library's constructors are the C stand-in's.
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    assert!(!handle.is_null(), "dlopen {}", lib.display());
    // SAFETY: the global scope does not see a library loaded with RTLD_LOCAL.
    assert!(
        unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"metadata_provider_get".as_ptr()) }.is_null()
    );
    // SAFETY: dlsym on a live handle.
    let update = unsafe { libc::dlsym(handle, c"metadata_provider_update".as_ptr()) };
    assert!(!update.is_null());
    type UpdateFn = unsafe extern "C" fn(*const AgentMetadataBetaT) -> libc::c_int;
    // SAFETY: the provider's documented signature.
    let update: UpdateFn = unsafe { std::mem::transmute::<*mut libc::c_void, UpdateFn>(update) };

    // Loaded, not filled yet.
    assert_eq!(metadata::find(), Found::NotYet);

    let mut names: Vec<std::ffi::CString> = ["default", "web"]
        .iter()
        .map(|g| std::ffi::CString::new(*g).unwrap())
        .collect();
    let mut ptrs: Vec<*mut c_char> = names
        .iter_mut()
        .map(|c| c.as_ptr() as *mut c_char)
        .collect();
    // SAFETY: all-zero is a valid agent_metadata_t.
    let mut m: AgentMetadataBetaT = unsafe { std::mem::zeroed() };
    for (slot, v) in m.strings.iter_mut().zip([
        "042",
        "beta-agent",
        "v5.0.0",
        "x86_64",
        "beta-host",
        "Debian GNU/Linux",
        "linux",
        "debian",
        "13",
    ]) {
        put(slot, v);
    }
    put(&mut m.cluster_name, "wazuh");
    put(&mut m.cluster_node, "worker-2");
    m.groups = ptrs.as_mut_ptr();
    m.groups_count = ptrs.len();
    // SAFETY: a filled agent_metadata_t whose group pointers outlive the call.
    assert_eq!(unsafe { update(&m) }, 0);

    // Through the loaded library (found by name, its layout told by where it lives).
    let got = metadata::current().expect("metadata from the beta provider");
    assert_eq!(got.agent_id, "042");
    assert_eq!(got.agent_name, "beta-agent");
    assert_eq!(got.os_version, "13");
    assert_eq!(got.cluster_name.as_deref(), Some("wazuh"));
    assert_eq!(got.cluster_node.as_deref(), Some("worker-2"));
    assert_eq!(got.groups, vec!["default", "web"]);

    // The file the C provider wrote, read on its own as a host without the library would.
    match metadata::from_shared_file(Path::new(SHARED_FILE)) {
        Found::Metadata(f) => assert_eq!(*f, got),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::metadata(SHARED_FILE).unwrap().len(),
        std::mem::size_of::<SharedBeta>() as u64
    );
}
