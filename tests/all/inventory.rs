//! The inventory module end to end on a system tree in a temporary directory: the real
//! Linux collectors read it, the real diff engine stores it, and the test changes the tree
//! between scans (a process starts, changes, ends) to check exactly what is reported.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{json, Value};
use syscollector::inventory::{query, Collectors, Config, Inventory, Operation, Sink, Stateful};
use syscollector::sysinfo::LinuxSysInfo;
use syscollector::{null_logger, Row};

/// One stateful document as the sink saw it: id, operation, index, version, document.
type Doc = (String, Operation, String, u64, Value);

#[derive(Default)]
struct Recorder {
    stateless: Mutex<Vec<Value>>,
    stateful: Mutex<Vec<Doc>>,
}

impl Sink for Recorder {
    fn stateless(&self, event: &str) {
        self.stateless
            .lock()
            .push(serde_json::from_str(event).expect("stateless event is JSON"));
    }
    fn stateful(&self, doc: &Stateful, json: &str) {
        let parsed: Value = serde_json::from_str(json).expect("stateful document is JSON");
        assert_eq!(parsed, Value::Object(doc.document.clone()));
        self.stateful.lock().push((
            doc.id.clone(),
            doc.operation,
            doc.index.to_string(),
            doc.version,
            parsed,
        ));
    }
}

impl Recorder {
    fn take(&self) -> (Vec<Value>, Vec<Doc>) {
        (
            std::mem::take(&mut *self.stateless.lock()),
            std::mem::take(&mut *self.stateful.lock()),
        )
    }
}

/// A minimal system tree: os-release, kernel facts, cpuinfo, meminfo, stat and processes.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

const STAT_TAIL: &str = "0 -1 4194560 1000 0 0 0 UT ST 0 0 20 0 1 0 START 10000000 500 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0";

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let w = |p: &str, s: &str| {
            let p = root.join(p);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, s).unwrap();
        };
        w(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        w("proc/sys/kernel/ostype", "Linux\n");
        w("proc/sys/kernel/hostname", "fixture-host\n");
        w("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
        w(
            "proc/sys/kernel/version",
            "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n",
        );
        w("proc/sys/kernel/arch", "x86_64\n");
        w(
            "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Fixture CPU @ 2.00GHz\ncpu MHz\t\t: 1999.999\n\nprocessor\t: 1\nmodel name\t: Fixture CPU @ 2.00GHz\ncpu MHz\t\t: 1999.999\n",
        );
        w(
            "proc/meminfo",
            "MemTotal:        2048000 kB\nMemFree:          512000 kB\nMemAvailable:    1024000 kB\n",
        );
        w(
            "proc/stat",
            "cpu  1 2 3 4\nbtime 1700000000\nprocesses 100\n",
        );
        w("sys/class/dmi/id/board_serial", "FIXTURE-SERIAL-1\n");
        let t = Tree { _dir: dir, root };
        t.process(1, "init", 0, 10, &["/sbin/init", "splash"]);
        t.process(2, "kthreadd", 0, 0, &[]);
        t
    }

    fn process(&self, pid: u32, comm: &str, ppid: u32, utime: u64, argv: &[&str]) {
        let d = self.root.join(format!("proc/{pid}"));
        fs::create_dir_all(&d).unwrap();
        let tail = STAT_TAIL
            .replace("START", "100")
            .replace("UT", &utime.to_string())
            .replace("ST", "3");
        fs::write(
            d.join("stat"),
            format!("{pid} ({comm}) S {ppid} {pid} {pid} {tail}\n"),
        )
        .unwrap();
        let mut cmdline = Vec::new();
        for a in argv {
            cmdline.extend_from_slice(a.as_bytes());
            cmdline.push(0);
        }
        fs::write(d.join("cmdline"), cmdline).unwrap();
        fs::write(
            d.join("status"),
            format!(
                "Name:\t{comm}\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\n"
            ),
        )
        .unwrap();
    }

    fn end_process(&self, pid: u32) {
        fs::remove_dir_all(self.root.join(format!("proc/{pid}"))).unwrap();
    }
}

