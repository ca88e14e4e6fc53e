//! The host's JSON queries: `pause`, `resume`, `flush`, `get_version`, `set_version`.
//!
//! Other Wazuh components coordinate with the module through these (for example to pause
//! scanning while the agent upgrades). Every answer is
//! `{"error": code, "message": text, "data": {...}}` with the module-query error codes.
//!
//! A beta host (see [`crate::generation`]) gets beta4's answers: `flush` starts an
//! asynchronous flush and answers at once, `is_flush_completed` tells how it went, and
//! `get_first_sync_completed`, `get_first_scan_completed` and `get_vd_first_sync_completed`
//! answer the markers of [`super::beta`] as `{"error":0,"data":{"<marker>":0|1},…}`. An
//! alpha0 host gets today's answers: those four are unknown commands.

use serde_json::{json, Value};

use super::Inventory;
use crate::LogLevel;

/// Success.
pub const MQ_SUCCESS: i64 = 0;
/// The command is not known.
pub const MQ_ERR_UNKNOWN_COMMAND: i64 = 1;
/// The query is not valid JSON (the reference's header defines it; its handler answers
/// unparsable queries with [`MQ_ERR_INTERNAL`], and so does this one).
pub const MQ_ERR_INVALID_JSON: i64 = 2;
/// Parameters are missing or invalid.
pub const MQ_ERR_INVALID_PARAMS: i64 = 3;
/// The command failed.
pub const MQ_ERR_INTERNAL: i64 = 98;
/// An unexpected failure (a panic) while answering.
pub const MQ_ERR_EXCEPTION: i64 = 99;

/// The most of a host's text (a command, a query) that an answer or a log line repeats.
pub const ECHO_LIMIT: usize = 256;

/// `text` as an answer or a log line repeats it: at most [`ECHO_LIMIT`] bytes (cut at a
/// character boundary), followed by `…` when cut.
pub fn echo(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= ECHO_LIMIT {
        return text.into();
    }
    let mut end = ECHO_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// An answer with only `error` and `message`.
pub fn error_response(code: i64, message: &str) -> String {
    json!({"error": code, "message": message}).to_string()
}

/// A query that gets no answer beyond its error code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query does not parse. The reference answers it as an internal error (98), the
    /// message naming the parser's complaint; error 2 (`MQ_ERR_INVALID_JSON`) is defined
    /// but never sent.
    #[error("Exception parsing JSON or executing command: {0}")]
    InvalidJson(String),
    #[error("Missing or invalid parameters")]
    InvalidParams,
    #[error("Invalid or missing version parameter")]
    InvalidVersion,
    #[error("Syscollector module is not initialized")]
    NotInitialized,
}

impl QueryError {
    /// The module-query error code of the answer.
    pub fn code(&self) -> i64 {
        match self {
            QueryError::InvalidParams | QueryError::InvalidVersion => MQ_ERR_INVALID_PARAMS,
            QueryError::InvalidJson(_) | QueryError::NotInitialized => MQ_ERR_INTERNAL,
        }
    }

    /// The answer: `{"error": code, "message": text}`.
    pub fn response(&self) -> String {
        error_response(self.code(), &self.to_string())
    }
}

/// What `flush` does with pending stateful messages; the sync protocol plugs in here.
pub trait Flusher {
    /// `None` when synchronisation is not initialised; otherwise whether the flush worked.
    fn flush(&self) -> Option<bool>;

    /// The module shared, for a flush that runs in a thread of its own (a beta host's);
    /// `None` makes that flush run in the caller's thread.
    fn shared(&self) -> Option<std::sync::Arc<Inventory>> {
        None
    }
}

impl Flusher for std::sync::Arc<Inventory> {
    fn flush(&self) -> Option<bool> {
        Flusher::flush(&**self)
    }

    fn shared(&self) -> Option<std::sync::Arc<Inventory>> {
        Some(self.clone())
    }
}

/// The answer to a marker query of a beta host (beta4's shape); `what` names it in the
/// message.
fn marker_answer(inv: &Inventory, key: &str, what: &str) -> Value {
    match inv.marker(key) {
        Some(v) => {
            json!({"error": MQ_SUCCESS, "message": format!("Syscollector {what} retrieved"),
                   "data": {key: i64::from(v > 0)}})
        }
        None => json!({"error": MQ_ERR_INTERNAL,
                       "message": format!("Failed to retrieve Syscollector {what}")}),
    }
}

impl Flusher for () {
    fn flush(&self) -> Option<bool> {
        None
    }
}

impl Flusher for Inventory {
    fn flush(&self) -> Option<bool> {
        let sync = self.sync()?;
        Some(
            sync.regular
                .synchronize(
                    crate::sync_protocol::Mode::ModuleDelta,
                    crate::sync_protocol::SyncOption::Sync,
                )
                .is_ok(),
        )
    }
}

/// Answers one query.
pub fn answer(inv: Option<&Inventory>, flusher: &dyn Flusher, query: &str) -> String {
    match run(inv, flusher, query) {
        Ok(response) => response.to_string(),
        Err(e) => e.response(),
    }
}

