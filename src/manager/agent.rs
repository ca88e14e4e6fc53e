//! The module run on its own, the way the agent runs it, against a reference manager: the
//! command line's `run` and the first-sync benchmark.
//!
//! Two threads, as in wazuh-modulesd: the scan loop, and a sync loop that every
//! `sync_interval` takes the scan lock, runs a DELTA session of both instances, an
//! integrity check when due, and releases the lock. Stateful documents go straight into
//! the sync queues (inside the agent they take a detour through the daemon's persist
//! callback); stateless events go to the manager's events log over the same socket.
//! An [`Observer`] hears of every scan and sync round; [`Activity`] counts work in progress
//! for a progress line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::framing::LOC_EVENT;
use super::link::AgentLink;
use crate::inventory::{
    Collectors, Config, Inventory, InventorySync, ScanReport, Sink, Stateful, SyncConfig,
};
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
    /// Stateful documents the scan produced.
    pub documents: usize,
    /// Sync rounds run (each one session per instance that had something to send).
    pub sessions: usize,
    pub delivered: bool,
    /// Collectors or tables that failed in the scan, with the error.
    pub failures: Vec<(String, String)>,
}

/// One sync round: a DELTA session of each instance.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// Both instances ended their session with the manager's acknowledgement.
    pub ok: bool,
    /// Queued documents the round delivered.
    pub documents: usize,
    /// Instance sessions that had documents to send.
    pub sessions: usize,
    pub elapsed: Duration,
}

/// What an [`Observer`] hears.
#[derive(Debug)]
pub enum Event<'a> {
    Scan(&'a ScanReport),
    Sync(&'a SyncReport),
}

/// Hears of every scan and sync round.
pub type Observer = Arc<dyn Fn(Event<'_>) + Send + Sync>;

/// Work in progress, read by a progress line.
#[derive(Debug, Default)]
pub struct Activity {
    /// Documents the running scan produced so far (0 between scans).
    pub scan_documents: AtomicUsize,
    /// True while a sync round runs.
    pub syncing: AtomicBool,
    /// Documents queued when the running sync round started.
    pub queued: AtomicUsize,
    /// Sync messages sent so far in the running round (the link counts them).
    pub sent: Arc<AtomicUsize>,
}

struct LinkSink {
    link: Arc<AgentLink>,
    sync: Arc<InventorySync>,
    documents: AtomicUsize,
    activity: Arc<Activity>,
    observer: Option<Observer>,
}

impl Sink for LinkSink {
    fn stateless(&self, event: &str) {
        self.link.send(LOC_EVENT, "syscollector", event.as_bytes());
    }

    fn stateful(&self, doc: &Stateful, json: &str) {
        self.documents.fetch_add(1, Ordering::Relaxed);
        self.activity.scan_documents.fetch_add(1, Ordering::Relaxed);
        self.sync
            .persist(&doc.id, doc.operation, doc.index, json, doc.version);
    }

    fn scan_finished(&self, report: &ScanReport) {
        self.activity.scan_documents.store(0, Ordering::Relaxed);
        if let Some(o) = &self.observer {
            o(Event::Scan(report));
        }
    }
}

fn queued(sync: &InventorySync) -> (usize, usize) {
    (
        sync.regular.queue().len().unwrap_or(0),
        sync.vd.queue().len().unwrap_or(0),
    )
}

/// One DELTA round of both instances, reported to the observer.
fn sync_round(
    inv: &Inventory,
    sync: &InventorySync,
    activity: &Activity,
    observer: Option<&Observer>,
) -> SyncReport {
    let t = Instant::now();
    let (regular, vd) = queued(sync);
    activity.queued.store(regular + vd, Ordering::Relaxed);
    activity.sent.store(0, Ordering::Relaxed);
    activity.syncing.store(true, Ordering::Relaxed);
    let ok = inv.sync_module(Mode::ModuleDelta).is_ok();
    activity.syncing.store(false, Ordering::Relaxed);
    let (regular_after, vd_after) = queued(sync);
    let report = SyncReport {
        ok,
        documents: (regular + vd).saturating_sub(regular_after + vd_after),
        sessions: usize::from(regular > 0) + usize::from(vd > 0),
        elapsed: t.elapsed(),
    };
    if let Some(o) = observer {
        o(Event::Sync(&report));
    }
    report
}

/// Runs until `stop` is set (or, with `once`, until the first scan is delivered).
pub fn run(opts: Options, stop: Arc<AtomicBool>, log: Logger) -> Result<OnceReport, String> {
    run_observed(opts, stop, log, None, Arc::default())
}

/// [`run`], telling `observer` of every scan and sync round and counting work in `activity`.
pub fn run_observed(
    opts: Options,
    stop: Arc<AtomicBool>,
    log: Logger,
    observer: Option<Observer>,
    activity: Arc<Activity>,
) -> Result<OnceReport, String> {
    std::fs::create_dir_all(&opts.dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.dir.display()))?;
    let link = AgentLink::counting(&opts.manager, activity.sent.clone());
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
                generation: Default::default(),
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
        activity: activity.clone(),
        observer: observer.clone(),
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
        let scan_report = inv.scan();
        let scan = t.elapsed();
        let t = Instant::now();
        let mut sessions = 0;
        let mut delivered = false;
        while !stop.load(Ordering::SeqCst) && sessions < 20 {
            sessions += 1;
            let round = sync_round(&inv, &sync, &activity, observer.as_ref());
            if round.ok && queued(&sync) == (0, 0) {
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
            failures: scan_report.failures,
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
        let activity = activity.clone();
        let sync = sync.clone();
        std::thread::spawn(move || {
            let mut next = Instant::now() + Duration::from_secs(1);
            while !stop.load(Ordering::SeqCst) {
                if Instant::now() < next {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                inv.lock_scan();
                let round = sync_round(&inv, &sync, &activity, observer.as_ref());
                if round.ok {
                    inv.run_recovery();
                }
                inv.unlock_scan();
                log(
                    LogLevel::Debug,
                    if round.ok {
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
