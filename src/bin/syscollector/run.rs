//! `syscollector run`: the module, its sync loop and (unless `--manager`) an embedded
//! reference manager, until SIGTERM/SIGINT (or, with `--once`, until delivered). One
//! timestamped line per scan and per sync round on stdout; a progress line on a terminal.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use syscollector::manager as server;
use syscollector::manager::agent::{self, Activity, Event, Observer};
use syscollector::Logger;

use crate::args::RunArgs;
use crate::console::Console;
use crate::Failure;

/// `$XDG_STATE_HOME/syscollector`, else `~/.local/state/syscollector`.
pub fn state_dir() -> Result<PathBuf, Failure> {
    let from = |v: &str| {
        std::env::var_os(v)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(state) = from("XDG_STATE_HOME") {
        return Ok(state.join("syscollector"));
    }
    match from("HOME") {
        Some(home) => Ok(home.join(".local/state/syscollector")),
        None => Err(Failure::Usage(
            "no --dir, and neither XDG_STATE_HOME nor HOME is set".into(),
        )),
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The observer that prints one line per scan and per sync round.
fn reporter(console: Arc<Console>) -> Observer {
    Arc::new(move |event| match event {
        Event::Scan(r) => {
            let changed = r
                .tables
                .iter()
                .filter(|t| t.stats.inserted + t.stats.modified + t.stats.deleted > 0)
                .count();
            let (ins, modi, del) = r.tables.iter().fold((0, 0, 0), |(a, b, c), t| {
                (
                    a + t.stats.inserted,
                    b + t.stats.modified,
                    c + t.stats.deleted,
                )
            });
            let mut line = format!(
                "scan: {changed} of {} tables changed ({ins} inserted, {modi} modified, {del} deleted) in {}",
                r.tables.len(),
                seconds(r.elapsed)
            );
            if !r.failures.is_empty() {
                let what: Vec<&str> = r.failures.iter().map(|(w, _)| w.as_str()).collect();
                line.push_str(&format!("; FAILED: {}", what.join(", ")));
            }
            console.info(&line);
        }
        Event::Sync(r) => {
            console.info(&format!(
                "sync: {} documents in {} session(s) in {}, {}",
                r.documents,
                r.sessions,
                seconds(r.elapsed),
                if r.ok { "ok" } else { "FAILED (retried later)" }
            ));
        }
    })
}

pub fn run(a: RunArgs, console: &Arc<Console>, log: Logger) -> Result<(), Failure> {
    let dir = match a.dir.clone() {
        Some(d) => d,
        None => state_dir()?,
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::Usage(format!("cannot use --dir {}: {e}", dir.display())))?;
    crate::scan::usable_db(&dir.join("local.db"))?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| Failure::Job(format!("cannot handle signal {sig}: {e}")))?;
    }
    let manager_stop = Arc::new(AtomicBool::new(false));
    let (socket, embedded) = match &a.manager {
        Some(s) => (s.clone(), None),
        None => {
            let socket = dir.join("manager.sock");
            let cfg = server::ServerConfig {
                socket: socket.clone(),
                db: Some(dir.join("manager.db")),
                events: Some(dir.join("manager-events.jsonl")),
                faults: server::Faults::default(),
            };
            let stop = manager_stop.clone();
            let manager_console = console.clone();
            let handle = std::thread::spawn(move || {
                server::serve(cfg, stop, &|m| {
                    manager_console.err_line(&format!(
                        "{} syscollector: manager: {m}",
                        crate::console::now()
                    ))
                })
            });
            for _ in 0..100 {
                if socket.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            console.info(&format!(
                "embedded manager on {} (store {})",
                socket.display(),
                dir.join("manager.db").display()
            ));
            (socket, Some(handle))
        }
    };
    let activity = Arc::new(Activity::default());
    let _progress = {
        let activity = activity.clone();
        console.ticker(move || {
            if activity.syncing.load(Ordering::Relaxed) {
                Some(format!(
                    "sync: {} messages sent, {} documents queued",
                    activity.sent.load(Ordering::Relaxed),
                    activity.queued.load(Ordering::Relaxed)
                ))
            } else {
                match activity.scan_documents.load(Ordering::Relaxed) {
                    0 => None,
                    n => Some(format!("scan: {n} documents")),
                }
            }
        })
    };
    let result = agent::run_observed(
        agent::Options {
            dir: dir.clone(),
            root: a.root.root.clone(),
            collectors: crate::scan::collectors(a.only.as_ref(), a.ports_all),
            interval: a.interval,
            sync_interval: Duration::from_secs(a.sync_interval),
            integrity_interval: a.integrity,
            manager: socket,
            once: a.once,
            metadata: crate::metadata::local(&a.root.root, log.clone()),
        },
        stop,
        log,
        Some(reporter(console.clone())),
        activity,
    );
    drop(_progress);
    manager_stop.store(true, Ordering::SeqCst);
    if let Some(h) = embedded {
        let _ = h.join();
    }
    let r = result.map_err(Failure::Job)?;
    if !a.once {
        return Ok(());
    }
    console.info(&format!(
        "done: scan {:.3} s, {} documents; sync {:.3} s in {} round(s), {}",
        r.scan.as_secs_f64(),
        r.documents,
        r.sync.as_secs_f64(),
        r.sessions,
        if r.delivered {
            "delivered"
        } else {
            "NOT delivered"
        }
    ));
    if !r.failures.is_empty() {
        let what: Vec<String> = r
            .failures
            .iter()
            .map(|(w, e)| format!("{w}: {e}"))
            .collect();
        return Err(Failure::Job(format!(
            "the scan failed for {}",
            what.join("; ")
        )));
    }
    if r.delivered {
        Ok(())
    } else {
        Err(Failure::Job("the inventory was not delivered".into()))
    }
}