fn run(inv: Option<&Inventory>, flusher: &dyn Flusher, query: &str) -> Result<Value, QueryError> {
    let log = |level, msg: &str| {
        if let Some(inv) = inv {
            inv.log(level, msg);
        }
    };
    log(LogLevel::Debug, &format!("Received query: {}", echo(query)));
    let parsed: Value = match serde_json::from_str(query) {
        Ok(v) => v,
        Err(e) => {
            log(LogLevel::Error, &format!("Query error: {e}"));
            return Err(QueryError::InvalidJson(e.to_string()));
        }
    };
    let command = parsed
        .get("command")
        .and_then(Value::as_str)
        .ok_or(QueryError::InvalidParams)?;
    let params = parsed.get("parameters").cloned().unwrap_or(Value::Null);
    log(
        LogLevel::Debug,
        &format!("Executing command: {}", echo(command)),
    );

    let module_action = |action: &str| json!({"module": "syscollector", "action": action});
    let inv = inv.ok_or(QueryError::NotInitialized)?;
    let beta = inv.generation().is_beta();
    let response = match command {
        "pause" => {
            if inv.pause() {
                json!({"error": MQ_SUCCESS, "message": "Syscollector module paused successfully",
                       "data": module_action("pause")})
            } else {
                json!({"error": MQ_ERR_INTERNAL,
                       "message": "Syscollector module pause interrupted by shutdown",
                       "data": module_action("pause")})
            }
        }
        "resume" => {
            inv.resume();
            json!({"error": MQ_SUCCESS, "message": "Syscollector module resumed successfully",
                   "data": module_action("resume")})
        }
        "flush" if beta => {
            inv.start_flush(flusher.shared());
            json!({"error": MQ_SUCCESS, "message": "Syscollector module flush requested",
                   "data": module_action("flush")})
        }
        "is_flush_completed" if beta => {
            let (running, ok) = inv.flush_status();
            if running {
                json!({"error": MQ_SUCCESS, "message": "Syscollector flush in progress",
                       "data": {"module": "syscollector", "status": "in_progress"}})
            } else {
                json!({"error": MQ_SUCCESS,
                       "message": if ok { "Syscollector flush completed successfully" }
                                  else { "Syscollector flush completed with error" },
                       "data": {"module": "syscollector", "status": "completed",
                                "result": if ok { "success" } else { "error" }}})
            }
        }
        "get_first_sync_completed" if beta => {
            marker_answer(inv, super::beta::FIRST_SYNC, "first sync completion")
        }
        "get_first_scan_completed" if beta => {
            marker_answer(inv, super::beta::FIRST_SCAN, "first scan completion")
        }
        "get_vd_first_sync_completed" if beta => {
            if let Some(sync) = inv.sync() {
                inv.migrate_vd_flag(&sync);
            }
            marker_answer(inv, super::beta::VD_FIRST_SYNC, "VD first sync completion")
        }
        "flush" => {
            inv.log(
                LogLevel::Info,
                "Syscollector flush requested - syncing pending messages",
            );
            match flusher.flush() {
                None => {
                    inv.log(
                        LogLevel::Warning,
                        "Syscollector sync protocol not initialized, flush skipped",
                    );
                    json!({"error": MQ_SUCCESS, "message": "Syscollector module flushed successfully",
                           "data": module_action("flush")})
                }
                Some(true) => {
                    json!({"error": MQ_SUCCESS, "message": "Syscollector module flushed successfully",
                           "data": module_action("flush")})
                }
                Some(false) => {
                    json!({"error": MQ_ERR_INTERNAL, "message": "Syscollector module flush failed",
                           "data": module_action("flush")})
                }
            }
        }
        "get_version" => match inv.with_db(|db| db.max_version()) {
            Ok(v) => json!({"error": MQ_SUCCESS, "message": "Syscollector version retrieved",
                            "data": {"version": v}}),
            Err(e) => {
                inv.log(LogLevel::Error, &format!("Error getting max version: {e}"));
                json!({"error": MQ_ERR_INTERNAL, "message": "Failed to retrieve Syscollector version",
                       "data": {"version": -1}})
            }
        },
        "set_version" => {
            let version = params
                .get("version")
                .and_then(Value::as_i64)
                .ok_or(QueryError::InvalidVersion)?;
            match inv.with_db(|db| db.set_version_all(version)) {
                Ok(n) => {
                    inv.log(
                        LogLevel::Debug,
                        &format!(
                            "Syscollector set_version to {version} for {n} total rows across all tables"
                        ),
                    );
                    json!({"error": MQ_SUCCESS, "message": "Syscollector version set successfully",
                           "data": {"version": version}})
                }
                Err(e) => {
                    inv.log(LogLevel::Error, &format!("Error setting version: {e}"));
                    json!({"error": MQ_ERR_INTERNAL, "message": "Failed to set Syscollector version",
                           "data": {"version": version}})
                }
            }
        }
        other => json!({"error": MQ_ERR_UNKNOWN_COMMAND,
                        "message": format!("Unknown Syscollector command: {}", echo(other)),
                        "data": {"command": echo(other)}}),
    };
    Ok(response)
}
