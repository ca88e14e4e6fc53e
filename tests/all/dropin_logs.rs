//! The module's log lines where the host (or an operator reading `ossec.log`) sees them, as
//! the reference (v5.0.0-alpha0, syscollectorImp.cpp) writes them (issue 9, point 5): the
//! startup sequence of a full init/start/stop cycle through the C ABI (the four data-clean
//! lines when there is nothing to clean, "Module started." after them, no "Module
//! finished.", which is the host's line), the per-collector scan lines with the
//! reference's collector names, and the answer to a query that is not JSON.
//!
//! The C ABI holds one module per process, so the cycle runs alone in a child process
//! ([`alone_in_child`]), away from `ffi_host`'s tests.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_short, c_void};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::alone_in_child;
use syscollector::ffi::*;
use syscollector::inventory::{Collectors, Config, Inventory, Sink, Stateful};
use syscollector::sysinfo::{CollectError, SysInfo};
use syscollector::{LogLevel, Logger, Row};

static LOGS: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

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
}

unsafe extern "C" fn mq_start(_key: *const c_char, _kind: c_short, _attempts: c_short) -> c_int {
    3
}

fn logs() -> Vec<(i32, String)> {
    LOGS.lock().unwrap().clone()
}

fn logged(text: &str) -> bool {
    logs().iter().any(|(_, m)| m == text)
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

fn query(q: &str) -> serde_json::Value {
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

const DEBUG: i32 = LogLevelKind::LOG_DEBUG as i32;
const INFO: i32 = LogLevelKind::LOG_INFO as i32;
const WARNING: i32 = LogLevelKind::LOG_WARNING as i32;
const DEBUG_VERBOSE: i32 = LogLevelKind::LOG_DEBUG_VERBOSE as i32;

/// A full cycle as wazuh-modulesd drives it: init (OS collector only, a cheap scan), init
/// of the sync protocol, start in its own thread, one scan, stop, start returns.
#[test]
fn a_full_cycle_logs_the_reference_startup_and_no_module_finished() {
    if !alone_in_child(
        "dropin_logs::a_full_cycle_logs_the_reference_startup_and_no_module_finished",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = CString::new(dir.path().join("local.db").to_str().unwrap()).unwrap();
    unsafe {
        syscollector_init(
            3600,
            Some(send_cb),
            Some(persist_cb),
            Some(log_cb),
            db.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            true,
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
    let sync_db = CString::new(dir.path().join("sync.db").to_str().unwrap()).unwrap();
    let vd_db = CString::new(dir.path().join("vd.db").to_str().unwrap()).unwrap();
    let module = CString::new("syscollector").unwrap();
    let mq = MQ_Functions {
        start: Some(mq_start),
        send_binary: None,
    };
    unsafe {
        syscollector_init_sync(
            module.as_ptr(),
            sync_db.as_ptr(),
            vd_db.as_ptr(),
            &mq,
            1,
            1,
            1,
            0,
            3600,
        )
    };
    let start = logs().len();
    let runner = std::thread::spawn(|| syscollector_start());
    assert!(
        wait_for(Duration::from_secs(60), || logged("Evaluation finished.")),
        "no scan: {:?}",
        logs()
    );
    syscollector_stop();
    assert!(
        wait_for(Duration::from_secs(10), || runner.is_finished()),
        "start did not return after stop"
    );
    runner.join().unwrap();
    // Nothing comes after start returned but the host's own lines.
    std::thread::sleep(Duration::from_millis(200));
    let lines = logs();
    let cycle: Vec<(i32, &str)> = lines[start..]
        .iter()
        .map(|(l, m)| (*l, m.as_str()))
        .collect();
    assert!(
        !lines.iter().any(|(_, m)| m.contains("Module finished")),
        "the host logs \"Module finished.\" itself: {lines:?}"
    );
    // The reference's start: the data-clean sequence with nothing to clean (four lines),
    // the VD warning (packages are off), then its scan loop's "Module started." and a scan.
    let expected: Vec<(i32, &str)> = vec![
        (
            DEBUG,
            "No disabled collectors indices with data to notify for cleanup",
        ),
        (DEBUG, "Data clean notification succeeded on attempt 1."),
        (
            INFO,
            "Syscollector data clean notification for disabled collectors sent successfully, proceeding to delete data.",
        ),
        (DEBUG, "No disabled collectors indices with data to delete"),
        (
            WARNING,
            "Vulnerability Detector synchronization is disabled. No packages or OS scanning is enabled in the configuration.",
        ),
        (INFO, "Module started."),
        (INFO, "Starting evaluation."),
        (DEBUG_VERBOSE, "Starting os scan"),
        (DEBUG_VERBOSE, "Ending os scan"),
        (INFO, "Evaluation finished."),
    ];
    let seen: Vec<(i32, &str)> = cycle
        .iter()
        .copied()
        .filter(|(_, m)| expected.iter().any(|(_, e)| e == m))
        .collect();
    assert_eq!(seen, expected, "{cycle:?}");
    // The data-clean lines open the start, nothing of ours before them.
    assert_eq!(cycle.first(), expected.first(), "{cycle:?}");

    // A query that does not parse: 98 with the parser's complaint, logged as an error.
    let answer = query("{\"command\": \"get_version\"");
    assert_eq!(answer["error"], 98, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("Exception parsing JSON or executing command: "),
        "{answer}"
    );
    assert!(logs()
        .iter()
        .any(|(l, m)| *l == LogLevelKind::LOG_ERROR as i32 && m.starts_with("Query error: ")));
    assert_eq!(query("get_version")["error"], 98);
    assert_eq!(query("")["error"], 98);
    // JSON without a command is the parameters' error, not the parser's.
    assert_eq!(query("{\"parameters\":{}}")["error"], 3);
}

/// A provider with nothing to give: every collector fails or yields nothing.
struct Nothing;

impl SysInfo for Nothing {
    fn os(&self) -> Result<Row, CollectError> {
        Err(CollectError::Unsupported("os"))
    }
    fn hardware(&self) -> Result<Row, CollectError> {
        Err(CollectError::Unsupported("hardware"))
    }
    fn processes(&self, _each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        Err(CollectError::Unsupported("processes"))
    }
}

struct NoSink;

impl Sink for NoSink {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, _doc: &Stateful, _json: &str) {}
}

#[test]
fn every_collector_scan_is_logged_with_the_reference_name_in_its_order() {
    let lines: Arc<Mutex<Vec<(LogLevel, String)>>> = Arc::default();
    let sink = lines.clone();
    let log: Logger = Arc::new(move |level, m: &str| sink.lock().unwrap().push((level, m.into())));
    let dir = tempfile::tempdir().unwrap();
    let inv = Inventory::new(
        Config {
            collectors: Collectors::all(),
            db_path: Some(dir.path().join("local.db")),
            ..Config::default()
        },
        Box::new(Nothing),
        Arc::new(NoSink),
        log,
    )
    .unwrap();
    inv.scan();
    let said: Vec<(LogLevel, String)> = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, m)| m.ends_with(" scan"))
        .cloned()
        .collect();
    // syscollectorImp.cpp's scan(): one pair per enabled collector, the network's three
    // tables as one scan, in this order.
    let names = [
        "hardware",
        "os",
        "network",
        "packages",
        "hotfixes",
        "ports",
        "processes",
        "groups",
        "users",
        "services",
        "browser extensions",
    ];
    let expected: Vec<(LogLevel, String)> = names
        .iter()
        .flat_map(|n| {
            [
                (LogLevel::DebugVerbose, format!("Starting {n} scan")),
                (LogLevel::DebugVerbose, format!("Ending {n} scan")),
            ]
        })
        .collect();
    assert_eq!(said, expected);
}

/// A provider with an OS, one process and the network of a fixture tree.
struct Some3;

impl SysInfo for Some3 {
    fn os(&self) -> Result<Row, CollectError> {
        let row = serde_json::json!({"os_name": "Debian GNU/Linux", "os_version": "12"});
        Ok(row.as_object().cloned().unwrap())
    }
    fn hardware(&self) -> Result<Row, CollectError> {
        Err(CollectError::Unsupported("hardware"))
    }
    fn processes(&self, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        let row = serde_json::json!({"pid": "1", "name": "init"});
        each(row.as_object().cloned().unwrap());
        Ok(())
    }
    fn network(&self) -> Result<syscollector::sysinfo::NetworkRows, CollectError> {
        syscollector::sysinfo::LinuxSysInfo::with_root(
            crate::helpers::fixture("net-debian12"),
            syscollector::null_logger(),
        )
        .network()
    }
}

#[test]
fn disabled_collectors_data_is_listed_in_the_reference_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let module = |collectors: Collectors, log: Logger| {
        Inventory::new(
            Config {
                collectors,
                interval: 3600,
                db_path: Some(db.clone()),
                ..Config::default()
            },
            Box::new(Some3),
            Arc::new(NoSink),
            log,
        )
        .unwrap()
    };
    let first = module(
        Collectors {
            os: true,
            processes: true,
            network: true,
            ..Collectors::default()
        },
        syscollector::null_logger(),
    );
    first.scan();
    drop(first);

    let lines: Arc<Mutex<Vec<(LogLevel, String)>>> = Arc::default();
    let sink = lines.clone();
    let log: Logger = Arc::new(move |level, m: &str| sink.lock().unwrap().push((level, m.into())));
    let second = Arc::new(module(
        Collectors {
            hardware: true,
            ..Collectors::default()
        },
        log,
    ));
    let runner = {
        let second = second.clone();
        std::thread::spawn(move || second.start())
    };
    let said = |text: &str| lines.lock().unwrap().iter().any(|(_, m)| m == text);
    assert!(wait_for(Duration::from_secs(60), || said(
        "Evaluation finished."
    )));
    second.stop();
    runner.join().unwrap();
    // The reference's order: OS (then the vulnerabilities index), processes, the network
    // tables last; not the catalog's (network before processes).
    let index = |t: &str| syscollector::catalog::table(t).unwrap().index.to_string();
    let expected = [
        index("dbsync_osinfo"),
        syscollector::catalog::VULNERABILITIES_INDEX.to_string(),
        index("dbsync_processes"),
        index("dbsync_network_iface"),
        index("dbsync_network_protocol"),
        index("dbsync_network_address"),
    ]
    .join(", ");
    let lines = lines.lock().unwrap();
    assert!(
        lines.contains(&(
            LogLevel::Info,
            format!("Disabled collectors indices with data detected: {expected}")
        )),
        "{lines:?}"
    );
}
