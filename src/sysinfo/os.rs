//! os collector
use super::{CollectError, LinuxSysInfo};
use crate::Row;
pub fn collect(_p: &LinuxSysInfo) -> Result<Row, CollectError> {
    Err(CollectError::Unsupported("os"))
}
