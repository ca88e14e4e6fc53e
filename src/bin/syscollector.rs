//! `syscollector`: the inventory engine from the command line.
//!
//! ```text
//! syscollector scan [--db PATH] [--root DIR] [--only TABLE,...] [--jsonl] [-v]
//! syscollector run  [--dir DIR] [--root DIR] [--only TABLE,...] [--interval S]
//!                   [--sync-interval S] [--integrity S] [--manager SOCKET] [--once] [-v]
//! ```
//! `scan` runs one scan and prints what the library's callbacks receive. Without `--db` the
//! inventory lives in memory, so every row is new; with `--db`, a second run on the same
//! file prints only what changed since the first.
//!
//! `run` is the whole system on one machine: the module scans every `--interval` seconds
//! and synchronises every `--sync-interval` seconds with a manager, the one listening at
//! `--manager` or, by default, a reference manager embedded in the process (its store is
//! `<dir>/manager.db`, see `syscollector-manager dump`). `--once` scans once, synchronises
//! until the queue is delivered, prints the timings and exits.

use std::io::{BufWriter, Stdout, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use serde_json::{json, Value};
use syscollector::dbsync::schema;
use syscollector::inventory::{Collectors, Config, Inventory, Sink, Stateful};
use syscollector::sysinfo::LinuxSysInfo;
use syscollector::{LogLevel, Logger};

const USAGE: &str = "\
usage: syscollector scan [--db PATH] [--root DIR] [--only TABLE,...] [--jsonl] [-v|--verbose]
       syscollector run [--dir DIR] [--root DIR] [--only TABLE,...] [--interval S]
                        [--sync-interval S] [--integrity S] [--manager SOCKET] [--ports-all]
                        [--once] [-v|--verbose]

  --db PATH       inventory database (default: in memory, so everything is new)
  --root DIR      read the system below DIR instead of / (fixture trees, containers)
  --only TABLES   comma-separated tables to scan (dbsync_osinfo, dbsync_hwinfo,
                  dbsync_processes, ...; the dbsync_ prefix may be left out)
  --jsonl         print every event as one JSON object per line instead of a summary
  -v, --verbose   print debug logs on stderr (twice: also verbose debug)

run:
  --dir DIR           databases (local.db, sync queues, embedded manager) (default: .)
  --interval S        seconds between scans (default 3600)
  --sync-interval S   seconds between sync sessions (default 300)
  --integrity S       seconds between integrity checks of a table (default 86400)
  --manager SOCKET    a running syscollector-manager instead of the embedded one
  --ports-all         every TCP socket, not only listening ones
  --once              scan once, synchronise until delivered, print timings, exit";

struct Options {
    command: String,
    db: Option<PathBuf>,
    root: PathBuf,
    only: Option<Vec<&'static schema::TableDef>>,
    jsonl: bool,
    verbosity: u8,
    dir: PathBuf,
    interval: u32,
    sync_interval: u64,
    integrity: u32,
    manager: Option<PathBuf>,
    ports_all: bool,
    once: bool,
}

fn parse_args() -> Result<Options, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut command = None;
    let mut opts = Options {
        command: String::new(),
        db: None,
        root: PathBuf::from("/"),
        only: None,
        jsonl: false,
        verbosity: 0,
        dir: PathBuf::from("."),
        interval: 3600,
        sync_interval: 300,
        integrity: 86400,
        manager: None,
        ports_all: false,
        once: false,
    };
    let number = |v: Result<std::ffi::OsString, lexopt::Error>| -> Result<u64, String> {
        let v = v.map_err(|e| e.to_string())?;
        v.to_string_lossy()
            .parse::<u64>()
            .map_err(|_| format!("'{}' is not a number", v.to_string_lossy()))
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("db") => opts.db = Some(parser.value().map_err(|e| e.to_string())?.into()),
            Long("root") => opts.root = parser.value().map_err(|e| e.to_string())?.into(),
            Long("only") => {
                let v = parser.value().map_err(|e| e.to_string())?;
                let v = v.to_string_lossy().into_owned();
                let mut tables = Vec::new();
                for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    tables.extend(
                        tables_named(name).ok_or_else(|| format!("unknown table '{name}'"))?,
                    );
                }
                opts.only = Some(tables);
            }
            Long("jsonl") => opts.jsonl = true,
            Long("dir") => opts.dir = parser.value().map_err(|e| e.to_string())?.into(),
            Long("interval") => opts.interval = number(parser.value())?.min(u32::MAX as u64) as u32,
            Long("sync-interval") => opts.sync_interval = number(parser.value())?.max(1),
            Long("integrity") => {
                opts.integrity = number(parser.value())?.min(u32::MAX as u64) as u32
            }
            Long("manager") => {
                opts.manager = Some(parser.value().map_err(|e| e.to_string())?.into())
            }
            Long("ports-all") => opts.ports_all = true,
            Long("once") => opts.once = true,
            Short('v') | Long("verbose") => opts.verbosity += 1,
            Short('h') | Long("help") => return Err(String::new()),
            Value(v) if command.is_none() => command = Some(v.to_string_lossy().into_owned()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    match command.as_deref() {
        Some(c @ ("scan" | "run")) => {
            opts.command = c.to_string();
            Ok(opts)
        }
        Some(other) => Err(format!("unknown command '{other}'")),
        None => Err("missing command".into()),
    }
}

/// The tables a `--only` word names: a table name, with or without `dbsync_`, or a
/// collector name (`os`, `hardware`, `network`, ...).
fn tables_named(name: &str) -> Option<Vec<&'static schema::TableDef>> {
    syscollector::catalog::by_cli_name(name)
}

