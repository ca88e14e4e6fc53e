//! The agent facts a sync `Start` carries, from the agent's metadata provider.
//!
//! Inside the Wazuh agent the provider (`metadata_provider_get` and
//! `metadata_provider_free_metadata`) lives in `libagent_sync_protocol.so`. wazuh-modulesd
//! does not link that library: it is a dependency of `libagent_info.so`, which the daemon
//! opens with `dlopen(RTLD_LAZY)`, so the provider sits in a local symbol scope that
//! `dlsym(RTLD_DEFAULT, ...)` never searches. The library therefore asks the dynamic loader
//! for a handle to the already loaded `libagent_sync_protocol.so` (`RTLD_NOLOAD`: by its
//! name, next to this library, or below the agent's `lib/`), then the global scope, and, when
//! no provider is loaded at all, reads the provider's shared-memory file
//! (`var/run/.wazuh_agent_metadata` below the daemon's working directory, the agent's home)
//! itself, read-only and without taking its process-shared lock.
//!
//! The beta hosts (beta1 … rc1) moved the provider to `libagent_metadata.so` (a dependency
//! of `libagent_info.so` and of their `libagent_sync_protocol.so`) and changed its layout:
//! `agent_metadata_t` gained `cluster_name` and `cluster_node` (256 bytes each, after
//! `os_version`), and the shared-memory file starts with an atomic `updating` flag instead
//! of the mutex. Both providers export the same names, so the layout is told by where the
//! symbol lives (`dladdr`: `libagent_metadata.so` is the beta one, anything else the alpha0
//! one), and `metadata_provider_get` is always handed a buffer of the larger layout, so that
//! a wrong guess can never make it write past it. The shared-memory file's layout is told by
//! its size (the two differ). An alpha0 provider gives no cluster (`None`); a beta one gives
//! its strings, empty until the agent's handshake filled them.
//!
//! In library mode a session is refused without metadata, or without groups, as the
//! reference agent refuses it (same warnings); the command-line tools build
//! their own metadata from the tree they read.

use std::ffi::{c_void, CStr, CString};
use std::os::raw::{c_char, c_int};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sync_protocol::AgentMetadata;
use crate::LogLevel;

/// The provider's `agent_metadata_t`: nine strings of 256 bytes, then the groups.
#[repr(C)]
struct RawMetadata {
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
    groups_count: usize,
}

/// The beta providers' `agent_metadata_t`: the alpha0 strings, the cluster name and node,
/// then the groups.
#[repr(C)]
struct RawMetadataBeta {
    agent_id: [c_char; 256],
    agent_name: [c_char; 256],
    agent_version: [c_char; 256],
    architecture: [c_char; 256],
    hostname: [c_char; 256],
    os_name: [c_char; 256],
    os_type: [c_char; 256],
    os_platform: [c_char; 256],
    os_version: [c_char; 256],
    cluster_name: [c_char; 256],
    cluster_node: [c_char; 256],
    groups: *mut *mut c_char,
    groups_count: usize,
}

/// Which provider's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// v5.0.0-alpha0's, in `libagent_sync_protocol.so`.
    Alpha0,
    /// beta1 … rc1's, in `libagent_metadata.so`.
    Beta,
}

/// How many groups the provider's shared memory holds at most.
const SHARED_GROUPS: usize = 128;

/// The provider's shared-memory file, byte for byte: its process-shared mutex, whether the
/// agent has filled it, the metadata (whose `groups` pointer belongs to another process and
/// is never followed), then the groups inline. `has_metadata` is a C++ `bool` (one byte),
/// kept as `u8` so that no byte read from the file is ever taken as a Rust `bool`.
#[repr(C)]
pub struct SharedMetadata {
    mutex: libc::pthread_mutex_t,
    has_metadata: u8,
    base_metadata: RawMetadata,
    groups_count: usize,
    groups: [[c_char; 256]; SHARED_GROUPS],
}

/// The beta providers' shared-memory file, byte for byte: an atomic `bool` set while the
/// agent rewrites the block, whether the agent has filled it, the metadata (its `groups`
/// pointer never followed), then the groups inline. Both flags are one-byte C++ `bool`s,
/// kept as `u8`.
#[repr(C)]
pub struct SharedMetadataBeta {
    updating: u8,
    has_metadata: u8,
    base_metadata: RawMetadataBeta,
    groups_count: usize,
    groups: [[c_char; 256]; SHARED_GROUPS],
}

/// Plain bytes: any bit pattern is a valid value (integers, byte arrays, raw pointers that
/// are never followed, `pthread_mutex_t`).
///
/// # Safety
/// Only for `repr(C)` types made of such fields.
unsafe trait Plain: Sized {}
// SAFETY: integers, byte arrays, a raw pointer and pthread_mutex_t (plain bytes).
unsafe impl Plain for SharedMetadata {}
// SAFETY: integers, byte arrays and a raw pointer.
unsafe impl Plain for SharedMetadataBeta {}

