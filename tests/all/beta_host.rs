//! The C ABI driven as a beta host drives it (issue 12, points 1, 2 and 6): wazuh-modulesd of
//! v5.0.0-beta1 … beta4 / rc1 calls `syscollector_set_agentd_query_func` after
//! `syscollector_init` and before `syscollector_init_sync`/`syscollector_start`, asks the
//! first-scan / first-sync markers, flushes asynchronously, checks `syscollector_is_scanning`
//! before each sync cycle and calls `syscollector_release_resources` after `start` returned.
//! An alpha0 host (no setter) gets every answer it got before.
//!
//! The C ABI holds one module per process, so every test runs alone in a child process
//! ([`alone_in_child`]), away from `ffi_host`'s tests and from each other. Each wait is
//! bounded, so a deadlock fails the test instead of hanging it.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_short, c_void};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::alone_in_child;
use syscollector::ffi::*;

static LOGS: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());
/// What the agentd stand-in answers `getdoclimits` (`None`: it fails, as an agentd that is
/// not up yet).
static AGENTD_ANSWER: Mutex<Option<String>> = Mutex::new(None);
/// Every agentd query: command and buffer size.
static AGENTD_SEEN: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
/// Set when the persist callback ran with `syscollector_is_scanning()` true.
static SCANNING_IN_PERSIST: AtomicBool = AtomicBool::new(false);
static PERSISTED: AtomicUsize = AtomicUsize::new(0);
/// When set, the first persist callback (inside a scan) runs a sync in another thread and
/// waits for it, recording whether it returned in time and its answer.
static SYNC_IN_PERSIST: AtomicBool = AtomicBool::new(false);
static SYNC_DURING_SCAN: Mutex<Option<Option<bool>>> = Mutex::new(None);

const DEBUG: i32 = LogLevelKind::LOG_DEBUG as i32;
const WARNING: i32 = LogLevelKind::LOG_WARNING as i32;

unsafe extern "C" fn log_cb(level: c_int, msg: *const c_char, _tag: *const c_char) {
    let m = CStr::from_ptr(msg).to_string_lossy().into_owned();
    LOGS.lock().unwrap().push((level, m));
}

unsafe extern "C" fn send_cb(_event: *const c_void) {}

unsafe extern "C" fn persist_cb(
    _id: *const c_char,
    _op: c_int,
    _index: *const c_char,
    _data: *const c_void,
    _version: u64,
) {
    PERSISTED.fetch_add(1, Ordering::SeqCst);
    if syscollector_is_scanning() {
        SCANNING_IN_PERSIST.store(true, Ordering::SeqCst);
    }
    if SYNC_IN_PERSIST.swap(false, Ordering::SeqCst) {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(syscollector_sync_module(ModeKind::MODE_DELTA as c_int));
        });
        *SYNC_DURING_SCAN.lock().unwrap() = Some(rx.recv_timeout(Duration::from_secs(5)).ok());
    }
}

unsafe extern "C" fn agentd(command: *const c_char, out: *mut c_char, size: usize) -> bool {
    let command = CStr::from_ptr(command).to_string_lossy().into_owned();
    AGENTD_SEEN.lock().unwrap().push((command, size));
    let Some(answer) = AGENTD_ANSWER.lock().unwrap().clone() else {
        return false;
    };
    if answer.len() >= size {
        return false;
    }
    std::ptr::copy_nonoverlapping(answer.as_ptr().cast::<c_char>(), out, answer.len());
    *out.add(answer.len()) = 0;
    true
}

unsafe extern "C" fn mq_start(_key: *const c_char, _kind: c_short, _attempts: c_short) -> c_int {
    3
}

unsafe extern "C" fn mq_send(
    _q: c_int,
    _m: *const c_void,
    _len: usize,
    _locmsg: *const c_char,
    _loc: c_char,
) -> c_int {
    0
}