fn collectors(only: &Option<Vec<&'static schema::TableDef>>) -> Collectors {
    match only {
        Some(tables) => Collectors::for_tables(tables),
        None => Collectors::all(),
    }
}

/// Prints events as JSON lines (with `--jsonl`) or only counts them.
struct PrintSink {
    out: Option<Mutex<BufWriter<Stdout>>>,
}

impl PrintSink {
    fn line(&self, v: Value) {
        if let Some(out) = &self.out {
            let mut out = out.lock();
            // A closed stdout (e.g. `| head`) ends the output, not the program.
            let _ = writeln!(out, "{v}");
        }
    }
}

impl Sink for PrintSink {
    fn stateless(&self, event: &str) {
        let event: Value = serde_json::from_str(event).unwrap_or(Value::String(event.into()));
        self.line(json!({"type": "stateless", "event": event}));
    }

    fn stateful(&self, doc: &Stateful, _json: &str) {
        self.line(json!({
            "type": "stateful",
            "id": doc.id,
            "operation": doc.operation.name(),
            "index": doc.index,
            "version": doc.version,
            "document": Value::Object(doc.document.clone()),
        }));
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("syscollector: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let min_level = match opts.verbosity {
        0 => LogLevel::Warning,
        _ => LogLevel::Debug,
    };
    let verbose_debug = opts.verbosity >= 2;
    let log: Logger = Arc::new(move |level, msg| {
        let show = match level {
            LogLevel::DebugVerbose => verbose_debug,
            l => l >= min_level,
        };
        if show {
            eprintln!("syscollector: {}: {msg}", level.name());
        }
    });

    if opts.command == "run" {
        return run(&opts, log);
    }
    let cfg = Config {
        interval: 3600,
        scan_on_start: true,
        collectors: collectors(&opts.only),
        // One run is one scan: report its changes on both channels.
        notify_on_first_scan: true,
        db_path: opts.db.clone(),
        normalizer_config: None,
        normalizer_type: None,
    };
    let sink = Arc::new(PrintSink {
        out: opts
            .jsonl
            .then(|| Mutex::new(BufWriter::new(std::io::stdout()))),
    });
    let provider = Box::new(LinuxSysInfo::with_root(&opts.root, log.clone()));
    let inv = match Inventory::new(cfg, provider, sink.clone(), log) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("syscollector: cannot open the inventory database: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let report = inv.scan();
    if let Some(out) = &sink.out {
        let _ = out.lock().flush();
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<28} {:>8} {:>9} {:>9} {:>8} {:>10}",
        "table", "rows", "inserted", "modified", "deleted", "time"
    );
    for t in &report.tables {
        println!(
            "{:<28} {:>8} {:>9} {:>9} {:>8} {:>8.1}ms",
            t.table,
            t.stats.rows,
            t.stats.inserted,
            t.stats.modified,
            t.stats.deleted,
            t.elapsed.as_secs_f64() * 1000.0
        );
    }
    println!("total {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);
    ExitCode::SUCCESS
}

/// `syscollector run`: the module, its sync loop and (unless `--manager`) an embedded
/// reference manager, until SIGTERM/SIGINT (or, with `--once`, until delivered).
fn run(opts: &Options, log: Logger) -> ExitCode {
    use std::sync::atomic::AtomicBool;
    use syscollector::inventory::standalone;
    use syscollector::manager as server;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            eprintln!("syscollector: cannot handle signal {sig}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = std::fs::create_dir_all(&opts.dir) {
        eprintln!("syscollector: cannot create {}: {e}", opts.dir.display());
        return ExitCode::FAILURE;
    }
    let manager_stop = Arc::new(AtomicBool::new(false));
    let (socket, embedded) = match &opts.manager {
        Some(s) => (s.clone(), None),
        None => {
            let socket = opts.dir.join("manager.sock");
            let cfg = server::ServerConfig {
                socket: socket.clone(),
                db: Some(opts.dir.join("manager.db")),
                events: Some(opts.dir.join("manager-events.jsonl")),
                faults: server::Faults::default(),
            };
            let stop = manager_stop.clone();
            let handle = std::thread::spawn(move || {
                server::serve(cfg, stop, &|m| eprintln!("syscollector: manager: {m}"))
            });
            for _ in 0..100 {
                if socket.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            eprintln!(
                "syscollector: embedded manager on {} (store {})",
                socket.display(),
                opts.dir.join("manager.db").display()
            );
            (socket, Some(handle))
        }
    };
    let mut collectors = collectors(&opts.only);
    collectors.ports_all = opts.ports_all;
    let result = standalone::run(
        standalone::Options {
            dir: opts.dir.clone(),
            root: opts.root.clone(),
            collectors,
            interval: opts.interval,
            sync_interval: std::time::Duration::from_secs(opts.sync_interval),
            integrity_interval: opts.integrity,
            manager: socket,
            once: opts.once,
            metadata: syscollector::ffi::metadata::local(),
        },
        stop,
        log,
    );
    manager_stop.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(h) = embedded {
        let _ = h.join();
    }
    match result {
        Ok(r) if opts.once => {
            println!(
                "scan {:.3} s, {} documents; sync {:.3} s in {} session(s), {}",
                r.scan.as_secs_f64(),
                r.documents,
                r.sync.as_secs_f64(),
                r.sessions,
                if r.delivered {
                    "delivered"
                } else {
                    "NOT delivered"
                }
            );
            if r.delivered {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syscollector: {e}");
            ExitCode::FAILURE
        }
    }
}
