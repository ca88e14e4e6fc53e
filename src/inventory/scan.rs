//! Scanning: the data provider's rows, through the catalog's row hooks, into the diff
//! engine, and every change out to the [`Sink`].
//!
//! One table's scan is a plain sequence inside one database transaction: collect and push
//! every row (each change is reported to the sink, whose stateful documents collect in the
//! sync queues' batch), finish (rows the collector no longer reports are deleted and
//! reported), flush the queue batch, commit. Any failure on the way (the collector fails,
//! the module stops, a row cannot be stored, the batch cannot be flushed) drops the batch
//! and rolls the transaction back, so nothing of that scan is queued or stored and the
//! next scan finds the same changes again.
//!
//! On a beta host (its database migrated, see [`super::limits`]) a table with a document
//! limit sends the stateful documents of the rows within its limit only, and after the
//! last table the scan fills the room left in every limited table; stateless events
//! ignore limits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::events;
use super::lifecycle::Lifecycle;
use super::limits::{self, DocLimits};
use super::normalizer::Normalizer;
use super::sync::InventorySync;
use super::Sink;
use crate::catalog::{Collectors, Gather, ScanOptions, TableDef, COLLECTORS};
use crate::dbsync::{Change, DbError, DbSync, SyncFlag, SyncStats, TableSync};
use crate::sync_protocol::queue::QueueError;
use crate::sysinfo::{CollectError, SysInfo};
use crate::{LogLevel, Logger, Row};

/// What one table's scan did.
#[derive(Debug, Clone)]
pub struct TableReport {
    pub table: &'static str,
    pub stats: SyncStats,
    pub elapsed: Duration,
}

/// What one scan did, table by table (tables whose collector is disabled or unavailable
/// are absent).
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    pub tables: Vec<TableReport>,
    /// Collectors (`network`) or tables whose collection or storage failed, with the error
    /// (a collector the system does not support is not a failure).
    pub failures: Vec<(String, String)>,
    /// The whole scan, from start to the last table.
    pub elapsed: std::time::Duration,
}

/// Why a table's scan stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Collect(#[from] CollectError),
    #[error("the module is stopping")]
    Stopped,
    #[error("changes not stored: {0}")]
    Queue(#[from] QueueError),
}

/// A collector that hands its rows one at a time to a callback.
type RowSource<'a> = dyn FnMut(&mut dyn FnMut(Row)) -> Result<(), CollectError> + 'a;

/// The database, the normalizer and the sink of the scans.
pub struct Scanner {
    pub(super) db: Mutex<DbSync>,
    normalizer: Option<Normalizer>,
    pub(super) sink: Arc<dyn Sink>,
    /// Whether stateless events are sent (from the second scan on, or from the first with
    /// `notify_on_first_scan`).
    notify: AtomicBool,
    pub(super) log: Logger,
    /// Document limits per table (beta hosts; all 0, unlimited, until agentd's arrive).
    /// Taken after `db` when both are held.
    pub(super) limits: Mutex<DocLimits>,
    /// Beta hosts: the stored rows whose documents failed validation during this scan,
    /// deleted from the database when it ends (beta4's deferred deletion).
    rejected: Mutex<Vec<(&'static TableDef, Row)>>,
}

impl Scanner {
    pub fn new(
        db: DbSync,
        normalizer: Option<Normalizer>,
        sink: Arc<dyn Sink>,
        notify_on_first_scan: bool,
        log: Logger,
    ) -> Scanner {
        Scanner {
            db: Mutex::new(db),
            normalizer,
            sink,
            notify: AtomicBool::new(notify_on_first_scan),
            log,
            limits: Mutex::new(DocLimits::default()),
            rejected: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn log(&self, level: LogLevel, msg: &str) {
        (self.log)(level, msg)
    }

    /// Runs `f` with the database.
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbSync) -> T) -> T {
        f(&mut self.db.lock())
    }

    /// Scans every table of every enabled collector, in catalog order.
    pub fn scan(
        &self,
        provider: &dyn SysInfo,
        collectors: Collectors,
        lifecycle: &Lifecycle,
        sync: Option<&InventorySync>,
    ) -> ScanReport {
        let mut report = ScanReport::default();
        let options = collectors.scan_options();
        for collector in COLLECTORS {
            if !collectors.is_on(collector) || lifecycle.is_stopping() {
                continue;
            }
            // The reference's per-collector lines: one scan per collector (the network's
            // three tables included), named as its configuration calls it.
            let name = collector.name.replace('_', " ");
            self.log(LogLevel::DebugVerbose, &format!("Starting {name} scan"));
            match collector.gather {
                Gather::Rows(gather) => {
                    for table in collector.tables {
                        if lifecycle.is_stopping() {
                            continue;
                        }
                        let sources = self.sources_fingerprint(table, provider, options);
                        self.scan_table(
                            &mut report,
                            table,
                            options,
                            lifecycle,
                            sync,
                            sources,
                            &mut |each| gather(provider, each),
                        );
                    }
                }
                Gather::Joint(gather) => {
                    if lifecycle.is_stopping() {
                        continue;
                    }
                    match gather(provider) {
                        Ok(parts) => {
                            for (table, rows) in collector.tables.iter().zip(parts) {
                                let mut rows = Some(rows);
                                self.scan_table(
                                    &mut report,
                                    table,
                                    options,
                                    lifecycle,
                                    sync,
                                    None,
                                    &mut |each| {
                                        rows.take().into_iter().flatten().for_each(&mut *each);
                                        Ok(())
                                    },
                                );
                            }
                        }
                        Err(e) => self.collect_failed(&mut report, collector.name, &e),
                    }
                }
            }
            self.log(LogLevel::DebugVerbose, &format!("Ending {name} scan"));
        }
        self.delete_rejected();
        if !lifecycle.is_stopping() {
            // Beta hosts: the room the scan left in each limited table is filled now.
            self.promote_after_scan(sync);
        }
        self.notify.store(true, Ordering::SeqCst);
        report
    }

