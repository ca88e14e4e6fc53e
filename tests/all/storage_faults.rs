//! Issue 13.2 (and 9.5): a transient storage fault never loses a persisted difference, and
//! a stop ends what runs.
//!
//! - a sync queue another connection holds locked when `init_sync` opens it: sync is not
//!   off for good, the next scan (skipped until then) opens it and delivers;
//! - a queue file deleted or replaced while the module runs: detected at the next batch or
//!   session and reopened with every queued item;
//! - a database moved aside as unusable: an error names how many items go with it (or says
//!   they cannot be counted);
//! - a stop during an integrity check says it was stopped (not "Manager is offline");
//! - a stop during a scan of a large tree ends it soon (the measured figure is printed).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use syscollector::dbsync::DbSync;
use syscollector::inventory::{
    Collectors, Config, Inventory, Sink, Stateful, SyncConfig, SyncOpener,
};
use syscollector::manager::loopback::{self, Loopback};
use syscollector::manager::Faults;
use syscollector::sync_protocol::{
    AgentMetadata, Integrity, Item, ItemOperation, Mode, PersistentQueue, Settings, SyncError,
    Transport,
};
use syscollector::sysinfo::LinuxSysInfo;
use syscollector::{LogLevel, Logger};

/// Every log line with its level.
type Lines = Arc<Mutex<Vec<(LogLevel, String)>>>;

fn logger() -> (Logger, Lines) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    let log: Logger = Arc::new(move |l, m: &str| sink.lock().unwrap().push((l, m.to_string())));
    (log, lines)
}

fn said(lines: &Lines, level: LogLevel, all_of: &[&str]) -> bool {
    lines
        .lock()
        .unwrap()
        .iter()
        .any(|(l, m)| *l == level && all_of.iter().all(|w| m.contains(w)))
}

fn metadata() -> Option<AgentMetadata> {
    Some(AgentMetadata {
        architecture: "x86_64".into(),
        hostname: "test".into(),
        agent_id: "001".into(),
        groups: vec!["default".into()],
        ..AgentMetadata::default()
    })
}

/// Hands every stateful document to the module's `persist_diff`, as the host's persist
/// callback does.
#[derive(Default)]
struct HostSink(OnceLock<Weak<Inventory>>);

impl Sink for HostSink {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, doc: &Stateful, json: &str) {
        if let Some(inv) = self.0.get().and_then(Weak::upgrade) {
            inv.persist_diff(&doc.id, doc.operation, doc.index, json, doc.version);
        }
    }
}

/// A tree with hardware and two processes: regular-instance documents only.
fn tree(root: &Path) {
    let w = |p: &str, s: &str| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    };
    w(
        "proc/cpuinfo",
        "processor\t: 0\nmodel name\t: Fixture CPU\ncpu MHz\t\t: 2000.0\n",
    );
    w("proc/meminfo", "MemTotal: 2048000 kB\nMemFree: 512000 kB\n");
    w("proc/stat", "cpu  1 2 3 4\nbtime 1700000000\n");
    for (pid, comm) in [(1, "init"), (2, "kthreadd")] {
        w(
            &format!("proc/{pid}/stat"),
            &format!("{pid} ({comm}) S 0 {pid} {pid} 0 -1 4194560 1000 0 0 0 1 1 0 0 20 0 1 0 100 10000000 500 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"),
        );
        w(&format!("proc/{pid}/cmdline"), comm);
        w(
            &format!("proc/{pid}/status"),
            &format!("Name:\t{comm}\nPid:\t{pid}\nPPid:\t0\n"),
        );
    }
}

/// The module on `root` with its database in `dir`, and a loopback manager whose replies
/// go back to the module.
fn module(root: &Path, dir: &Path, log: Logger) -> (Arc<Inventory>, Loopback) {
    let sink = Arc::new(HostSink::default());
    let inv = Arc::new(
        Inventory::new(
            Config {
                collectors: Collectors {
                    hardware: true,
                    processes: true,
                    ..Collectors::default()
                },
                db_path: Some(dir.join("local.db")),
                ..Config::default()
            },
            Box::new(LinuxSysInfo::with_root(root, log.clone())),
            sink.clone(),
            log,
        )
        .unwrap(),
    );
    let _ = sink.0.set(Arc::downgrade(&inv));
    let peer = Loopback::new(Faults::default());
    let weak = Arc::downgrade(&inv);
    peer.set_reply_sink(move |buf| {
        if let Some(inv) = weak.upgrade() {
            inv.parse_response(buf);
        }
    });
    (inv, peer)
}

