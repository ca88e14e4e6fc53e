//! `syscollector-manager`: a reference Wazuh manager for the inventory, on one machine.
//!
//! ```text
//! syscollector-manager serve   --socket PATH [--db PATH] [--events PATH] [--generation alpha0|beta4 [--processing-ms N]] [fault options]
//! syscollector-manager indices --db PATH
//! syscollector-manager show    --db PATH --index NAME [--format table|json|csv] [--where FIELD=VALUE]
//! syscollector-manager dump    --db PATH --index NAME [--module NAME]
//! syscollector-manager ids     --db PATH [--module NAME]
//! syscollector-manager man [--out-dir DIR] | completions SHELL
//! ```
//! `serve` answers agents' sync sessions on a Unix socket (frames as in the README) and
//! keeps their documents in a SQLite store; the other commands read that store and never
//! create one. `--generation beta4` answers as beta4's manager does (Processing, then the
//! final EndAck; DataBatch accepted); both generations decode every message. Exit status 0 success, 1 the job failed, 2 bad usage.

#[path = "../common/man.rs"]
mod man;
#[path = "../common/view.rs"]
mod view;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use serde_json::Value;
use syscollector::dbsync::schema::TABLES;
use syscollector::manager::{serve_as, DocStore, Faults as NetFaults, Manager, ServerConfig};

use view::{Format, Records, Where};

const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  the job failed: the socket cannot be served, the store cannot be read
  2  bad usage: an unknown command, flag, index or field; a --db that is not a store";

#[derive(Debug, Parser)]
#[command(
    name = "syscollector-manager",
    version = env!("CARGO_PKG_VERSION"),
    about = "A reference Wazuh manager for the inventory: serves agents, shows what it holds",
    after_help = EXIT_CODES,
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer agents' sync sessions on a Unix socket, keeping documents in a store.
    #[command(after_help = EXIT_CODES)]
    Serve(ServeArgs),
    /// List the store's indices and how many documents each holds.
    #[command(after_help = EXIT_CODES)]
    Indices(StoreArg),
    /// Print an index's documents as a person reads them (or as JSON, CSV).
    #[command(after_help = EXIT_CODES)]
    Show(ShowArgs),
    /// Print an index's documents, one JSON object per line.
    #[command(after_help = EXIT_CODES)]
    Dump(DumpArgs),
    /// Print `<index> <id>` for every document.
    #[command(after_help = EXIT_CODES)]
    Ids(IdsArgs),
    /// Write the man pages (to stdout, or one file per command into a directory).
    #[command(after_help = EXIT_CODES)]
    Man(ManArgs),
    /// Print a shell completion script.
    #[command(after_help = EXIT_CODES)]
    Completions(CompletionsArgs),
}

fn fraction(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("'{v}' is not a fraction between 0 and 1")),
    }
}

/// Which manager `serve` answers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ManagerGeneration {
    /// v5.0.0-alpha0's manager (the contract).
    Alpha0,
    /// v5.0.0-beta4's (and rc1's): Processing before the final EndAck, DataBatch accepted.
    Beta4,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The manager to answer as.
    #[arg(long, value_enum, default_value_t = ManagerGeneration::Alpha0)]
    generation: ManagerGeneration,
    /// With --generation beta4: milliseconds between EndAck(Processing) and the final EndAck.
    #[arg(long, value_name = "N", default_value_t = 0)]
    processing_ms: u64,
    /// The Unix socket to listen on.
    #[arg(long, value_name = "PATH")]
    socket: PathBuf,
    /// The document store (SQLite) [default: in memory].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Append the agents' stateless events to this file, one JSON line each.
    #[arg(long, value_name = "PATH")]
    events: Option<PathBuf>,
    /// Seed of the faults' random choices (runs with the same seed fail alike).
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Fraction of incoming messages dropped.
    #[arg(long, value_name = "F", value_parser = fraction, default_value_t = 0.0)]
    drop_in: f64,
    /// Fraction of replies dropped.
    #[arg(long, value_name = "F", value_parser = fraction, default_value_t = 0.0)]
    drop_out: f64,
    /// Fraction of incoming messages handled twice.
    #[arg(long, value_name = "F", value_parser = fraction, default_value_t = 0.0)]
    dup_in: f64,
    /// Fraction of replies sent twice.
    #[arg(long, value_name = "F", value_parser = fraction, default_value_t = 0.0)]
    dup_out: f64,
    /// Fraction of incoming messages handled after the next one.
    #[arg(long, value_name = "F", value_parser = fraction, default_value_t = 0.0)]
    reorder_in: f64,
    /// Fraction of replies sent after the next one.
    #[arg(long, value_name = "F", value_parser = fraction, default_value_t = 0.0)]
    reorder_out: f64,
    /// Delay replies by N milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    delay_ms: u64,
    /// Fraction of replies delayed [default: all, when --delay-ms is given].
    #[arg(long, value_name = "F", value_parser = fraction)]
    delay_fraction: Option<f64>,
    /// Answer Offline for the first N seconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    offline_secs: u64,
}

