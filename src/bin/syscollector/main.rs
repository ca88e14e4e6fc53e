//! `syscollector`: the inventory engine from the command line.
//!
//! ```text
//! syscollector scan    [--db PATH] [--root DIR] [--only TABLE,...] [--ports-all] [--jsonl]
//! syscollector show    TABLE [--db PATH | --root DIR] [--format table|json|csv] [--where FIELD=VALUE]
//! syscollector export  --format cyclonedx [--db PATH | --root DIR] [--output FILE]
//! syscollector run     [--dir DIR] [--root DIR] [--only TABLE,...] [--interval S]
//!                      [--sync-interval S] [--integrity S] [--manager SOCKET] [--once]
//! syscollector tables | man [--out-dir DIR] | completions SHELL
//! ```
//! Each command is its own module below; exit status 0 success, 1 the job failed, 2 bad
//! usage ([`args::EXIT_CODES`]).

mod args;
mod console;
mod export;
#[path = "../common/man.rs"]
mod man;
mod metadata;
mod run;
mod scan;
mod show;
#[path = "../common/view.rs"]
mod view;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command};

/// Why a command did not succeed, and so its exit status.
#[derive(Debug)]
pub enum Failure {
    /// Exit 2: the command line asked for something that cannot be done as asked.
    Usage(String),
    /// Exit 1: the job was tried and failed.
    Job(String),
}

/// The tool's version (the library's).
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn main() -> ExitCode {
    // clap prints help and --version on stdout (exit 0) and usage errors on stderr (exit 2).
    let cli = Cli::parse();
    let console = console::Console::new();
    let log = console.logger("syscollector", cli.verbose);
    let result = match cli.command {
        Command::Scan(a) => scan::scan(a, &console, log),
        Command::Show(a) => show::show(a, log),
        Command::Export(a) => export::export(a, log),
        Command::Run(a) => run::run(a, &console, log),
        Command::Tables => show::tables(),
        Command::Man(a) => man(a),
        Command::Completions(a) => {
            clap_complete::generate(
                a.shell,
                &mut Cli::command(),
                "syscollector",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Job(e)) => {
            console.err_line(&format!("syscollector: error: {e}"));
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            console.err_line(&format!("syscollector: error: {e}"));
            ExitCode::from(2)
        }
    }
}

/// `man`: the top page on stdout, or every page into a directory.
fn man(a: args::ManArgs) -> Result<(), Failure> {
    let cmd = Cli::command();
    let Some(dir) = a.out_dir else {
        let mut out = std::io::stdout();
        return match clap_mangen::Man::new(cmd).render(&mut out) {
            Err(e) if !view::reader_gone(&e) => Err(Failure::Job(e.to_string())),
            _ => Ok(()),
        };
    };
    man::write_pages(cmd, "syscollector", &dir).map_err(|e| match e {
        man::ManError::Directory(m) => Failure::Usage(m),
        man::ManError::Page(m) => Failure::Job(m),
    })
}
