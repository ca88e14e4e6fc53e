//! The inventory module: the scan loop that turns the host's state into events.
//!
//! Every `interval` it asks the data provider for each enabled table's rows, lets the diff
//! engine find what changed since the last scan, and hands every change to its [`Sink`]
//! twice: as a stateful document (always) and as a stateless event (from the second scan
//! on, or from the first with `notify_on_first_scan`). It also answers the host's queries
//! (pause, resume, flush, get/set version) and honours the host's scan lock, which the
//! daemon takes while it synchronises so that a scan never runs in the middle of a sync.

pub mod ecs;
pub mod events;
pub mod normalizer;
pub mod query;
pub mod recovery;
pub mod sync;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::dbsync::{schema, Change, DbError, DbSync, SyncStats, TableDef};
use crate::sysinfo::{CollectError, SysInfo};
use crate::{LogLevel, Logger, Row};
pub use events::{Operation, Stateful};
pub use sync::{InventorySync, SyncConfig};

/// A collector that hands its rows one at a time to a callback.
type StreamingCollector<'a> = dyn FnMut(&mut dyn FnMut(Row)) -> Result<(), CollectError> + 'a;

/// Which collectors run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collectors {
    pub hardware: bool,
    pub os: bool,
    pub network: bool,
    pub packages: bool,
    pub ports: bool,
    pub ports_all: bool,
    pub processes: bool,
    pub hotfixes: bool,
    pub groups: bool,
    pub users: bool,
    pub services: bool,
    pub browser_extensions: bool,
}

impl Collectors {
    /// Every collector on (ports: listening only).
    pub fn all() -> Self {
        Collectors {
            hardware: true,
            os: true,
            network: true,
            packages: true,
            ports: true,
            ports_all: false,
            processes: true,
            hotfixes: true,
            groups: true,
            users: true,
            services: true,
            browser_extensions: true,
        }
    }

    /// Whether the collector that fills `table` is enabled.
    pub fn enabled(&self, table: &TableDef) -> bool {
        match table.name {
            n if n == schema::HARDWARE.name => self.hardware,
            n if n == schema::OS.name => self.os,
            n if n == schema::NETWORK_IFACE.name
                || n == schema::NETWORK_PROTOCOL.name
                || n == schema::NETWORK_ADDRESS.name =>
            {
                self.network
            }
            n if n == schema::PACKAGES.name => self.packages,
            n if n == schema::HOTFIXES.name => self.hotfixes,
            n if n == schema::PORTS.name => self.ports,
            n if n == schema::PROCESSES.name => self.processes,
            n if n == schema::GROUPS.name => self.groups,
            n if n == schema::USERS.name => self.users,
            n if n == schema::SERVICES.name => self.services,
            n if n == schema::BROWSER_EXTENSIONS.name => self.browser_extensions,
            _ => false,
        }
    }

    /// True when no collector is enabled.
    pub fn none(&self) -> bool {
        !(self.hardware
            || self.os
            || self.network
            || self.packages
            || self.ports
            || self.processes
            || self.hotfixes
            || self.groups
            || self.users
            || self.services
            || self.browser_extensions)
    }
}

/// The module's configuration, as `syscollector_init` receives it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seconds between scans (at least 1).
    pub interval: u32,
    pub scan_on_start: bool,
    pub collectors: Collectors,
    pub notify_on_first_scan: bool,
    /// The inventory database; `None` keeps it in memory.
    pub db_path: Option<PathBuf>,
    pub normalizer_config: Option<PathBuf>,
    pub normalizer_type: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            interval: 3600,
            scan_on_start: true,
            collectors: Collectors::all(),
            notify_on_first_scan: false,
            db_path: None,
            normalizer_config: None,
            normalizer_type: None,
        }
    }
}

/// Where the module's events go.
pub trait Sink: Send + Sync {
    /// A stateless event, serialized.
    fn stateless(&self, event: &str);
    /// A stateful document with its id, operation, index and version; `json` is the
    /// serialized document.
    fn stateful(&self, doc: &Stateful, json: &str);
    /// One scan ended (the command line's `run` reports it); nothing by default.
    fn scan_finished(&self, _report: &ScanReport) {}
}

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
    pub elapsed: Duration,
}