fn logs() -> Vec<(i32, String)> {
    LOGS.lock().unwrap().clone()
}

fn count_logged(text: &str) -> usize {
    logs().iter().filter(|(_, m)| m.contains(text)).count()
}

fn logged_at(level: i32, text: &str) -> bool {
    logs().iter().any(|(l, m)| *l == level && m.contains(text))
}

fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Initialises the module in `dir`: OS collector only (a cheap scan), interval 3600 s.
fn init(dir: &Path, scan_on_start: bool) {
    let db = CString::new(dir.join("local.db").to_str().unwrap()).unwrap();
    unsafe {
        syscollector_init(
            3600,
            Some(send_cb),
            Some(persist_cb),
            Some(log_cb),
            db.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            scan_on_start,
            false,
            true,
            false,
            false,
            false,
            false,
            false,
            false,
            false,
            false,
            false,
            false,
            true,
        )
    };
}

/// Sets up synchronisation with queues in `dir` (answer timeout `timeout` s, `retries`).
fn init_sync(dir: &Path, timeout: u32, retries: u32) {
    let sync_db = CString::new(dir.join("sync.db").to_str().unwrap()).unwrap();
    let vd_db = CString::new(dir.join("vd.db").to_str().unwrap()).unwrap();
    let module = CString::new("syscollector").unwrap();
    let mq = MQ_Functions {
        start: Some(mq_start),
        send_binary: Some(mq_send),
    };
    unsafe {
        syscollector_init_sync(
            module.as_ptr(),
            sync_db.as_ptr(),
            vd_db.as_ptr(),
            &mq,
            1,
            timeout,
            retries,
            0,
            3600,
        )
    };
}

fn query(q: &str) -> Value {
    let q = CString::new(q).unwrap();
    let mut out: *mut c_char = std::ptr::null_mut();
    let n = unsafe { syscollector_query(q.as_ptr(), &mut out) };
    assert!(!out.is_null() && n > 0);
    let s = unsafe { CStr::from_ptr(out) }
        .to_string_lossy()
        .into_owned();
    unsafe { libc::free(out.cast()) };
    serde_json::from_str(&s).unwrap()
}

fn command(name: &str) -> Value {
    query(&json!({ "command": name }).to_string())
}

/// The marker `name` as beta4's host reads it (`wm_sys_parse_query_int`): `error` 0 and a
/// number at `data.<name>`.
fn marker(name: &str) -> Option<i64> {
    let answer = command(name);
    let field = name.trim_start_matches("get_");
    (answer["error"] == 0)
        .then(|| answer["data"][field].as_i64())
        .flatten()
}

/// Starts the module in a thread; the receiver gets `()` when `syscollector_start` returns.
fn start() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        syscollector_start();
        let _ = tx.send(());
    });
    rx
}

const BETA_LINE: &str = "Host generation: beta";
const MARKERS: [&str; 3] = [
    "get_first_sync_completed",
    "get_first_scan_completed",
    "get_vd_first_sync_completed",
];

