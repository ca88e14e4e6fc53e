//! The panic boundary and argument checks every export goes through.
//!
//! A panic must never unwind into the host (that aborts wazuh-modulesd) and a bad pointer
//! from the host must never be dereferenced blindly. [`guard`] runs an export's body,
//! turns a panic into a logged error and the export's safe default; [`export`] does the
//! same for a body that fails with an [`ExportError`], which is logged here, once, and
//! becomes the export's C return value. The helpers read C strings without assuming they
//! are UTF-8, and [`check_difference`] rejects a difference the manager could not store.

use std::ffi::{CStr, OsStr};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use super::host_log;
use crate::LogLevel;

/// Runs `body`; on panic logs `"<export>: internal error: <message>"` and returns `default`.
pub fn guard<T>(export: &'static str, default: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            // Logging itself must not panic again here: host_log only formats strings.
            let _ = catch_unwind(|| {
                host_log(LogLevel::Error, &format!("{export}: internal error: {msg}"))
            });
            default
        }
    }
}

/// Why an export did nothing: the host's arguments or the module's state.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("NULL argument")]
    NullArgument,
    #[error("NULL or empty buffer rejected")]
    EmptyBuffer,
    #[error("invalid mode {0}")]
    InvalidMode(i32),
    #[error("invalid operation {0}")]
    InvalidOperation(i32),
    #[error("no indices given")]
    NoIndices,
    #[error("every index is NULL")]
    EveryIndexNull,
    #[error("inventory synchronization is not initialized")]
    SyncNotInitialized,
    /// `syscollector_persist_diff` with an id, index or document the manager cannot store.
    #[error("{0}; the difference is not queued")]
    BadDifference(&'static str),
    /// `syscollector_init_sync` could not set synchronisation up.
    #[error("{0}; synchronization stays disabled")]
    SyncDisabled(&'static str),
}

impl ExportError {
    /// The level the error is logged at: a host that calls sync exports before setting
    /// synchronisation up is warned; bad arguments are errors.
    pub fn level(&self) -> LogLevel {
        match self {
            ExportError::SyncNotInitialized => LogLevel::Warning,
            _ => LogLevel::Error,
        }
    }
}

/// As [`guard`], for a body that may fail: the error is logged as `"<export>: <error>"`
/// and the export returns `default`.
pub fn export<T>(
    name: &'static str,
    default: T,
    body: impl FnOnce() -> Result<T, ExportError>,
) -> T {
    match guard(name, None, || Some(body())) {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            host_log(e.level(), &format!("{name}: {e}"));
            default
        }
        None => default,
    }
}

/// Checks a difference from the host before it is queued: a non-empty id and index, and a
/// document that is a JSON object (the manager stores documents, not `null` or numbers).
pub fn check_difference(id: &str, index: &str, data: &str) -> Result<(), ExportError> {
    if id.is_empty() {
        return Err(ExportError::BadDifference("empty id"));
    }
    if index.is_empty() {
        return Err(ExportError::BadDifference("empty index"));
    }
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(ExportError::BadDifference("data is not a JSON object")),
        Err(_) => Err(ExportError::BadDifference("data is not valid JSON")),
    }
}

/// The bytes of a NUL-terminated C string, or `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the returned slice.
pub unsafe fn c_bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_bytes())
    }
}

/// A C string as text; invalid UTF-8 is replaced (for names and JSON, where replacement
/// yields a clear error later rather than a crash now).
///
/// # Safety
/// As [`c_bytes`].
pub unsafe fn c_text(p: *const c_char) -> Option<String> {
    c_bytes(p).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A C string as a filesystem path; any bytes are valid on Unix. Empty strings are `None`.
///
/// # Safety
/// As [`c_bytes`].
pub unsafe fn c_path(p: *const c_char) -> Option<PathBuf> {
    c_bytes(p)
        .filter(|b| !b.is_empty())
        .map(|b| PathBuf::from(OsStr::from_bytes(b)))
}

/// `s` as a C string; interior NUL bytes (impossible in JSON, possible in odd log text)
/// are replaced by spaces instead of failing.
pub fn to_cstring(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s).unwrap_or_else(|_| {
        let cleaned: Vec<u8> = s.bytes().map(|b| if b == 0 { b' ' } else { b }).collect();
        // No NUL bytes remain, so this cannot fail; fall back to an empty string anyway.
        std::ffi::CString::new(cleaned).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_panic_into_default() {
        let v = guard("test", 7, || -> i32 { panic!("boom") });
        assert_eq!(v, 7);
        assert_eq!(guard("test", 7, || 3), 3);
    }

    #[test]
    fn differences_need_an_id_an_index_and_a_json_object() {
        assert!(check_difference("a", "wazuh-states-inventory-os", "{\"x\":1}").is_ok());
        for (id, index, data) in [
            ("", "i", "{}"),
            ("a", "", "{}"),
            ("a", "i", "null"),
            ("a", "i", "[1]"),
            ("a", "i", "\"s\""),
            ("a", "i", "{"),
            ("a", "i", "{} trailing"),
        ] {
            assert!(
                matches!(
                    check_difference(id, index, data),
                    Err(ExportError::BadDifference(_))
                ),
                "{id:?} {index:?} {data:?}"
            );
        }
    }

    #[test]
    fn c_strings() -> Result<(), Box<dyn std::error::Error>> {
        let s = std::ffi::CString::new(vec![0xff, b'a'])?;
        unsafe {
            assert_eq!(c_text(s.as_ptr()).as_deref(), Some("\u{fffd}a"));
            let path = c_path(s.as_ptr()).ok_or("no path")?;
            assert_eq!(path.as_os_str().as_bytes(), &[0xff, b'a']);
            assert!(c_text(std::ptr::null()).is_none());
        }
        assert_eq!(to_cstring("a\0b").as_bytes(), b"a b");
        Ok(())
    }
}