/// The sockets the ports table keeps: every UDP socket, TCP sockets in the listening state
/// (all of them with `ports_all`), each (inode, transport, address, port) once.
pub fn select_ports(rows: Vec<Row>, ports_all: bool) -> Vec<Row> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|row| {
            let transport = row
                .get("network_transport")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .trim();
            let keep = if transport.starts_with("tcp") {
                ports_all
                    || row
                        .get("interface_state")
                        .and_then(|v| v.as_str())
                        .map(str::trim)
                        == Some("listening")
            } else {
                transport.starts_with("udp")
            };
            keep && seen.insert(events::document_id(&schema::PORTS, row))
        })
        .collect()
}

/// The inventory module.
pub struct Inventory {
    cfg: Config,
    provider: Box<dyn SysInfo>,
    sink: Arc<dyn Sink>,
    log: Logger,
    db: Mutex<DbSync>,
    normalizer: Option<normalizer::Normalizer>,
    notify: AtomicBool,
    stopping: Mutex<bool>,
    wake: Condvar,
    scan_mutex: Mutex<()>,
    externally_locked: AtomicBool,
    paused: AtomicBool,
    /// Scans and syncs running now; `pause` waits until it is 0.
    busy: Mutex<u32>,
    scan_done: Condvar,
    sync: RwLock<Option<Arc<InventorySync>>>,
}

/// Counts a running scan or sync and wakes pause waiters however it ends.
struct BusyGuard<'a>(&'a Inventory);

impl<'a> BusyGuard<'a> {
    fn new(inv: &'a Inventory) -> Self {
        *inv.busy.lock() += 1;
        BusyGuard(inv)
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock();
        *busy = busy.saturating_sub(1);
        drop(busy);
        self.0.scan_done.notify_all();
    }
}

impl Inventory {
    /// Opens the database and prepares the module; scanning starts with [`run`](Self::run)
    /// or [`scan`](Self::scan).
    pub fn new(
        cfg: Config,
        provider: Box<dyn SysInfo>,
        sink: Arc<dyn Sink>,
        log: Logger,
    ) -> Result<Inventory, DbError> {
        let db = match &cfg.db_path {
            Some(p) => DbSync::open(p, &|l, m| log(l, m))?,
            None => DbSync::in_memory()?,
        };
        let normalizer = cfg.normalizer_config.as_ref().and_then(|p| {
            normalizer::Normalizer::load(
                p,
                cfg.normalizer_type
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .unwrap_or("linux"),
                &log,
            )
        });
        Ok(Inventory {
            notify: AtomicBool::new(cfg.notify_on_first_scan),
            cfg,
            provider,
            sink,
            log,
            db: Mutex::new(db),
            normalizer,
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            scan_mutex: Mutex::new(()),
            externally_locked: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            busy: Mutex::new(0),
            scan_done: Condvar::new(),
            sync: RwLock::new(None),
        })
    }