#[derive(Debug, Args)]
struct StoreArg {
    /// The store of a `serve --db` (never created here).
    #[arg(long, value_name = "PATH")]
    db: PathBuf,
}

#[derive(Debug, Args)]
struct ShowArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The index (see `indices`).
    #[arg(long, value_name = "NAME")]
    index: String,
    /// Only documents written by this sync instance (syscollector, syscollector_vd).
    #[arg(long, value_name = "NAME")]
    module: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Only documents whose FIELD (a dotted path, e.g. package.name) is VALUE; may be repeated.
    #[arg(long = "where", value_name = "FIELD=VALUE", value_parser = view::parse_where)]
    wheres: Vec<Where>,
    /// Comma-separated fields to print [default: all; in a table, those not empty in every row].
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    columns: Vec<String>,
}

#[derive(Debug, Args)]
struct DumpArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The index (see `indices`).
    #[arg(long, value_name = "NAME")]
    index: String,
    /// Only documents written by this sync instance.
    #[arg(long, value_name = "NAME")]
    module: Option<String>,
}

#[derive(Debug, Args)]
struct IdsArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only documents written by this sync instance.
    #[arg(long, value_name = "NAME")]
    module: Option<String>,
}

#[derive(Debug, Args)]
struct ManArgs {
    /// Write syscollector-manager.1 and one page per command into DIR.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Why a command did not succeed: `Usage` exits 2, `Job` exits 1.
enum Failure {
    Usage(String),
    Job(String),
}

/// Opens an existing store; a missing path is not created.
fn open_store(path: &Path) -> Result<DocStore, Failure> {
    if !path.is_file() {
        return Err(Failure::Usage(format!("no store at '{}'", path.display())));
    }
    DocStore::open(path)
        .map_err(|e| Failure::Usage(format!("cannot read '{}' as a store: {e}", path.display())))
}

/// `index → documents` of the store.
fn counts(store: &DocStore, path: &Path) -> Result<Vec<(String, usize)>, Failure> {
    let read = |e: rusqlite::Error| Failure::Job(format!("cannot read {}: {e}", path.display()));
    let mut out: Vec<(String, usize)> = store
        .indices()
        .map_err(read)?
        .into_iter()
        .map(|i| (i, 0))
        .collect();
    for (index, _) in store.ids(None).map_err(read)? {
        match out.iter_mut().find(|(i, _)| *i == index) {
            Some((_, n)) => *n += 1,
            None => out.push((index, 1)),
        }
    }
    Ok(out)
}

/// Checks `index` against the indices the store holds and those the schema declares.
fn known_index(store: &DocStore, path: &Path, index: &str) -> Result<(), Failure> {
    let mut known: Vec<String> = TABLES.iter().map(|t| t.index.to_string()).collect();
    for (i, _) in counts(store, path)? {
        if !known.contains(&i) {
            known.push(i);
        }
    }
    if known.iter().any(|k| k == index) {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "unknown index '{index}'; the indices are: {}",
            known.join(", ")
        )))
    }
}

/// Writes `lines` to stdout; a closed pipe ends the output quietly.
fn emit(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if !view::reader_gone(&e) => Err(Failure::Job(format!("cannot write: {e}"))),
        _ => Ok(()),
    }
}

/// A nested document's leaves as `dotted.path → value`, in document order.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