#[test]
fn the_setter_before_init_sync_makes_a_beta_host_logged_once() {
    if !alone_in_child("beta_host::the_setter_before_init_sync_makes_a_beta_host_logged_once") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    *AGENTD_ANSWER.lock().unwrap() = Some(r#"{"os_info":1}"#.into());
    init(dir.path(), true);
    syscollector_set_agentd_query_func(Some(agentd));
    assert!(logged_at(
        DEBUG,
        "Agentd query function set for agentd communication"
    ));
    init_sync(dir.path(), 1, 1);
    let done = start();
    assert!(
        wait_for(Duration::from_secs(60), || count_logged(
            "Evaluation finished."
        ) > 0),
        "{:?}",
        logs()
    );
    syscollector_stop();
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    // Once, at DEBUG, at init_sync; start did not log it again.
    assert_eq!(count_logged(BETA_LINE), 1, "{:?}", logs());
    assert!(logged_at(DEBUG, BETA_LINE));
    assert_eq!(count_logged("Host generation: alpha0"), 0);
    // agentd was asked once, beta4's command with beta4's buffer (OS_MAXSTR), and answered.
    assert_eq!(
        AGENTD_SEEN.lock().unwrap().clone(),
        vec![("getdoclimits syscollector".to_string(), 65536)]
    );
    assert!(logged_at(
        DEBUG,
        r#"Document limits received:   {"os_info":1}"#
    ));
    assert!(logged_at(
        DEBUG,
        "Document limits successfully configured from agentd"
    ));
    // The limits were fetched before the first scan.
    let lines = logs();
    let pos = |t: &str| lines.iter().position(|(_, m)| m.contains(t)).unwrap();
    assert!(pos("Document limits received") < pos("Starting evaluation."));
    // A setter after the freeze does not turn anything back.
    syscollector_set_agentd_query_func(Some(agentd));
    assert_eq!(command("get_first_scan_completed")["error"], 0);
}

#[test]
fn without_the_setter_the_host_is_alpha0_and_answers_as_before() {
    if !alone_in_child("beta_host::without_the_setter_the_host_is_alpha0_and_answers_as_before") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), true);
    init_sync(dir.path(), 1, 1);
    let done = start();
    assert!(wait_for(Duration::from_secs(60), || count_logged(
        "Evaluation finished."
    ) > 0));
    syscollector_stop();
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    // An alpha0 host's log is what it was: no generation line at all.
    assert_eq!(count_logged("Host generation"), 0, "{:?}", logs());
    assert_eq!(count_logged("document limits"), 0, "{:?}", logs());
    assert_eq!(count_logged("First inventory scan completed"), 0);
    // The beta commands are unknown to an alpha0 module, byte for byte as any unknown one.
    for name in MARKERS.iter().chain(&["is_flush_completed"]) {
        assert_eq!(
            command(name),
            json!({"error": 1, "message": format!("Unknown Syscollector command: {name}"),
                   "data": {"command": name}}),
        );
    }
    // The alpha0 flush: synchronous, with its own message (the regular queue is empty: the
    // OS document went to the VD one, which the alpha0 flush leaves alone).
    assert_eq!(
        command("flush"),
        json!({"error": 0, "message": "Syscollector module flushed successfully",
               "data": {"module": "syscollector", "action": "flush"}})
    );
    // The setter after the freeze: logged, the host stays alpha0.
    syscollector_set_agentd_query_func(Some(agentd));
    assert!(logged_at(WARNING, "the host generation stays alpha0"));
    assert_eq!(command("get_first_sync_completed")["error"], 1);
}

#[test]
fn the_new_exports_take_null_and_untimely_calls() {
    if !alone_in_child("beta_host::the_new_exports_take_null_and_untimely_calls") {
        return;
    }
    // Before any init (no log callback yet): safe answers, nothing claimed.
    assert!(!syscollector_is_scanning());
    syscollector_set_agentd_query_func(Some(agentd));
    syscollector_release_resources();

    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), false);
    // NULL: still a beta host, with no limits (every table unlimited).
    syscollector_set_agentd_query_func(None);
    assert!(logged_at(WARNING, "the query function is NULL"));
    init_sync(dir.path(), 1, 1);
    assert_eq!(count_logged(BETA_LINE), 1);
    let done = start();
    assert!(wait_for(Duration::from_secs(10), || count_logged(
        "Module started."
    ) > 0));
    assert!(logged_at(
        WARNING,
        "Agentd query function not set, cannot fetch document limits"
    ));
    assert!(!syscollector_is_scanning());
    // Release while running: refused, the module still answers.
    syscollector_release_resources();
    assert!(logged_at(WARNING, "called while the module is running"));
    assert_eq!(command("get_first_scan_completed")["error"], 0);
    syscollector_stop();
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    // Stop only signalled: queries still work until the host releases.
    assert_eq!(command("get_first_sync_completed")["error"], 0);
    syscollector_release_resources();
    assert!(logged_at(DEBUG, "Syscollector resources released"));
    let after = command("get_first_sync_completed");
    assert_eq!(after["error"], 98, "{after}");
    assert!(!syscollector_is_scanning());
    assert!(!syscollector_sync_module(ModeKind::MODE_DELTA as c_int));
    // A second release is harmless.
    syscollector_release_resources();
    // A new init after release works as a first one.
    init(dir.path(), false);
    assert_eq!(command("get_version")["error"], 0);
}

