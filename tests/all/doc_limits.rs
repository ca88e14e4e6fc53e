//! Document limits on a beta host (issue 12, point 3), through `Inventory` on a real SQLite
//! database with a provider whose rows the test changes between scans: which stateful
//! documents a limited table sends, what a limit change sends, the order that fills the
//! room a deletion frees, stateless events unaffected, what integrity checks, full resends
//! and the vulnerability detector's context take, and an alpha0 host left as it was.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::Connection;
use serde_json::{json, Value};
use syscollector::dbsync::schema;
use syscollector::inventory::{
    Collectors, Config, Inventory, InventorySync, Operation, Sink, Stateful, SyncConfig,
};
use syscollector::manager::loopback::Loopback;
use syscollector::manager::Faults;
use syscollector::sync_protocol::{AgentMetadata, Mode, Transport};
use syscollector::sysinfo::{CollectError, SysInfo};
use syscollector::{LogLevel, Logger, Row};

/// One stateful document as the sink saw it.
#[derive(Debug, Clone)]
struct Doc {
    operation: Operation,
    index: String,
    version: u64,
    doc: Value,
}

impl Doc {
    /// The package (or process) name of the document.
    fn name(&self) -> String {
        self.doc
            .pointer("/package/name")
            .or_else(|| self.doc.pointer("/process/name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// Keeps what the module sends; with an inventory set, also hands every stateful document
/// to its `persist_diff`, as the host's persist callback does.
#[derive(Default)]
struct Recorder {
    stateless: Mutex<Vec<Value>>,
    stateful: Mutex<Vec<Doc>>,
    host: OnceLock<Weak<Inventory>>,
}

impl Sink for Recorder {
    fn stateless(&self, event: &str) {
        self.stateless
            .lock()
            .push(serde_json::from_str(event).unwrap());
    }
    fn stateful(&self, doc: &Stateful, json: &str) {
        self.stateful.lock().push(Doc {
            operation: doc.operation,
            index: doc.index.to_string(),
            version: doc.version,
            doc: serde_json::from_str(json).unwrap(),
        });
        if let Some(inv) = self.host.get().and_then(Weak::upgrade) {
            inv.persist_diff(&doc.id, doc.operation, doc.index, json, doc.version);
        }
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

/// `(operation, name)` of each document, in order.
fn ops(docs: &[Doc]) -> Vec<(Operation, String)> {
    docs.iter().map(|d| (d.operation, d.name())).collect()
}

/// `(event.type, name)` of each stateless event, in order.
fn events(stateless: &[Value]) -> Vec<(String, String)> {
    stateless
        .iter()
        .map(|e| {
            (
                e["data"]["event"]["type"].as_str().unwrap().to_string(),
                e["data"]["package"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// What the fake system holds: an OS (or none), packages and processes.
#[derive(Default)]
struct System {
    os: Mutex<Option<Row>>,
    packages: Mutex<Vec<Row>>,
    processes: Mutex<Vec<Row>>,
}

struct Provider(Arc<System>);

impl SysInfo for Provider {
    fn os(&self) -> Result<Row, CollectError> {
        self.0
            .os
            .lock()
            .clone()
            .ok_or(CollectError::Unsupported("os"))
    }
    fn hardware(&self) -> Result<Row, CollectError> {
        Err(CollectError::Unsupported("hardware"))
    }
    fn processes(&self, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        self.0.processes.lock().clone().into_iter().for_each(each);
        Ok(())
    }
    fn packages(&self, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        self.0.packages.lock().clone().into_iter().for_each(each);
        Ok(())
    }
}

fn row(v: Value) -> Row {
    v.as_object().cloned().unwrap()
}

fn package(name: &str, vendor: &str) -> Row {
    row(
        json!({"name": name, "version_": "1.0", "architecture": "amd64", "type": "deb",
               "path": " ", "vendor": vendor, "size": 1000}),
    )
}

fn os(build: &str) -> Row {
    row(
        json!({"os_name": "Debian GNU/Linux", "os_version": "12 (bookworm)",
               "hostname": "fixture", "architecture": "x86_64", "os_build": build,
               "os_platform": "debian", "os_type": "linux"}),
    )
}

impl System {
    fn set_packages(&self, names: &[&str]) {
        *self.packages.lock() = names.iter().map(|n| package(n, "Debian")).collect();
    }
}

/// Every log line with its level.
type Lines = Arc<std::sync::Mutex<Vec<(LogLevel, String)>>>;

fn logger() -> (Logger, Lines) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    let log: Logger = Arc::new(move |l, m: &str| sink.lock().unwrap().push((l, m.to_string())));
    (log, lines)
}

fn said(lines: &Lines, level: LogLevel, text: &str) -> bool {
    lines
        .lock()
        .unwrap()
        .iter()
        .any(|(l, m)| *l == level && m == text)
}

struct Module {
    inv: Arc<Inventory>,
    rec: Arc<Recorder>,
    system: Arc<System>,
    lines: Lines,
    db: std::path::PathBuf,
}

fn module(dir: &Path, collectors: Collectors, notify_first: bool) -> Module {
    let system = Arc::new(System::default());
    let rec = Arc::new(Recorder::default());
    let (log, lines) = logger();
    let db = dir.join("local.db");
    let inv = Arc::new(
        Inventory::new(
            Config {
                collectors,
                notify_on_first_scan: notify_first,
                db_path: Some(db.clone()),
                ..Config::default()
            },
            Box::new(Provider(system.clone())),
            rec.clone(),
            log,
        )
        .unwrap(),
    );
    Module {
        inv,
        rec,
        system,
        lines,
        db,
    }
}

fn packages_only() -> Collectors {
    Collectors {
        packages: true,
        ..Collectors::default()
    }
}

/// What a beta host does before it starts: the setter made the instance beta, the first
/// init_sync/start froze it, and the database is migrated then.
fn become_beta(inv: &Inventory) {
    let cell = inv.generation_cell();
    assert!(cell.claim_beta());
    cell.freeze();
    inv.enter_beta();
}

/// `name → sync` of every stored row of `table`, read from the file by another connection.
fn flags(db: &Path, table: &str) -> BTreeMap<String, i64> {
    let c = Connection::open(db).unwrap();
    let key = if table == "dbsync_processes" {
        "pid"
    } else {
        "name"
    };
    let mut stmt = c
        .prepare(&format!("SELECT {key}, sync FROM {table}"))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn columns(db: &Path, table: &str) -> Vec<String> {
    let c = Connection::open(db).unwrap();
    let mut stmt = c
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn no_sync_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.contains_key("sync") && m.values().all(no_sync_key),
        Value::Array(a) => a.iter().all(no_sync_key),
        _ => true,
    }
}

const PACKAGES_INDEX: &str = "wazuh-states-inventory-packages";

#[test]
fn limit_one_sends_one_document_and_stateless_events_ignore_it() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(dir.path(), packages_only(), true);
    become_beta(&m.inv);
    assert!(m.inv.set_document_limits(&json!({"packages": 1})));
    assert_eq!(m.inv.document_limits().get(&schema::PACKAGES), 1);
    // Upper case sorts before lower case byte-wise; beta4 orders case-insensitively.
    m.system.set_packages(&["gamma", "Beta", "alpha"]);

    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    let mut created = events(&stateless);
    created.sort();
    assert_eq!(
        created,
        [
            ("created".to_string(), "Beta".to_string()),
            ("created".to_string(), "alpha".to_string()),
            ("created".to_string(), "gamma".to_string())
        ],
        "every change is a stateless event, limit or not"
    );
    assert_eq!(ops(&stateful), [(Operation::Create, "alpha".to_string())]);
    assert_eq!(
        (stateful[0].index.as_str(), stateful[0].version),
        (PACKAGES_INDEX, 1)
    );
    assert!(stateful.iter().all(|d| no_sync_key(&d.doc)));
    assert!(stateless.iter().all(no_sync_key));
    assert_eq!(
        flags(&m.db, "dbsync_packages"),
        BTreeMap::from([
            ("Beta".to_string(), 0),
            ("alpha".to_string(), 1),
            ("gamma".to_string(), 0)
        ])
    );
    assert!(said(
        &m.lines,
        LogLevel::DebugVerbose,
        "Document limit reached for table dbsync_packages, skipping persistence"
    ));
    assert!(said(
        &m.lines,
        LogLevel::Debug,
        "Post-scan promotion: Promoting 1 unsynced items for index 'wazuh-states-inventory-packages'"
    ));

    // Nothing changed: nothing at all.
    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    assert!(stateless.is_empty() && stateful.is_empty());

    // A waiting row changes: a stateless event only. The synced one: both.
    *m.system.packages.lock() = vec![
        package("gamma", "Debian"),
        package("Beta", "Someone else"),
        package("alpha", "Someone else"),
    ];
    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    let mut modified = events(&stateless);
    modified.sort();
    assert_eq!(
        modified,
        [
            ("modified".to_string(), "Beta".to_string()),
            ("modified".to_string(), "alpha".to_string())
        ]
    );
    assert_eq!(ops(&stateful), [(Operation::Modify, "alpha".to_string())]);
    assert_eq!(stateful[0].version, 2);
    assert_eq!(stateful[0].doc["package"]["vendor"], json!("Someone else"));
    assert_eq!(flags(&m.db, "dbsync_packages")["Beta"], 0);
}

#[test]
fn limit_zero_sends_every_document_and_marks_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(dir.path(), packages_only(), false);
    become_beta(&m.inv);
    assert!(m.inv.set_document_limits(&json!({"packages": 0})));
    m.system.set_packages(&["gamma", "Beta", "alpha"]);

    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    assert!(stateless.is_empty(), "no events on a first scan");
    let mut sent = ops(&stateful);
    sent.sort();
    assert_eq!(
        sent,
        [
            (Operation::Create, "Beta".to_string()),
            (Operation::Create, "alpha".to_string()),
            (Operation::Create, "gamma".to_string())
        ]
    );
    assert!(flags(&m.db, "dbsync_packages").values().all(|f| *f == 1));

    m.system.set_packages(&["gamma", "alpha"]);
    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    assert_eq!(ops(&stateful), [(Operation::Delete, "Beta".to_string())]);
    assert_eq!(
        events(&stateless),
        [("deleted".to_string(), "Beta".to_string())]
    );
}

#[test]
fn a_lowered_limit_deletes_the_last_and_a_raised_one_promotes_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(dir.path(), packages_only(), false);
    become_beta(&m.inv);
    m.system.set_packages(&["gamma", "Beta", "alpha", "delta"]);
    m.inv.scan();
    assert_eq!(m.rec.take().1.len(), 4, "no limit yet: every document");

    // Down to 1: the three last (case-insensitive, descending) leave, last first.
    assert!(m.inv.set_document_limits(&json!({"packages": 1})));
    let (stateless, stateful) = m.rec.take();
    assert!(stateless.is_empty());
    assert_eq!(
        ops(&stateful),
        [
            (Operation::Delete, "gamma".to_string()),
            (Operation::Delete, "delta".to_string()),
            (Operation::Delete, "Beta".to_string())
        ]
    );
    assert!(stateful.iter().all(|d| d.version == 1));
    assert_eq!(
        flags(&m.db, "dbsync_packages"),
        BTreeMap::from([
            ("Beta".to_string(), 0),
            ("alpha".to_string(), 1),
            ("delta".to_string(), 0),
            ("gamma".to_string(), 0)
        ])
    );
    assert!(said(
        &m.lines,
        LogLevel::Debug,
        "Document limit reduced for index 'wazuh-states-inventory-packages' from 4 to 1. Resetting 3 excess records to sync=0."
    ));
    // The scan after it changes nothing.
    m.inv.scan();
    assert!(m.rec.take().1.is_empty());

    // The same limit again: nothing.
    assert!(m.inv.set_document_limits(&json!({"packages": 1})));
    assert!(m.rec.take().1.is_empty());
    assert!(said(
        &m.lines,
        LogLevel::Debug,
        "Document limit set for index 'wazuh-states-inventory-packages': 1 (current synced count: 1)"
    ));

    // Up to 3: the first two waiting rows come in, in order.
    assert!(m.inv.set_document_limits(&json!({"packages": 3})));
    assert_eq!(
        ops(&m.rec.take().1),
        [
            (Operation::Create, "Beta".to_string()),
            (Operation::Create, "delta".to_string())
        ]
    );

    // Unlimited: the rest.
    assert!(m.inv.set_document_limits(&json!({"packages": 0})));
    assert_eq!(
        ops(&m.rec.take().1),
        [(Operation::Create, "gamma".to_string())]
    );
    assert!(flags(&m.db, "dbsync_packages").values().all(|f| *f == 1));
    assert!(said(
        &m.lines,
        LogLevel::Debug,
        "Document limit set to unlimited for index 'wazuh-states-inventory-packages' (promoted 1 unsynced items, total synced: 4)"
    ));
}

#[test]
fn a_deletion_frees_room_that_the_next_waiting_row_fills_after_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(dir.path(), packages_only(), true);
    become_beta(&m.inv);
    assert!(m.inv.set_document_limits(&json!({"packages": 2})));
    m.system.set_packages(&["gamma", "Beta", "alpha", "delta"]);
    m.inv.scan();
    assert_eq!(
        ops(&m.rec.take().1),
        [
            (Operation::Create, "alpha".to_string()),
            (Operation::Create, "Beta".to_string())
        ]
    );

    // A waiting row goes: a stateless event, no DELETE (the manager never had it).
    m.system.set_packages(&["Beta", "alpha", "delta"]);
    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    assert_eq!(
        events(&stateless),
        [("deleted".to_string(), "gamma".to_string())]
    );
    assert!(stateful.is_empty(), "{stateful:?}");
    assert!(said(
        &m.lines,
        LogLevel::DebugVerbose,
        "Skipping DELETE event for non-synced record in table 'dbsync_packages' (sync=0)."
    ));

    // A synced one goes: its DELETE, then the first waiting row takes its place.
    m.system.set_packages(&["Beta", "delta", "epsilon"]);
    m.inv.scan();
    let (stateless, stateful) = m.rec.take();
    let mut changes = events(&stateless);
    changes.sort();
    assert_eq!(
        changes,
        [
            ("created".to_string(), "epsilon".to_string()),
            ("deleted".to_string(), "alpha".to_string())
        ]
    );
    assert_eq!(
        ops(&stateful),
        [
            (Operation::Delete, "alpha".to_string()),
            (Operation::Create, "delta".to_string())
        ]
    );
    assert_eq!(
        flags(&m.db, "dbsync_packages"),
        BTreeMap::from([
            ("Beta".to_string(), 1),
            ("delta".to_string(), 1),
            ("epsilon".to_string(), 0)
        ])
    );
}

#[test]
fn bad_limits_change_nothing_and_an_alpha0_host_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(dir.path(), packages_only(), false);
    // Alpha0: no limits, no migration.
    assert!(!m.inv.set_document_limits(&json!({"packages": 1})));
    m.inv.enter_beta();
    assert!(!columns(&m.db, "dbsync_packages").contains(&"sync".to_string()));

    become_beta(&m.inv);
    assert!(m.inv.set_document_limits(&json!({"packages": 2})));
    for bad in [
        json!({"packages": 1, "processes": -3}),
        json!({"packages": 1, "nonsense": 3}),
        json!("packages"),
    ] {
        assert!(!m.inv.set_document_limits(&bad), "{bad}");
        assert_eq!(m.inv.document_limits().get(&schema::PACKAGES), 2, "{bad}");
    }
    assert!(said(
        &m.lines,
        LogLevel::Error,
        "Invalid limit value for index: processes"
    ));
    assert!(said(
        &m.lines,
        LogLevel::Error,
        "Unknown index from agentd: nonsense"
    ));
}

/// The stateful documents of a scan, without the time of day they carry.
fn timeless(docs: Vec<Doc>) -> Vec<(Operation, String, u64, Value)> {
    let mut out: Vec<_> = docs
        .into_iter()
        .map(|mut d| {
            d.doc["state"]
                .as_object_mut()
                .unwrap()
                .remove("modified_at");
            (d.operation, d.index, d.version, d.doc)
        })
        .collect();
    out.sort_by_key(|d| d.3.to_string());
    out
}

#[test]
fn an_alpha0_host_keeps_its_schema_and_a_beta_one_the_same_checksums_and_documents() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let alpha0 = module(a.path(), packages_only(), false);
    let beta = module(b.path(), packages_only(), false);
    become_beta(&beta.inv);
    for m in [&alpha0, &beta] {
        m.system.set_packages(&["gamma", "Beta", "alpha"]);
        m.inv.scan();
    }
    // Alpha0's schema: the CREATE statement as it always was, no sync column.
    let sql = |db: &Path| -> String {
        Connection::open(db)
            .unwrap()
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'dbsync_packages'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert!(!columns(&alpha0.db, "dbsync_packages").contains(&"sync".to_string()));
    assert!(columns(&beta.db, "dbsync_packages").contains(&"sync".to_string()));
    assert_eq!(
        sql(&alpha0.db),
        schema::PACKAGES
            .create_sql()
            .replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE")
            .trim_end_matches(';')
    );
    // Same row checksums, same table checksum, same documents.
    let sums = |m: &Module| {
        m.inv.with_db(|db| {
            let mut rows: Vec<(String, String)> = db
                .select_all(&schema::PACKAGES)
                .unwrap()
                .into_iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_string(),
                        r["checksum"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            rows.sort();
            (rows, db.table_checksum(&schema::PACKAGES).unwrap())
        })
    };
    assert_eq!(sums(&alpha0), sums(&beta));
    assert_eq!(timeless(alpha0.rec.take().1), timeless(beta.rec.take().1));
    assert!(alpha0.inv.document_limits().limited().is_empty());
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

/// Opens the module's sync instances over `peer` (both instances, one manager) and routes
/// the manager's replies back; the recorder queues what it sees.
fn attach_loopback(
    m: &Module,
    dir: &Path,
    integrity_interval: u32,
) -> (Arc<InventorySync>, Loopback) {
    let peer = Loopback::new(Faults::default());
    let transport = peer.clone();
    let sync = Arc::new(
        InventorySync::open(
            SyncConfig {
                module: "syscollector".into(),
                db_path: dir.join("syscollector_sync.db"),
                db_path_vd: dir.join("syscollector_vd_sync.db"),
                end_delay: Duration::ZERO,
                timeout: Duration::from_secs(5),
                retries: 3,
                max_eps: 0,
                integrity_interval,
                generation: Default::default(),
            },
            &move |_| -> Arc<dyn Transport> { Arc::new(transport.clone()) },
            Arc::new(metadata),
            syscollector::null_logger(),
        )
        .unwrap(),
    );
    m.inv.attach_sync(sync.clone());
    let _ = m.rec.host.set(Arc::downgrade(&m.inv));
    let weak = Arc::downgrade(&m.inv);
    // One session at a time: the idle instance discards what is not for it.
    peer.set_reply_sink(move |buf| {
        if let Some(inv) = weak.upgrade() {
            inv.parse_response(buf);
            inv.parse_response_vd(buf);
        }
    });
    (sync, peer)
}

fn process(pid: &str, name: &str) -> Row {
    row(json!({"pid": pid, "name": name, "state": "S", "parent_pid": 0}))
}

const PROCESSES_INDEX: &str = "wazuh-states-inventory-processes";

#[test]
fn integrity_checks_and_full_resends_take_the_synced_rows_of_a_limited_table() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(
        dir.path(),
        Collectors {
            processes: true,
            ..Collectors::default()
        },
        false,
    );
    become_beta(&m.inv);
    let (_sync, peer) = attach_loopback(&m, dir.path(), 0);
    assert!(m.inv.set_document_limits(&json!({"processes": 1})));
    *m.system.processes.lock() = vec![process("3", "c"), process("1", "a"), process("2", "b")];
    m.inv.scan();
    assert_eq!(ops(&m.rec.take().1), [(Operation::Create, "a".to_string())]);
    m.inv.sync_module(Mode::ModuleDelta).unwrap();
    let held = |peer: &Loopback| {
        peer.with_manager(|mgr| mgr.store())
            .indices
            .get(PROCESSES_INDEX)
            .map(|d| d.len())
            .unwrap_or(0)
    };
    assert_eq!(held(&peer), 1);
    let full_sessions = |peer: &Loopback| {
        peer.with_manager(|mgr| {
            mgr.completed
                .iter()
                .filter(|c| c.mode == Mode::ModuleFull)
                .count()
        })
    };

    // The first check starts the interval (0 s); the second compares: the synced row's
    // checksum is the manager's, so nothing is resent.
    m.inv.run_recovery();
    m.inv.run_recovery();
    assert!(said(
        &m.lines,
        LogLevel::Debug,
        "Calculating checksum with filter 'sync=1' (limit=1)"
    ));
    assert_eq!(
        full_sessions(&peer),
        0,
        "three rows stored, one held: in step"
    );

    // The synced row's checksum drifts: the full resend carries the synced row only.
    Connection::open(&m.db)
        .unwrap()
        .execute(
            "UPDATE dbsync_processes SET checksum = 'drifted' WHERE sync = 1",
            [],
        )
        .unwrap();
    m.inv.run_recovery();
    assert_eq!(full_sessions(&peer), 1);
    let store = peer.with_manager(|mgr| mgr.store());
    let docs = &store.indices[PROCESSES_INDEX];
    assert_eq!(docs.len(), 1, "{docs:?}");
    let (version, doc) = docs.values().next().unwrap();
    assert_eq!(doc["process"]["name"], json!("a"));
    assert_eq!(doc["checksum"]["hash"]["sha1"], json!("drifted"));
    assert_eq!(*version, 2, "a resend raises the versions");

    // Unlimited: the others are promoted and delivered, and a check covers every row.
    assert!(m.inv.set_document_limits(&json!({"processes": 0})));
    m.inv.sync_module(Mode::ModuleDelta).unwrap();
    assert_eq!(held(&peer), 3);
    m.inv.run_recovery();
    assert!(said(
        &m.lines,
        LogLevel::Debug,
        "Calculating checksum without filter (no limit)"
    ));
    assert_eq!(full_sessions(&peer), 1, "in step again");
}

#[test]
fn the_vulnerability_detector_context_takes_the_synced_packages_of_a_limited_table() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(
        dir.path(),
        Collectors {
            os: true,
            packages: true,
            ..Collectors::default()
        },
        false,
    );
    become_beta(&m.inv);
    let (sync, _peer) = attach_loopback(&m, dir.path(), 3600);
    assert!(m.inv.set_document_limits(&json!({"packages": 1})));
    *m.system.os.lock() = Some(os("1"));
    m.system.set_packages(&["gamma", "Beta", "alpha"]);
    m.inv.scan();
    // The detector has its first synchronization; nothing is pending after it.
    m.inv.sync_module(Mode::ModuleDelta).unwrap();
    // A beta host keeps that in table_metadata, not in alpha0's flag file.
    assert!(m.inv.vd_first_sync_done_beta(Some(&sync)));
    // Only the OS changes: its difference is pending, the packages go as its context.
    *m.system.os.lock() = Some(os("2"));
    m.inv.scan();
    let context = |sync: &InventorySync| -> Vec<String> {
        let mut names: Vec<String> = sync
            .vd
            .queue()
            .fetch_pending(false)
            .unwrap()
            .into_iter()
            .filter(|i| i.is_data_context)
            .map(|i| {
                let doc: Value = serde_json::from_str(&i.data).unwrap();
                assert_eq!(i.index, PACKAGES_INDEX);
                doc["package"]["name"].as_str().unwrap().to_string()
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(context(&sync), ["alpha"]);

    // With no limit every package goes (once the promoted ones are delivered: a pending
    // document goes as its own difference, not as context).
    assert!(m.inv.set_document_limits(&json!({"packages": 0})));
    m.inv.sync_module(Mode::ModuleDelta).unwrap();
    *m.system.os.lock() = Some(os("3"));
    m.inv.scan();
    assert_eq!(context(&sync), ["Beta", "alpha", "gamma"]);
}

#[test]
fn after_delete_database_a_beta_host_keeps_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let m = module(dir.path(), packages_only(), false);
    become_beta(&m.inv);
    assert!(m.inv.set_document_limits(&json!({"packages": 1})));
    m.inv.delete_database();
    assert!(!m.db.exists());
    assert!(m.inv.with_db(|db| db.is_beta()));
    m.system.set_packages(&["gamma", "Beta", "alpha"]);
    m.inv.scan();
    assert_eq!(
        ops(&m.rec.take().1),
        [(Operation::Create, "alpha".to_string())]
    );
}