/// The shared-memory file, relative to the daemon's working directory (the agent's home).
pub const SHARED_FILE: &str = "var/run/.wazuh_agent_metadata";

/// The libraries that hold (or depend on) the provider in the agent: the beta hosts' own
/// library first, then alpha0's (which on a beta host reaches the beta provider through
/// its dependency, which `dladdr` then tells).
const PROVIDER_LIBRARIES: [&str; 2] = ["libagent_metadata.so", "libagent_sync_protocol.so"];

/// The beta provider's library, by file name.
const BETA_PROVIDER: &str = "libagent_metadata.so";

/// The reference's warning when there is no metadata.
pub const NOT_AVAILABLE: &str = "Metadata not available from provider. Agent-info may not be \
     initialized yet. Cannot proceed with synchronization.";

/// The reference's warning when the metadata has no groups.
pub const NO_GROUPS: &str = "No groups available in metadata. Waiting for the server to \
     synchronize the groups. Cannot proceed with synchronization.";

type GetFn = unsafe extern "C" fn(*mut RawMetadata) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut RawMetadata);

/// What one place that may hold the provider answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// The agent's metadata.
    Metadata(Box<AgentMetadata>),
    /// A provider is there, but the agent has not filled it yet.
    NotYet,
    /// Nothing there.
    Absent,
}