#[test]
fn markers_answer_as_beta4_and_persist_across_a_re_init() {
    if !alone_in_child("beta_host::markers_answer_as_beta4_and_persist_across_a_re_init") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    *AGENTD_ANSWER.lock().unwrap() = Some("{}".into());
    init(dir.path(), true);
    syscollector_set_agentd_query_func(Some(agentd));
    init_sync(dir.path(), 1, 1);
    for name in MARKERS {
        assert_eq!(marker(name), Some(0), "{name}: {}", command(name));
    }
    let answer = command("get_first_sync_completed");
    assert_eq!(
        answer,
        json!({"error": 0, "message": "Syscollector first sync completion retrieved",
               "data": {"first_sync_completed": 0}})
    );
    // Nothing queued yet: a sync succeeds at once and sets both sync markers.
    assert!(syscollector_sync_module(ModeKind::MODE_DELTA as c_int));
    assert_eq!(marker("get_first_sync_completed"), Some(1));
    assert_eq!(marker("get_vd_first_sync_completed"), Some(1));
    assert_eq!(marker("get_first_scan_completed"), Some(0));
    // The first scan sets its marker once its differences are queued.
    let done = start();
    assert!(wait_for(Duration::from_secs(60), || marker(
        "get_first_scan_completed"
    ) == Some(1)));
    assert!(logged_at(DEBUG, "Initial Syscollector scan starting."));
    assert!(count_logged("Evaluation finished.") <= 1);
    // Its differences were handed over before the marker was set.
    assert!(PERSISTED.load(Ordering::SeqCst) > 0);
    syscollector_stop();
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    syscollector_release_resources();

    // Stored in table_metadata as beta4 keeps them: rows named after the marker.
    let conn = rusqlite::Connection::open(dir.path().join("local.db")).unwrap();
    let mut rows: Vec<(String, i64)> = conn
        .prepare("SELECT table_name, last_sync_time FROM table_metadata ORDER BY table_name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.retain(|(name, _)| name.ends_with("_completed"));
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "first_scan_completed",
            "first_sync_completed",
            "vd_first_sync_completed"
        ]
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        rows.iter().all(|(_, t)| (now - 600..=now).contains(t)),
        "{rows:?}"
    );
    drop(conn);

    // A new module on the same database (the agent restarted): the markers are there.
    LOGS.lock().unwrap().clear();
    init(dir.path(), false);
    syscollector_set_agentd_query_func(Some(agentd));
    init_sync(dir.path(), 1, 1);
    for name in MARKERS {
        assert_eq!(marker(name), Some(1), "{name}");
    }
    // The asynchronous flush: requested at once, then completed (the VD queue holds the OS
    // document and no manager answers, so it fails after its 1 s timeout, but completes).
    let flush = command("flush");
    assert_eq!(
        flush,
        json!({"error": 0, "message": "Syscollector module flush requested",
               "data": {"module": "syscollector", "action": "flush"}})
    );
    assert!(wait_for(Duration::from_secs(30), || command(
        "is_flush_completed"
    )["data"]["status"]
        == "completed"));
    let status = command("is_flush_completed");
    assert_eq!(status["error"], 0);
    assert_eq!(status["data"]["module"], "syscollector");
    assert!(
        status["data"]["result"] == "success" || status["data"]["result"] == "error",
        "{status}"
    );
}

