//! The packages collector (not written yet: reports itself unavailable, so the module
//! leaves its table untouched).

use super::{CollectError, LinuxSysInfo};
use crate::Row;

/// Every installed package, one row at a time.
pub fn collect(_p: &LinuxSysInfo, _each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    Err(CollectError::Unsupported("packages"))
}
