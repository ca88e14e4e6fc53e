//! The module's two sync protocol instances and the policy around them.
//!
//! Documents of the system, packages and hotfixes indices feed the vulnerability detector
//! and travel through their own instance (`<module>_vd`, its own queue), which announces
//! itself with `VDFirst` until its first successful session and `VDSync` afterwards (a flag
//! file next to its queue remembers that across restarts). Everything else goes through
//! the regular instance.
//!
//! The queues are checked where they are used: [`SyncSlot`] keeps what
//! `syscollector_init_sync` was given when the queues could not be opened then (a lock
//! held by another process, say) and opens them again at the next scan or sync instead
//! of leaving the module without synchronisation for its whole life; and every table
//! scan's batch and every sync first checks that each queue file is still the one it has
//! open ([`PersistentQueue::check_file`]), so a file deleted or replaced meanwhile is
//! reopened with its items instead of failing every write until a restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::catalog;
use crate::sync_protocol::queue::QueueError;
use crate::sync_protocol::{
    Item, ItemOperation, MetadataSource, Mode, PersistentQueue, Settings, SyncError, SyncOption,
    SyncProtocol, Transport,
};
use crate::{LogLevel, Logger};

/// What `syscollector_init_sync` configures.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub module: String,
    pub db_path: PathBuf,
    pub db_path_vd: PathBuf,
    pub end_delay: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub max_eps: usize,
    /// Seconds between integrity checks of a table.
    pub integrity_interval: u32,
    /// The host generation both instances speak to (alpha0 unless the host is a beta one):
    /// a beta instance batches DataValues, sends the cluster fields and waits on Processing.
    pub generation: crate::generation::Generation,
}

/// The regular and vulnerability-detector instances.
pub struct InventorySync {
    pub regular: SyncProtocol,
    pub vd: SyncProtocol,
    vd_flag: PathBuf,
    pub config: SyncConfig,
    log: Logger,
}

impl From<crate::inventory::Operation> for ItemOperation {
    fn from(op: crate::inventory::Operation) -> ItemOperation {
        use crate::inventory::Operation as Op;
        match op {
            Op::Create => ItemOperation::Create,
            Op::Modify => ItemOperation::Modify,
            Op::Delete => ItemOperation::Delete,
            Op::NoOp => ItemOperation::NoOp,
        }
    }
}

/// The differences one table scan queued, not yet committed to either queue.
pub struct QueueBatch<'a> {
    sync: &'a InventorySync,
    open: bool,
}

impl QueueBatch<'_> {
    /// Commits the grouped writes of both queues, the regular one first (a table's
    /// documents go to one of them, so the other has nothing staged). When a flush fails,
    /// what is still staged is discarded and the error fails the table's scan, whose diff
    /// engine transaction then rolls back too.
    pub fn flush(mut self) -> Result<(), QueueError> {
        self.sync.regular.queue().flush()?;
        self.sync.vd.queue().flush()?;
        self.open = false;
        Ok(())
    }
}

impl Drop for QueueBatch<'_> {
    fn drop(&mut self) {
        if self.open {
            self.sync.regular.queue().discard_batch();
            self.sync.vd.queue().discard_batch();
        }
    }
}

/// The queue item of a stateful document (its JSON given); DataContext items are
/// flagged by the caller.
pub fn queue_item(doc: &crate::inventory::Stateful, json: String) -> Item {
    Item::new(
        doc.id.clone(),
        doc.operation.into(),
        doc.index,
        json,
        doc.version,
    )
}

/// True for the indices the vulnerability-detector instance carries.
pub fn is_vd_index(index: &str) -> bool {
    catalog::table_for_index(index).is_some_and(|t| t.vd())
}

