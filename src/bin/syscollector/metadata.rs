//! The agent facts a sync `Start` carries when the tool is the agent: what the tree it reads
//! says about itself (hostname, OS, architecture). Inside Wazuh the agent's metadata provider
//! answers instead (`src/ffi/metadata.rs`).

use std::path::Path;

use syscollector::sync_protocol::AgentMetadata;
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::Logger;

/// The metadata of the system below `root`.
pub fn local(root: &Path, log: Logger) -> AgentMetadata {
    let os = LinuxSysInfo::with_root(root, log).os().unwrap_or_default();
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