fn opener(dir: &Path, peer: &Loopback, log: Logger) -> SyncOpener {
    let peer = peer.clone();
    SyncOpener {
        config: SyncConfig {
            module: "syscollector".into(),
            db_path: dir.join("syscollector_sync.db"),
            db_path_vd: dir.join("syscollector_vd_sync.db"),
            end_delay: Duration::ZERO,
            timeout: Duration::from_secs(5),
            retries: 3,
            max_eps: 0,
            integrity_interval: 3600,
            generation: Default::default(),
        },
        transport: Arc::new(move |_| -> Arc<dyn Transport> { Arc::new(peer.clone()) }),
        metadata: Arc::new(metadata),
        log,
    }
}

fn held(peer: &Loopback) -> usize {
    peer.with_manager(|m| m.store())
        .indices
        .values()
        .map(|d| d.len())
        .sum()
}

fn stored(inv: &Inventory) -> usize {
    inv.with_db(|db| {
        db.count(&syscollector::dbsync::schema::PROCESSES)
            .unwrap_or(0)
            + db.count(&syscollector::dbsync::schema::HARDWARE)
                .unwrap_or(0)
    }) as usize
}

/// Holds `path` (a rollback-journal database) under an exclusive lock, as another process
/// writing to it would.
fn lock_exclusively(path: &Path) -> Connection {
    let holder = Connection::open(path).unwrap();
    holder
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS keep (x); BEGIN EXCLUSIVE; INSERT INTO keep VALUES (1);",
        )
        .unwrap();
    holder
}

#[test]
fn a_queue_locked_at_init_sync_is_opened_at_the_next_scan_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(&root);
    let (log, lines) = logger();
    let (inv, peer) = module(&root, dir.path(), log.clone());
    let holder = lock_exclusively(&dir.path().join("syscollector_sync.db"));

    // Longer than the open's busy timeout: init_sync cannot open the queue.
    assert!(inv.init_sync(opener(dir.path(), &peer, log)).is_err());
    assert!(inv.sync_waiting());
    // A scan now would find differences with nowhere to go: it waits for the queue.
    let report = inv.scan();
    assert!(report.tables.is_empty(), "{report:?}");
    assert_eq!(stored(&inv), 0, "the scan did not move the inventory on");
    assert!(
        said(
            &lines,
            LogLevel::Warning,
            &["cannot be opened", "no difference is lost"]
        ),
        "{:?}",
        lines.lock().unwrap()
    );
    // A difference the host hands over meanwhile is an error, not a debug line.
    inv.persist_diff(
        "x",
        syscollector::inventory::Operation::Create,
        "wazuh-states-inventory-processes",
        "{}",
        1,
    );
    assert!(said(&lines, LogLevel::Error, &["not queued"]));

    holder.execute_batch("COMMIT;").unwrap();
    drop(holder);
    // The next scan opens the queues and queues everything it finds.
    let report = inv.scan();
    assert!(!inv.sync_waiting());
    assert_eq!(report.tables.len(), 2, "{report:?}");
    let found = stored(&inv);
    assert_eq!(found, 3, "hardware and two processes");
    let sync = inv.sync().expect("open now");
    assert_eq!(sync.regular.queue().len().unwrap(), found);
    assert!(said(&lines, LogLevel::Info, &["after 2 failed attempts"]));
    // And the next sync delivers them.
    inv.sync_module(Mode::ModuleDelta).unwrap();
    assert_eq!(held(&peer), found);
    assert!(sync.regular.queue().is_empty().unwrap());
}

#[test]
fn a_sync_retries_opening_the_queue_too() {
    let dir = tempfile::tempdir().unwrap();
    let (log, lines) = logger();
    let (inv, peer) = module(&dir.path().join("root"), dir.path(), log.clone());
    // The queue's directory cannot be made (a file is in the way): a fast failure.
    let blocked = dir.path().join("queue");
    std::fs::write(&blocked, b"not a directory").unwrap();
    let mut o = opener(dir.path(), &peer, log);
    o.config.db_path = blocked.join("syscollector_sync.db");
    assert!(inv.init_sync(o).is_err());
    assert!(inv.sync_module(Mode::ModuleDelta).is_err());
    assert!(inv.sync_waiting());
    assert!(said(
        &lines,
        LogLevel::Warning,
        &["synchronization skipped"]
    ));
    std::fs::remove_file(&blocked).unwrap();
    assert!(inv.sync_module(Mode::ModuleDelta).is_ok());
    assert!(!inv.sync_waiting());
    assert!(blocked.join("syscollector_sync.db").exists());
}

