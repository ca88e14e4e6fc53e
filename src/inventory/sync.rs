//! The module's two sync protocol instances and the policy around them.
//!
//! Documents of the system, packages and hotfixes indices feed the vulnerability detector
//! and travel through their own instance (`<module>_vd`, its own queue), which announces
//! itself with `VDFirst` until its first successful session and `VDSync` afterwards (a flag
//! file next to its queue remembers that across restarts). Everything else goes through
//! the regular instance.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
        let qlog = |l: Logger| move |m: &str| l(LogLevel::Warning, m);
        let regular_queue = PersistentQueue::open(&config.db_path, &qlog(log.clone()))?;
        let vd_queue = PersistentQueue::open(&config.db_path_vd, &qlog(log.clone()))?;
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
            ),
            vd: SyncProtocol::new(
                settings(&vd_module),
                vd_queue,
                transport(&vd_module),
                metadata,
                vd_log,
            ),
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
