//! The command line of `syscollector`, declared with clap: every command's flags, their
//! checks (a root that is not a directory, an unknown table), and the table names.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use syscollector::dbsync::schema::TableDef;

use crate::view::{parse_where, Format, Where};

/// Exit status, printed at the end of every `--help`.
pub const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  the job failed: a collector failed, nothing was delivered, a file could not be written
  2  bad usage: an unknown command, flag, table or field; a --root, --db or --dir that
     cannot be used (missing, not a directory, not a database)";

#[derive(Debug, Parser)]
#[command(
    name = "syscollector",
    version = crate::version(),
    about = "The system inventory engine of the Wazuh agent, from the command line",
    long_about = "The system inventory engine of the Wazuh agent, from the command line.\n\n\
        `scan` scans this host (or a tree laid out like one) once; `show` and `export` print \
        an inventory; `run` is the whole system on one machine: the module, its sync loop and \
        a reference manager.",
    after_help = EXIT_CODES,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// More log lines on stderr: -v info, -vv debug, -vvv verbose debug.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan once and print what changed, per table (or every event with --jsonl).
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// Print one inventory table: from a database, or from a scan made now.
    #[command(after_help = EXIT_CODES)]
    Show(ShowArgs),
    /// Print the host's software as a CycloneDX 1.6 SBOM (JSON).
    #[command(after_help = EXIT_CODES)]
    Export(ExportArgs),
    /// Run the module, its sync loop and (unless --manager) an embedded reference manager.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// List the table names that --only and show accept.
    #[command(after_help = EXIT_CODES)]
    Tables,
    /// Write the man pages (to stdout, or one file per command into a directory).
    #[command(after_help = EXIT_CODES)]
    Man(ManArgs),
    /// Print a shell completion script.
    #[command(after_help = EXIT_CODES)]
    Completions(CompletionsArgs),
}

/// The system tree to read.
#[derive(Debug, Clone, Args)]
pub struct RootArg {
    /// Read the system below DIR instead of / (fixture trees, mounted images, containers).
    #[arg(long, value_name = "DIR", default_value = "/", value_parser = existing_dir)]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The inventory database; a second scan on it reports only what changed [default: in memory].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub root: RootArg,
    /// Comma-separated tables to scan (see `syscollector tables`) [default: all].
    #[arg(long, value_name = "TABLES", value_parser = parse_tables)]
    pub only: Option<TableList>,
    /// Every TCP socket in the ports table, not only listening ones.
    #[arg(long)]
    pub ports_all: bool,
    /// Print every event as one JSON object per line instead of the summary.
    #[arg(long)]
    pub jsonl: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The table (see `syscollector tables`).
    #[arg(value_name = "TABLE", value_parser = parse_one_table)]
    pub table: &'static TableDef,
    /// Read this inventory database (of `scan --db` or `run`'s <DIR>/local.db) instead of scanning now.
    #[arg(long, value_name = "PATH", conflicts_with = "root", value_parser = existing_file)]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub root: RootArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only rows whose FIELD (a column of the table) is VALUE; may be repeated.
    #[arg(long = "where", value_name = "FIELD=VALUE", value_parser = parse_where)]
    pub wheres: Vec<Where>,
    /// Comma-separated columns to print [default: all; in a table, those not empty in every row].
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    pub columns: Vec<String>,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// CycloneDX 1.6 JSON: a component per package with its purl, the OS as the subject.
    Cyclonedx,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The document to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Read this inventory database instead of scanning packages and the OS now.
    #[arg(long, value_name = "PATH", conflicts_with = "root", value_parser = existing_file)]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub root: RootArg,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Databases (local.db, sync queues, embedded manager's store and socket)
    /// [default: $XDG_STATE_HOME/syscollector or ~/.local/state/syscollector].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub root: RootArg,
    /// Comma-separated tables to scan (see `syscollector tables`) [default: all].
    #[arg(long, value_name = "TABLES", value_parser = parse_tables)]
    pub only: Option<TableList>,
    /// Seconds between scans.
    #[arg(long, value_name = "S", default_value_t = 3600, value_parser = clap::value_parser!(u32).range(1..))]
    pub interval: u32,
    /// Seconds between sync sessions.
    #[arg(long, value_name = "S", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub sync_interval: u64,
    /// Seconds between integrity checks of a table.
    #[arg(long, value_name = "S", default_value_t = 86400)]
    pub integrity: u32,
    /// The socket of a running `syscollector-manager serve` instead of the embedded manager.
    #[arg(long, value_name = "SOCKET")]
    pub manager: Option<PathBuf>,
    /// Every TCP socket in the ports table, not only listening ones.
    #[arg(long)]
    pub ports_all: bool,
    /// Scan once, synchronise until delivered, print the timings and exit.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write syscollector.1 and one page per command (syscollector-scan.1, ...) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The tables a `--only` list names, in the schema's order, each once.
#[derive(Debug, Clone)]
pub struct TableList(pub Vec<&'static TableDef>);

/// Every word that names tables, with the tables it names: each table's name, with and
/// without `dbsync_`, and the collector aliases. The one place table names are spelled for
/// the command line.
pub fn table_names() -> Vec<(String, Vec<&'static TableDef>)> {
    syscollector::catalog::cli_names()
        .into_iter()
        .filter_map(|w| syscollector::catalog::by_cli_name(&w).map(|t| (w, t)))
        .collect()
}

/// The words a person types: short names and aliases (not the `dbsync_` spellings).
pub fn table_words() -> Vec<String> {
    table_names()
        .into_iter()
        .map(|(w, _)| w)
        .filter(|w| !w.starts_with("dbsync_"))
        .collect()
}

fn tables_named(word: &str) -> Result<Vec<&'static TableDef>, String> {
    table_names()
        .into_iter()
        .find(|(w, _)| w == word)
        .map(|(_, t)| t)
        .ok_or_else(|| {
            format!(
                "unknown table '{word}'; the tables are: {}",
                table_words().join(", ")
            )
        })
}

fn parse_tables(s: &str) -> Result<TableList, String> {
    let mut tables: Vec<&'static TableDef> = Vec::new();
    for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        for t in tables_named(word)? {
            if !tables.iter().any(|x| x.name == t.name) {
                tables.push(t);
            }
        }
    }
    if tables.is_empty() {
        return Err("no table named".into());
    }
    Ok(TableList(tables))
}

fn parse_one_table(s: &str) -> Result<&'static TableDef, String> {
    let tables = tables_named(s.trim())?;
    match tables.as_slice() {
        [t] => Ok(t),
        many => Err(format!(
            "'{s}' is {} tables; show one of: {}",
            many.len(),
            many.iter()
                .map(|t| t.name.strip_prefix("dbsync_").unwrap_or(t.name))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn existing_dir(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.is_dir() {
        Ok(p)
    } else {
        Err(format!("'{s}' is not a directory"))
    }
}

fn existing_file(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!("no database at '{s}'"))
    }
}
