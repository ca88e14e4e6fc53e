//! The inventory module: the scan loop that turns the host's state into events.
//!
//! Every `interval` it asks the data provider for each enabled table's rows, lets the diff
//! engine find what changed since the last scan, and hands every change to its [`Sink`]
//! twice: as a stateful document (always) and as a stateless event (from the second scan
//! on, or from the first with `notify_on_first_scan`). It also answers the host's queries
//! (pause, resume, flush, get/set version) and honours the host's scan lock, which the
//! daemon takes while it synchronises so that a scan never runs in the middle of a sync.

pub mod beta;
pub mod ecs;
pub mod events;
pub mod lifecycle;
pub mod limits;
pub mod normalizer;
pub mod query;
pub mod recovery;
pub mod scan;
pub mod sync;
pub mod validate;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use crate::catalog::network::select_ports;
pub use crate::catalog::Collectors;
use crate::dbsync::{DbError, DbSync};
use crate::sysinfo::SysInfo;
use crate::{LogLevel, Logger};
pub use events::{Operation, Stateful};
pub use lifecycle::ScanLock;
use lifecycle::{HostLock, Lifecycle, Unlock};
use scan::Scanner;
pub use scan::{ScanError, ScanReport, TableReport};
pub use sync::{InventorySync, SyncConfig, SyncOpener};

/// Why a synchronisation the host asked for did not deliver.
#[derive(Debug, thiserror::Error)]
pub enum SyncRunError {
    #[error("the module is paused")]
    Paused,
    #[error("synchronization is not initialized")]
    NotInitialized,
    #[error("the sync queues cannot be opened: {0}")]
    QueueUnavailable(#[from] crate::sync_protocol::queue::QueueError),
    #[error(transparent)]
    Session(#[from] crate::sync_protocol::SyncError),
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

/// The inventory module: its [`lifecycle`](lifecycle::Lifecycle), its
/// [`scanner`](scan::Scanner) and, once attached, its sync protocol instances
/// ([`recovery`] holds what it does with them).
pub struct Inventory {
    cfg: Config,
    provider: Box<dyn SysInfo>,
    log: Logger,
    lifecycle: Lifecycle,
    scanner: Scanner,
    sync: sync::SyncSlot,
    generation: Arc<crate::generation::GenerationCell>,
    /// True while a scan runs (`syscollector_is_scanning`).
    scanning: AtomicBool,
    /// The beta host's agentd query (`syscollector_set_agentd_query_func`).
    agentd: parking_lot::RwLock<Option<beta::AgentdQuery>>,
    /// The last document limits agentd answered (until H2's limits take them over).
    document_limits: parking_lot::Mutex<Option<serde_json::Value>>,
    /// The beta host's asynchronous flush.
    flush: beta::AsyncFlush,
    /// The beta host's markers as last read or written.
    markers: beta::MarkerCache,
}

/// Clears the scanning flag however a scan ends.
struct Scanning<'a>(&'a AtomicBool);

impl Drop for Scanning<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
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
        Ok(Self::from_db(cfg, db, provider, sink, log))
    }

    /// [`new`](Self::new) with a database the caller opened already (`cfg.db_path` is
    /// then only informative): a tool that checks the database before it starts does
    /// not open and verify it twice.
    pub fn from_db(
        cfg: Config,
        db: DbSync,
        provider: Box<dyn SysInfo>,
        sink: Arc<dyn Sink>,
        log: Logger,
    ) -> Inventory {
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
        let scanner = Scanner::new(db, normalizer, sink, cfg.notify_on_first_scan, log.clone());
        Inventory {
            cfg,
            provider,
            log,
            lifecycle: Lifecycle::new(),
            scanner,
            sync: sync::SyncSlot::default(),
            generation: Arc::default(),
            scanning: AtomicBool::new(false),
            agentd: parking_lot::RwLock::new(None),
            document_limits: parking_lot::Mutex::new(None),
            flush: beta::AsyncFlush::default(),
            markers: beta::MarkerCache::default(),
        }
    }

    /// The host generation this instance serves (see [`crate::generation`]), shared with
    /// whatever part needs it.
    pub fn generation_cell(&self) -> Arc<crate::generation::GenerationCell> {
        self.generation.clone()
    }

    /// The host generation now.
    pub fn generation(&self) -> crate::generation::Generation {
        self.generation.get()
    }

    /// The host called `syscollector_set_agentd_query_func`: a beta host, unless the
    /// generation is frozen already (then false, and nothing changes).
    pub fn claim_beta(&self) -> bool {
        self.generation.claim_beta()
    }

    /// Fixes the generation (first `init_sync` or `start`). The first freeze as beta logs
    /// it, once, at DEBUG, and calls [`on_beta_frozen`](Self::on_beta_frozen); an alpha0
    /// host's log stays byte for byte what it was (no line: alpha0 is the absence of it).
    pub fn freeze_generation(&self) -> crate::generation::Generation {
        let (generation, first) = self.generation.freeze();
        if first && generation.is_beta() {
            self.log(
                LogLevel::Debug,
                "Host generation: beta (syscollector_set_agentd_query_func called before init_sync/start)",
            );
            self.on_beta_frozen();
        }
        generation
    }

