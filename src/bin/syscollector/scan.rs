//! `syscollector scan`: one scan, its per-table summary or every event as JSON lines; and
//! the scan-into-memory that `show` and `export` use when no database is named.

use std::io::{BufWriter, Stdout, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};
use syscollector::dbsync::{schema, DbSync, TableDef};
use syscollector::inventory::{Collectors, Config, Inventory, ScanReport, Sink, Stateful};
use syscollector::sysinfo::LinuxSysInfo;
use syscollector::{Logger, Row};

use crate::args::{ScanArgs, TableList};
use crate::console::Console;
use crate::Failure;

/// The collectors that fill `tables` (all of them without `--only`).
pub fn collectors(only: Option<&TableList>, ports_all: bool) -> Collectors {
    let mut c = match only {
        None => Collectors::all(),
        Some(TableList(tables)) => {
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
    };
    c.ports_all = ports_all;
    c
}

/// Checks that `path` is (or can become) an inventory database, without repairing it: the
/// library would move an unreadable file aside and go on in memory, the tool refuses.
/// Returns the opened database.
pub fn usable_db(path: &Path) -> Result<DbSync, Failure> {
    DbSync::try_open(path).map_err(|e| {
        Failure::Usage(format!(
            "cannot use '{}' as the inventory database: {e}",
            path.display()
        ))
    })
}

/// Prints events as JSON lines (with `--jsonl`) and counts them.
struct PrintSink {
    out: Option<Mutex<BufWriter<Stdout>>>,
    documents: AtomicUsize,
}

impl PrintSink {
    fn line(&self, v: Value) {
        if let Some(out) = &self.out {
            // A closed stdout (e.g. `| head`) ends the output, not the program.
            let _ = writeln!(out.lock(), "{v}");
        }
    }
}

impl Sink for PrintSink {
    fn stateless(&self, event: &str) {
        if self.out.is_none() {
            return;
        }
        let event: Value = serde_json::from_str(event).unwrap_or(Value::String(event.into()));
        self.line(json!({"type": "stateless", "event": event}));
    }

    fn stateful(&self, doc: &Stateful, _json: &str) {
        self.documents.fetch_add(1, Ordering::Relaxed);
        if self.out.is_none() {
            return;
        }
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

fn failures_text(report: &ScanReport) -> String {
    report
        .failures
        .iter()
        .map(|(what, e)| format!("{what}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn scan(a: ScanArgs, console: &Arc<Console>, log: Logger) -> Result<(), Failure> {
    // Opened (and verified) once, here.
    let db = a.db.as_deref().map(usable_db).transpose()?;
    let cfg = Config {
        interval: 3600,
        scan_on_start: true,
        collectors: collectors(a.only.as_ref(), a.ports_all),
        // One run is one scan: with --jsonl, report its changes on both channels (the
        // summary prints no event, so none is made).
        notify_on_first_scan: a.jsonl,
        db_path: a.db.clone(),
        normalizer_config: None,
        normalizer_type: None,
    };
    let sink = Arc::new(PrintSink {
        out: a
            .jsonl
            .then(|| Mutex::new(BufWriter::new(std::io::stdout()))),
        documents: AtomicUsize::new(0),
    });
    // One scan: no package rows are kept for a next one.
    let provider =
        Box::new(LinuxSysInfo::with_root(&a.root.root, log.clone()).without_package_cache());
    let inv = match db {
        Some(db) => Inventory::from_db(cfg, db, provider, sink.clone(), log),
        None => Inventory::new(cfg, provider, sink.clone(), log)
            .map_err(|e| Failure::Job(format!("cannot open the inventory database: {e}")))?,
    };
    let report = {
        let sink = sink.clone();
        let _progress = console.ticker(move || {
            Some(format!(
                "scanning: {} documents",
                sink.documents.load(Ordering::Relaxed)
            ))
        });
        inv.scan()
    };
    if let Some(out) = &sink.out {
        let _ = out.lock().flush();
    } else {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{:<28} {:>8} {:>9} {:>9} {:>8} {:>10}",
            "table", "rows", "inserted", "modified", "deleted", "time"
        );
        for t in &report.tables {
            let _ = writeln!(
                out,
                "{:<28} {:>8} {:>9} {:>9} {:>8} {:>8.1}ms",
                t.table,
                t.stats.rows,
                t.stats.inserted,
                t.stats.modified,
                t.stats.deleted,
                t.elapsed.as_secs_f64() * 1000.0
            );
        }
        let _ = writeln!(out, "total {:.1} ms", report.elapsed.as_secs_f64() * 1000.0);
    }
    if report.failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::Job(format!(
            "the scan failed for {}",
            failures_text(&report)
        )))
    }
}

/// Scans `tables` of the tree at `root` into memory and returns their rows, table by table;
/// a failed collector is an error.
pub fn scan_now(
    root: &Path,
    tables: &[&'static TableDef],
    log: Logger,
) -> Result<Vec<Vec<Row>>, Failure> {
    let cfg = Config {
        collectors: collectors(Some(&TableList(tables.to_vec())), false),
        db_path: None,
        ..Config::default()
    };
    let sink = Arc::new(PrintSink {
        out: None,
        documents: AtomicUsize::new(0),
    });
    let provider = Box::new(LinuxSysInfo::with_root(root, log.clone()).without_package_cache());
    let inv = Inventory::new(cfg, provider, sink, log)
        .map_err(|e| Failure::Job(format!("cannot open an inventory in memory: {e}")))?;
    let report = inv.scan();
    if !report.failures.is_empty() {
        return Err(Failure::Job(format!(
            "the scan failed for {}",
            failures_text(&report)
        )));
    }
    inv.with_db(|db| {
        tables
            .iter()
            .map(|t| db.select_all(t))
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|e| Failure::Job(format!("cannot read the scanned rows: {e}")))
}

/// The rows of `tables` in the database at `path` (which must exist).
pub fn read_db(path: &Path, tables: &[&'static TableDef]) -> Result<Vec<Vec<Row>>, Failure> {
    let db = DbSync::try_open(path).map_err(|e| {
        Failure::Usage(format!(
            "cannot read '{}' as an inventory database: {e}",
            path.display()
        ))
    })?;
    tables
        .iter()
        .map(|t| db.select_all(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Job(format!("cannot read {}: {e}", path.display())))
}
