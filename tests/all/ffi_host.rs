//! The C ABI driven as a hostile host would (issue 13, points 3 and 5), through the rlib's
//! `syscollector::ffi` exports (the same functions `libsyscollector.so` exports): a re-init
//! while a thread waits for the scan lock, a second lock from one thread, a query from
//! inside the persist callback, stop before start and start → stop → start, and bad
//! differences and oversized commands from the host. The module is one per process, so the
//! tests take turns ([`turn`]); each wait is bounded, so a deadlock fails the test instead of
//! hanging it.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_short, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use syscollector::ffi::*;
use syscollector::sync_protocol::PersistentQueue;

static TURN: Mutex<()> = Mutex::new(());
static LOGS: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());
static PERSISTED: AtomicUsize = AtomicUsize::new(0);
/// When set, the persist callback asks `get_version` (a query from inside a callback).
static QUERY_IN_CALLBACK: AtomicBool = AtomicBool::new(false);
static CALLBACK_ANSWERS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn turn() -> MutexGuard<'static, ()> {
    let g = TURN.lock().unwrap_or_else(|e| e.into_inner());
    LOGS.lock().unwrap().clear();
    PERSISTED.store(0, Ordering::SeqCst);
    QUERY_IN_CALLBACK.store(false, Ordering::SeqCst);
    CALLBACK_ANSWERS.lock().unwrap().clear();
    g
}

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
    if QUERY_IN_CALLBACK.load(Ordering::SeqCst) {
        CALLBACK_ANSWERS
            .lock()
            .unwrap()
            .push(query(r#"{"command":"get_version"}"#));
    }
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

fn errors_containing(text: &str) -> usize {
    LOGS.lock()
        .unwrap()
        .iter()
        .filter(|(l, m)| *l == LogLevelKind::LOG_ERROR as i32 && m.contains(text))
        .count()
}

/// Initialises the module: OS collector only (a cheap scan), interval 1 s.
fn init(dir: &std::path::Path) {
    let db = CString::new(dir.join("local.db").to_str().unwrap()).unwrap();
    unsafe {
        syscollector_init(
            1,
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
}

fn query(q: &str) -> String {
    let q = CString::new(q).unwrap();
    let mut out: *mut c_char = std::ptr::null_mut();
    let n = unsafe { syscollector_query(q.as_ptr(), &mut out) };
    assert!(!out.is_null() && n > 0);
    let s = unsafe { CStr::from_ptr(out) }
        .to_string_lossy()
        .into_owned();
    unsafe { libc::free(out.cast()) };
    s
}

/// Runs `f` in a thread; `Some(result)` when it returned within `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
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

/// Starts the module in a thread; the receiver gets `()` when `syscollector_start` returns.
fn start() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        syscollector_start();
        let _ = tx.send(());
    });
    rx
}

#[test]
fn a_re_init_does_not_strand_a_thread_waiting_for_the_scan_lock() {
    let _t = turn();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    syscollector_lock_scan_mutex();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        syscollector_lock_scan_mutex();
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "lock held"
    );
    init(dir.path());
    syscollector_unlock_scan_mutex();
    assert!(
        rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "the waiting thread never got the lock after the re-init and unlock"
    );
    // That thread holds it now; the host releases it (from any thread, as before).
    syscollector_unlock_scan_mutex();
    assert!(within(Duration::from_secs(5), || {
        syscollector_lock_scan_mutex();
        syscollector_unlock_scan_mutex();
    })
    .is_some());
}

#[test]
fn a_second_lock_from_one_thread_is_logged_and_not_taken() {
    let _t = turn();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let twice = within(Duration::from_secs(10), || {
        syscollector_lock_scan_mutex();
        syscollector_lock_scan_mutex();
        syscollector_unlock_scan_mutex();
    });
    assert!(twice.is_some(), "locking twice from one thread deadlocked");
    assert_eq!(errors_containing("called twice by the same thread"), 1);
    // One unlock released it: a scan runs.
    let done = start();
    assert!(wait_for(Duration::from_secs(30), || PERSISTED
        .load(Ordering::SeqCst)
        > 0));
    syscollector_stop();
    assert!(done.recv_timeout(Duration::from_secs(5)).is_ok());
}

