//! Issue 13.1: no collector blocks on a FIFO.
//!
//! Every fixture tree of tests/fixtures is copied into a temporary directory and scanned
//! by each collector while [`read::recording`] lists the paths it asks the reader for
//! (present or missing). Then a FIFO (without a writer, so an `open` for reading would
//! wait for ever) is put at each of those paths in turn and the collector that asked for
//! it runs again, and finally at all of them at once and every collector runs. Each scan
//! runs in its own thread with a generous deadline, so a regression fails instead of
//! hanging the suite; and a FIFO the collector asks for again must show up, by its path,
//! in a log line or in the collector's error (it is skipped, not silently read as empty).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use syscollector::sysinfo::{read, LinuxSysInfo, SysInfo};
use syscollector::Logger;

/// Far beyond what any fixture scan takes; only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(60);

const COLLECTORS: [&str; 10] = [
    "os",
    "hardware",
    "processes",
    "packages",
    "network",
    "ports",
    "users",
    "groups",
    "services",
    "browser_extensions",
];

/// What one collector run produced: the log lines, the error if any, the paths read.
struct Run {
    logs: Vec<String>,
    error: Option<String>,
    paths: Vec<PathBuf>,
}

fn collect(p: &LinuxSysInfo, collector: &str) -> Result<(), String> {
    let e = |e: syscollector::sysinfo::CollectError| e.to_string();
    match collector {
        "os" => p.os().map(drop).map_err(e),
        "hardware" => p.hardware().map(drop).map_err(e),
        "processes" => p.processes(&mut |_| {}).map_err(e),
        "packages" => p.packages(&mut |_| {}).map_err(e),
        "network" => p.network().map(drop).map_err(e),
        "ports" => p.ports().map(drop).map_err(e),
        "users" => p.users().map(drop).map_err(e),
        "groups" => p.groups().map(drop).map_err(e),
        "services" => p.services().map(drop).map_err(e),
        "browser_extensions" => p.browser_extensions().map(drop).map_err(e),
        other => panic!("no collector {other}"),
    }
}

/// Runs `collector` on `root` in a thread; fails the test if it has not finished by the
/// deadline.
fn run(root: &Path, collector: &'static str) -> Run {
    let shown = root.display().to_string();
    let root = root.to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let logger: Logger = Arc::new(move |_, m: &str| sink.lock().unwrap().push(m.to_string()));
        let p = LinuxSysInfo::with_root(&root, logger);
        let (result, paths) = read::recording(|| collect(&p, collector));
        let logs = logs.lock().unwrap().clone();
        let _ = tx.send(Run {
            logs,
            error: result.err(),
            paths,
        });
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(run) => run,
        Err(_) => panic!("the {collector} scan of {shown} did not finish within {DEADLINE:?}"),
    }
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

/// A copy of tests/fixtures in a temporary directory (symbolic links kept as links).
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&src)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let copy = dir.path().join("fixtures").canonicalize().unwrap();
    (dir, copy)
}

/// The fixture roots: every directory of the copy.
fn roots(copy: &Path) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(copy)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    roots.sort();
    roots
}

/// Whether a FIFO can be put at `path` without touching anything outside `copy`: its
/// directory exists inside the copy (no link out of it on the way).
fn placeable(path: &Path, copy: &Path) -> bool {
    path.parent()
        .and_then(|d| d.canonicalize().ok())
        .is_some_and(|d| d.starts_with(copy))
        && path.starts_with(copy)
}

/// The paths each collector of each root asks for, in the copy.
fn recorded(copy: &Path) -> BTreeMap<(PathBuf, &'static str), BTreeSet<PathBuf>> {
    let mut all = BTreeMap::new();
    for root in roots(copy) {
        for collector in COLLECTORS {
            let run = run(&root, collector);
            let paths: BTreeSet<PathBuf> = run
                .paths
                .into_iter()
                .filter(|p| placeable(p, copy))
                .collect();
            if !paths.is_empty() {
                all.insert((root.clone(), collector), paths);
            }
        }
    }
    all
}

/// Whether `run` reports the FIFO `fifo` below `root`: a log line or the error says a FIFO
/// was not read and names it, or its directory (some messages name the package
/// directory), by its full path or as seen from the root.
fn reported(run: &Run, root: &Path, fifo: &Path) -> bool {
    let host = |p: &Path| format!("/{}", p.strip_prefix(root).unwrap_or(p).display());
    let dir = fifo.parent().unwrap_or(fifo);
    let names = [
        fifo.display().to_string(),
        host(fifo),
        dir.display().to_string(),
        host(dir),
    ];
    let says =
        |line: &str| line.contains("not read: a FIFO") && names.iter().any(|n| line.contains(n));
    run.logs.iter().any(|l| says(l)) || run.error.as_deref().is_some_and(says)
}

/// Moves whatever is at `path` aside and puts a FIFO there; returns where it went.
fn replace_with_fifo(path: &Path) -> Option<PathBuf> {
    let aside = path.with_file_name(format!(
        "{}.fifo-test-original",
        path.file_name().unwrap().to_string_lossy()
    ));
    let moved = path.symlink_metadata().is_ok();
    if moved {
        std::fs::rename(path, &aside).unwrap();
    }
    mkfifo(path);
    moved.then_some(aside)
}