fn item(i: usize) -> Item {
    Item::new(
        format!("id{i}"),
        ItemOperation::Create,
        "wazuh-states-inventory-processes",
        format!("{{\"n\":{i}}}"),
        1,
    )
}

fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

fn logged(lines: &Lines) -> impl Fn(LogLevel, &str) + '_ {
    move |l, m| lines.lock().unwrap().push((l, m.to_string()))
}

#[test]
fn a_queue_file_deleted_while_open_is_reopened_with_its_items() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let (_, lines) = logger();
    let q = PersistentQueue::open_logged(&path, &logged(&lines)).unwrap();
    for i in 0..5 {
        q.submit(item(i)).unwrap();
    }
    // Two of them are in flight when the file goes.
    let sent = q.fetch_and_mark_for_sync().unwrap();
    assert_eq!(sent.len(), 5);
    q.submit(item(5)).unwrap();
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(side(&path, s));
    }

    q.check_file(&logged(&lines)).unwrap();
    assert!(
        said(
            &lines,
            LogLevel::Error,
            &["was deleted while open", "6 queued items"]
        ),
        "{:?}",
        lines.lock().unwrap()
    );
    assert!(path.exists());
    q.submit(item(6)).unwrap();
    assert_eq!(q.len().unwrap(), 7);
    // The in-flight state came along: the session that sent them can still clear them.
    assert_eq!(q.fetch_pending(false).unwrap().len(), 2);
    q.clear_synced().unwrap();
    assert_eq!(q.len().unwrap(), 2);
    // Nothing is left over next to it, and the file on disk is the queue.
    drop(q);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rescue"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let q = PersistentQueue::open(&path, &|_| {}).unwrap();
    assert_eq!(q.len().unwrap(), 2);
}

#[test]
fn a_queue_file_replaced_while_open_keeps_its_items_and_a_staged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let (_, lines) = logger();
    let q = PersistentQueue::open_logged(&path, &logged(&lines)).unwrap();
    for i in 0..3 {
        q.submit(item(i)).unwrap();
    }
    q.begin_batch();
    q.submit(item(10)).unwrap();
    // Renamed away (its WAL stays at the old name) and garbage put in its place.
    std::fs::rename(&path, dir.path().join("q.db.old")).unwrap();
    std::fs::write(&path, vec![7u8; 8192]).unwrap();

    q.check_file(&logged(&lines)).unwrap();
    assert!(said(
        &lines,
        LogLevel::Error,
        &["was replaced while open", "3 queued items (1 staged)"]
    ));
    // The garbage that replaced it was moved aside, saying its items cannot be counted.
    assert!(
        said(
            &lines,
            LogLevel::Error,
            &["is unusable", "cannot be counted"]
        ),
        "{:?}",
        lines.lock().unwrap()
    );
    assert_eq!(q.staged().unwrap(), 1);
    q.flush().unwrap();
    assert_eq!(q.len().unwrap(), 4);
    // A check with nothing changed does nothing.
    let before = lines.lock().unwrap().len();
    q.check_file(&logged(&lines)).unwrap();
    assert_eq!(lines.lock().unwrap().len(), before);
}

#[test]
fn a_replaced_queue_that_is_locked_keeps_working_on_its_rescue_file_until_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let (_, lines) = logger();
    let q = PersistentQueue::open_logged(&path, &logged(&lines)).unwrap();
    for i in 0..3 {
        q.submit(item(i)).unwrap();
    }
    std::fs::rename(&path, dir.path().join("q.db.old")).unwrap();
    let _ = std::fs::remove_file(side(&path, "-wal"));
    let _ = std::fs::remove_file(side(&path, "-shm"));
    let holder = lock_exclusively(&path);
    assert!(q.check_file(&logged(&lines)).is_err());
    assert!(said(&lines, LogLevel::Error, &["cannot be opened again"]));
    // The queue goes on, on the rescue file.
    q.submit(item(3)).unwrap();
    assert_eq!(q.len().unwrap(), 4);
    holder.execute_batch("COMMIT;").unwrap();
    drop(holder);
    q.check_file(&logged(&lines)).unwrap();
    assert_eq!(q.len().unwrap(), 4);
    drop(q);
    let q = PersistentQueue::open(&path, &|_| {}).unwrap();
    assert_eq!(q.len().unwrap(), 4, "every item is in the file at the path");
}

