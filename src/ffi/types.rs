//! The C types of the ABI, exactly as the host daemon declares them.
//!
//! Enums arrive from C as plain `int`s: the functions take the `*_t` aliases (excluded from
//! the header) and validate the value, because a Rust enum holding a value outside its
//! variants is undefined behaviour. The `*Kind` enums exist so that cbindgen writes the
//! enum typedefs (renamed to the `*_t` names) into the header for C callers.

// The names below are the C names the host's headers use; cbindgen copies them verbatim.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_short, c_void};

/// `Operation_t` as it crosses the ABI.
pub type Operation_t = c_int;
/// `Mode_t` as it crosses the ABI.
pub type Mode_t = c_int;
/// `modules_log_level_t` as it crosses the ABI.
pub type modules_log_level_t = c_int;

/// Kind of change carried by a stateful message.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Variant names are the C enumerators the host code uses.
#[allow(clippy::upper_case_acronyms)]
pub enum OperationKind {
    OPERATION_CREATE = 0,
    OPERATION_MODIFY = 1,
    OPERATION_DELETE = 2,
    OPERATION_NO_OP = 3,
}

/// Synchronisation mode of a sync session.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeKind {
    MODE_FULL = 0,
    MODE_DELTA = 1,
    MODE_CHECK = 2,
    MODE_METADATA_DELTA = 3,
    MODE_METADATA_CHECK = 4,
    MODE_GROUP_DELTA = 5,
    MODE_GROUP_CHECK = 6,
}

/// Log levels of the host's logging helper.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevelKind {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARNING = 2,
    LOG_ERROR = 3,
    LOG_ERROR_EXIT = 4,
    LOG_DEBUG_VERBOSE = 5,
}

/// Receives every log line: level, message, tag (`wazuh-modulesd:syscollector`).
pub type log_callback_t = Option<
    unsafe extern "C" fn(level: modules_log_level_t, log: *const c_char, tag: *const c_char),
>;

/// Receives each stateless event, a NUL-terminated JSON string.
pub type send_data_callback_t = Option<unsafe extern "C" fn(buffer: *const c_void)>;

/// Receives each stateful document: id, operation, index, NUL-terminated JSON, version.
pub type persist_data_callback_t = Option<
    unsafe extern "C" fn(
        id: *const c_char,
        operation: Operation_t,
        index: *const c_char,
        buffer: *const c_void,
        version: u64,
    ),
>;

/// Opens (or reopens) the agent's message queue; returns its descriptor or a negative value.
pub type mq_start_fn =
    Option<unsafe extern "C" fn(key: *const c_char, kind: c_short, attempts: c_short) -> c_int>;

/// Sends one binary message on the queue; returns a negative value on failure.
pub type mq_send_binary_fn = Option<
    unsafe extern "C" fn(
        queue: c_int,
        message: *const c_void,
        message_len: usize,
        locmsg: *const c_char,
        loc: c_char,
    ) -> c_int,
>;

/// The message-queue functions the host lends to the sync protocol.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MQ_Functions {
    /// Starts (connects) a queue.
    pub start: mq_start_fn,
    /// Sends a message on a started queue.
    pub send_binary: mq_send_binary_fn,
}

/// The beta hosts' agentd query (`syscollector_set_agentd_query_func`): sends `command` to
/// agentd and, on success, writes the answer's JSON (after agentd's `ok `) NUL-terminated
/// into `output_buffer` of `buffer_size` bytes and returns true; false on any failure.
pub type agentd_query_func_t = Option<
    unsafe extern "C" fn(
        command: *const c_char,
        output_buffer: *mut c_char,
        buffer_size: usize,
    ) -> bool,
>;
