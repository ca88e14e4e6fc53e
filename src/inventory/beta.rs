//! What the module does differently for a beta host (wazuh-modulesd of v5.0.0-beta1 …
//! beta4 and 5.0.0-tcp/rc1; see [`crate::generation`]), as beta4's syscollector does it:
//!
//! * **Markers** in `table_metadata` ([`FIRST_SCAN`], [`FIRST_SYNC`], [`VD_FIRST_SYNC`]):
//!   the beta host asks `get_first_sync_completed` and polls `get_first_scan_completed` at
//!   start to run its first synchronisation right after the first scan, and its agent-info
//!   module waits on `get_first_sync_completed`. The first-scan marker is written once the
//!   first scan that was not cut short by a stop has queued every difference (each table's
//!   batch is committed to the sync queues before the next table starts). The VD marker
//!   replaces the alpha0 flag file `.vd_first_sync_done` next to the VD queue: a file an
//!   alpha0 module left is migrated into the marker (its modification time, or now) and
//!   removed, so `table_metadata` is the one record from then on.
//! * **Synchronisation** ([`Inventory::sync_module_beta`]): the regular instance, then
//!   (unless a stop came) the VD one, with beta4's log lines and markers; the beta host does
//!   not hold the scan lock while it synchronises, and nothing here takes it, so a sync may
//!   run while a scan does (a scan's staged differences are not visible to a session until
//!   its table commits).
//! * **Asynchronous flush** ([`AsyncFlush`]): the `flush` query starts the flush in a
//!   thread of its own and answers at once; `is_flush_completed` tells how it went.
//! * **Document limits** from agentd ([`Inventory::fetch_document_limits`]):
//!   `getdoclimits syscollector` through the host's callback, retried every second until it
//!   answers or the module stops.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex};
use serde_json::Value;

use super::sync::{InventorySync, SyncConfig};
use super::{Inventory, SyncRunError};
use crate::sync_protocol::{Mode, SyncOption};
use crate::LogLevel;

/// Marker of the first complete scan.
pub const FIRST_SCAN: &str = "first_scan_completed";
/// Marker of the first successful synchronisation of the regular instance.
pub const FIRST_SYNC: &str = "first_sync_completed";
/// Marker of the first successful synchronisation of the VD instance.
pub const VD_FIRST_SYNC: &str = "vd_first_sync_completed";

/// The command that asks agentd for the module's document limits.
pub const GETDOCLIMITS: &str = "getdoclimits syscollector";
/// The answer buffer handed to the agentd callback (beta4's `OS_MAXSTR`).
pub const AGENTD_BUFFER_SIZE: usize = 65536;
/// Time between two `getdoclimits` attempts (beta4 sleeps one second).
pub const AGENTD_RETRY: Duration = Duration::from_secs(1);
/// How long a stop waits for a running asynchronous flush (already told to stop) to end.
const FLUSH_STOP_WAIT: Duration = Duration::from_secs(5);

/// The host's agentd query: the command and the answer buffer's size; the answer (the JSON
/// after agentd's `ok `), or `None` when the callback reported a failure.
pub type AgentdQuery = Arc<dyn Fn(&str, usize) -> Option<String> + Send + Sync>;