#[test]
fn queue_files_deleted_under_a_running_module_are_recovered_by_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(&root);
    let (log, lines) = logger();
    let (inv, peer) = module(&root, dir.path(), log.clone());
    peer.set_available(false);
    inv.init_sync(opener(dir.path(), &peer, log)).unwrap();
    inv.scan();
    let queue = dir.path().join("syscollector_sync.db");
    assert_eq!(inv.sync().unwrap().regular.queue().len().unwrap(), 3);
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(side(&queue, s));
    }
    peer.set_available(true);
    inv.sync_module(Mode::ModuleDelta).unwrap();
    assert_eq!(held(&peer), 3);
    assert!(said(&lines, LogLevel::Error, &["was deleted while open"]));
    // And the module goes on without errors: a change is queued and delivered.
    std::fs::remove_dir_all(root.join("proc/2")).unwrap();
    inv.scan();
    let errors_before = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, _)| *l == LogLevel::Error)
        .count();
    inv.sync_module(Mode::ModuleDelta).unwrap();
    assert_eq!(held(&peer), 2);
    let errors_after = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|(l, _)| *l == LogLevel::Error)
        .count();
    assert_eq!(errors_before, errors_after, "{:?}", lines.lock().unwrap());
}

#[test]
fn a_queue_moved_aside_with_items_says_how_many_are_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    // A queue file with a column more than ours: unusable, but its rows can be counted.
    let old = Connection::open(&path).unwrap();
    old.execute_batch(
        "CREATE TABLE persistent_queue (id TEXT PRIMARY KEY, idx TEXT, data TEXT, operation INTEGER,
             version INTEGER, sync_status INTEGER, create_status INTEGER, operation_syncing INTEGER,
             is_data_context INTEGER, extra INTEGER);
         INSERT INTO persistent_queue (id) VALUES ('a'), ('b'), ('c');",
    )
    .unwrap();
    drop(old);
    let (_, lines) = logger();
    let q = PersistentQueue::open_logged(&path, &logged(&lines)).unwrap();
    assert!(q.is_empty().unwrap());
    assert!(
        said(
            &lines,
            LogLevel::Error,
            &["3 undelivered items in it are lost", "moving it to"]
        ),
        "{:?}",
        lines.lock().unwrap()
    );

    // A file that is not a database at all: its items cannot be counted, and it says so.
    let garbage = dir.path().join("g.db");
    std::fs::write(&garbage, vec![0x5a; 20_000]).unwrap();
    let (_, lines) = logger();
    PersistentQueue::open_logged(&garbage, &logged(&lines)).unwrap();
    assert!(said(
        &lines,
        LogLevel::Error,
        &["undelivered items cannot be counted"]
    ));

    // An empty unusable queue is only a warning.
    let empty = dir.path().join("e.db");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE persistent_queue (x);")
        .unwrap();
    let (_, lines) = logger();
    PersistentQueue::open_logged(&empty, &logged(&lines)).unwrap();
    assert!(said(
        &lines,
        LogLevel::Warning,
        &["holds no undelivered items"]
    ));
}

#[test]
fn an_inventory_database_moved_aside_says_how_many_rows_go_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let old = Connection::open(&path).unwrap();
    old.execute_batch(
        "CREATE TABLE dbsync_processes (pid TEXT, name TEXT, unexpected INTEGER);
         INSERT INTO dbsync_processes VALUES ('1', 'init', 0), ('2', 'kthreadd', 0);",
    )
    .unwrap();
    drop(old);
    let (_, lines) = logger();
    DbSync::open(&path, &logged(&lines)).unwrap();
    assert!(
        said(
            &lines,
            LogLevel::Error,
            &["2 inventory rows in it are lost"]
        ),
        "{:?}",
        lines.lock().unwrap()
    );
}

/// Runs an integrity check against a manager with `faults` (and, with `drop_end_ack`, no
/// EndAck ever arriving), stops it half a second in, and returns its answer and log lines.
fn stopped_check(faults: Faults, drop_end_ack: bool) -> (Integrity, Vec<(LogLevel, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let queue = PersistentQueue::open(&dir.path().join("q.db"), &|_| {}).unwrap();
    let (log, lines) = logger();
    let (proto, peer) = loopback::connected(
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_secs(30),
            retries: 2,
            max_eps: 0,
            end_delay: Duration::ZERO,
        },
        queue,
        faults,
        Arc::new(metadata),
        log,
    );
    if drop_end_ack {
        let weak = Arc::downgrade(&proto);
        peer.set_reply_sink(move |buf| {
            use syscollector::sync_protocol::wire::Message;
            if matches!(Message::decode(buf), Ok(Message::EndAck { .. })) {
                return;
            }
            if let Some(p) = weak.upgrade() {
                p.parse_response(buf);
            }
        });
    }
    let checker = {
        let proto = proto.clone();
        std::thread::spawn(move || proto.check_integrity("wazuh-states-inventory-processes", "00"))
    };
    std::thread::sleep(Duration::from_millis(500));
    proto.stop();
    let answer = checker.join().unwrap();
    let lines = lines.lock().unwrap().clone();
    (answer, lines)
}