    /// Beta hosts: deletes the rows whose documents failed validation in this scan, so that
    /// the next scan reports them again, with beta4's log lines.
    fn delete_rejected(&self) {
        let rejected = std::mem::take(&mut *self.rejected.lock());
        if rejected.is_empty() {
            return;
        }
        let mut db = self.db.lock();
        let mut deleted: Vec<&str> = Vec::new();
        for (table, row) in &rejected {
            match db.delete_rows(table, std::slice::from_ref(row)) {
                Ok(n) if n > 0 => deleted.push(table.name),
                Ok(_) => {}
                Err(e) => self.log(
                    LogLevel::Error,
                    &format!(
                        "Cannot delete an invalid entry from table {}: {e}",
                        table.name
                    ),
                ),
            }
        }
        drop(db);
        for (level, line) in super::validate::deletion_lines(&deleted) {
            self.log(level, &line);
        }
    }

    /// Tells the sink that a scan ended, with its report.
    pub fn report_finished(&self, report: &ScanReport) {
        self.sink.scan_finished(report);
    }

    fn collect_failed(&self, report: &mut ScanReport, what: &str, e: &CollectError) {
        match e {
            CollectError::Unsupported(_) => self.log(LogLevel::Debug, &e.to_string()),
            _ => {
                report.failures.push((what.to_string(), e.to_string()));
                self.log(
                    LogLevel::Error,
                    &format!("Error collecting {what}: {e}; the table keeps its last state"),
                )
            }
        }
    }

    /// The fingerprint of `table`'s sources (its [`Hooks::sources`](crate::catalog::Hooks)),
    /// with everything else its rows depend on: the code that turns them into rows (the
    /// build), the scan options and the normalizer's configuration. `None` when the table
    /// has no such hook or its provider cannot tell.
    fn sources_fingerprint(
        &self,
        table: &'static TableDef,
        provider: &dyn SysInfo,
        options: ScanOptions,
    ) -> Option<Vec<u8>> {
        let mut fp = (table.hooks.sources?)(provider)?;
        fp.extend_from_slice(
            format!(
                "|{}|{}|{options:?}|",
                crate::version::VERSION,
                env!("SYSCOLLECTOR_SOURCE_DIGEST")
            )
            .as_bytes(),
        );
        if table.hooks.normalize {
            match &self.normalizer {
                Some(n) => fp.extend_from_slice(n.identity()),
                None => fp.push(0),
            }
        }
        Some(fp)
    }