fn field(f: &[c_char; 256]) -> String {
    let bytes: Vec<u8> = f
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn scalars(raw: &RawMetadata, groups: Vec<String>) -> AgentMetadata {
    AgentMetadata {
        architecture: field(&raw.architecture),
        hostname: field(&raw.hostname),
        os_name: field(&raw.os_name),
        os_platform: field(&raw.os_platform),
        os_type: field(&raw.os_type),
        os_version: field(&raw.os_version),
        agent_version: field(&raw.agent_version),
        agent_name: field(&raw.agent_name),
        agent_id: field(&raw.agent_id),
        groups,
        cluster_name: None,
        cluster_node: None,
    }
}

fn scalars_beta(raw: &RawMetadataBeta, groups: Vec<String>) -> AgentMetadata {
    AgentMetadata {
        architecture: field(&raw.architecture),
        hostname: field(&raw.hostname),
        os_name: field(&raw.os_name),
        os_platform: field(&raw.os_platform),
        os_type: field(&raw.os_type),
        os_version: field(&raw.os_version),
        agent_version: field(&raw.agent_version),
        agent_name: field(&raw.agent_name),
        agent_id: field(&raw.agent_id),
        groups,
        cluster_name: Some(field(&raw.cluster_name)),
        cluster_node: Some(field(&raw.cluster_node)),
    }
}

/// The provider layout of the object that defines `symbol`, by its file name.
fn layout_of(symbol: *mut c_void) -> Layout {
    // SAFETY: an all-zero Dl_info is a valid output buffer.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables.
    let ok = unsafe { libc::dladdr(symbol as *const c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return Layout::Alpha0;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let path = unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy();
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.starts_with(BETA_PROVIDER) {
        Layout::Beta
    } else {
        Layout::Alpha0
    }
}

/// Calls a provider found at `get` (and its `free`, when there is one).
///
/// # Safety
/// `get` and `free` must be the provider's functions, with its documented signatures.
unsafe fn call_provider(get: *mut c_void, free: *mut c_void) -> Found {
    let layout = layout_of(get);
    // SAFETY: the caller vouches for the signature.
    let get: GetFn = unsafe { std::mem::transmute::<*mut c_void, GetFn>(get) };
    // The larger layout's room whatever the layout: a provider of the other one cannot
    // write past it. All-zero is the empty value the provider fills.
    // SAFETY: integers, byte arrays and a null pointer.
    let mut room: Box<RawMetadataBeta> = Box::new(unsafe { std::mem::zeroed() });
    // Every access below goes through these two views of the room, never the box itself.
    let beta_view: *mut RawMetadataBeta = &mut *room;
    let ptr = beta_view.cast::<RawMetadata>();
    // SAFETY: `ptr` is writable, aligned for both layouts and large enough for either.
    if unsafe { get(ptr) } != 0 {
        return Found::NotYet;
    }
    // SAFETY: both views cover the same initialized room (the alpha0 one is the shorter).
    let (groups_ptr, groups_count) = unsafe {
        match layout {
            Layout::Beta => ((*beta_view).groups, (*beta_view).groups_count),
            Layout::Alpha0 => ((*ptr).groups, (*ptr).groups_count),
        }
    };
    let mut groups = Vec::new();
    if !groups_ptr.is_null() {
        for i in 0..groups_count {
            // SAFETY: the provider returns `groups_count` pointers to C strings.
            let g = unsafe { *groups_ptr.add(i) };
            if !g.is_null() {
                // SAFETY: a NUL-terminated string owned by the provider until freed below.
                groups.push(unsafe { CStr::from_ptr(g) }.to_string_lossy().into_owned());
            }
        }
    }
    // SAFETY: as above.
    let meta = unsafe {
        match layout {
            Layout::Beta => scalars_beta(&*beta_view, groups),
            Layout::Alpha0 => scalars(&*ptr, groups),
        }
    };
    if !free.is_null() {
        // SAFETY: the provider's documented signature.
        let free: FreeFn = unsafe { std::mem::transmute::<*mut c_void, FreeFn>(free) };
        // SAFETY: the room was filled by the provider's get; free releases what get allocated.
        unsafe { free(ptr) };
    }
    Found::Metadata(Box::new(meta))
}

/// The directory this library was loaded from (the agent's `lib/`, `$ORIGIN`).
fn own_directory() -> Option<PathBuf> {
    // SAFETY: an all-zero Dl_info is a valid output buffer.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables for an address of this object.
    let ok = unsafe { libc::dladdr(own_directory as *const c_void, &mut info) };
    if ok == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let path = unsafe { CStr::from_ptr(info.dli_fname) };
    let path =
        Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path.to_bytes()));
    path.parent().map(Path::to_path_buf)
}

/// Where the agent keeps its provider libraries, in the order they are tried.
fn provider_names() -> Vec<CString> {
    let dir = own_directory();
    let mut names = Vec::new();
    for lib in PROVIDER_LIBRARIES {
        names.push(lib.to_string());
        if let Some(dir) = &dir {
            names.push(dir.join(lib).to_string_lossy().into_owned());
        }
        names.push(format!("lib/{lib}"));
    }
    names
        .into_iter()
        .filter_map(|n| CString::new(n).ok())
        .collect()
}

/// The provider of an already loaded `libagent_metadata.so` or `libagent_sync_protocol.so`,
/// whatever symbol scope it was loaded in. Never loads anything.
fn from_loaded_library() -> Found {
    for name in provider_names() {
        // SAFETY: RTLD_NOLOAD only returns a new reference to an object already loaded.
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
        if handle.is_null() {
            continue;
        }
        // SAFETY: dlsym on a live handle only reads its symbol table.
        let get = unsafe { libc::dlsym(handle, c"metadata_provider_get".as_ptr()) };
        // SAFETY: as above.
        let free = unsafe { libc::dlsym(handle, c"metadata_provider_free_metadata".as_ptr()) };
        let found = if get.is_null() {
            Found::Absent
        } else {
            // SAFETY: these are the provider's exported functions; the handle keeps the
            // library loaded while they run.
            unsafe { call_provider(get, free) }
        };
        // SAFETY: gives back the reference this dlopen took; the library stays loaded for
        // whoever loaded it.
        unsafe { libc::dlclose(handle) };
        if found != Found::Absent {
            return found;
        }
    }
    Found::Absent
}

/// A provider in the process's global symbol scope (a host that links it).
fn from_global_scope() -> Found {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the process's symbol tables.
    let get = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"metadata_provider_get".as_ptr()) };
    if get.is_null() {
        return Found::Absent;
    }
    // SAFETY: as above.
    let free = unsafe {
        libc::dlsym(
            libc::RTLD_DEFAULT,
            c"metadata_provider_free_metadata".as_ptr(),
        )
    };
    // SAFETY: the process exports the provider under its documented names.
    unsafe { call_provider(get, free) }
}

/// A copy of the shared-memory file; `Err` when it cannot be used (logged at debug).
fn read_shared_copy<T: Plain>(file: &std::fs::File) -> std::io::Result<Box<T>> {
    // SAFETY: T is Plain: valid for any bit pattern, all-zero included.
    let mut copy: Box<T> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: the box holds exactly size_of::<T>() initialized bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut *copy as *mut T).cast::<u8>(),
            std::mem::size_of::<T>(),
        )
    };
    file.read_exact_at(bytes, 0)?;
    Ok(copy)
}

