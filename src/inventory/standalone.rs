//! The module run on its own, the way the agent runs it, for the command line's `run`.
//!
//! Two threads, as in wazuh-modulesd: the scan loop, and a sync loop that every
//! `sync_interval` takes the scan lock, runs a DELTA session of both instances, an
//! integrity check when due, and releases the lock. Stateful documents go straight into
//! the sync queues (inside the agent they take a detour through the daemon's persist
//! callback); stateless events go to the manager's events log over the same socket.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Collectors, Config, Inventory, InventorySync, Sink, Stateful, SyncConfig};
use crate::manager::framing::LOC_EVENT;
use crate::sync_protocol::socket::AgentLink;
use crate::sync_protocol::{AgentMetadata, Mode};
use crate::sysinfo::LinuxSysInfo;
use crate::{LogLevel, Logger};

/// What `syscollector run` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where local.db and the sync queues live.
    pub dir: PathBuf,
    /// The system tree to read.
    pub root: PathBuf,
    pub collectors: Collectors,
    pub interval: u32,
    pub sync_interval: Duration,
    pub integrity_interval: u32,
    /// The manager's socket.
    pub manager: PathBuf,
    /// Scan once, synchronise until the queues are delivered, return.
    pub once: bool,
    pub metadata: AgentMetadata,
}

/// Timings of a `--once` run.
#[derive(Debug, Clone, Default)]
pub struct OnceReport {
    pub scan: Duration,
    pub sync: Duration,
    pub documents: usize,
    pub sessions: usize,
    pub delivered: bool,
}

struct LinkSink {
    link: Arc<AgentLink>,
    sync: Arc<InventorySync>,
    documents: std::sync::atomic::AtomicUsize,
}

impl Sink for LinkSink {
    fn stateless(&self, event: &str) {
        self.link.send(LOC_EVENT, "syscollector", event.as_bytes());
    }

    fn stateful(&self, doc: &Stateful, json: &str) {
        self.documents.fetch_add(1, Ordering::Relaxed);
        self.sync
            .persist(&doc.id, doc.operation, doc.index, json, doc.version);
    }
}

/// Runs until `stop` is set (or, with `once`, until the first scan is delivered).
pub fn run(opts: Options, stop: Arc<AtomicBool>, log: Logger) -> Result<OnceReport, String> {
    std::fs::create_dir_all(&opts.dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.dir.display()))?;
    let link = AgentLink::new(&opts.manager);
    let metadata = opts.metadata.clone();
    let sync = Arc::new(
        InventorySync::open(
            SyncConfig {
                module: "syscollector".into(),
                db_path: opts.dir.join("syscollector_sync.db"),
                db_path_vd: opts.dir.join("syscollector_vd_sync.db"),
                end_delay: Duration::ZERO,
                timeout: Duration::from_secs(5),
                retries: 5,
                max_eps: 0,
                integrity_interval: opts.integrity_interval,
            },
            &|module| link.transport(module),
            Arc::new(move || Some(metadata.clone())),
            log.clone(),
        )
        .map_err(|e| format!("cannot open the sync queues: {e}"))?,
    );
    {
        let sync = Arc::downgrade(&sync);
        link.set_reply_sink(Arc::new(move |module: &str, buf: &[u8]| {
            if let Some(s) = sync.upgrade() {
                if module.ends_with("_vd") {
                    s.vd.parse_response(buf);
                } else {
                    s.regular.parse_response(buf);
                }
            }
        }));
    }
    let sink = Arc::new(LinkSink {
        link: link.clone(),
        sync: sync.clone(),
        documents: Default::default(),
    });
    let inv = Arc::new(
        Inventory::new(
            Config {
                interval: opts.interval,
                scan_on_start: true,
                collectors: opts.collectors,
                notify_on_first_scan: true,
                db_path: Some(opts.dir.join("local.db")),
                normalizer_config: None,
                normalizer_type: None,
            },
            Box::new(LinuxSysInfo::with_root(&opts.root, log.clone())),
            sink.clone(),
            log.clone(),
        )
        .map_err(|e| format!("cannot open the inventory database: {e}"))?,
    );
    inv.attach_sync(sync.clone());

    if opts.once {
        let t = Instant::now();
        inv.scan();
        let scan = t.elapsed();
        let t = Instant::now();
        let mut sessions = 0;
        let mut delivered = false;
        while !stop.load(Ordering::SeqCst) && sessions < 20 {
            sessions += 1;
            if inv.sync_module(Mode::ModuleDelta)
                && sync.regular.queue().is_empty().unwrap_or(false)
                && sync.vd.queue().is_empty().unwrap_or(false)
            {
                delivered = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        return Ok(OnceReport {
            scan,
            sync: t.elapsed(),
            documents: sink.documents.load(Ordering::Relaxed),
            sessions,
            delivered,
        });
    }

    let scanner = {
        let inv = inv.clone();
        std::thread::spawn(move || inv.run())
    };
    let syncer = {
        let inv = inv.clone();
        let stop = stop.clone();
        let log = log.clone();
        let every = opts.sync_interval;
        std::thread::spawn(move || {
            let mut next = Instant::now() + Duration::from_secs(1);
            while !stop.load(Ordering::SeqCst) {
                if Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                inv.lock_scan();
                let ok = inv.sync_module(Mode::ModuleDelta);
                if ok {
                    inv.run_recovery();
                }
                inv.unlock_scan();
                log(
                    LogLevel::Info,
                    if ok {
                        "synchronization finished"
                    } else {
                        "synchronization failed; retrying at the next interval"
                    },
                );
                next = Instant::now() + every;
            }
        })
    };
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    inv.stop();
    let _ = scanner.join();
    let _ = syncer.join();
    Ok(OnceReport {
        documents: sink.documents.load(Ordering::Relaxed),
        ..OnceReport::default()
    })
}