#[test]
fn an_alpha0_vd_flag_file_becomes_the_beta_marker() {
    if !alone_in_child("beta_host::an_alpha0_vd_flag_file_becomes_the_beta_marker") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join(".vd_first_sync_done");
    // An alpha0 host keeps its flag file and knows nothing of markers.
    std::fs::write(&flag, b"1").unwrap();
    init(dir.path(), false);
    init_sync(dir.path(), 1, 1);
    assert!(flag.exists());
    assert_eq!(command("get_vd_first_sync_completed")["error"], 1);
    // The same files under a beta host: migrated into table_metadata, the file removed.
    init(dir.path(), false);
    syscollector_set_agentd_query_func(Some(agentd));
    init_sync(dir.path(), 1, 1);
    assert!(!flag.exists(), "the flag file is migrated away");
    assert_eq!(marker("get_vd_first_sync_completed"), Some(1));
    assert!(logged_at(
        LogLevelKind::LOG_INFO as i32,
        "migrated into table_metadata"
    ));
    // The marker stays after another restart, without the file.
    init(dir.path(), false);
    syscollector_set_agentd_query_func(Some(agentd));
    init_sync(dir.path(), 1, 1);
    assert_eq!(marker("get_vd_first_sync_completed"), Some(1));
}

#[test]
fn stop_ends_the_getdoclimits_retries_within_the_hosts_10_s() {
    if !alone_in_child("beta_host::stop_ends_the_getdoclimits_retries_within_the_hosts_10_s") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // agentd never answers.
    *AGENTD_ANSWER.lock().unwrap() = None;
    init(dir.path(), true);
    syscollector_set_agentd_query_func(Some(agentd));
    init_sync(dir.path(), 1, 1);
    let done = start();
    // Retried, about once a second.
    assert!(wait_for(Duration::from_secs(10), || AGENTD_SEEN
        .lock()
        .unwrap()
        .len()
        >= 3));
    let t = Instant::now();
    syscollector_stop();
    done.recv_timeout(Duration::from_secs(10))
        .expect("start returned within 10 s of the stop");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(logged_at(
        DEBUG,
        "Failed to fetch document limits from agentd, retrying..."
    ));
    assert!(logged_at(
        DEBUG,
        "Document limits fetch aborted by stop signal"
    ));
    // No scan ran without the limits.
    assert_eq!(count_logged("Starting evaluation."), 0);
    assert_eq!(marker("get_first_scan_completed"), Some(0));
}

#[test]
fn a_sync_runs_while_a_scan_does_and_is_scanning_tells() {
    if !alone_in_child("beta_host::a_sync_runs_while_a_scan_does_and_is_scanning_tells") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    *AGENTD_ANSWER.lock().unwrap() = Some("{}".into());
    init(dir.path(), true);
    syscollector_set_agentd_query_func(Some(agentd));
    init_sync(dir.path(), 1, 1);
    // The markers are read before the scan (the host asks them at its start).
    assert_eq!(marker("get_first_sync_completed"), Some(0));
    assert!(syscollector_sync_module(ModeKind::MODE_DELTA as c_int));
    SYNC_IN_PERSIST.store(true, Ordering::SeqCst);
    let done = start();
    assert!(wait_for(Duration::from_secs(60), || count_logged(
        "Evaluation finished."
    ) > 0));
    assert!(PERSISTED.load(Ordering::SeqCst) > 0);
    assert!(
        SCANNING_IN_PERSIST.load(Ordering::SeqCst),
        "is_scanning was false inside a scan"
    );
    assert!(!syscollector_is_scanning(), "still scanning after the scan");
    // The sync asked from inside the scan (the scan holding its table) finished meanwhile.
    assert_eq!(
        *SYNC_DURING_SCAN.lock().unwrap(),
        Some(Some(true)),
        "{:?}",
        logs()
    );
    syscollector_stop();
    done.recv_timeout(Duration::from_secs(10)).unwrap();
}