fn restore(path: &Path, aside: Option<PathBuf>) {
    std::fs::remove_file(path).unwrap();
    if let Some(aside) = aside {
        std::fs::rename(aside, path).unwrap();
    }
}

#[test]
fn a_fifo_at_any_path_a_collector_reads_is_skipped_not_waited_for() {
    let (_dir, copy) = fixture_copy();
    let recorded = recorded(&copy);

    // The paths of the issue are among those tried.
    let every: BTreeSet<String> = recorded
        .values()
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for wanted in [
        "/etc/os-release",
        "/proc/cpuinfo",
        "/proc/net/dev",
        "/proc/net/udp",
        "/proc/stat",
        "/var/lib/dpkg/status",
        "/etc/group",
        "/etc/passwd",
        "/etc/shadow",
        "/.mozilla/firefox/profiles.ini",
        "/.local/lib/python3.11/site-packages/colorama-0.4.6.dist-info/METADATA",
        "/proc/2/stat",
        "/proc/2/cmdline",
        "/var/lib/rpm/rpmdb.sqlite",
        "/var/lib/rpm/Packages",
        "/lib/apk/db/installed",
        "/var/lib/pacman/local/",
        "/sys/class/net/",
        "/etc/systemd/system/",
        "manifest.json",
    ] {
        assert!(
            every.iter().any(|p| p.contains(wanted)),
            "no collector read a path with {wanted}"
        );
    }

    // One FIFO at a time, with the collector that read the path.
    let mut tried = 0;
    for ((root, collector), paths) in &recorded {
        for path in paths {
            let aside = replace_with_fifo(path);
            let run = run(root, collector);
            restore(path, aside);
            tried += 1;
            if run.paths.contains(path) {
                assert!(
                    reported(&run, root, path),
                    "{collector} on {}: the FIFO {} was neither logged nor an error: {:?} {:?}",
                    root.display(),
                    path.display(),
                    run.error,
                    run.logs
                );
            }
        }
    }
    eprintln!("{tried} FIFO paths tried one at a time");
    assert!(tried > 100, "only {tried} paths tried");

    // Every path at once, every collector of every root.
    let all: BTreeSet<&PathBuf> = recorded.values().flatten().collect();
    for path in &all {
        if path.symlink_metadata().is_ok() {
            // A directory asked for as a file stays (its entries are paths too).
            if path.symlink_metadata().unwrap().is_dir() {
                continue;
            }
            std::fs::remove_file(path).unwrap();
        }
        mkfifo(path);
    }
    for root in roots(&copy) {
        for collector in COLLECTORS {
            let run = run(&root, collector);
            for path in run.paths.iter().filter(|p| all.contains(p)) {
                if path.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                    continue;
                }
                assert!(
                    reported(&run, &root, path),
                    "{collector} on {}: the FIFO {} was neither logged nor an error",
                    root.display(),
                    path.display()
                );
            }
        }
    }
}

/// Issue 13.1: `normalizer_config_path` a FIFO must not hang `syscollector_init`.
static INIT_LOGS: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn init_log(
    level: std::os::raw::c_int,
    msg: *const std::os::raw::c_char,
    _tag: *const std::os::raw::c_char,
) {
    let m = std::ffi::CStr::from_ptr(msg).to_string_lossy().into_owned();
    INIT_LOGS.lock().unwrap().push((level, m));
}

#[test]
fn a_fifo_as_normalizer_config_does_not_hang_init() {
    // The module is one per process: alone in a child, away from the other C ABI tests.
    if !crate::helpers::alone_in_child(
        "sysinfo_fifo::a_fifo_as_normalizer_config_does_not_hang_init",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let norm = dir.path().join("norm_config.json");
    mkfifo(&norm);
    let db = CString::new(dir.path().join("local.db").as_os_str().as_encoded_bytes()).unwrap();
    let norm_c = CString::new(norm.as_os_str().as_encoded_bytes()).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: NUL-terminated strings that outlive the call, a valid log callback.
        unsafe {
            syscollector::ffi::syscollector_init(
                3600,
                None,
                None,
                Some(init_log),
                db.as_ptr(),
                norm_c.as_ptr(),
                std::ptr::null(),
                false,
                true,
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
            )
        };
        let _ = tx.send(());
    });
    assert!(
        rx.recv_timeout(Duration::from_secs(10)).is_ok(),
        "syscollector_init did not return: it waits on the FIFO"
    );
    let logs = INIT_LOGS.lock().unwrap().clone();
    let shown = norm.display().to_string();
    assert!(
        logs.iter()
            .any(|(l, m)| *l == syscollector::LogLevel::Error as i32
                && m.contains(&shown)
                && m.contains("FIFO")),
        "{logs:?}"
    );
    // The module was initialised (without a normalizer): it logs the queries it answers,
    // which only an initialised module does.
    let q = CString::new(r#"{"command":"get_version"}"#).unwrap();
    let mut out: *mut std::os::raw::c_char = std::ptr::null_mut();
    // SAFETY: a NUL-terminated query and a valid output pointer.
    let n = unsafe { syscollector::ffi::syscollector_query(q.as_ptr(), &mut out) };
    assert!(n > 0 && !out.is_null());
    // SAFETY: the module allocated the answer with malloc.
    unsafe { libc::free(out.cast()) };
    assert!(
        INIT_LOGS
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m.contains("Received query")),
        "the module was not initialised"
    );
}