fn records(docs: Vec<(String, String, u64, String)>) -> Records {
    let mut columns: Vec<String> = vec!["id".into()];
    let mut flat_rows = Vec::new();
    let mut json = Vec::new();
    for (_, id, _, doc) in docs {
        let doc: Value = serde_json::from_str(&doc).unwrap_or(Value::Null);
        let mut flat = vec![("id".to_string(), Value::from(id.clone()))];
        flatten("", &doc, &mut flat);
        for (k, _) in &flat {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        json.push(serde_json::json!({"id": id, "document": doc}));
        flat_rows.push(flat);
    }
    let rows = flat_rows
        .into_iter()
        .map(|flat| {
            columns
                .iter()
                .map(|c| {
                    flat.iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null)
                })
                .collect()
        })
        .collect();
    Records {
        columns,
        rows,
        json,
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve(a) => {
            let stop = Arc::new(AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(sig, stop.clone())
                    .map_err(|e| Failure::Job(format!("cannot handle signal {sig}: {e}")))?;
            }
            eprintln!("syscollector-manager: listening on {}", a.socket.display());
            let faults = NetFaults {
                seed: a.seed,
                drop_in: a.drop_in,
                drop_out: a.drop_out,
                duplicate_in: a.dup_in,
                duplicate_out: a.dup_out,
                reorder_in: a.reorder_in,
                reorder_out: a.reorder_out,
                delay: Duration::from_millis(a.delay_ms),
                delay_fraction: a.delay_fraction,
                offline_for: Duration::from_secs(a.offline_secs),
                ..NetFaults::default()
            };
            let cfg = ServerConfig {
                socket: a.socket,
                db: a.db,
                events: a.events,
                faults,
            };
            let manager = match a.generation {
                ManagerGeneration::Alpha0 => Manager::new(),
                ManagerGeneration::Beta4 => Manager::beta4(Duration::from_millis(a.processing_ms)),
            };
            serve_as(cfg, manager, stop, &|m| {
                eprintln!("syscollector-manager: {m}")
            })
            .map_err(|e| Failure::Job(format!("cannot serve: {e}")))
        }
        Command::Indices(a) => {
            let store = open_store(&a.db)?;
            let counts = counts(&store, &a.db)?;
            emit(|out| {
                for (index, n) in counts {
                    writeln!(out, "{index} {n}")?;
                }
                Ok(())
            })
        }
        Command::Show(a) => {
            let store = open_store(&a.store.db)?;
            known_index(&store, &a.store.db, &a.index)?;
            let docs = store
                .dump(&a.index, a.module.as_deref())
                .map_err(|e| Failure::Job(format!("cannot read {}: {e}", a.store.db.display())))?;
            let records = records(docs)
                .filter(&a.wheres)
                .and_then(|r| r.select(&a.columns, a.format))
                .map_err(Failure::Usage)?;
            emit(|out| records.write(out, a.format, view::terminal_width()))
        }
        Command::Dump(a) => {
            let store = open_store(&a.store.db)?;
            known_index(&store, &a.store.db, &a.index)?;
            let docs = store
                .dump(&a.index, a.module.as_deref())
                .map_err(|e| Failure::Job(format!("cannot read {}: {e}", a.store.db.display())))?;
            emit(|out| {
                for (module, id, version, doc) in docs {
                    let doc: Value = serde_json::from_str(&doc).unwrap_or(Value::Null);
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({"module": module, "id": id, "version": version, "document": doc})
                    )?;
                }
                Ok(())
            })
        }
        Command::Ids(a) => {
            let store = open_store(&a.store.db)?;
            let ids = store
                .ids(a.module.as_deref())
                .map_err(|e| Failure::Job(format!("cannot read {}: {e}", a.store.db.display())))?;
            emit(|out| {
                for (index, id) in ids {
                    writeln!(out, "{index} {id}")?;
                }
                Ok(())
            })
        }
        Command::Man(a) => man(a),
        Command::Completions(a) => {
            clap_complete::generate(
                a.shell,
                &mut Cli::command(),
                "syscollector-manager",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

fn man(a: ManArgs) -> Result<(), Failure> {
    let cmd = Cli::command();
    let Some(dir) = a.out_dir else {
        return emit(|out| clap_mangen::Man::new(cmd).render(out));
    };
    man::write_pages(cmd, "syscollector-manager", &dir).map_err(|e| match e {
        man::ManError::Directory(m) => Failure::Usage(m),
        man::ManError::Page(m) => Failure::Job(m),
    })
}

fn main() -> ExitCode {
    // clap prints help and --version on stdout (exit 0) and usage errors on stderr (exit 2).
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Job(e)) => {
            eprintln!("syscollector-manager: error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("syscollector-manager: error: {e}");
            ExitCode::from(2)
        }
    }
}