    /// Called once, right after the generation froze as beta: the beta schema (the `sync`
    /// column of every table) is put in place ([`enter_beta`](Self::enter_beta)) and the
    /// document validation says it is ready, as beta4's does.
    pub fn on_beta_frozen(&self) {
        self.enter_beta();
        validate::log_initialized(&|l, m| self.log(l, m));
    }

    /// Uses `query` to ask agentd (`syscollector_set_agentd_query_func`; `None`: the host
    /// gave NULL, so no document limits can be fetched).
    pub fn set_agentd_query(&self, query: Option<beta::AgentdQuery>) {
        *self.agentd.write() = query;
    }

    /// Hands the document limits agentd answered to the limits code
    /// ([`set_document_limits`](Self::set_document_limits)) and keeps the answer
    /// ([`agentd_document_limits`](Self::agentd_document_limits)); false when they cannot
    /// be applied.
    pub fn apply_document_limits(&self, limits: &serde_json::Value) -> bool {
        *self.document_limits.lock() = Some(limits.clone());
        self.set_document_limits(limits)
    }

    /// The last document limits agentd answered (`None`: none fetched).
    pub fn agentd_document_limits(&self) -> Option<serde_json::Value> {
        self.document_limits.lock().clone()
    }

    /// True while a scan runs.
    pub fn is_scanning(&self) -> bool {
        self.scanning.load(Ordering::SeqCst)
    }

    /// Shares `lock` as the scan lock (the C ABI gives every instance the same one, so a
    /// host's lock outlives a re-init). Call before the module runs.
    pub fn with_shared_scan_lock(mut self, lock: Arc<ScanLock>) -> Inventory {
        self.lifecycle = Lifecycle::with_scan_lock_shared(lock);
        self
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
        self.lifecycle.is_stopping()
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
        if self.generation().is_beta() && !self.beta_prologue() {
            return;
        }
        // As the reference: its scan loop says so, after the data clean and the checks.
        self.log(LogLevel::Info, "Module started.");
        if self.cfg.scan_on_start && !self.is_stopping() {
            self.scan_when_unlocked();
        }
        while !self
            .lifecycle
            .sleep(Duration::from_secs(u64::from(interval)))
        {
            if self.is_paused() {
                self.log(
                    LogLevel::Debug,
                    "Syscollector scanning paused, skipping scan iteration",
                );
                continue;
            }
            self.scan_when_unlocked();
        }
        // "Module finished." is the host's line (wm_syscollector logs it when this returns).
    }

    /// As the reference's `start`: clears an earlier [`stop`](Self::stop) (a stop before a
    /// start, or between two starts, must not keep the module from scanning), then
    /// [`run`](Self::run)s.
    pub fn start(&self) {
        self.freeze_generation();
        self.lifecycle.reset_stop();
        self.run();
    }

    /// Takes the scan lock (waiting while the host holds it, but not past a stop) and scans.
    fn scan_when_unlocked(&self) {
        self.lifecycle.with_scan_lock(|| {
            // A bug in one collector must not end the module: log it, scan again later.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.scan()));
            if outcome.is_err() {
                self.log(
                    LogLevel::Error,
                    "Internal error during the scan; it will be retried at the next interval",
                );
            }
        });
    }

    /// Makes [`run`](Self::run) return soon: wakes the loop and ends a running scan between
    /// two rows (the unfinished table's changes are rolled back and found again next time).
    pub fn stop(&self) {
        self.lifecycle.stop();
        if let Some(sync) = self.sync() {
            sync.stop();
        }
        if self.generation().is_beta() {
            self.quiesce_flush();
        }
    }

    /// Connects the sync protocol instances (`syscollector_init_sync`).
    pub fn attach_sync(&self, sync: Arc<InventorySync>) {
        self.sync.attach(sync);
    }

    /// Opens the sync protocol instances with `opener` (`syscollector_init_sync`). When
    /// the queues cannot be opened now (another process holds them locked, say) the error
    /// is returned and `opener` kept: every scan and sync tries again, and until then a
    /// scan is skipped (its differences would have nowhere to go; the next scan finds them
    /// again) rather than run with its differences dropped.
    pub fn init_sync(
        &self,
        opener: SyncOpener,
    ) -> Result<Arc<InventorySync>, crate::sync_protocol::queue::QueueError> {
        self.freeze_generation();
        let sync = self.sync.init(opener)?;
        self.migrate_vd_flag(&sync);
        Ok(sync)
    }

    /// The sync protocol instances, when initialised.
    pub fn sync(&self) -> Option<Arc<InventorySync>> {
        self.sync.get()
    }

