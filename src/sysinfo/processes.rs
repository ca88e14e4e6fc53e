//! processes collector
use super::{CollectError, LinuxSysInfo};
use crate::Row;
pub fn collect(_p: &LinuxSysInfo, _each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    Err(CollectError::Unsupported("processes"))
}
