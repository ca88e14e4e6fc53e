//! The network collector (not written yet: reports itself unavailable, so the module leaves
//! its tables untouched).

use super::{CollectError, LinuxSysInfo, NetworkRows};

/// Rows of the three network tables.
pub fn collect(_p: &LinuxSysInfo) -> Result<NetworkRows, CollectError> {
    Err(CollectError::Unsupported("network"))
}
