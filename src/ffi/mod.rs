//! The C ABI of `libsyscollector.so`: the only place with `extern "C"`.
//!
//! wazuh-modulesd loads the library, looks up these `syscollector_*` symbols and drives the
//! module through them: `init` once, `start` in a thread of its own (it blocks), `stop` from
//! another thread, queries and the scan lock from its sync and query threads. Each export
//! goes through [`boundary::guard`], checks its pointers, logs through the host's log
//! callback and returns a safe value on any failure.
//!
//! The beta hosts (v5.0.0-beta1 … rc1) add three exports: `syscollector_set_agentd_query_func`
//! (which also tells the library it serves a beta host, see [`crate::generation`]),
//! `syscollector_is_scanning` and `syscollector_release_resources`. `syscollector_stop` only
//! signals in both generations (the module is dropped at the next `syscollector_init` or at
//! `syscollector_release_resources`, which beta3+ calls once its sync thread is joined), so
//! nothing a running `syscollector_sync_module` or `parse_response` uses is freed under it:
//! each holds its own reference to the module.

pub mod boundary;
pub mod metadata;
pub mod mq;
pub mod types;

use std::cell::Cell;
use std::os::raw::{c_char, c_uint, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::inventory::{
    query, Collectors, Config, Inventory, Operation, ScanLock, Sink, Stateful, SyncConfig,
    SyncOpener,
};
use crate::sync_protocol::Transport;
use crate::sysinfo::LinuxSysInfo;
use crate::LogLevel;
use boundary::{c_path, c_text, export, guard, to_cstring, ExportError};
pub use types::*;

/// Tag the host prints with every line of this module.
pub const LOG_TAG: &str = "wazuh-modulesd:syscollector";

struct Global {
    log: log_callback_t,
    module: Option<Arc<Inventory>>,
}

static GLOBAL: RwLock<Global> = parking_lot::const_rwlock(Global {
    log: None,
    module: None,
});
static RUNNING: AtomicBool = AtomicBool::new(false);
/// The scan lock of every instance: a host's `syscollector_lock_scan_mutex` taken before a
/// new `syscollector_init` is released by the unlock that follows it.
static SCAN_LOCK: LazyLock<Arc<ScanLock>> = LazyLock::new(|| Arc::new(ScanLock::new()));

thread_local! {
    /// How many of the host's callbacks this thread is inside now (send, persist, log).
    static IN_CALLBACK: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` (a call into one of the host's callbacks) counted in [`IN_CALLBACK`].
fn in_callback<T>(f: impl FnOnce() -> T) -> T {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_CALLBACK.with(|c| c.set(c.get().saturating_sub(1)));
        }
    }
    IN_CALLBACK.with(|c| c.set(c.get() + 1));
    let _leave = Leave;
    f()
}

/// True (with an error logged) when `export` is called from inside one of the host's
/// callbacks: the module may hold its database or scan lock there, and an export that
/// needs them would wait for itself.
fn called_from_callback(export: &str) -> bool {
    if IN_CALLBACK.with(Cell::get) == 0 {
        return false;
    }
    host_log(
        LogLevel::Error,
        &format!(
            "{export} called from inside a syscollector callback; refused (the module holds its locks while it calls back)"
        ),
    );
    true
}

/// Sends one line to the host's log callback (dropped when none is registered).
pub(crate) fn host_log(level: LogLevel, msg: &str) {
    let cb = GLOBAL.read().log;
    if let Some(cb) = cb {
        let msg = to_cstring(msg);
        let tag = to_cstring(LOG_TAG);
        // SAFETY: the host registered this callback in syscollector_init for exactly this
        // signature; both strings live until it returns.
        in_callback(|| unsafe { cb(level as modules_log_level_t, msg.as_ptr(), tag.as_ptr()) });
    }
}

fn module() -> Option<Arc<Inventory>> {
    GLOBAL.read().module.clone()
}

/// Forwards the module's events to the host's callbacks.
struct HostSink {
    send: send_data_callback_t,
    persist: persist_data_callback_t,
}

impl Sink for HostSink {
    fn stateless(&self, event: &str) {
        if let Some(send) = self.send {
            let s = to_cstring(event);
            // SAFETY: callback registered by the host with this signature; `s` outlives it.
            in_callback(|| unsafe { send(s.as_ptr().cast::<c_void>()) });
        }
    }

    fn stateful(&self, doc: &Stateful, json: &str) {
        if let Some(persist) = self.persist {
            let id = to_cstring(&doc.id);
            let index = to_cstring(doc.index);
            let data = to_cstring(json);
            // SAFETY: as above; all strings outlive the call.
            in_callback(|| unsafe {
                persist(
                    id.as_ptr(),
                    doc.operation as Operation_t,
                    index.as_ptr(),
                    data.as_ptr().cast::<c_void>(),
                    doc.version,
                )
            });
        }
    }
}

/// Configures the module: callbacks, database, collectors. Must precede `syscollector_start`.
///
/// # Safety
/// String arguments are NULL or NUL-terminated; callbacks are NULL or valid for their types
/// for as long as the library is loaded.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // The host's ABI fixes this signature.
pub unsafe extern "C" fn syscollector_init(
    interval: c_uint,
    send_data_cb: send_data_callback_t,
    persist_data_cb: persist_data_callback_t,
    log_cb: log_callback_t,
    db_path: *const c_char,
    normalizer_config_path: *const c_char,
    normalizer_type: *const c_char,
    scan_on_start: bool,
    hardware: bool,
    os: bool,
    network: bool,
    packages: bool,
    ports: bool,
    ports_all: bool,
    processes: bool,
    hotfixes: bool,
    groups: bool,
    users: bool,
    services: bool,
    browser_extensions: bool,
    notify_on_first_scan: bool,
) {
    guard("syscollector_init", (), || {
        if called_from_callback("syscollector_init") {
            return;
        }
        if RUNNING.load(Ordering::SeqCst) {
            host_log(
                LogLevel::Error,
                "syscollector_init called while the module is running; call syscollector_stop first",
            );
            return;
        }
        {
            let mut g = GLOBAL.write();
            g.log = log_cb;
            g.module = None;
        }
        host_log(LogLevel::Info, &crate::version::startup_line());
        let Some(db_path) = c_path(db_path) else {
            host_log(
                LogLevel::Error,
                "syscollector_init: db_path is NULL or empty; module not initialized",
            );
            return;
        };
        if send_data_cb.is_none() || persist_data_cb.is_none() {
            host_log(
                LogLevel::Warning,
                "syscollector_init: a NULL event callback was given; those events are dropped",
            );
        }
        let cfg = Config {
            interval,
            scan_on_start,
            collectors: Collectors {
                hardware,
                os,
                network,
                packages,
                ports,
                ports_all,
                processes,
                hotfixes,
                groups,
                users,
                services,
                browser_extensions,
            },
            notify_on_first_scan,
            db_path: Some(db_path),
            normalizer_config: c_path(normalizer_config_path),
            normalizer_type: c_text(normalizer_type),
        };
        let logger: crate::Logger = Arc::new(host_log);
        let provider = Box::new(LinuxSysInfo::new(logger.clone()));
        let sink = Arc::new(HostSink {
            send: send_data_cb,
            persist: persist_data_cb,
        });
        match Inventory::new(cfg, provider, sink, logger) {
            Ok(inv) => {
                let inv = inv.with_shared_scan_lock(SCAN_LOCK.clone());
                GLOBAL.write().module = Some(Arc::new(inv));
            }
            Err(e) => host_log(
                LogLevel::Error,
                &format!("syscollector_init: cannot open the inventory database: {e}"),
            ),
        }
    })
}

/// Runs the scan loop in the calling thread until `syscollector_stop`.
#[no_mangle]
pub extern "C" fn syscollector_start() {
    guard("syscollector_start", (), || {
        let Some(m) = module() else {
            host_log(
                LogLevel::Error,
                "Cannot start Syscollector - module initialization failed",
            );
            return;
        };
        if RUNNING.swap(true, Ordering::SeqCst) {
            host_log(
                LogLevel::Error,
                "syscollector_start: the module is already running",
            );
            return;
        }
        struct Running;
        impl Drop for Running {
            fn drop(&mut self) {
                RUNNING.store(false, Ordering::SeqCst);
            }
        }
        let _running = Running;
        // A stop before this start, or between two starts, does not keep it from scanning.
        m.start();
    })
}

/// Stops the scan loop; `syscollector_start` returns soon after.
#[no_mangle]
pub extern "C" fn syscollector_stop() {
    guard("syscollector_stop", (), || {
        if let Some(m) = module() {
            m.stop();
        }
    })
}

/// The module, for the exports that need `syscollector_init` to have succeeded.
fn initialized() -> Result<Arc<Inventory>, ExportError> {
    module().ok_or(ExportError::SyncNotInitialized)
}

/// Sets up the Agent Sync Protocol (persistent queues and MQ transport).
///
/// # Safety
/// String arguments are NULL or NUL-terminated; `mq` is NULL or points to a valid
/// `MQ_Functions`.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // The host's ABI fixes this signature.
pub unsafe extern "C" fn syscollector_init_sync(
    module_name: *const c_char,
    sync_db_path: *const c_char,
    sync_db_path_vd: *const c_char,
    mq: *const MQ_Functions,
    sync_end_delay: c_uint,
    timeout: c_uint,
    retries: c_uint,
    max_eps: usize,
    integrity_interval: u32,
) {
    export("syscollector_init_sync", (), || {
        let (Some(module_name), Some(db), Some(db_vd)) = (
            c_text(module_name),
            c_path(sync_db_path),
            c_path(sync_db_path_vd),
        ) else {
            return Err(ExportError::SyncDisabled("NULL or empty argument"));
        };
        if mq.is_null() {
            return Err(ExportError::SyncDisabled("MQ functions are NULL"));
        }
        // SAFETY: checked non-NULL; the host passes a valid MQ_Functions and we copy it.
        let funcs = *mq;
        if funcs.start.is_none() || funcs.send_binary.is_none() {
            return Err(ExportError::SyncDisabled("an MQ function is NULL"));
        }
        let m = module().ok_or(ExportError::SyncDisabled("call syscollector_init first"))?;
        // The generation is fixed before the sync configuration is built from it.
        let generation = m.freeze_generation();
        let logger: crate::Logger = Arc::new(host_log);
        let config = SyncConfig {
            module: module_name,
            db_path: db.clone(),
            db_path_vd: db_vd.clone(),
            end_delay: std::time::Duration::from_secs(u64::from(sync_end_delay)),
            timeout: std::time::Duration::from_secs(u64::from(timeout)),
            retries,
            max_eps,
            integrity_interval,
            generation,
        };
        let transport_log = logger.clone();
        let transport: crate::inventory::sync::TransportFactory =
            Arc::new(move |name: &str| -> Arc<dyn Transport> {
                Arc::new(mq::MqTransport::new(funcs, name, transport_log.clone()))
            });
        let opener = SyncOpener {
            config,
            transport,
            metadata: Arc::new(metadata::current),
            log: logger,
        };
        match m.init_sync(opener) {
            Ok(_) => {
                host_log(
                    LogLevel::Info,
                    &format!(
                        "Syscollector sync protocol initialized successfully with database: {}",
                        db.display()
                    ),
                );
                host_log(
                    LogLevel::Debug,
                    &format!("Integrity interval set to {integrity_interval} seconds"),
                );
            }
            // Not for good: every scan and sync tries to open the queues again.
            Err(e) => host_log(
                LogLevel::Error,
                &format!(
                    "Failed to initialize Syscollector sync protocol: {e}; trying again at every scan and synchronization, and scanning only once it succeeds"
                ),
            ),
        }
        Ok(())
    })
}

/// Runs one synchronisation session in `mode`; true on success.
#[no_mangle]
pub extern "C" fn syscollector_sync_module(mode: Mode_t) -> bool {
    export("syscollector_sync_module", false, || {
        if !(0..=6).contains(&mode) {
            return Err(ExportError::InvalidMode(mode));
        }
        let m = initialized()?;
        let mode = if mode == ModeKind::MODE_FULL as Mode_t {
            crate::sync_protocol::Mode::ModuleFull
        } else {
            crate::sync_protocol::Mode::ModuleDelta
        };
        // The module logged why a session failed; the host only gets the answer.
        Ok(m.sync_module(mode).is_ok())
    })
}

/// Queues one stateful document for synchronisation.
///
/// # Safety
/// String arguments are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn syscollector_persist_diff(
    id: *const c_char,
    operation: Operation_t,
    index: *const c_char,
    data: *const c_char,
    version: u64,
) {
    export("syscollector_persist_diff", (), || {
        let (Some(id), Some(index), Some(data)) = (c_text(id), c_text(index), c_text(data)) else {
            return Err(ExportError::NullArgument);
        };
        let op = Operation::from_raw(operation).ok_or(ExportError::InvalidOperation(operation))?;
        boundary::check_difference(&id, &index, &data)?;
        initialized()?.persist_diff(&id, op, &index, &data, version);
        Ok(())
    })
}

/// # Safety
/// `data` is NULL or points to `length` readable bytes.
unsafe fn parse_response(data: *const u8, length: usize, vd: bool) -> Result<bool, ExportError> {
    if data.is_null() || length == 0 {
        return Err(ExportError::EmptyBuffer);
    }
    let m = initialized()?;
    if m.sync().is_none() {
        return Err(ExportError::SyncNotInitialized);
    }
    // SAFETY: the caller guarantees `length` readable bytes at `data`.
    let buf = std::slice::from_raw_parts(data, length);
    Ok(if vd {
        m.parse_response_vd(buf)
    } else {
        m.parse_response(buf)
    })
}

/// Hands one manager reply (raw FlatBuffer) to the regular sync instance.
///
/// # Safety
/// `data` is NULL or points to `length` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn syscollector_parse_response(data: *const u8, length: usize) -> bool {
    export("syscollector_parse_response", false, || {
        parse_response(data, length, false)
    })
}

/// Hands one manager reply (raw FlatBuffer) to the vulnerability-detector sync instance.
///
/// # Safety
/// `data` is NULL or points to `length` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn syscollector_parse_response_vd(data: *const u8, length: usize) -> bool {
    export("syscollector_parse_response_vd", false, || {
        parse_response(data, length, true)
    })
}

/// Tells the manager that the given indices' data is gone (DataClean session).
///
/// # Safety
/// `indices` is NULL or points to `indices_count` pointers, each NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn syscollector_notify_data_clean(
    indices: *mut *const c_char,
    indices_count: usize,
) -> bool {
    export("syscollector_notify_data_clean", false, || {
        if indices.is_null() || indices_count == 0 {
            return Err(ExportError::NoIndices);
        }
        let mut list = Vec::new();
        for i in 0..indices_count {
            // SAFETY: the caller guarantees `indices_count` readable pointers.
            if let Some(index) = c_text(*indices.add(i)) {
                list.push(index);
            }
        }
        if list.is_empty() {
            return Err(ExportError::EveryIndexNull);
        }
        Ok(initialized()?.notify_data_clean(&list).is_ok())
    })
}

/// Deletes the inventory database (and, with synchronisation, its queues).
#[no_mangle]
pub extern "C" fn syscollector_delete_database() {
    guard("syscollector_delete_database", (), || match module() {
        Some(m) => m.delete_database(),
        None => host_log(
            LogLevel::Warning,
            "syscollector_delete_database: module not initialized; nothing to delete",
        ),
    })
}

/// Answers a JSON query; `*output` receives a `malloc`ed JSON answer the host frees with
/// `free()`. Returns the answer's length (0 and `*output = NULL` when nothing was answered).
///
/// # Safety
/// `query` is NULL or NUL-terminated; `output` is NULL or points to writable storage for a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn syscollector_query(
    query: *const c_char,
    output: *mut *mut c_char,
) -> usize {
    if output.is_null() {
        guard("syscollector_query", (), || {
            host_log(
                LogLevel::Error,
                "syscollector_query: output pointer is NULL",
            )
        });
        return 0;
    }
    *output = std::ptr::null_mut();
    let answer = guard(
        "syscollector_query",
        Some(query::error_response(
            query::MQ_ERR_EXCEPTION,
            "Exception in query handler",
        )),
        || {
            let Some(q) = boundary::c_bytes(query) else {
                host_log(LogLevel::Error, "syscollector_query: query is NULL");
                return None;
            };
            if called_from_callback("syscollector_query") {
                return Some(query::error_response(
                    query::MQ_ERR_INTERNAL,
                    "Syscollector queries cannot run from inside a syscollector callback",
                ));
            }
            let Ok(q) = std::str::from_utf8(q) else {
                return Some(
                    query::QueryError::InvalidJson("the query is not UTF-8".into()).response(),
                );
            };
            Some(match module() {
                Some(inv) => query::answer(Some(&*inv), &inv, q),
                None => query::answer(None, &(), q),
            })
        },
    );
    let Some(answer) = answer else {
        return 0;
    };
    let c = to_cstring(&answer);
    let bytes = c.as_bytes_with_nul();
    let buf = libc::malloc(bytes.len()).cast::<c_char>();
    if buf.is_null() {
        return 0;
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buf, bytes.len());
    *output = buf;
    bytes.len() - 1
}

/// Blocks scans until `syscollector_unlock_scan_mutex`; waits for a running scan to end.
#[no_mangle]
pub extern "C" fn syscollector_lock_scan_mutex() {
    guard("syscollector_lock_scan_mutex", (), || {
        if called_from_callback("syscollector_lock_scan_mutex") {
            return;
        }
        // Logs and refuses a second lock from the thread that holds it.
        match module() {
            Some(m) => {
                m.lock_scan();
            }
            None => {
                let _ = SCAN_LOCK.lock_host();
            }
        }
    })
}

/// Lets scans run again after `syscollector_lock_scan_mutex`.
#[no_mangle]
pub extern "C" fn syscollector_unlock_scan_mutex() {
    guard("syscollector_unlock_scan_mutex", (), || match module() {
        Some(m) => m.unlock_scan(),
        None => {
            let _ = SCAN_LOCK.unlock_host();
        }
    })
}

/// Runs the integrity check of every table whose interval has elapsed.
#[no_mangle]
pub extern "C" fn syscollector_run_recovery_process() {
    export("syscollector_run_recovery_process", (), || {
        initialized()?.run_recovery();
        Ok(())
    })
}

/// True while a scan runs (a beta host skips a sync cycle then).
#[no_mangle]
pub extern "C" fn syscollector_is_scanning() -> bool {
    guard("syscollector_is_scanning", false, || {
        module().is_some_and(|m| m.is_scanning())
    })
}

/// Gives the module the host's agentd query (beta hosts call it after `syscollector_init`,
/// before `syscollector_init_sync` and `syscollector_start`): the module asks agentd
/// `getdoclimits syscollector` through it when it starts. Calling it marks the host as a
/// beta host, unless the generation is fixed already.
#[no_mangle]
pub extern "C" fn syscollector_set_agentd_query_func(query_func: agentd_query_func_t) {
    guard("syscollector_set_agentd_query_func", (), || {
        let Some(m) = module() else {
            host_log(
                LogLevel::Warning,
                "syscollector_set_agentd_query_func called before syscollector_init; ignored",
            );
            return;
        };
        if !m.claim_beta() && !m.generation().is_beta() {
            host_log(
                LogLevel::Warning,
                "syscollector_set_agentd_query_func called after syscollector_init_sync or syscollector_start; the host generation stays alpha0 and the function is not used",
            );
            return;
        }
        let Some(cb) = query_func else {
            m.set_agentd_query(None);
            host_log(
                LogLevel::Warning,
                "syscollector_set_agentd_query_func: the query function is NULL; no document limits can be fetched (every table unlimited)",
            );
            return;
        };
        let query: crate::inventory::beta::AgentdQuery =
            Arc::new(move |command: &str, size: usize| agentd_query(cb, command, size));
        m.set_agentd_query(Some(query));
        host_log(
            LogLevel::Debug,
            "Agentd query function set for agentd communication",
        );
    })
}

/// The host's agentd query function signature, NULL excluded.
type AgentdQueryFn = unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> bool;

/// Calls the host's agentd query with `command` and a zeroed buffer of `size` bytes; the
/// answer up to its NUL (or the whole buffer, when the host filled it without one).
fn agentd_query(cb: AgentdQueryFn, command: &str, size: usize) -> Option<String> {
    let command = to_cstring(command);
    let mut buf = vec![0u8; size.max(1)];
    // SAFETY: the host registered this callback for this signature; the command lives until
    // it returns, and the buffer is `buf.len()` writable bytes.
    let ok = in_callback(|| unsafe {
        cb(
            command.as_ptr(),
            buf.as_mut_ptr().cast::<c_char>(),
            buf.len(),
        )
    });
    if !ok {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Frees the module (database, queues) once the host is done with it: beta3+ hosts call it
/// after `syscollector_start` returned and their sync thread was joined. Refused while the
/// module runs; a call still in progress elsewhere keeps the module alive until it returns.
#[no_mangle]
pub extern "C" fn syscollector_release_resources() {
    guard("syscollector_release_resources", (), || {
        if RUNNING.load(Ordering::SeqCst) {
            host_log(
                LogLevel::Warning,
                "syscollector_release_resources called while the module is running; call syscollector_stop and wait for syscollector_start to return first",
            );
            return;
        }
        let released = GLOBAL.write().module.take();
        host_log(
            LogLevel::Debug,
            if released.is_some() {
                "Syscollector resources released"
            } else {
                "syscollector_release_resources: nothing to release"
            },
        );
        drop(released);
    })
}
