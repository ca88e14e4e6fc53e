//! Synchronisation: what the module does with its sync protocol instances and its stored
//! inventory beyond scanning. Differences the host hands back (persist), manager replies,
//! integrity checks and full resends, cleaning up after disabled collectors (DataClean,
//! deleting the database), and the context documents the vulnerability detector needs.
//!
//! On a beta host with document limits, integrity checks, full resends and the
//! vulnerability detector's context cover the rows the manager is meant to hold (see
//! [`super::limits`]): a limited table's synced rows, an unlimited table's every row.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::events::{self, Operation};
use super::sync::queue_item;
use super::validate::Purpose;
use super::{Inventory, SyncRunError};
use crate::catalog::{self, TableDef, TABLES};
use crate::dbsync::DbSync;
use crate::sync_protocol::SyncOption;
use crate::LogLevel;

pub use crate::catalog::VULNERABILITIES_INDEX;
/// The tables in the order the reference looks for disabled collectors' data (its
/// `checkDisabledCollectorsIndicesWithData`), which is the order of its log line and of its
/// DataClean message. Every table of the catalog is here (see the test below).
const DATA_CLEAN_ORDER: [&str; 13] = [
    "dbsync_hwinfo",
    "dbsync_osinfo",
    "dbsync_packages",
    "dbsync_hotfixes",
    "dbsync_processes",
    "dbsync_ports",
    "dbsync_users",
    "dbsync_groups",
    "dbsync_services",
    "dbsync_browser_extensions",
    "dbsync_network_iface",
    "dbsync_network_protocol",
    "dbsync_network_address",
];