/// The alpha0 module's VD flag file for `config` (next to the VD queue).
pub fn alpha0_vd_flag(config: &SyncConfig) -> PathBuf {
    config
        .db_path_vd
        .parent()
        .map(|d| d.join(".vd_first_sync_done"))
        .unwrap_or_else(|| PathBuf::from(".vd_first_sync_done"))
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where the asynchronous flush is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushState {
    /// None ran yet.
    #[default]
    Idle,
    Running,
    Succeeded,
    Failed,
}

/// The flush of a beta host: one at a time, in a thread of its own.
#[derive(Default)]
pub struct AsyncFlush {
    state: Mutex<FlushState>,
    changed: Condvar,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl AsyncFlush {
    /// Now: (running, last flush successful). Idle counts as successful (nothing pending).
    pub fn status(&self) -> (bool, bool) {
        match *self.state.lock() {
            FlushState::Running => (true, false),
            FlushState::Failed => (false, false),
            FlushState::Idle | FlushState::Succeeded => (false, true),
        }
    }

    fn finish(&self, ok: bool) {
        *self.state.lock() = if ok {
            FlushState::Succeeded
        } else {
            FlushState::Failed
        };
        self.changed.notify_all();
    }

    /// Waits until no flush runs, at most `limit`; true when none runs.
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let mut s = self.state.lock();
        crate::lifecycle::wait_until(&self.changed, &mut s, Instant::now() + limit, |s| {
            *s != FlushState::Running
        })
    }
}

/// The markers as last read or written, so that a sync or a query running while a scan
/// holds the database does not wait for it to read one.
#[derive(Default)]
pub struct MarkerCache(Mutex<std::collections::HashMap<String, i64>>);

impl Inventory {
    /// Marker `key` (0 when never reached); `None` when the database cannot be read.
    pub fn marker(&self, key: &str) -> Option<i64> {
        if let Some(v) = self.markers.0.lock().get(key) {
            return Some(*v);
        }
        match self.with_db(|db| db.metadata_value(key)) {
            Ok(v) => {
                self.markers.0.lock().insert(key.to_string(), v);
                Some(v)
            }
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Failed to get metadata value '{key}': {e}"),
                );
                None
            }
        }
    }

    /// Sets marker `key` to now; false (logged) when it cannot be stored.
    pub fn set_marker(&self, key: &str) -> bool {
        self.set_marker_to(key, now_secs())
    }

    fn set_marker_to(&self, key: &str, secs: i64) -> bool {
        match self.with_db(|db| db.set_metadata_value(key, secs)) {
            Ok(()) => {
                self.markers.0.lock().insert(key.to_string(), secs);
                true
            }
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Failed to update metadata value '{key}': {e}"),
                );
                false
            }
        }
    }

    /// Forgets the cached markers (the database was deleted or replaced).
    pub fn forget_markers(&self) {
        self.markers.0.lock().clear();
    }

    /// Moves an alpha0 module's VD flag file into the [`VD_FIRST_SYNC`] marker (beta host
    /// only; nothing when there is no such file or the marker is set already).
    pub fn migrate_vd_flag(&self, sync: &InventorySync) {
        if !self.generation().is_beta() {
            return;
        }
        let flag = alpha0_vd_flag(&sync.config);
        let Ok(meta) = std::fs::metadata(&flag) else {
            return;
        };
        if self.marker(VD_FIRST_SYNC).is_some_and(|v| v == 0) {
            let when = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok())
                .filter(|s| *s > 0)
                .unwrap_or_else(now_secs);
            if !self.set_marker_to(VD_FIRST_SYNC, when) {
                return;
            }
            self.log(
                LogLevel::Info,
                &format!(
                    "VD first sync flag file {} migrated into table_metadata ({VD_FIRST_SYNC})",
                    flag.display()
                ),
            );
        }
        if let Err(e) = std::fs::remove_file(&flag) {
            self.log(
                LogLevel::Warning,
                &format!(
                    "Cannot remove the migrated VD flag file {}: {e}",
                    flag.display()
                ),
            );
        }
    }

    /// Whether the VD instance had its first synchronisation (beta: the marker, after
    /// migrating an alpha0 flag file).
    pub fn vd_first_sync_done_beta(&self, sync: Option<&InventorySync>) -> bool {
        if let Some(sync) = sync {
            self.migrate_vd_flag(sync);
        }
        self.marker(VD_FIRST_SYNC).is_some_and(|v| v > 0)
    }

    fn vd_option(&self, first_done: bool) -> SyncOption {
        if !self.vd_enabled() {
            SyncOption::Sync
        } else if first_done {
            SyncOption::VdSync
        } else {
            SyncOption::VdFirst
        }
    }

    /// beta4's `persistVDFirstSyncIfNeeded`.
    fn persist_vd_marker(&self, vd_ok: bool, first_done: bool) {
        if vd_ok && !first_done && !self.is_stopping() {
            if self.set_marker(VD_FIRST_SYNC) {
                self.log(
                    LogLevel::Info,
                    "VD first sync completed, metadata marker persisted.",
                );
            } else {
                self.log(
                    LogLevel::Error,
                    "Failed to persist VD first sync metadata marker.",
                );
            }
        } else if vd_ok && !first_done {
            self.log(
                LogLevel::Debug,
                "VD first sync successful but module is stopping, metadata marker not persisted.",
            );
        } else if !vd_ok {
            self.log(
                LogLevel::Debug,
                "VD sync was not successful, metadata marker not persisted.",
            );
        }
    }

    /// `syscollector_sync_module` for a beta host (beta4's `syncModule`).
    pub(crate) fn sync_module_beta(&self, mode: Mode) -> Result<(), SyncRunError> {
        if self.is_paused() || self.is_stopping() {
            self.log(
                LogLevel::Debug,
                "Syscollector module is paused or stopping, skipping synchronization",
            );
            return Err(SyncRunError::Paused);
        }
        let Some(sync) =
            self.sync_or_retry("synchronization skipped, trying again at the next one")?
        else {
            self.log(
                LogLevel::Warning,
                "Inventory synchronization is not initialized",
            );
            return Err(SyncRunError::NotInitialized);
        };
        let _busy = self.lifecycle.busy();
        self.log(LogLevel::Info, "Starting inventory synchronization.");
        sync.check_files();
        let regular = sync.regular.synchronize(mode, SyncOption::Sync).map(|_| ());
        match &regular {
            Ok(()) => {
                if self.marker(FIRST_SYNC).is_none_or(|v| v == 0) {
                    self.set_marker(FIRST_SYNC);
                }
            }
            Err(_) if self.is_stopping() => self.log(
                LogLevel::Info,
                "Syscollector synchronization aborted: the module is stopping.",
            ),
            Err(e) => self.log(
                LogLevel::Warning,
                &format!("Syscollector synchronization failed: {e}"),
            ),
        }
        if self.is_stopping() {
            self.log(
                LogLevel::Debug,
                "Stop received during synchronization, skipping VD sync",
            );
            return Err(regular
                .err()
                .unwrap_or(crate::sync_protocol::SyncError::Stopped)
                .into());
        }
        let first_done = self.vd_first_sync_done_beta(Some(&sync));
        let option = self.vd_option(first_done);
        if !self.vd_enabled() {
            self.log(LogLevel::Debug, "Using SYNC option (VD scanning disabled)");
        }
        let vd = sync.vd.synchronize(mode, option).map(|_| ());
        self.persist_vd_marker(vd.is_ok(), first_done);
        match &vd {
            Ok(()) => {}
            Err(_) if self.is_stopping() => self.log(
                LogLevel::Info,
                "Syscollector VD synchronization aborted: the module is stopping.",
            ),
            Err(e) => self.log(
                LogLevel::Warning,
                &format!("Syscollector VD synchronization failed: {e}"),
            ),
        }
        let result = regular.and(vd);
        if result.is_ok() {
            self.log(
                LogLevel::Info,
                "Syscollector synchronization process finished successfully.",
            );
        }
        Ok(result?)
    }

    /// The flush itself on a beta host (beta4's `executeFlushSync`): both instances, in
    /// delta mode; true on success.
    pub fn execute_flush_beta(&self) -> bool {
        self.log(
            LogLevel::Info,
            "Syscollector flush requested - syncing pending messages",
        );
        let Some(sync) = self.sync() else {
            self.log(
                LogLevel::Info,
                "Syscollector sync protocol not initialized, flush skipped",
            );
            return true;
        };
        let regular = sync
            .regular
            .synchronize(Mode::ModuleDelta, SyncOption::Sync)
            .map(|_| ());
        let first_done = self.vd_first_sync_done_beta(Some(&sync));
        let vd = sync
            .vd
            .synchronize(Mode::ModuleDelta, self.vd_option(first_done))
            .map(|_| ());
        self.persist_vd_marker(vd.is_ok(), first_done);
        if regular.is_ok() && vd.is_ok() {
            self.log(LogLevel::Info, "Syscollector flush completed successfully");
            return true;
        }
        if self.is_stopping() {
            self.log(
                LogLevel::Info,
                "Syscollector flush skipped: module is stopping",
            );
            return false;
        }
        let queues = match (&regular, &vd) {
            (Err(_), Err(_)) => "both syscollector and VD queues",
            (Err(_), _) => "syscollector queue",
            _ => "VD queue",
        };
        let mut reasons = Vec::new();
        if let Err(e) = &regular {
            reasons.push(e.to_string());
        }
        if let Err(e) = &vd {
            reasons.push(format!("VD: {e}"));
        }
        self.log(
            LogLevel::Warning,
            &format!(
                "Syscollector flush failed: {queues}: {}",
                reasons.join("; ")
            ),
        );
        false
    }

    /// The `flush` query of a beta host: starts the flush in a thread holding `shared`
    /// (this module) and returns at once; without it (a caller with only a reference) the
    /// flush runs here, recorded the same way. A flush already running is left to finish.
    pub fn start_flush(&self, shared: Option<Arc<Inventory>>) {
        let mut worker = self.flush.worker.lock();
        {
            let mut state = self.flush.state.lock();
            if *state == FlushState::Running {
                self.log(
                    LogLevel::Debug,
                    "Syscollector async flush already in progress",
                );
                return;
            }
            *state = FlushState::Running;
        }
        // The previous worker has finished (its state is not Running any more).
        if let Some(previous) = worker.take() {
            let _ = previous.join();
        }
        match shared {
            Some(inv) => {
                let spawned = std::thread::Builder::new()
                    .name("syscollector-flush".into())
                    .spawn(move || {
                        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            inv.execute_flush_beta()
                        }))
                        .unwrap_or(false);
                        inv.flush.finish(ok);
                    });
                match spawned {
                    Ok(handle) => {
                        *worker = Some(handle);
                        self.log(LogLevel::Debug, "Syscollector async flush requested");
                    }
                    Err(e) => {
                        self.log(
                            LogLevel::Error,
                            &format!("Syscollector async flush failed to start: {e}"),
                        );
                        self.flush.finish(false);
                    }
                }
            }
            None => {
                drop(worker);
                let ok = self.execute_flush_beta();
                self.flush.finish(ok);
            }
        }
    }

    /// `is_flush_completed`: (running, last flush successful).
    pub fn flush_status(&self) -> (bool, bool) {
        self.flush.status()
    }

    /// A beta host's stop: once the sync instances were told to stop, waits (bounded) for
    /// a running asynchronous flush to end, as beta4's `quiesce` does.
    pub(crate) fn quiesce_flush(&self) {
        if !self.flush.wait_idle(FLUSH_STOP_WAIT) {
            self.log(
                LogLevel::Warning,
                "Syscollector flush still running after stop; it ends at its next check",
            );
        }
    }

    /// Asks agentd for the document limits through the host's callback, retrying every
    /// [`AGENTD_RETRY`] until it answers or the module stops (beta4's
    /// `fetchDocumentLimitsFromAgentd`). `None`: no callback, a stop, or an answer that is
    /// not JSON (no limits then: every table unlimited).
    pub fn fetch_document_limits(&self) -> Option<Value> {
        let Some(query) = self.agentd.read().clone() else {
            self.log(
                LogLevel::Warning,
                "Agentd query function not set, cannot fetch document limits",
            );
            return None;
        };
        while !self.is_stopping() {
            let Some(answer) = query(GETDOCLIMITS, AGENTD_BUFFER_SIZE) else {
                self.log(
                    LogLevel::Debug,
                    "Failed to fetch document limits from agentd, retrying...",
                );
                if self.lifecycle.sleep(AGENTD_RETRY) {
                    break;
                }
                continue;
            };
            return match serde_json::from_str::<Value>(&answer) {
                Ok(limits) => {
                    self.log(
                        LogLevel::Debug,
                        "Successfully fetched document limits from agentd",
                    );
                    self.log(
                        LogLevel::Debug,
                        &format!("Document limits received:   {limits}"),
                    );
                    Some(limits)
                }
                Err(e) => {
                    self.log(
                        LogLevel::Error,
                        &format!("Failed to parse document limits JSON: {e}"),
                    );
                    None
                }
            };
        }
        self.log(
            LogLevel::Debug,
            "Document limits fetch aborted by stop signal",
        );
        None
    }

    /// The start of a beta host's run, before its first scan: the document limits from
    /// agentd. False when limits came but could not be applied (beta4 then ends `start`).
    pub(crate) fn beta_prologue(&self) -> bool {
        self.log(
            LogLevel::Debug,
            "Attempting to fetch document limits from agentd...",
        );
        let Some(limits) = self.fetch_document_limits() else {
            return true;
        };
        if self.apply_document_limits(&limits) {
            self.log(
                LogLevel::Debug,
                "Document limits successfully configured from agentd",
            );
            true
        } else {
            self.log(
                LogLevel::Error,
                "Failed to apply document limits obtained from agentd",
            );
            false
        }
    }
}