fn collectors() -> Collectors {
    Collectors {
        hardware: true,
        os: true,
        processes: true,
        ..Collectors::default()
    }
}

fn module(root: &Path, db: Option<PathBuf>, notify_first: bool) -> (Inventory, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let cfg = Config {
        interval: 1,
        scan_on_start: true,
        collectors: collectors(),
        notify_on_first_scan: notify_first,
        db_path: db,
        normalizer_config: None,
        normalizer_type: None,
    };
    let inv = Inventory::new(
        cfg,
        Box::new(LinuxSysInfo::with_root(root, null_logger())),
        rec.clone(),
        null_logger(),
    )
    .unwrap();
    (inv, rec)
}

fn by_index<'a>(stateful: &'a [Doc], index: &str) -> Vec<&'a Doc> {
    stateful.iter().filter(|s| s.2 == index).collect()
}

#[test]
fn first_scan_then_only_real_changes() {
    let tree = Tree::new();
    let (inv, rec) = module(&tree.root, None, false);

    inv.scan();
    let (stateless, stateful) = rec.take();
    assert!(
        stateless.is_empty(),
        "no stateless events on the first scan"
    );
    let system = by_index(&stateful, "wazuh-states-inventory-system");
    assert_eq!(system.len(), 1);
    let doc = &system[0].4;
    assert_eq!(system[0].1, Operation::Create);
    assert_eq!(system[0].3, 1);
    assert_eq!(doc["host"]["os"]["name"], json!("Debian GNU/Linux"));
    assert_eq!(doc["host"]["os"]["version"], json!("12 (bookworm)"));
    assert_eq!(doc["host"]["os"]["full"], Value::Null);
    assert_eq!(doc["host"]["hostname"], json!("fixture-host"));
    assert_eq!(doc["state"]["document_version"], json!(1));
    assert_eq!(doc["checksum"]["hash"]["sha1"].as_str().unwrap().len(), 40);
    let hw = by_index(&stateful, "wazuh-states-inventory-hardware");
    assert_eq!(hw.len(), 1);
    assert_eq!(hw[0].4["host"]["cpu"]["cores"], json!(2));
    assert_eq!(hw[0].4["host"]["memory"]["total"], json!(2048000u64 * 1024));
    let procs = by_index(&stateful, "wazuh-states-inventory-processes");
    assert_eq!(procs.len(), 2);
    let init = procs
        .iter()
        .find(|p| p.4["process"]["pid"] == json!("1"))
        .unwrap();
    assert_eq!(init.4["process"]["name"], json!("init"));
    assert_eq!(init.4["process"]["command_line"], json!("/sbin/init"));
    assert_eq!(init.4["process"]["args"], json!(["splash"]));
    assert_eq!(
        init.4["process"]["start"],
        json!("2023-11-14T22:13:21.000Z")
    );

    // Nothing changed: nothing reported.
    inv.scan();
    let (stateless, stateful) = rec.take();
    assert!(stateless.is_empty() && stateful.is_empty(), "{stateful:?}");

    // A process starts.
    tree.process(4242, "sleep", 1, 0, &["sleep", "60"]);
    inv.scan();
    let (stateless, stateful) = rec.take();
    assert_eq!(stateful.len(), 1, "{stateful:?}");
    assert_eq!(stateful[0].1, Operation::Create);
    assert_eq!(stateful[0].4["process"]["pid"], json!("4242"));
    assert_eq!(stateless.len(), 1);
    assert_eq!(stateless[0]["collector"], json!("dbsync_processes"));
    assert_eq!(stateless[0]["module"], json!("inventory"));
    assert_eq!(stateless[0]["data"]["event"]["type"], json!("created"));
    assert_eq!(stateless[0]["data"]["process"]["args"], json!(["60"]));
    assert!(stateless[0]["data"].get("checksum").is_none());
    assert!(stateless[0]["data"].get("state").is_none());
    let id = stateful[0].0.clone();

    // It uses CPU time: a modification with the previous value.
    tree.process(4242, "sleep", 1, 7, &["sleep", "60"]);
    inv.scan();
    let (stateless, stateful) = rec.take();
    assert_eq!(stateful.len(), 1, "{stateful:?}");
    assert_eq!(stateful[0].0, id);
    assert_eq!(stateful[0].1, Operation::Modify);
    assert_eq!(stateful[0].3, 2);
    assert_eq!(stateful[0].4["state"]["document_version"], json!(2));
    let data = &stateless[0]["data"];
    assert_eq!(data["event"]["type"], json!("modified"));
    assert_eq!(data["event"]["changed_fields"], json!(["process.utime"]));
    assert_eq!(data["process"]["utime"], json!(7));
    assert_eq!(data["process"]["previous"], json!({"utime": 0}));

    // It ends.
    tree.end_process(4242);
    inv.scan();
    let (stateless, stateful) = rec.take();
    assert_eq!(stateful.len(), 1);
    assert_eq!(stateful[0].0, id);
    assert_eq!(stateful[0].1, Operation::Delete);
    assert_eq!(stateless[0]["data"]["event"]["type"], json!("deleted"));
    assert_eq!(stateless[0]["data"]["process"]["pid"], json!("4242"));
}

