//! The agent facts a sync `Start` carries, from the host when it provides them.
//!
//! Inside the Wazuh agent, `metadata_provider_get` (exported by the agent's shared code)
//! returns the agent id, name, version, groups and OS facts. The library looks that symbol
//! up in the running process; when it is absent (a host that is not the agent, tests) it
//! fills what it knows itself: hostname, OS and architecture. (The command line builds its
//! own metadata, from the tree it reads.)

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use crate::sync_protocol::AgentMetadata;
use crate::sysinfo::{LinuxSysInfo, SysInfo};

/// The host's `agent_metadata_t`.
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

type GetFn = unsafe extern "C" fn(*mut RawMetadata) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut RawMetadata);

fn lookup(name: &CStr) -> *mut std::ffi::c_void {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the process's symbol tables.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

fn field(f: &[c_char; 256]) -> String {
    let bytes: Vec<u8> = f
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The host's metadata; `Some(None)` when the host has a provider that has no metadata yet,
/// `None` when the process has no provider at all.
fn from_host() -> Option<Option<AgentMetadata>> {
    let get = lookup(c"metadata_provider_get");
    if get.is_null() {
        return None;
    }
    // SAFETY: the symbol has the provider's documented signature.
    let get: GetFn = unsafe { std::mem::transmute::<*mut std::ffi::c_void, GetFn>(get) };
    // SAFETY: an all-zero agent_metadata_t is a valid "empty" value for the provider to fill.
    let mut raw: RawMetadata = unsafe { std::mem::zeroed() };
    // SAFETY: `raw` is a properly laid out, writable agent_metadata_t.
    if unsafe { get(&mut raw) } != 0 {
        return Some(None);
    }
    let mut groups = Vec::new();
    if !raw.groups.is_null() {
        for i in 0..raw.groups_count {
            // SAFETY: the provider returns `groups_count` pointers to C strings.
            let g = unsafe { *raw.groups.add(i) };
            if !g.is_null() {
                // SAFETY: NUL-terminated string owned by the provider until freed below.
                groups.push(unsafe { CStr::from_ptr(g) }.to_string_lossy().into_owned());
            }
        }
    }
    let meta = AgentMetadata {
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
    };
    let free = lookup(c"metadata_provider_free_metadata");
    if !free.is_null() {
        // SAFETY: documented signature; frees what `get` allocated.
        let free: FreeFn = unsafe { std::mem::transmute::<*mut std::ffi::c_void, FreeFn>(free) };
        // SAFETY: `raw` was filled by the provider's get.
        unsafe { free(&mut raw) };
    }
    Some(Some(meta))
}

/// What the library knows about its host without the agent.
fn local() -> AgentMetadata {
    let os = LinuxSysInfo::default().os().unwrap_or_default();
    let get = |k: &str| {
        os.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    AgentMetadata {
        architecture: get("architecture"),
        hostname: get("hostname"),
        os_name: get("os_name"),
        os_platform: get("os_platform"),
        os_type: get("os_type"),
        os_version: get("os_version"),
        ..AgentMetadata::default()
    }
}

/// The metadata for a `Start`: the host's when it has a provider, else [`local`].
pub fn current() -> Option<AgentMetadata> {
    match from_host() {
        Some(host) => host,
        None => Some(local()),
    }
}