    /// The configuration the module runs with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn log(&self, level: LogLevel, msg: &str) {
        (self.log)(level, msg)
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.lock()
    }

    /// Runs the scan loop in the calling thread until [`stop`](Self::stop).
    pub fn run(&self) {
        let interval = if self.cfg.interval == 0 {
            self.log(
                LogLevel::Warning,
                "Scan interval 0 is not allowed; scanning every second instead",
            );
            1
        } else {
            self.cfg.interval
        };
        self.log(LogLevel::Info, "Module started.");
        if let Some(sync) = self.sync() {
            sync.reset();
        }
        self.clean_disabled_collectors();
        if self.cfg.collectors.none() {
            self.log(LogLevel::Info, "All collectors are disabled. Exiting...");
            return;
        }
        if !self.vd_enabled() {
            self.log(
                LogLevel::Warning,
                "Vulnerability Detector synchronization is disabled. No packages or OS scanning is enabled in the configuration.",
            );
        }
        if self.cfg.scan_on_start && !self.is_stopping() {
            self.scan_when_unlocked();
        }
        loop {
            {
                let mut stopping = self.stopping.lock();
                if !*stopping {
                    let deadline = Instant::now() + Duration::from_secs(u64::from(interval));
                    while !*stopping && Instant::now() < deadline {
                        self.wake.wait_until(&mut stopping, deadline);
                    }
                }
                if *stopping {
                    break;
                }
            }
            if self.paused.load(Ordering::SeqCst) {
                self.log(
                    LogLevel::Debug,
                    "Syscollector scanning paused, skipping scan iteration",
                );
                continue;
            }
            self.scan_when_unlocked();
        }
        self.log(LogLevel::Info, "Module finished.");
    }

    /// Takes the scan lock (waiting while the host holds it, but not past a stop) and scans.
    fn scan_when_unlocked(&self) {
        loop {
            if self.is_stopping() {
                return;
            }
            if let Some(_guard) = self.scan_mutex.try_lock_for(Duration::from_millis(100)) {
                // A bug in one collector must not end the module: log it, scan again later.
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.scan()));
                if outcome.is_err() {
                    self.log(
                        LogLevel::Error,
                        "Internal error during the scan; it will be retried at the next interval",
                    );
                }
                return;
            }
        }
    }

    /// Makes [`run`](Self::run) return soon: wakes the loop and ends a running scan between
    /// two rows (the unfinished table's changes are rolled back and found again next time).
    pub fn stop(&self) {
        *self.stopping.lock() = true;
        self.wake.notify_all();
        self.scan_done.notify_all();
        if let Some(sync) = self.sync() {
            sync.stop();
        }
    }

    /// Connects the sync protocol instances (`syscollector_init_sync`).
    pub fn attach_sync(&self, sync: Arc<InventorySync>) {
        *self.sync.write() = Some(sync);
    }

    /// The sync protocol instances, when initialised.
    pub fn sync(&self) -> Option<Arc<InventorySync>> {
        self.sync.read().clone()
    }

    /// Whether vulnerability-detector synchronisation applies (packages and OS collected).
    pub fn vd_enabled(&self) -> bool {
        self.cfg.collectors.packages && self.cfg.collectors.os
    }

    /// Runs a sync session of both instances (`syscollector_sync_module`).
    pub fn sync_module(&self, mode: crate::sync_protocol::Mode) -> bool {
        if self.is_paused() {
            self.log(
                LogLevel::Debug,
                "Syscollector module is paused, skipping synchronization",
            );
            return false;
        }
        let Some(sync) = self.sync() else {
            self.log(
                LogLevel::Warning,
                "Inventory synchronization is not initialized",
            );
            return false;
        };
        let _busy = BusyGuard::new(self);
        self.log(LogLevel::Debug, "Syscollector synchronization started.");
        let ok = sync.synchronize(mode, self.vd_enabled());
        if ok {
            self.log(
                LogLevel::Info,
                "Syscollector synchronization process finished successfully.",
            );
        } else {
            self.log(
                LogLevel::Warning,
                "Syscollector synchronization process failed.",
            );
        }
        ok
    }

    /// Blocks scans until [`unlock_scan`](Self::unlock_scan); waits for a running scan.
    pub fn lock_scan(&self) {
        let guard = self.scan_mutex.lock();
        std::mem::forget(guard);
        self.externally_locked.store(true, Ordering::SeqCst);
    }

    /// Releases the lock taken by [`lock_scan`](Self::lock_scan); does nothing otherwise.
    pub fn unlock_scan(&self) {
        if self.externally_locked.swap(false, Ordering::SeqCst) {
            // SAFETY: the flag was set by `lock_scan`, which forgot its guard, so the mutex
            // is locked and owned by the host's lock/unlock pair; we release it once.
            unsafe { self.scan_mutex.force_unlock() };
        } else {
            self.log(
                LogLevel::Debug,
                "syscollector_unlock_scan_mutex called without a matching lock; ignored",
            );
        }
    }

    /// Stops new scans and waits until a running one finishes (or the module stops).
    /// Returns false when a stop interrupted the wait.
    pub fn pause(&self) -> bool {
        self.log(LogLevel::Debug, "Syscollector module pause requested");
        self.paused.store(true, Ordering::SeqCst);
        let mut busy = self.busy.lock();
        while *busy > 0 && !self.is_stopping() {
            self.scan_done
                .wait_for(&mut busy, Duration::from_millis(200));
        }
        drop(busy);
        if self.is_stopping() {
            self.log(
                LogLevel::Warning,
                "Syscollector module pause interrupted by shutdown",
            );
            false
        } else {
            self.log(LogLevel::Info, "Syscollector module paused successfully");
            true
        }
    }

    /// Lets scans run again.
    pub fn resume(&self) {
        self.log(LogLevel::Info, "Resuming Syscollector module");
        self.paused.store(false, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Runs one complete evaluation of every enabled collector.
    pub fn scan(&self) -> ScanReport {
        let mut report = ScanReport::default();
        if self.is_paused() {
            self.log(
                LogLevel::Debug,
                "Syscollector is paused, skipping evaluation.",
            );
            return report;
        }
        let _busy = BusyGuard::new(self);
        let start = Instant::now();
        self.log(LogLevel::Info, "Starting evaluation.");
        let c = self.cfg.collectors;
        let p = &*self.provider;
        if c.hardware {
            self.scan_one(&mut report, &schema::HARDWARE, || {
                p.hardware().map(|r| vec![r])
            });
        }
        if c.os {
            self.scan_one(&mut report, &schema::OS, || p.os().map(|r| vec![r]));
        }
        if c.network && !self.is_stopping() {
            match p.network() {
                Ok(n) => {
                    self.scan_one(&mut report, &schema::NETWORK_IFACE, || Ok(n.interfaces));
                    self.scan_one(&mut report, &schema::NETWORK_PROTOCOL, || Ok(n.protocols));
                    self.scan_one(&mut report, &schema::NETWORK_ADDRESS, || Ok(n.addresses));
                }
                Err(e) => self.collect_failed(&mut report, "network", &e),
            }
        }
        if c.packages {
            self.scan_streamed(&mut report, &schema::PACKAGES, &mut |each| p.packages(each));
        }
        if c.hotfixes {
            self.scan_one(&mut report, &schema::HOTFIXES, || p.hotfixes());
        }
        if c.ports {
            self.scan_one(&mut report, &schema::PORTS, || {
                p.ports().map(|rows| select_ports(rows, c.ports_all))
            });
        }
        if c.processes {
            self.scan_streamed(&mut report, &schema::PROCESSES, &mut |each| {
                p.processes(each)
            });
        }
        if c.groups {
            self.scan_one(&mut report, &schema::GROUPS, || p.groups());
        }
        if c.users {
            self.scan_one(&mut report, &schema::USERS, || p.users());
        }
        if c.services {
            self.scan_one(&mut report, &schema::SERVICES, || p.services());
        }
        if c.browser_extensions {
            self.scan_one(&mut report, &schema::BROWSER_EXTENSIONS, || {
                // The install time is a number in documents, as the reference converts it.
                p.browser_extensions().map(|mut rows| {
                    rows.iter_mut()
                        .for_each(crate::sysinfo::browser_extensions::installed_as_number);
                    rows
                })
            });
        }
        if self.vd_enabled() && !self.is_stopping() {
            self.vd_data_context();
        }
        self.notify.store(true, Ordering::SeqCst);
        self.log(LogLevel::Info, "Evaluation finished.");
        report.elapsed = start.elapsed();
        self.sink.scan_finished(&report);
        report
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

    /// Scans a table whose collector returns all its rows at once.
    fn scan_one(
        &self,
        report: &mut ScanReport,
        table: &'static TableDef,
        collect: impl FnOnce() -> Result<Vec<Row>, CollectError>,
    ) {
        let mut collect = Some(collect);
        self.scan_streamed(report, table, &mut |each| {
            if let Some(collect) = collect.take() {
                collect()?.into_iter().for_each(&mut *each);
            }
            Ok(())
        });
    }

    fn scan_streamed(
        &self,
        report: &mut ScanReport,
        table: &'static TableDef,
        collect: &mut StreamingCollector<'_>,
    ) {
        if self.is_stopping() {
            return;
        }
        let start = Instant::now();
        self.log(
            LogLevel::DebugVerbose,
            &format!("Starting {} scan", table.name),
        );
        let mut db = self.db.lock();
        let sync = self.sync();
        if let Some(s) = &sync {
            s.begin_batch();
        }
        let result = (|| {
            let mut txn = db.begin(table)?;
            let mut emit = |c: Change| self.emit(table, &c);
            let mut failure: Option<DbError> = None;
            let collected = collect(&mut |row| {
                if failure.is_some() || self.is_stopping() {
                    return;
                }
                if let Err(e) = self.push_row(&mut txn, table, row, &mut emit) {
                    failure = Some(e);
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
            if self.is_stopping() {
                return Ok(None);
            }
            match collected {
                Ok(()) => txn
                    .finish_with(&mut emit, &mut || self.flush_queues(&sync))
                    .map(Some),
                Err(e) => {
                    self.collect_failed(report, table.name, &e);
                    Ok(None)
                }
            }
        })();
        if let Err(e) = self.flush_queues(&sync) {
            self.log(
                LogLevel::Error,
                &format!("Cannot store sync differences: {e}"),
            );
        }
        self.finish_table(report, table, start, result);
    }

    /// Commits the sync queues' grouped writes (before the scan's own commit).
    fn flush_queues(&self, sync: &Option<Arc<InventorySync>>) -> Result<(), String> {
        match sync {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }

    fn push_row(
        &self,
        txn: &mut crate::dbsync::TableSync<'_>,
        table: &'static TableDef,
        row: Row,
        emit: &mut dyn FnMut(Change),
    ) -> Result<(), DbError> {
        let mut row = events::prepare_row(row);
        // Package rows are normalized after their checksum, as the reference does, and
        // excluded ones are not stored at all.
        if table.name == schema::PACKAGES.name {
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

    fn finish_table(
        &self,
        report: &mut ScanReport,
        table: &'static TableDef,
        start: Instant,
        result: Result<Option<SyncStats>, DbError>,
    ) {
        match result {
            Ok(Some(stats)) => {
                self.log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "Ending {} scan: {} rows, {} inserted, {} modified, {} deleted",
                        table.name, stats.rows, stats.inserted, stats.modified, stats.deleted
                    ),
                );
                report.tables.push(TableReport {
                    table: table.name,
                    stats,
                    elapsed: start.elapsed(),
                })
            }
            Ok(None) => self.log(
                LogLevel::Debug,
                &format!("Scan of {} interrupted; nothing stored", table.name),
            ),
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

    fn emit(&self, table: &'static TableDef, change: &Change) {
        let (stateful, stateless) = events::events(table, change);
        // Serializing a JSON map cannot fail; an empty string would only reach the log.
        let json = serde_json::to_string(&stateful.document).unwrap_or_default();
        self.sink.stateful(&stateful, &json);
        if self.notify.load(Ordering::SeqCst) {
            let event = serde_json::Value::Object(stateless).to_string();
            self.sink.stateless(&event);
        }
    }

    /// Runs `f` with the database (queries, tests).
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbSync) -> T) -> T {
        f(&mut self.db.lock())
    }

    /// Deletes the sync queues and the inventory database; both start again empty.
    pub fn delete_database(&self) {
        if let Some(sync) = self.sync() {
            sync.delete_databases();
        }
        let mut db = self.db.lock();
        let path: Option<PathBuf> = db.path().map(Path::to_path_buf);
        match path {
            Some(path) => {
                // Close the current connection before removing its files.
                *db = match DbSync::in_memory() {
                    Ok(mem) => mem,
                    Err(e) => {
                        self.log(LogLevel::Error, &format!("Cannot reset database: {e}"));
                        return;
                    }
                };
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.as_os_str().to_owned();
                    p.push(suffix);
                    let p = PathBuf::from(p);
                    if p.exists() {
                        if let Err(e) = std::fs::remove_file(&p) {
                            self.log(
                                LogLevel::Error,
                                &format!("Cannot delete {}: {e}", p.display()),
                            );
                        }
                    }
                }
                match DbSync::open(&path, &|l, m| (self.log)(l, m)) {
                    Ok(fresh) => *db = fresh,
                    Err(e) => self.log(
                        LogLevel::Error,
                        &format!("Cannot recreate {}: {e}", path.display()),
                    ),
                }
                self.log(
                    LogLevel::Info,
                    &format!("Inventory database {} deleted", path.display()),
                );
            }
            None => {
                for t in schema::TABLES {
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
    use serde_json::json;

    fn port(transport: &str, state: &str, inode: u64, port: u16) -> Row {
        json!({"network_transport": transport, "interface_state": state, "file_inode": inode,
               "source_ip": "0.0.0.0", "source_port": port})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn ports_keep_listening_tcp_all_udp_once() {
        let rows = vec![
            port("tcp", "listening", 1, 22),
            port("tcp", "established", 2, 22),
            port("tcp6", "listening", 3, 22),
            port("udp", "", 4, 53),
            port("udp", "", 4, 53),
            port("raw", "", 5, 0),
        ];
        let kept = select_ports(rows.clone(), false);
        let inodes: Vec<_> = kept.iter().map(|r| r["file_inode"].clone()).collect();
        assert_eq!(inodes, [json!(1), json!(3), json!(4)]);
        assert_eq!(select_ports(rows, true).len(), 4);
    }
}
