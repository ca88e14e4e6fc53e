//! What the fuzz targets share: turning bytes into the text a collector would have read,
//! a scratch directory, and the two long-lived rigs (a module with its sync protocol
//! running sessions against the in-process manager; the module as the host sees it
//! through the C ABI).
//!
//! Every target is one parser (or one entry point) fed untrusted bytes. A panic anywhere,
//! even one the FFI boundary catches, aborts the process (libFuzzer's panic hook), so it is
//! reported as a crash.

use std::borrow::Cow;
use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_short, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use syscollector::inventory::sync::{InventorySync, SyncConfig};
use syscollector::inventory::{Collectors, Config, Inventory, Operation, Sink, Stateful};
use syscollector::manager::{Faults, Loopback};
use syscollector::null_logger;
use syscollector::sync_protocol::session::Transport;
use syscollector::sync_protocol::{AgentMetadata, Mode};
use syscollector::sysinfo::LinuxSysInfo;

/// The bytes as the collectors read text: invalid UTF-8 replaced.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// A fresh directory of this process for `what`: below `$SYSCOLLECTOR_FUZZ_SCRATCH` (the
/// scripts point it into the build directory), else on tmpfs when there is one.
pub fn scratch(what: &str) -> PathBuf {
    let base = match std::env::var_os("SYSCOLLECTOR_FUZZ_SCRATCH") {
        Some(dir) => PathBuf::from(dir),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    let dir = base.join(format!("syscollector-fuzz-{}-{what}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Splits the input at the first `n - 1` NUL bytes into `n` parts (missing parts empty).
pub fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == 0).collect();
    while out.len() < n {
        out.push(&[]);
    }
    out
}

struct NullSink;

impl Sink for NullSink {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, _doc: &Stateful, _json: &str) {}
}

fn metadata() -> Option<AgentMetadata> {
    Some(AgentMetadata {
        architecture: "x86_64".into(),
        hostname: "fuzz".into(),
        agent_id: "001".into(),
        groups: vec!["default".into()],
        ..AgentMetadata::default()
    })
}

/// A module (packages and OS on, so the vulnerability-detector instance syncs too) whose
/// two sync protocol instances talk to in-process managers, with a thread that keeps
/// queueing differences and running DELTA sessions of both: whatever a target hands to
/// `parse_response`/`parse_response_vd` arrives while a session is in some phase, beside
/// the manager's own replies.
pub fn session_rig() -> &'static Inventory {
    static RIG: OnceLock<Arc<Inventory>> = OnceLock::new();
    RIG.get_or_init(|| {
        let dir = scratch("session");
        let collectors = Collectors {
            packages: true,
            os: true,
            ..Collectors::default()
        };
        let cfg = Config {
            interval: 3600,
            scan_on_start: false,
            collectors,
            notify_on_first_scan: false,
            db_path: None,
            normalizer_config: None,
            normalizer_type: None,
        };
        let inv = Arc::new(
            Inventory::new(
                cfg,
                Box::new(LinuxSysInfo::with_root(&dir, null_logger())),
                Arc::new(NullSink),
                null_logger(),
            )
            .expect("inventory"),
        );
        let weak = Arc::downgrade(&inv);
        let transport = move |module: &str| -> Arc<dyn Transport> {
            let peer = Loopback::new(Faults::default());
            let inv = weak.clone();
            let vd = module.ends_with("_vd");
            peer.set_reply_sink(move |buf| {
                if let Some(inv) = inv.upgrade() {
                    if vd {
                        inv.parse_response_vd(buf);
                    } else {
                        inv.parse_response(buf);
                    }
                }
            });
            Arc::new(peer)
        };
        let config = SyncConfig {
            module: "syscollector".into(),
            db_path: dir.join("sync.db"),
            db_path_vd: dir.join("sync_vd.db"),
            end_delay: Duration::ZERO,
            timeout: Duration::from_millis(100),
            retries: 1,
            max_eps: 0,
            integrity_interval: 86_400,
            generation: Default::default(),
        };
        let sync = InventorySync::open(config, &transport, Arc::new(metadata), null_logger())
            .expect("sync protocol");
        inv.attach_sync(Arc::new(sync));
        let background = inv.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            loop {
                n += 1;
                for index in [
                    "wazuh-states-inventory-processes",
                    "wazuh-states-inventory-packages",
                ] {
                    background.persist_diff(
                        &format!("id{}", n % 16),
                        Operation::Modify,
                        index,
                        &format!(r#"{{"n":{n}}}"#),
                        n,
                    );
                }
                let _ = background.sync_module(Mode::ModuleDelta);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        inv
    })
}

unsafe extern "C" fn log_cb(_level: c_int, _msg: *const c_char, _tag: *const c_char) {}
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
unsafe extern "C" fn mq_send(
    _q: c_int,
    _m: *const c_void,
    _len: usize,
    _locmsg: *const c_char,
    _loc: c_char,
) -> c_int {
    0
}

/// The module as the host sets it up through the C ABI (`syscollector_init` with the OS
/// collector, then `syscollector_init_sync`), once per process.
pub fn ffi_rig() {
    static RIG: OnceLock<()> = OnceLock::new();
    RIG.get_or_init(|| {
        use syscollector::ffi::*;
        let dir = scratch("ffi");
        let c = |p: PathBuf| CString::new(p.to_string_lossy().into_owned()).expect("path");
        let (db, q, qvd) = (
            c(dir.join("local.db")),
            c(dir.join("sync.db")),
            c(dir.join("sync_vd.db")),
        );
        let name = CString::new("syscollector").expect("name");
        let mq = MQ_Functions {
            start: Some(mq_start),
            send_binary: Some(mq_send),
        };
        // SAFETY: valid C strings and callbacks that outlive the module.
        unsafe {
            syscollector_init(
                3600,
                Some(send_cb),
                Some(persist_cb),
                Some(log_cb),
                db.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                false,
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
                false,
            );
            syscollector_init_sync(
                name.as_ptr(),
                q.as_ptr(),
                qvd.as_ptr(),
                &mq,
                0,
                1,
                1,
                0,
                86_400,
            );
        }
    });
}
