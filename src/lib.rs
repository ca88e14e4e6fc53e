//! syscollector: the system inventory engine behind `libsyscollector.so`.
//!
//! Data flows one way through the modules below:
//! [`sysinfo`] reads the host → [`dbsync`] finds what changed → [`inventory`] turns changes
//! into the stateless and stateful events → [`sync_protocol`] delivers the stateful ones.
//! [`ffi`] is the C ABI the Wazuh modules daemon loads; nothing else has `extern "C"`.
//! [`catalog`] declares the 13 tables all of them work on; [`lifecycle`] is the waiting
//! that a stop cuts short. [`manager`] is the reference manager and what runs the module on
//! its own against it (command line, tests, benchmarks); nothing in [`ffi`] uses it.

pub mod catalog;
pub mod dbsync;
pub mod ffi;
pub mod generation;
pub mod inventory;
pub mod lifecycle;
pub mod manager;
pub mod storage;
pub mod sync_protocol;
pub mod sysinfo;
pub mod version;

pub use version::VERSION;

/// One inventory row or document: a JSON object. `serde_json`'s map keeps keys sorted,
/// which the row checksum relies on (see [`inventory::events::canonical_json`]).
pub type Row = serde_json::Map<String, serde_json::Value>;

/// Log levels, with the numeric values of the host's `modules_log_level_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum LogLevel {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    ErrorExit = 4,
    DebugVerbose = 5,
}

impl LogLevel {
    /// Short lowercase name, for command-line output.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
            LogLevel::ErrorExit => "critical",
            LogLevel::DebugVerbose => "debug2",
        }
    }
}

/// Where library code sends its log lines; the FFI layer forwards them to the host's
/// log callback, the command line prints them.
pub type Logger = std::sync::Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// A logger that drops everything (tests, benchmarks).
pub fn null_logger() -> Logger {
    std::sync::Arc::new(|_, _| {})
}