impl InventorySync {
    /// Opens both queues; `transport` gives the transport of a module name.
    pub fn open(
        config: SyncConfig,
        transport: &dyn Fn(&str) -> Arc<dyn Transport>,
        metadata: MetadataSource,
        log: Logger,
    ) -> Result<InventorySync, QueueError> {
        let vd_module = format!("{}_vd", config.module);
        let settings = |module: &str| Settings {
            module: module.to_string(),
            timeout: config.timeout,
            retries: config.retries,
            max_eps: config.max_eps,
            end_delay: config.end_delay,
        };
        let regular_queue = PersistentQueue::open_logged(&config.db_path, &|l, m| log(l, m))?;
        let vd_queue = PersistentQueue::open_logged(&config.db_path_vd, &|l, m| log(l, m))?;
        let vd_log: Logger = {
            let log = log.clone();
            let prefix = format!("{vd_module}: ");
            Arc::new(move |l, m| log(l, &format!("{prefix}{m}")))
        };
        let vd_flag = config
            .db_path_vd
            .parent()
            .map(|d| d.join(".vd_first_sync_done"))
            .unwrap_or_else(|| PathBuf::from(".vd_first_sync_done"));
        Ok(InventorySync {
            regular: SyncProtocol::new(
                settings(&config.module),
                regular_queue,
                transport(&config.module),
                metadata.clone(),
                log.clone(),
            )
            .with_generation(config.generation),
            vd: SyncProtocol::new(
                settings(&vd_module),
                vd_queue,
                transport(&vd_module),
                metadata,
                vd_log,
            )
            .with_generation(config.generation),
            vd_flag,
            config,
            log,
        })
    }

    /// The instance that carries `index`.
    pub fn instance_for(&self, index: &str) -> &SyncProtocol {
        if is_vd_index(index) {
            &self.vd
        } else {
            &self.regular
        }
    }

    /// Queues one stateful difference in the right instance.
    pub fn persist(
        &self,
        id: &str,
        operation: crate::inventory::Operation,
        index: &str,
        data: &str,
        version: u64,
    ) {
        self.instance_for(index)
            .persist(Item::new(id, operation.into(), index, data, version), false);
    }

    /// Starts grouping both queues' writes (one transaction per table scan) until the
    /// batch is flushed; a batch dropped without [`QueueBatch::flush`] is discarded.
    pub fn begin_batch(&self) -> QueueBatch<'_> {
        self.check_files();
        self.regular.queue().begin_batch();
        self.vd.queue().begin_batch();
        QueueBatch {
            sync: self,
            open: true,
        }
    }

    /// Whether the vulnerability detector already had its first synchronisation.
    pub fn vd_first_sync_done(&self) -> bool {
        self.vd_flag.exists()
    }

    /// Runs a session on both instances; `vd_enabled` is whether packages and OS are
    /// collected (otherwise the VD instance uses the plain option).
    /// Both are attempted; the first failure is the answer.
    pub fn synchronize(&self, mode: Mode, vd_enabled: bool) -> Result<(), SyncError> {
        self.check_files();
        let regular = self.regular.synchronize(mode, SyncOption::Sync).map(|_| ());
        let first_done = self.vd_first_sync_done();
        let option = if !vd_enabled {
            SyncOption::Sync
        } else if first_done {
            SyncOption::VdSync
        } else {
            SyncOption::VdFirst
        };
        let vd = self.vd.synchronize(mode, option).map(|_| ());
        if vd.is_ok() && !first_done && vd_enabled {
            match std::fs::write(&self.vd_flag, b"1") {
                Ok(()) => (self.log)(LogLevel::Info, "VD first sync completed, flag file created"),
                Err(e) => (self.log)(
                    LogLevel::Error,
                    &format!(
                        "Failed to create VD flag file {}: {e}",
                        self.vd_flag.display()
                    ),
                ),
            }
        }
        regular.and(vd)
    }

    /// Makes sure each queue still has the file at its path open (see
    /// [`PersistentQueue::check_file`], which logs what it finds and does); a queue that
    /// cannot be put right now is tried again at the next check.
    pub fn check_files(&self) {
        for p in [&self.regular, &self.vd] {
            let _ = p.queue().check_file(&|l, m| (self.log)(l, m));
        }
    }

    /// Stops both instances' waits.
    pub fn stop(&self) {
        self.regular.stop();
        self.vd.stop();
    }

    /// Allows sessions again.
    pub fn reset(&self) {
        self.regular.reset();
        self.vd.reset();
    }

    /// Deletes both queues (they start again empty) and the VD flag.
    pub fn delete_databases(&self) {
        for p in [&self.regular, &self.vd] {
            if let Err(e) = p.queue().delete_database() {
                (self.log)(LogLevel::Error, &format!("Failed to delete database: {e}"));
            }
        }
        let _ = std::fs::remove_file(&self.vd_flag);
    }
}

