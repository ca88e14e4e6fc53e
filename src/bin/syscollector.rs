//! `syscollector`: scan this host (or a directory tree laid out like one) from the command
//! line and print what the library's callbacks receive.
//!
//! ```text
//! syscollector scan [--db PATH] [--root DIR] [--only TABLE,...] [--jsonl] [-v]
//! ```
//! Without `--db` the inventory lives in memory, so every row is new. With `--db`, a
//! second run on the same file prints only what changed since the first.

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

  --db PATH       inventory database (default: in memory, so everything is new)
  --root DIR      read the system below DIR instead of / (fixture trees, containers)
  --only TABLES   comma-separated tables to scan (dbsync_osinfo, dbsync_hwinfo,
                  dbsync_processes, ...; the dbsync_ prefix may be left out)
  --jsonl         print every event as one JSON object per line instead of a summary
  -v, --verbose   print debug logs on stderr (twice: also verbose debug)";

struct Options {
    db: Option<PathBuf>,
    root: PathBuf,
    only: Option<Vec<&'static schema::TableDef>>,
    jsonl: bool,
    verbosity: u8,
}

fn parse_args() -> Result<Options, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut command = None;
    let mut opts = Options {
        db: None,
        root: PathBuf::from("/"),
        only: None,
        jsonl: false,
        verbosity: 0,
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
            Short('v') | Long("verbose") => opts.verbosity += 1,
            Short('h') | Long("help") => return Err(String::new()),
            Value(v) if command.is_none() => command = Some(v.to_string_lossy().into_owned()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    match command.as_deref() {
        Some("scan") => Ok(opts),
        Some(other) => Err(format!("unknown command '{other}'")),
        None => Err("missing command".into()),
    }
}

/// The tables a `--only` word names: a table name, with or without `dbsync_`, or a
/// collector name (`os`, `hardware`, `network`, ...).
fn tables_named(name: &str) -> Option<Vec<&'static schema::TableDef>> {
    let alias: &[&'static schema::TableDef] = match name {
        "os" | "system" => &[&schema::OS],
        "hardware" | "hw" => &[&schema::HARDWARE],
        "network" => &[
            &schema::NETWORK_IFACE,
            &schema::NETWORK_PROTOCOL,
            &schema::NETWORK_ADDRESS,
        ],
        _ => &[],
    };
    if !alias.is_empty() {
        return Some(alias.to_vec());
    }
    let full = if name.starts_with("dbsync_") {
        name.to_string()
    } else {
        format!("dbsync_{name}")
    };
    schema::table(&full).map(|t| vec![t])
}

fn collectors(only: &Option<Vec<&'static schema::TableDef>>) -> Collectors {
    let Some(tables) = only else {
        return Collectors::all();
    };
    let mut c = Collectors::default();
    for t in tables {
        match t.name {
            n if n == schema::HARDWARE.name => c.hardware = true,
            n if n == schema::OS.name => c.os = true,
            n if n == schema::PACKAGES.name => c.packages = true,
            n if n == schema::HOTFIXES.name => c.hotfixes = true,
            n if n == schema::PORTS.name => c.ports = true,
            n if n == schema::PROCESSES.name => c.processes = true,
            n if n == schema::GROUPS.name => c.groups = true,
            n if n == schema::USERS.name => c.users = true,
            n if n == schema::SERVICES.name => c.services = true,
            n if n == schema::BROWSER_EXTENSIONS.name => c.browser_extensions = true,
            _ => c.network = true,
        }
    }
    c
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