    /// The sync protocol instances, opened now if `syscollector_init_sync` could not open
    /// them; a failure is logged with `doing` (what is given up for now).
    pub(crate) fn sync_or_retry(
        &self,
        doing: &str,
    ) -> Result<Option<Arc<InventorySync>>, crate::sync_protocol::queue::QueueError> {
        self.sync.get_or_retry().inspect_err(|e| {
            self.log(
                LogLevel::Warning,
                &format!("The sync queues still cannot be opened ({e}); {doing}"),
            )
        })
    }

    /// True while `syscollector_init_sync` was called but its queues are not open yet.
    pub fn sync_waiting(&self) -> bool {
        self.sync.is_waiting()
    }

    /// Whether vulnerability-detector synchronisation applies (packages and OS collected).
    pub fn vd_enabled(&self) -> bool {
        self.cfg.collectors.packages && self.cfg.collectors.os
    }

    /// Runs a sync session of both instances (`syscollector_sync_module`). Every failure
    /// is logged here, at the reference's level; the caller only answers it.
    pub fn sync_module(&self, mode: crate::sync_protocol::Mode) -> Result<(), SyncRunError> {
        if self.generation().is_beta() {
            return self.sync_module_beta(mode);
        }
        if self.is_paused() {
            self.log(
                LogLevel::Debug,
                "Syscollector module is paused, skipping synchronization",
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
        self.log(LogLevel::Debug, "Syscollector synchronization started.");
        let result = sync.synchronize(mode, self.vd_enabled());
        if result.is_ok() {
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
        Ok(result?)
    }

    /// Blocks scans until [`unlock_scan`](Self::unlock_scan); waits for a running scan.
    /// A second lock from the thread that holds it (the host's, or a callback of the scan
    /// running in this thread) is refused with an error log instead of deadlocking; true
    /// when the caller holds the lock now because of this call.
    pub fn lock_scan(&self) -> bool {
        match self.lifecycle.lock_scan() {
            HostLock::Locked => true,
            HostLock::AlreadyHeld => {
                self.log(
                    LogLevel::Error,
                    "syscollector_lock_scan_mutex called twice by the same thread without an unlock; the second lock is ignored",
                );
                false
            }
            HostLock::HeldByThisScan => {
                self.log(
                    LogLevel::Error,
                    "syscollector_lock_scan_mutex called from inside a callback of a running scan; ignored (it would wait for itself)",
                );
                false
            }
        }
    }

    /// Releases the lock taken by [`lock_scan`](Self::lock_scan); does nothing otherwise.
    pub fn unlock_scan(&self) {
        if self.lifecycle.unlock_scan() == Unlock::NotLocked {
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
        if self.lifecycle.pause() {
            self.log(LogLevel::Info, "Syscollector module paused successfully");
            true
        } else {
            self.log(
                LogLevel::Warning,
                "Syscollector module pause interrupted by shutdown",
            );
            false
        }
    }

    /// Lets scans run again.
    pub fn resume(&self) {
        self.log(LogLevel::Info, "Resuming Syscollector module");
        self.lifecycle.resume();
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.lifecycle.is_paused()
    }

    /// Runs one complete evaluation of every enabled collector.
    pub fn scan(&self) -> ScanReport {
        if self.is_paused() {
            self.log(
                LogLevel::Debug,
                "Syscollector is paused, skipping evaluation.",
            );
            return ScanReport::default();
        }
        let _busy = self.lifecycle.busy();
        self.scanning.store(true, Ordering::SeqCst);
        let _scanning = Scanning(&self.scanning);
        // Differences found without a queue to take them would be lost for the manager
        // (the inventory database moves on): scan only once the queues are open.
        let Ok(sync) = self.sync_or_retry(
            "evaluation skipped so that no difference is lost, trying again at the next scan",
        ) else {
            return ScanReport::default();
        };
        let beta = self.generation().is_beta();
        let first_scan = beta && self.marker(beta::FIRST_SCAN).is_none_or(|v| v == 0);
        if first_scan {
            self.log(LogLevel::Debug, "Initial Syscollector scan starting.");
        }
        self.log(LogLevel::Info, "Starting evaluation.");
        let start = std::time::Instant::now();
        let mut report = self.scanner.scan(
            &*self.provider,
            self.cfg.collectors,
            &self.lifecycle,
            sync.as_deref(),
        );
        if self.vd_enabled() && !self.is_stopping() {
            self.vd_data_context();
        }
        // Every table's differences are in the sync queues now (each table's batch is
        // committed before the next table starts); a scan a stop cut short is not complete.
        if first_scan && !self.is_stopping() && self.set_marker(beta::FIRST_SCAN) {
            self.log(
                LogLevel::Debug,
                "First inventory scan completed — marker persisted.",
            );
        }
        self.log(LogLevel::Info, "Evaluation finished.");
        report.elapsed = start.elapsed();
        self.scanner.report_finished(&report);
        report
    }

    /// Runs `f` with the database (queries, tests).
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbSync) -> T) -> T {
        self.scanner.with_db(f)
    }
}