/// A transport whose manager never answers.
struct Silent;

impl syscollector::sync_protocol::Transport for Silent {
    fn check(&self) -> bool {
        true
    }
    fn send(&self, _message: &[u8]) -> bool {
        true
    }
}

/// Through the module's own API (a metadata source the test provides; the C ABI's reads
/// the agent's): a beta host's sync waiting for a manager that never answers, and a start,
/// both end within the host's 10 s of a stop.
#[test]
fn stop_ends_a_sync_waiting_for_the_manager_within_the_hosts_10_s() {
    use std::sync::Arc;
    use syscollector::inventory::{Collectors, Config, Inventory, SyncConfig, SyncOpener};
    use syscollector::sync_protocol::{AgentMetadata, Mode};

    struct Quiet;
    impl syscollector::inventory::Sink for Quiet {
        fn stateless(&self, _event: &str) {}
        fn stateful(&self, _doc: &syscollector::inventory::Stateful, _json: &str) {}
    }
    let dir = tempfile::tempdir().unwrap();
    let (log, lines) = crate::helpers::capture_logger();
    let cfg = Config {
        scan_on_start: false,
        collectors: Collectors {
            os: true,
            ..Collectors::default()
        },
        db_path: Some(dir.path().join("local.db")),
        ..Config::default()
    };
    let inv = Arc::new(
        Inventory::new(
            cfg,
            Box::new(syscollector::sysinfo::LinuxSysInfo::new(log.clone())),
            Arc::new(Quiet),
            log.clone(),
        )
        .unwrap(),
    );
    assert!(inv.claim_beta());
    inv.set_agentd_query(Some(Arc::new(|_: &str, _: usize| Some("{}".to_string()))));
    let opener = SyncOpener {
        config: SyncConfig {
            module: "syscollector".into(),
            db_path: dir.path().join("sync.db"),
            db_path_vd: dir.path().join("vd.db"),
            end_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
            retries: 3,
            max_eps: 0,
            integrity_interval: 3600,
            generation: Default::default(),
        },
        transport: Arc::new(|_: &str| {
            Arc::new(Silent) as Arc<dyn syscollector::sync_protocol::Transport>
        }),
        metadata: Arc::new(|| Some(AgentMetadata::default())),
        log: log.clone(),
    };
    let sync = inv.init_sync(opener).unwrap();
    assert!(inv.generation().is_beta());
    sync.persist(
        "abc",
        syscollector::inventory::Operation::Create,
        "wazuh-states-inventory-hardware",
        r#"{"host":{"cpu":{"cores":2}}}"#,
        1,
    );
    let (started_tx, started) = mpsc::channel();
    let runner = {
        let inv = inv.clone();
        std::thread::spawn(move || {
            inv.start();
            let _ = started_tx.send(());
        })
    };
    let logged = |t: &str| lines.lock().unwrap().iter().any(|m| m.contains(t));
    assert!(wait_for(Duration::from_secs(10), || logged(
        "Module started."
    )));
    let (tx, rx) = mpsc::channel();
    {
        let inv = inv.clone();
        std::thread::spawn(move || {
            let _ = tx.send(inv.sync_module(Mode::ModuleDelta).is_ok());
        });
    }
    assert!(wait_for(Duration::from_secs(10), || logged(
        "Starting inventory synchronization."
    )));
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    inv.stop();
    let synced = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the sync returned within 10 s of the stop");
    assert!(!synced);
    started
        .recv_timeout(Duration::from_secs(10))
        .expect("start returned within 10 s of the stop");
    runner.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(logged(
        "Syscollector synchronization aborted: the module is stopping."
    ));
    // A stopped first sync is not a first sync.
    assert_eq!(inv.marker("first_sync_completed"), Some(0));
    assert_eq!(inv.agentd_document_limits(), Some(json!({})));
}
