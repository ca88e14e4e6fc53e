//! The browser_extensions collector (not written yet: reports itself unavailable, so the module leaves
//! its table untouched).

use super::{CollectError, LinuxSysInfo};
use crate::Row;

/// Rows of the browser_extensions table(s).
pub fn collect(_p: &LinuxSysInfo) -> Result<Vec<Row>, CollectError> {
    Err(CollectError::Unsupported("browser_extensions"))
}