#[test]
fn a_query_from_inside_the_persist_callback_fails_cleanly_and_stop_ends_the_module() {
    let _t = turn();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    QUERY_IN_CALLBACK.store(true, Ordering::SeqCst);
    let done = start();
    assert!(
        wait_for(Duration::from_secs(30), || !CALLBACK_ANSWERS
            .lock()
            .unwrap()
            .is_empty()),
        "the query from inside the persist callback never returned"
    );
    syscollector_stop();
    assert!(
        done.recv_timeout(Duration::from_secs(5)).is_ok(),
        "start did not return after stop"
    );
    let answer: serde_json::Value =
        serde_json::from_str(&CALLBACK_ANSWERS.lock().unwrap()[0]).unwrap();
    assert_eq!(answer["error"], 98, "{answer}");
    assert!(errors_containing("syscollector_query called from inside a syscollector callback") > 0);
    // Outside the callback the same query is answered.
    QUERY_IN_CALLBACK.store(false, Ordering::SeqCst);
    let answer: serde_json::Value =
        serde_json::from_str(&query(r#"{"command":"get_version"}"#)).unwrap();
    assert_eq!(answer["error"], 0, "{answer}");
}

#[test]
fn stop_is_not_sticky_a_later_start_scans_again() {
    let _t = turn();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    // A stop before the first start.
    syscollector_stop();
    let done = start();
    assert!(
        wait_for(Duration::from_secs(30), || LOGS
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m == "Evaluation finished.")),
        "no scan after a stop that came before start"
    );
    assert!(done.try_recv().is_err(), "start returned without a stop");
    syscollector_stop();
    assert!(done.recv_timeout(Duration::from_secs(5)).is_ok());
    // start -> stop -> start without a new init.
    LOGS.lock().unwrap().clear();
    let done = start();
    assert!(
        wait_for(Duration::from_secs(30), || LOGS
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m == "Evaluation finished.")),
        "no scan after start -> stop -> start"
    );
    syscollector_stop();
    assert!(done.recv_timeout(Duration::from_secs(5)).is_ok());
}

#[test]
fn bad_differences_are_rejected_and_nothing_is_queued() {
    let _t = turn();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let c = |s: &str| CString::new(s).unwrap();
    let (name, q, qvd) = (
        c("syscollector"),
        dir.path().join("sync.db"),
        dir.path().join("sync_vd.db"),
    );
    let (qc, qvdc) = (c(q.to_str().unwrap()), c(qvd.to_str().unwrap()));
    let mq = MQ_Functions {
        start: Some(mq_start),
        send_binary: Some(mq_send),
    };
    unsafe {
        syscollector_init_sync(
            name.as_ptr(),
            qc.as_ptr(),
            qvdc.as_ptr(),
            &mq,
            1,
            1,
            1,
            0,
            86400,
        )
    };
    let index = "wazuh-states-inventory-processes";
    let bad = [
        ("p1", index, "null"),
        ("p2", index, "[1,2]"),
        ("p3", index, "42"),
        ("p4", index, "{not json"),
        ("", index, "{\"a\":1}"),
        ("p6", "", "{\"a\":1}"),
    ];
    for (id, idx, data) in bad {
        let (id, idx, data) = (c(id), c(idx), c(data));
        unsafe { syscollector_persist_diff(id.as_ptr(), 0, idx.as_ptr(), data.as_ptr(), 1) };
    }
    assert_eq!(errors_containing("the difference is not queued"), bad.len());
    let (id, idx, data) = (c("good"), c(index), c("{\"a\":1}"));
    unsafe { syscollector_persist_diff(id.as_ptr(), 0, idx.as_ptr(), data.as_ptr(), 1) };
    let queue = PersistentQueue::open(&q, &|_| {}).unwrap();
    let ids: Vec<String> = queue
        .fetch_pending(false)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, vec!["good".to_string()]);
}

#[test]
fn an_oversized_command_is_not_echoed_in_full() {
    let _t = turn();
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let command = "x".repeat(10 << 20);
    let answer = query(&format!(r#"{{"command":"{command}"}}"#));
    assert!(answer.len() < 2048, "answer of {} bytes", answer.len());
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["error"], 1);
    let echoed = v["data"]["command"].as_str().unwrap();
    assert!(
        echoed.ends_with('…') && echoed.starts_with("xxxx"),
        "{echoed}"
    );
    assert!(LOGS.lock().unwrap().iter().all(|(_, m)| m.len() < 4096));
}