#[test]
fn notify_on_first_scan_sends_stateless_events_at_once() {
    let tree = Tree::new();
    let (inv, rec) = module(&tree.root, None, true);
    inv.scan();
    let (stateless, stateful) = rec.take();
    assert_eq!(stateless.len(), stateful.len());
    assert_eq!(stateless.len(), 4);
    assert!(stateless
        .iter()
        .all(|e| e["data"]["event"]["type"] == json!("created")));
}

#[test]
fn restart_on_the_same_database_reports_nothing_new() {
    let tree = Tree::new();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    {
        let (inv, rec) = module(&tree.root, Some(db.clone()), false);
        inv.scan();
        assert_eq!(rec.take().1.len(), 4);
    }
    let (inv, rec) = module(&tree.root, Some(db), false);
    inv.scan();
    let (stateless, stateful) = rec.take();
    assert!(stateless.is_empty() && stateful.is_empty());
}

#[test]
fn stop_ends_the_loop_within_a_second() {
    let tree = Tree::new();
    let rec = Arc::new(Recorder::default());
    let cfg = Config {
        interval: 3600,
        collectors: collectors(),
        ..Config::default()
    };
    let inv = Arc::new(
        Inventory::new(
            cfg,
            Box::new(LinuxSysInfo::with_root(&tree.root, null_logger())),
            rec.clone(),
            null_logger(),
        )
        .unwrap(),
    );
    let runner = {
        let inv = inv.clone();
        std::thread::spawn(move || inv.run())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while rec.stateful.lock().len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(rec.stateful.lock().len(), 4, "scan on start happened");
    let t = Instant::now();
    inv.stop();
    runner.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[test]
fn scan_lock_holds_scans_back_until_released() {
    let tree = Tree::new();
    let (inv, rec) = module(&tree.root, None, false);
    let inv = Arc::new(inv);
    inv.lock_scan();
    let runner = {
        let inv = inv.clone();
        std::thread::spawn(move || inv.run())
    };
    std::thread::sleep(Duration::from_millis(1500));
    assert!(rec.stateful.lock().is_empty(), "no scan while locked");
    inv.unlock_scan();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rec.stateful.lock().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!rec.stateful.lock().is_empty(), "scan ran after unlock");
    // Stop works even while the host holds the lock.
    inv.lock_scan();
    let t = Instant::now();
    inv.stop();
    runner.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    inv.unlock_scan();
}

fn ask(inv: &Inventory, q: &str) -> Value {
    serde_json::from_str(&query::answer(Some(inv), &(), q)).unwrap()
}

#[test]
fn queries() {
    let tree = Tree::new();
    let (inv, _rec) = module(&tree.root, None, false);
    assert_eq!(
        ask(&inv, r#"{"command":"get_version"}"#)["data"]["version"],
        json!(0)
    );
    inv.scan();
    assert_eq!(
        ask(&inv, r#"{"command":"get_version"}"#)["data"]["version"],
        json!(1)
    );
    let r = ask(
        &inv,
        r#"{"command":"set_version","parameters":{"version":9}}"#,
    );
    assert_eq!(r["error"], json!(0));
    assert_eq!(
        ask(&inv, r#"{"command":"get_version"}"#)["data"]["version"],
        json!(9)
    );
    assert_eq!(ask(&inv, r#"{"command":"set_version"}"#)["error"], json!(3));
    let r = ask(&inv, r#"{"command":"pause"}"#);
    assert_eq!(r["error"], json!(0));
    assert_eq!(
        r["data"],
        json!({"module": "syscollector", "action": "pause"})
    );
    assert!(inv.is_paused());
    // A paused module does not scan.
    tree.process(77, "x", 1, 0, &["x"]);
    assert!(inv.scan().tables.is_empty());
    assert_eq!(ask(&inv, r#"{"command":"resume"}"#)["error"], json!(0));
    assert!(!inv.is_paused());
    assert_eq!(ask(&inv, r#"{"command":"flush"}"#)["error"], json!(0));
    let r = ask(&inv, r#"{"command":"reboot"}"#);
    assert_eq!(r["error"], json!(1));
    assert_eq!(r["data"]["command"], json!("reboot"));
    // As the reference: a query that does not parse is an internal error (98).
    assert_eq!(ask(&inv, "{not json")["error"], json!(98));
    assert_eq!(ask(&inv, r#"{"parameters":{}}"#)["error"], json!(3));
    assert_eq!(ask(&inv, r#"{"command":7}"#)["error"], json!(3));
}

#[test]
fn pause_waits_for_a_running_scan() {
    let tree = Tree::new();
    for pid in 100..400 {
        tree.process(pid, "worker", 1, 0, &["worker", "--id", &pid.to_string()]);
    }
    let (inv, _rec) = module(&tree.root, None, false);
    let inv = Arc::new(inv);
    let scanner = {
        let inv = inv.clone();
        std::thread::spawn(move || inv.scan())
    };
    std::thread::sleep(Duration::from_millis(5));
    assert!(inv.pause());
    // When pause returns, no scan is running: the scan thread has finished or never began.
    let report = scanner.join().unwrap();
    let rows: usize = report.tables.iter().map(|t| t.stats.rows).sum();
    assert!(rows == 0 || rows >= 302, "scan finished whole: {rows}");
}

#[test]
fn unreadable_rows_do_not_stop_the_table() {
    let tree = Tree::new();
    // A process directory with a garbage stat file, as when a process dies mid-read.
    let d = tree.root.join("proc/999");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("stat"), b"\xff\xfe garbage").unwrap();
    let (inv, rec) = module(&tree.root, None, false);
    inv.scan();
    let (_, stateful) = rec.take();
    let procs: Vec<Row> = by_index(&stateful, "wazuh-states-inventory-processes")
        .iter()
        .map(|p| p.4.as_object().cloned().unwrap())
        .collect();
    assert_eq!(procs.len(), 2);
}

/// A sync transport whose manager never answers: documents stay in the queues.
struct Unreachable;

impl syscollector::sync_protocol::Transport for Unreachable {
    fn check(&self) -> bool {
        false
    }
    fn send(&self, _message: &[u8]) -> bool {
        false
    }
}

/// Queues every stateful document, as the host's persist callback does.
struct QueueSink(Arc<syscollector::inventory::InventorySync>);

impl Sink for QueueSink {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, doc: &Stateful, json: &str) {
        self.0
            .persist(&doc.id, doc.operation, doc.index, json, doc.version);
    }
}

/// A provider whose package collector yields two packages and then fails.
struct FailingPackages;

impl syscollector::sysinfo::SysInfo for FailingPackages {
    fn os(&self) -> Result<Row, syscollector::sysinfo::CollectError> {
        Err(syscollector::sysinfo::CollectError::Unsupported("os"))
    }
    fn hardware(&self) -> Result<Row, syscollector::sysinfo::CollectError> {
        Err(syscollector::sysinfo::CollectError::Unsupported("hardware"))
    }
    fn processes(
        &self,
        _each: &mut dyn FnMut(Row),
    ) -> Result<(), syscollector::sysinfo::CollectError> {
        Err(syscollector::sysinfo::CollectError::Unsupported(
            "processes",
        ))
    }
    fn packages(
        &self,
        each: &mut dyn FnMut(Row),
    ) -> Result<(), syscollector::sysinfo::CollectError> {
        for name in ["first", "second"] {
            let row = json!({"name": name, "version_": "1.0", "architecture": "amd64",
                             "type": "deb", "path": " "});
            each(row.as_object().cloned().unwrap());
        }
        Err(syscollector::sysinfo::CollectError::Other(
            "the package database went away".into(),
        ))
    }
}

#[test]
fn a_failed_table_scan_stores_nothing_and_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sync = Arc::new(
        syscollector::inventory::InventorySync::open(
            syscollector::inventory::SyncConfig {
                module: "syscollector".into(),
                db_path: dir.path().join("sync.db"),
                db_path_vd: dir.path().join("vd_sync.db"),
                end_delay: Duration::ZERO,
                timeout: Duration::from_millis(10),
                retries: 0,
                max_eps: 0,
                integrity_interval: 3600,
                generation: Default::default(),
            },
            &|_| Arc::new(Unreachable),
            Arc::new(|| None),
            null_logger(),
        )
        .unwrap(),
    );
    let inv = Inventory::new(
        Config {
            collectors: Collectors {
                packages: true,
                ..Collectors::default()
            },
            db_path: Some(dir.path().join("local.db")),
            ..Config::default()
        },
        Box::new(FailingPackages),
        Arc::new(QueueSink(sync.clone())),
        null_logger(),
    )
    .unwrap();
    inv.attach_sync(sync.clone());
    let report = inv.scan();
    assert!(report.tables.is_empty(), "{report:?}");
    let stored = inv
        .with_db(|db| db.count(&syscollector::dbsync::schema::PACKAGES))
        .unwrap();
    let queued = sync.vd.queue().len().unwrap() + sync.regular.queue().len().unwrap();
    assert_eq!((stored, queued), (0, 0));

    // The same two rows from a collector that then succeeds are stored and queued.
    struct TwoPackages;
    impl syscollector::sysinfo::SysInfo for TwoPackages {
        fn os(&self) -> Result<Row, syscollector::sysinfo::CollectError> {
            FailingPackages.os()
        }
        fn hardware(&self) -> Result<Row, syscollector::sysinfo::CollectError> {
            FailingPackages.hardware()
        }
        fn processes(
            &self,
            each: &mut dyn FnMut(Row),
        ) -> Result<(), syscollector::sysinfo::CollectError> {
            FailingPackages.processes(each)
        }
        fn packages(
            &self,
            each: &mut dyn FnMut(Row),
        ) -> Result<(), syscollector::sysinfo::CollectError> {
            let _ = FailingPackages.packages(each);
            Ok(())
        }
    }
    drop(inv);
    let inv = Inventory::new(
        Config {
            collectors: Collectors {
                packages: true,
                ..Collectors::default()
            },
            db_path: Some(dir.path().join("local.db")),
            ..Config::default()
        },
        Box::new(TwoPackages),
        Arc::new(QueueSink(sync.clone())),
        null_logger(),
    )
    .unwrap();
    inv.attach_sync(sync.clone());
    inv.scan();
    let stored = inv
        .with_db(|db| db.count(&syscollector::dbsync::schema::PACKAGES))
        .unwrap();
    assert_eq!((stored, sync.vd.queue().len().unwrap()), (2, 2));
}

/// Every row a collector produces uses only its catalog table's columns, and every column
/// is filled by some row (the Linux provider on every fixture tree and on this host), but
/// the ones the Linux collectors leave to the diff engine's NULL on every system.
#[test]
fn collectors_rows_use_exactly_their_tables_columns() {
    use std::collections::{BTreeMap, BTreeSet};
    use syscollector::catalog::{Gather, COLLECTORS, TABLES};
    // The trees are read from a copy: opening a fixture's SQLite rpmdb leaves -wal/-shm
    // files next to it.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&fixtures)
        .arg(copy.path())
        .status()
        .expect("cp runs");
    assert!(status.success());
    let mut roots: Vec<PathBuf> = fs::read_dir(copy.path().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    roots.sort();
    assert!(roots.len() > 20, "{roots:?}");
    roots.push(PathBuf::from("/"));
    let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for root in &roots {
        let provider = LinuxSysInfo::with_root(root, null_logger());
        for collector in COLLECTORS {
            let mut rows: Vec<Vec<Row>> = vec![Vec::new(); collector.tables.len()];
            let result = match collector.gather {
                Gather::Rows(gather) => gather(&provider, &mut |row| rows[0].push(row)),
                Gather::Joint(gather) => gather(&provider).map(|parts| rows = parts),
            };
            if result.is_err() {
                continue;
            }
            assert_eq!(rows.len(), collector.tables.len(), "{}", collector.name);
            for (table, rows) in collector.tables.iter().zip(&rows) {
                // Columns, and the fields the catalog declares as hashed and then dropped.
                let columns: BTreeSet<&str> = table
                    .columns
                    .iter()
                    .map(|c| c.name)
                    .chain(table.hooks.hashed_only.iter().copied())
                    .collect();
                for row in rows {
                    let stray: Vec<&String> = row
                        .keys()
                        .filter(|k| !columns.contains(k.as_str()))
                        .collect();
                    assert!(
                        stray.is_empty(),
                        "{} row from {} has columns {stray:?} the catalog does not declare",
                        table.name,
                        root.display()
                    );
                    used.entry(table.name)
                        .or_default()
                        .extend(row.keys().cloned());
                }
            }
        }
    }
    let mut never: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in TABLES {
        let u = used.get(t.name).cloned().unwrap_or_default();
        let missing: Vec<&str> = t
            .columns
            .iter()
            .map(|c| c.name)
            .filter(|c| !u.contains(*c))
            .collect();
        if !missing.is_empty() {
            never.insert(t.name, missing);
        }
    }
    // Filled only where the systems have them: hotfixes are Windows updates, the full OS
    // string and distribution release are macOS/Windows facts, and no fixture's unit sets
    // WorkingDirectory= or RootDirectory=.
    let may_stay_empty: BTreeMap<&str, Vec<&str>> = [
        ("dbsync_hotfixes", vec!["hotfix_name"]),
        ("dbsync_osinfo", vec!["os_distribution_release", "os_full"]),
        (
            "dbsync_services",
            vec!["process_working_dir", "process_root_dir"],
        ),
    ]
    .into_iter()
    .collect();
    for (table, columns) in &never {
        for c in columns {
            assert!(
                may_stay_empty.get(table).is_some_and(|m| m.contains(c)),
                "no collector row fills {table}.{c}"
            );
        }
    }
}