    #[allow(clippy::too_many_arguments)] // One scan's state, passed down unchanged.
    fn scan_table(
        &self,
        report: &mut ScanReport,
        table: &'static TableDef,
        options: ScanOptions,
        lifecycle: &Lifecycle,
        sync: Option<&InventorySync>,
        sources: Option<Vec<u8>>,
        collect: &mut RowSource<'_>,
    ) {
        if lifecycle.is_stopping() {
            return;
        }
        let start = Instant::now();
        let mut db = self.db.lock();
        let result = self.store_table(&mut db, table, options, lifecycle, sync, sources, collect);
        drop(db);
        match result {
            Ok(stats) => {
                self.log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "{}: {} rows, {} inserted, {} modified, {} deleted",
                        table.name, stats.rows, stats.inserted, stats.modified, stats.deleted
                    ),
                );
                report.tables.push(TableReport {
                    table: table.name,
                    stats,
                    elapsed: start.elapsed(),
                })
            }
            Err(e @ (ScanError::Stopped | ScanError::Collect(_))) => {
                if let ScanError::Collect(e) = &e {
                    self.collect_failed(report, table.name, e);
                }
                self.log(
                    LogLevel::Debug,
                    &format!("Scan of {} interrupted; nothing stored", table.name),
                )
            }
            Err(e) => {
                report
                    .failures
                    .push((table.name.to_string(), e.to_string()));
                self.log(
                    LogLevel::Error,
                    &format!("Error updating {}: {e}", table.name),
                )
            }
        }
    }

    /// The commit sequence of one table: collect into the transaction, finish, flush the
    /// queue batch, commit. An early return drops the batch (discarded) and the
    /// transaction (rolled back).
    ///
    /// When `sources` (the fingerprint of what the rows are read from, taken before any is
    /// read) is the one stored with the table by its previous scan, nothing is read: no
    /// row can have changed. Otherwise the commit stores it with the table.
    #[allow(clippy::too_many_arguments)] // One scan's state, passed down unchanged.
    fn store_table(
        &self,
        db: &mut DbSync,
        table: &'static TableDef,
        options: ScanOptions,
        lifecycle: &Lifecycle,
        sync: Option<&InventorySync>,
        sources: Option<Vec<u8>>,
        collect: &mut RowSource<'_>,
    ) -> Result<SyncStats, ScanError> {
        if let Some(fp) = &sources {
            if let Some(rows) = db.unchanged_rows(table, fp)? {
                self.log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "{}: no source changed since the last scan; its {rows} rows are kept as they are",
                        table.name
                    ),
                );
                return Ok(SyncStats {
                    rows,
                    ..SyncStats::default()
                });
            }
        }
        let batch = sync.map(InventorySync::begin_batch);
        // Beta hosts: the table's document limit, read once for its whole scan.
        let limit = db.is_beta().then(|| self.limits.lock().get(table));
        let flag = match limit {
            None => SyncFlag::Untracked,
            Some(0) => SyncFlag::MarkChanged,
            Some(_) => SyncFlag::Keep,
        };
        let mut txn = db.begin_with(table, flag)?;
        txn.set_sources(sources);
        let mut emit = |c: Change| self.emit(table, &c, limit);
        let mut select = table.hooks.select.map(|make| make(options));
        let mut failure: Option<DbError> = None;
        let collected = collect(&mut |row| {
            if failure.is_some() || lifecycle.is_stopping() {
                return;
            }
            let row = match select.as_mut() {
                Some(select) => match select(row) {
                    Some(row) => row,
                    None => return,
                },
                None => row,
            };
            if let Err(e) = self.push_row(&mut txn, table, row, &mut emit) {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e.into());
        }
        if lifecycle.is_stopping() {
            return Err(ScanError::Stopped);
        }
        collected?;
        let finished = txn.finish_pending(&mut emit)?;
        if let Some(batch) = batch {
            batch.flush()?;
        }
        Ok(finished.commit()?)
    }

    fn push_row(
        &self,
        txn: &mut TableSync<'_>,
        table: &'static TableDef,
        row: Row,
        emit: &mut dyn FnMut(Change),
    ) -> Result<(), DbError> {
        let mut row = events::prepare_row(row);
        for field in table.hooks.hashed_only {
            row.remove(*field);
        }
        if table.hooks.normalize {
            if let Some(n) = &self.normalizer {
                n.normalize(&mut row);
                if n.is_excluded(&row) {
                    return Ok(());
                }
            }
        }
        match txn.push(row, emit) {
            Err(e @ DbError::MissingKey { .. }) => {
                self.log(
                    LogLevel::Debug,
                    &format!("Skipping a row of {}: {e}", table.name),
                );
                Ok(())
            }
            other => other,
        }
    }

    /// Reports one change: its stateful document (on a beta host, `limit` being the
    /// table's, only when [`limits::persists`] says so) and, when events are on, its
    /// stateless event (whatever the limit).
    fn emit(&self, table: &'static TableDef, change: &Change, limit: Option<u64>) {
        if let Some(limit) = limit {
            // A beta host (its database has the sync flag): beta4's document shapes and
            // validation, then the limit; the stateless event whatever both say.
            let ev = events::scan_change(
                table,
                change,
                crate::generation::Generation::Beta,
                self.notify.load(Ordering::SeqCst),
                &*self.log,
            );
            if let Some((stateful, json)) = ev.stateful {
                if limits::persists(table, change, limit, &*self.log) {
                    self.sink.stateful(&stateful, &json);
                }
            }
            if let Some(event) = ev.stateless {
                self.sink.stateless(&event);
            }
            if let Some(row) = ev.rejected {
                self.rejected.lock().push((table, row));
            }
            return;
        }
        if !self.notify.load(Ordering::SeqCst) {
            // No stateless event: only the stateful document is made.
            let (row, operation) = match change {
                Change::Inserted(r) => (r, events::Operation::Create),
                Change::Modified { new, .. } => (new, events::Operation::Modify),
                Change::Deleted(r) => (r, events::Operation::Delete),
            };
            let stateful = events::stateful(table, row, operation);
            let json = serde_json::to_string(&stateful.document).unwrap_or_default();
            self.sink.stateful(&stateful, &json);
            return;
        }
        let (stateful, stateless) = events::events(table, change);
        // Serializing a JSON map cannot fail; an empty string would only reach the log.
        let json = serde_json::to_string(&stateful.document).unwrap_or_default();
        self.sink.stateful(&stateful, &json);
        // Writing a map of JSON values cannot fail.
        let event = serde_json::to_string(&stateless).unwrap_or_default();
        self.sink.stateless(&event);
    }
}