/// Makes the transport of a module name (`syscollector_init_sync`'s MQ functions).
pub type TransportFactory = Arc<dyn Fn(&str) -> Arc<dyn Transport> + Send + Sync>;

/// What [`InventorySync::open`] needs, kept to open the queues again later.
#[derive(Clone)]
pub struct SyncOpener {
    pub config: SyncConfig,
    pub transport: TransportFactory,
    pub metadata: MetadataSource,
    pub log: Logger,
}

impl SyncOpener {
    /// Opens both instances.
    pub fn open(&self) -> Result<InventorySync, QueueError> {
        InventorySync::open(
            self.config.clone(),
            &*self.transport,
            self.metadata.clone(),
            self.log.clone(),
        )
    }
}

/// The module's sync instances: open, or not yet, with what it takes to open them.
#[derive(Default)]
pub struct SyncSlot {
    open: RwLock<Option<Arc<InventorySync>>>,
    /// Set while `syscollector_init_sync` was called but its queues could not be opened
    /// yet; the lock also keeps two threads from opening them at once.
    waiting: Mutex<Option<Waiting>>,
}

struct Waiting {
    opener: SyncOpener,
    /// Failed opens so far (the one of `syscollector_init_sync` included).
    failures: u32,
}

impl SyncSlot {
    /// The open instances, without trying to open them.
    pub fn get(&self) -> Option<Arc<InventorySync>> {
        self.open.read().clone()
    }

    /// Uses `sync` from now on (whatever was waiting is forgotten).
    pub fn attach(&self, sync: Arc<InventorySync>) {
        let mut waiting = self.waiting.lock();
        *self.open.write() = Some(sync);
        *waiting = None;
    }

    /// Opens the instances with `opener`; when that fails, keeps `opener` to try again at
    /// [`get_or_retry`](Self::get_or_retry) and returns the error.
    pub fn init(&self, opener: SyncOpener) -> Result<Arc<InventorySync>, QueueError> {
        let mut waiting = self.waiting.lock();
        *self.open.write() = None;
        match opener.open() {
            Ok(sync) => {
                let sync = Arc::new(sync);
                *self.open.write() = Some(sync.clone());
                *waiting = None;
                Ok(sync)
            }
            Err(e) => {
                *waiting = Some(Waiting {
                    opener,
                    failures: 1,
                });
                Err(e)
            }
        }
    }

    /// True while `syscollector_init_sync` was called and its queues are not open yet.
    pub fn is_waiting(&self) -> bool {
        // One lock at a time: the others take `waiting` before `open`.
        let open = self.open.read().is_some();
        !open && self.waiting.lock().is_some()
    }

    /// The open instances; if they are waiting to be opened, tries once more (logging
    /// the success). `Ok(None)`: synchronisation was never set up.
    pub fn get_or_retry(&self) -> Result<Option<Arc<InventorySync>>, QueueError> {
        if let Some(sync) = self.get() {
            return Ok(Some(sync));
        }
        let mut waiting = self.waiting.lock();
        if let Some(sync) = self.get() {
            return Ok(Some(sync));
        }
        let Some(w) = waiting.as_mut() else {
            return Ok(None);
        };
        match w.opener.open() {
            Ok(sync) => {
                let sync = Arc::new(sync);
                (w.opener.log)(
                    LogLevel::Info,
                    &format!(
                        "Syscollector sync protocol initialized successfully with database: {} (after {} failed attempts)",
                        w.opener.config.db_path.display(),
                        w.failures
                    ),
                );
                *self.open.write() = Some(sync.clone());
                *waiting = None;
                Ok(Some(sync))
            }
            Err(e) => {
                w.failures = w.failures.saturating_add(1);
                Err(e)
            }
        }
    }
}