fn as_bytes<T: Plain>(s: &T) -> &[u8] {
    // SAFETY: a fully initialized Plain value read as its bytes.
    unsafe { std::slice::from_raw_parts((s as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// One layout of the shared-memory file, as far as reading it goes.
trait SharedLayout: Plain {
    /// The writer was in the middle of an update in this copy.
    fn busy(&self) -> bool;
    fn filled(&self) -> bool;
    fn metadata(&self) -> AgentMetadata;
}

impl SharedLayout for SharedMetadata {
    /// The writer held the mutex (glibc keeps the lock word first).
    fn busy(&self) -> bool {
        as_bytes(self)[..4] != [0, 0, 0, 0]
    }
    fn filled(&self) -> bool {
        self.has_metadata != 0
    }
    fn metadata(&self) -> AgentMetadata {
        let count = self.groups_count.min(SHARED_GROUPS);
        scalars(
            &self.base_metadata,
            self.groups[..count].iter().map(field).collect(),
        )
    }
}

impl SharedLayout for SharedMetadataBeta {
    /// The writer's `updating` flag was set.
    fn busy(&self) -> bool {
        self.updating != 0
    }
    fn filled(&self) -> bool {
        self.has_metadata != 0
    }
    fn metadata(&self) -> AgentMetadata {
        let count = self.groups_count.min(SHARED_GROUPS);
        scalars_beta(
            &self.base_metadata,
            self.groups[..count].iter().map(field).collect(),
        )
    }
}

/// How many consistent reads are attempted, and the pause between them.
const SHARED_ATTEMPTS: u32 = 20;
const SHARED_PAUSE: Duration = Duration::from_millis(5);

/// The metadata in the provider's shared-memory file at `path`, read without its lock: the
/// file must have exactly the size of one of the providers' layouts (alpha0's or the betas',
/// which also tells which); two reads in a row must agree and show no update under way
/// (alpha0: the mutex free; beta: the `updating` flag clear), a bounded number of attempts,
/// never a wait on the agent's lock.
pub fn from_shared_file(path: &Path) -> Found {
    let file = match crate::sysinfo::read::open(path) {
        Ok(f) => f,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                super::host_log(
                    LogLevel::Debug,
                    &format!("Agent metadata file {} ignored: {e}", path.display()),
                );
            }
            return Found::Absent;
        }
    };
    let alpha0 = std::mem::size_of::<SharedMetadata>() as u64;
    let beta = std::mem::size_of::<SharedMetadataBeta>() as u64;
    match file.metadata() {
        Ok(m) if m.len() == alpha0 => read_shared::<SharedMetadata>(&file, path),
        Ok(m) if m.len() == beta => read_shared::<SharedMetadataBeta>(&file, path),
        Ok(m) => {
            super::host_log(
                LogLevel::Debug,
                &format!(
                    "Agent metadata file {} ignored: {} bytes, expected {alpha0} (alpha0) or {beta} (beta)",
                    path.display(),
                    m.len()
                ),
            );
            Found::Absent
        }
        Err(e) => {
            super::host_log(
                LogLevel::Debug,
                &format!("Agent metadata file {} ignored: {e}", path.display()),
            );
            Found::Absent
        }
    }
}

/// Reads the shared-memory file `file` (at `path`) in layout `T`.
fn read_shared<T: SharedLayout>(file: &std::fs::File, path: &Path) -> Found {
    for attempt in 0..SHARED_ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(SHARED_PAUSE);
        }
        let (first, second) = match (read_shared_copy::<T>(file), read_shared_copy::<T>(file)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                super::host_log(
                    LogLevel::Debug,
                    &format!("Agent metadata file {} unreadable: {e}", path.display()),
                );
                return Found::Absent;
            }
        };
        if first.busy() || as_bytes(&*first) != as_bytes(&*second) {
            continue;
        }
        if !first.filled() {
            return Found::NotYet;
        }
        return Found::Metadata(Box::new(first.metadata()));
    }
    super::host_log(
        LogLevel::Debug,
        &format!(
            "Agent metadata file {} kept changing while read",
            path.display()
        ),
    );
    Found::NotYet
}

/// Where the agent's metadata is: the loaded provider library, the global scope, then the
/// shared-memory file.
pub fn find() -> Found {
    match from_loaded_library() {
        Found::Absent => {}
        found => return found,
    }
    match from_global_scope() {
        Found::Absent => {}
        found => return found,
    }
    from_shared_file(Path::new(SHARED_FILE))
}

/// The metadata for a `Start` in library mode: the agent's, with its groups; `None` (and
/// the reference's warning, at every attempt) when the agent has none yet, so that no
/// session is opened that the manager could not attribute.
pub fn current() -> Option<AgentMetadata> {
    match find() {
        Found::Metadata(m) if m.groups.is_empty() => {
            super::host_log(LogLevel::Warning, NO_GROUPS);
            None
        }
        Found::Metadata(m) => Some(*m),
        Found::NotYet | Found::Absent => {
            super::host_log(LogLevel::Warning, NOT_AVAILABLE);
            None
        }
    }
}