/// Pause between two DataClean attempts for disabled collectors.
const DATA_CLEAN_RETRY_WAIT: Duration = Duration::from_secs(60);

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Inventory {
    /// Queues one stateful difference (`syscollector_persist_diff`).
    pub fn persist_diff(
        &self,
        id: &str,
        operation: Operation,
        index: &str,
        data: &str,
        version: u64,
    ) {
        match self.sync() {
            Some(s) => s.persist(id, operation, index, data, version),
            // Set up, but its queues could not be opened yet: the manager will miss this.
            None if self.sync_waiting() => self.log(
                LogLevel::Error,
                &format!(
                    "Difference of {id} in {index} not queued: the sync queues cannot be opened yet"
                ),
            ),
            None => self.log(
                LogLevel::Debug,
                "Inventory synchronization is not initialized; difference not queued",
            ),
        }
    }

    /// Hands a manager reply to the regular instance.
    pub fn parse_response(&self, buf: &[u8]) -> bool {
        self.sync().is_some_and(|s| s.regular.parse_response(buf))
    }

    /// Hands a manager reply to the vulnerability-detector instance.
    pub fn parse_response_vd(&self, buf: &[u8]) -> bool {
        self.sync().is_some_and(|s| s.vd.parse_response(buf))
    }

    /// Tells the manager that `indices` are gone (`syscollector_notify_data_clean`).
    pub fn notify_data_clean(&self, indices: &[String]) -> Result<(), SyncRunError> {
        match self.sync_or_retry("data clean notification skipped")? {
            Some(s) => Ok(s
                .regular
                .notify_data_clean(indices, SyncOption::Sync)
                .map(|_| ())?),
            None => {
                self.log(
                    LogLevel::Error,
                    "Sync protocol not initialized, cannot notify data clean",
                );
                Err(SyncRunError::NotInitialized)
            }
        }
    }

    /// One DataClean notification of the disabled collectors' indices; with none there is
    /// nothing to notify, which counts as done.
    fn notify_disabled(&self, indices: &[String]) -> bool {
        if indices.is_empty() {
            self.log(
                LogLevel::Debug,
                "No disabled collectors indices with data to notify for cleanup",
            );
            return true;
        }
        if self.sync().is_some() {
            self.log(
                LogLevel::Debug,
                &format!(
                    "Notifying DataClean for disabled collectors indices: {}",
                    indices.join(", ")
                ),
            );
        }
        self.notify_data_clean(indices).is_ok()
    }

    /// Indices of disabled collectors whose tables still hold rows, in the reference's
    /// order ([`DATA_CLEAN_ORDER`]), the vulnerabilities index after the first table the
    /// vulnerability detector reads.
    pub fn disabled_indices_with_data(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut vd_added = false;
        self.with_db(|db| {
            for t in DATA_CLEAN_ORDER
                .iter()
                .filter_map(|name| catalog::table(name))
            {
                if self.cfg.collectors.enabled(t) || db.count(t).unwrap_or(0) == 0 {
                    continue;
                }
                out.push(t.index.to_string());
                if t.vd() && !vd_added {
                    out.push(VULNERABILITIES_INDEX.to_string());
                    vd_added = true;
                }
            }
        });
        out
    }

    /// At start: tell the manager about disabled collectors' data, then drop it locally.
    /// Retries every minute (until stopped when every collector is disabled, else up to the
    /// configured retries); without success the data stays, to be cleaned another time.
    /// The log lines and their levels are the reference's, in its order (with nothing to
    /// clean: nothing to notify, success on attempt 1, proceeding, nothing to delete).
    pub(crate) fn clean_disabled_collectors(&self) {
        let indices = self.disabled_indices_with_data();
        if !indices.is_empty() {
            self.log(
                LogLevel::Info,
                &format!(
                    "Disabled collectors indices with data detected: {}",
                    indices.join(", ")
                ),
            );
        }
        let all_disabled = self.cfg.collectors.none();
        let retries = self.sync().map(|s| s.config.retries.max(1)).unwrap_or(1);
        let mut attempt = 0;
        let ok = loop {
            if self.is_stopping() {
                break false;
            }
            attempt += 1;
            if self.notify_disabled(&indices) {
                self.log(
                    LogLevel::Debug,
                    &format!("Data clean notification succeeded on attempt {attempt}."),
                );
                break true;
            }
            if !(all_disabled || attempt < retries) {
                self.log(
                    LogLevel::Warning,
                    &format!(
                        "Syscollector data clean notification failed after {retries} attempts."
                    ),
                );
                break false;
            }
            self.log(
                LogLevel::Warning,
                &format!(
                    "Syscollector data clean notification failed, retry in {} seconds.",
                    DATA_CLEAN_RETRY_WAIT.as_secs()
                ),
            );
            if self.lifecycle.sleep(DATA_CLEAN_RETRY_WAIT) {
                self.log(
                    LogLevel::Debug,
                    "Data clean notification interrupted by module stop.",
                );
                break false;
            }
        };
        if !ok {
            self.log(
                LogLevel::Warning,
                "Syscollector data clean notification for disabled collectors failed, proceeding without deleting data.",
            );
            return;
        }
        self.log(
            LogLevel::Info,
            "Syscollector data clean notification for disabled collectors sent successfully, proceeding to delete data.",
        );
        if indices.is_empty() {
            self.log(
                LogLevel::Debug,
                "No disabled collectors indices with data to delete",
            );
            return;
        }
        if all_disabled {
            self.log(
                LogLevel::Info,
                "All collectors are disabled. Deleting entire database.",
            );
            self.delete_database();
            return;
        }
        self.log(
            LogLevel::Info,
            &format!(
                "Deleting data for disabled collectors indices: {}",
                indices.join(", ")
            ),
        );
        self.with_db(|db| {
            for index in &indices {
                if let Some(t) = catalog::table_for_index(index) {
                    if let Err(e) = db.clear_table(t) {
                        self.log(
                            LogLevel::Error,
                            &format!("Error clearing table {}: {e}", t.name),
                        );
                    }
                }
            }
        });
    }

    /// After a scan: queue, as DataContext of the VD instance, the documents the
    /// vulnerability detector needs to evaluate the pending differences (every row of the
    /// tables in the changed table's catalog `data_context`: all packages when the OS
    /// changed, the OS when packages changed), skipping those already queued.
    pub(crate) fn vd_data_context(&self) {
        let Some(sync) = self.sync() else {
            return;
        };
        // A beta host keeps the detector's first sync as a table_metadata marker.
        let first_done = if self.generation().is_beta() {
            self.vd_first_sync_done_beta(Some(&sync))
        } else {
            sync.vd_first_sync_done()
        };
        if !first_done {
            return;
        }
        let vd = &sync.vd;
        if let Err(e) = vd.queue().clear_data_context() {
            self.log(
                LogLevel::Error,
                &format!("Failed to clear DataContext items: {e}"),
            );
            return;
        }
        // Only the indices and ids of the pending differences are read, never their
        // documents, and the context rows are queued a page at a time: memory stays flat
        // however many differences are pending.
        let (indices, pending) = match vd.queue().pending_value_indices() {
            Ok(p) => p,
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Failed to fetch pending items: {e}"),
                );
                return;
            }
        };
        if pending == 0 {
            return;
        }
        let mut wanted: BTreeSet<&'static str> = BTreeSet::new();
        for index in &indices {
            if let Some(t) = catalog::table_for_index(index) {
                wanted.extend(t.data_context().iter().map(|c| c.name));
            }
        }
        const PAGE: usize = 512;
        let mut total = 0usize;
        let generation = self.generation();
        for name in wanted {
            let Some(t) = catalog::table(name) else {
                continue;
            };
            let selection = self.held_rows(t, true);
            let mut items = Vec::new();
            let mut failed: Option<String> = None;
            let mut submit = |items: &mut Vec<_>, failed: &mut Option<String>| {
                total += items.len();
                if let Err(e) = vd.queue().submit_all(items.drain(..)) {
                    failed.get_or_insert(e.to_string());
                }
            };
            let read = self.with_db(|db| {
                db.for_each_selected(t, selection, &mut |row| {
                    let (st, json) = if generation.is_beta() {
                        // A document whose own difference is pending goes as that
                        // difference (checked first: it is not validated then).
                        if vd
                            .queue()
                            .is_pending_value(t.index, &events::document_id(t, &row))
                            .unwrap_or(false)
                        {
                            return;
                        }
                        match events::stored_document(
                            t,
                            &row,
                            Operation::Modify,
                            generation,
                            Purpose::DataContext,
                            &*self.log,
                        ) {
                            Some(doc) => doc,
                            None => return,
                        }
                    } else {
                        let st = events::stateful(t, &row, Operation::Modify);
                        // A document whose own difference is pending goes as that difference.
                        if vd
                            .queue()
                            .is_pending_value(t.index, &st.id)
                            .unwrap_or(false)
                        {
                            return;
                        }
                        let json = serde_json::to_string(&st.document).unwrap_or_default();
                        (st, json)
                    };
                    let mut item = queue_item(&st, json);
                    item.version = 0;
                    item.is_data_context = true;
                    items.push(item);
                    if items.len() == PAGE {
                        submit(&mut items, &mut failed);
                    }
                })
            });
            submit(&mut items, &mut failed);
            if let Err(e) = read {
                failed.get_or_insert(e.to_string());
            }
            if let Some(e) = failed {
                self.log(
                    LogLevel::Error,
                    &format!("Failed to persist DataContext from {}: {e}", t.name),
                );
            }
        }
        self.log(
            LogLevel::Debug,
            &format!("VD DataContext complete: {total} items for {pending} DataValues"),
        );
    }

    /// Integrity check of every enabled table whose interval elapsed
    /// (`syscollector_run_recovery_process`): on a checksum mismatch the table's versions
    /// are raised and the whole table is sent again in a FULL session.
    pub fn run_recovery(&self) {
        let Ok(sync) = self.sync_or_retry("integrity check skipped") else {
            return;
        };
        let Some(sync) = sync else {
            self.log(
                LogLevel::Warning,
                "Inventory synchronization is not initialized; no integrity check",
            );
            return;
        };
        let interval = i64::from(sync.config.integrity_interval);
        for t in TABLES {
            if !self.cfg.collectors.enabled(t) || self.is_stopping() {
                continue;
            }
            if !self.interval_elapsed(t, interval) {
                continue;
            }
            self.log(
                LogLevel::Debug,
                &format!("Starting integrity validation process for {}", t.name),
            );
            let selection = self.held_rows(t, false);
            if self.with_db(|db| db.is_beta()) {
                let limit = self.document_limits().get(t);
                self.log(
                    LogLevel::Debug,
                    &if limit > 0 {
                        format!("Calculating checksum with filter 'sync=1' (limit={limit})")
                    } else {
                        "Calculating checksum without filter (no limit)".to_string()
                    },
                );
            }
            let checksum = match self.with_db(|db| db.table_checksum_of(t, selection)) {
                Ok(c) => c,
                Err(e) => {
                    self.log(
                        LogLevel::Error,
                        &format!("Cannot compute checksum of {}: {e}", t.name),
                    );
                    continue;
                }
            };
            let integrity = sync.regular.check_integrity(t.index, &checksum);
            if matches!(
                integrity,
                crate::sync_protocol::Integrity::Unavailable(
                    crate::sync_protocol::SyncError::Stopped
                )
            ) {
                // A stopped check is not a check: it runs again after the next start.
                return;
            }
            if integrity.requires_full_sync() {
                self.log(
                    LogLevel::Debug,
                    &format!(
                        "Checksum mismatch detected for index {} full sync required",
                        t.name
                    ),
                );
                if !self.resend_table(t) {
                    return;
                }
            }
            if let Err(e) = self.with_db(|db| db.set_last_sync_time(t, now_secs())) {
                self.log(
                    LogLevel::Error,
                    &format!("Cannot record the integrity check of {}: {e}", t.name),
                );
            }
        }
    }

    fn interval_elapsed(&self, t: &'static TableDef, interval: i64) -> bool {
        let last = self.with_db(|db| db.last_sync_time(t)).unwrap_or(0);
        let now = now_secs();
        if last == 0 {
            // First time: start counting now, check after one interval.
            let _ = self.with_db(|db| db.set_last_sync_time(t, now));
            return false;
        }
        now - last >= interval
    }

    fn resend_table(&self, t: &'static TableDef) -> bool {
        let Some(sync) = self.sync() else {
            return false;
        };
        let selection = self.held_rows(t, false);
        sync.regular.clear_in_memory();
        let generation = self.generation();
        // The table is read a row at a time straight into the session's store: a recovery
        // holds no more than one row in memory, however big the table.
        let mut persisted = 0usize;
        let read = self.with_db(|db| {
            db.increase_versions(t)?;
            db.for_each_selected(t, selection, &mut |row| {
                persisted += 1;
                if generation.is_beta() {
                    // beta4 shapes and validates a recovery's documents; a refused one is
                    // skipped.
                    if let Some((st, json)) = events::stored_document(
                        t,
                        &row,
                        Operation::Create,
                        generation,
                        Purpose::Recovery,
                        &*self.log,
                    ) {
                        sync.regular.persist_in_memory(queue_item(&st, json));
                    }
                    return;
                }
                let st = events::stateful(t, &row, Operation::Create);
                let json = serde_json::to_string(&st.document).unwrap_or_default();
                sync.regular.persist_in_memory(queue_item(&st, json));
            })
        });
        if let Err(e) = read {
            sync.regular.clear_in_memory();
            self.log(
                LogLevel::Error,
                &format!("Couldn't update version for every entry in {}: {e}", t.name),
            );
            return false;
        }
        self.log(
            LogLevel::Debug,
            &format!("Persisted {persisted} recovery items in memory"),
        );
        let ok = self
            .sync_module(crate::sync_protocol::Mode::ModuleFull)
            .is_ok();
        self.log(
            LogLevel::Debug,
            if ok {
                "Recovery completed successfully"
            } else {
                "Recovery synchronization failed, will retry later"
            },
        );
        true
    }

    /// Closes and deletes the sync queues and the inventory database (with their
    /// `-wal`/`-shm`/`-journal`) without recreating them, as the reference does: the host's
    /// disabled-module path tests whether `local.db` exists on every start. Until the
    /// module is initialised again it keeps its inventory and queues in memory.
    pub fn delete_database(&self) {
        if let Some(sync) = self.sync() {
            sync.delete_databases();
        }
        self.with_db(|db| self.delete_local_database(db));
        // The markers' cache goes with the database that held them.
        self.forget_markers();
    }

    fn delete_local_database(&self, db: &mut DbSync) {
        let path: Option<PathBuf> = db.path().map(Path::to_path_buf);
        match path {
            Some(path) => {
                // Close the current connection before removing its files; a beta host's
                // database stays one.
                let beta = db.is_beta();
                *db = match DbSync::in_memory() {
                    Ok(mem) => mem,
                    Err(e) => {
                        self.log(LogLevel::Error, &format!("Cannot reset database: {e}"));
                        return;
                    }
                };
                if beta {
                    if let Err(e) = db.migrate_to_beta() {
                        self.log(LogLevel::Error, &format!("Cannot reset database: {e}"));
                    }
                }
                for suffix in ["-journal", "-wal", "-shm", ""] {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    let p = PathBuf::from(p);
                    match std::fs::remove_file(&p) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => self.log(
                            LogLevel::Error,
                            &format!("Cannot delete {}: {e}", p.display()),
                        ),
                    }
                }
                self.log(
                    LogLevel::Info,
                    &format!("Inventory database {} deleted", path.display()),
                );
            }
            None => {
                for t in TABLES {
                    if let Err(e) = db.clear_table(t) {
                        self.log(LogLevel::Error, &format!("Cannot clear {}: {e}", t.name));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_clean_order_names_every_table_once() {
        let mut listed: Vec<&str> = DATA_CLEAN_ORDER.to_vec();
        listed.sort_unstable();
        let mut all: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        all.sort_unstable();
        assert_eq!(listed, all);
    }
}