#[test]
fn a_stop_during_an_integrity_check_says_it_was_stopped() {
    // The manager never answers the Start; then it answers the Start but not the End.
    for (faults, drop_end_ack, phase) in [
        (
            Faults {
                drop_out: 1.0,
                ..Faults::default()
            },
            false,
            "Start",
        ),
        (Faults::default(), true, "End"),
    ] {
        let (answer, lines) = stopped_check(faults, drop_end_ack);
        assert!(
            matches!(answer, Integrity::Unavailable(SyncError::Stopped)),
            "{phase}: {answer:?}"
        );
        assert!(
            lines.iter().any(|(l, m)| *l == LogLevel::Info
                && m.contains(
                    "integrity check stopped for index: wazuh-states-inventory-processes"
                )),
            "{phase}: {lines:?}"
        );
        for (l, m) in &lines {
            assert!(
                !m.contains("Manager is offline") && !m.contains("Failed to send"),
                "{phase}: {m}"
            );
            assert!(
                *l != LogLevel::Error && *l != LogLevel::Warning,
                "{phase}: {m}"
            );
        }
    }
}

/// A large tree: a 1 MB-class dpkg status (6,000 packages) and 3,000 processes.
fn big_tree(root: &Path) {
    tree(root);
    let mut status = String::new();
    for i in 0..6000 {
        status.push_str(&format!(
            "Package: pkg{i}\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: {i}\nMaintainer: Someone <someone@example.org>\nArchitecture: amd64\nVersion: 1.{i}-1\nDescription: package number {i}\n some longer description text of the package\n\n"
        ));
    }
    let status_path = root.join("var/lib/dpkg/status");
    std::fs::create_dir_all(status_path.parent().unwrap()).unwrap();
    std::fs::write(&status_path, status).unwrap();
    for pid in 100..3100u32 {
        let d = root.join(format!("proc/{pid}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("stat"),
            format!("{pid} (worker{pid}) S 1 {pid} {pid} 0 -1 4194560 1000 0 0 0 1 1 0 0 20 0 1 0 100 10000000 500 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"),
        )
        .unwrap();
        std::fs::write(d.join("cmdline"), format!("/usr/bin/worker\0--id\0{pid}\0")).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\tworker{pid}\nPid:\t{pid}\nPPid:\t1\n"),
        )
        .unwrap();
    }
}

#[test]
fn a_stop_ends_a_scan_of_a_large_tree_soon() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    big_tree(&root);
    let (log, _lines) = logger();
    // A new module each time (its inventory in memory), so every scan stores everything.
    let module = || {
        Arc::new(
            Inventory::new(
                Config {
                    interval: 3600,
                    collectors: Collectors {
                        packages: true,
                        processes: true,
                        ..Collectors::default()
                    },
                    ..Config::default()
                },
                Box::new(LinuxSysInfo::with_root(&root, log.clone())),
                Arc::new(HostSink::default()),
                log.clone(),
            )
            .unwrap(),
        )
    };
    // How long a whole scan takes, to stop the next ones in their middle.
    let t = Instant::now();
    let full = module().scan();
    let whole = t.elapsed();
    assert_eq!(full.tables.len(), 2, "{full:?}");
    let mut worst = Duration::ZERO;
    for fraction in [0.1, 0.3, 0.6] {
        let inv = module();
        let scanner = {
            let inv = inv.clone();
            std::thread::spawn(move || inv.scan())
        };
        std::thread::sleep(whole.mul_f64(fraction));
        let t = Instant::now();
        inv.stop();
        let report = scanner.join().unwrap();
        let took = t.elapsed();
        worst = worst.max(took);
        eprintln!(
            "stop at {:.0}% of a {whole:?} scan: the scan returned {took:?} after the stop ({} of 2 tables stored)",
            fraction * 100.0,
            report.tables.len()
        );
    }
    assert!(worst < Duration::from_secs(5), "a stop took {worst:?}");
}
