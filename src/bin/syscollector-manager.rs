//! `syscollector-manager`: a reference Wazuh manager for the inventory, on one machine.
//!
//! ```text
//! syscollector-manager serve --socket PATH [--db PATH] [--events PATH] [fault options]
//! syscollector-manager dump --db PATH --index NAME [--module NAME]
//! syscollector-manager ids --db PATH [--module NAME]
//! ```
//! `serve` answers agents' sync sessions on a Unix socket (frames as in the README) and
//! keeps their documents in a SQLite store; `dump` prints what the store holds for an index,
//! one JSON object per line; `ids` prints `<index> <id>` for every document. Faults (reproducible with `--seed`): `--drop-in F`,
//! `--drop-out F`, `--dup-in F`, `--dup-out F`, `--reorder-in F`, `--reorder-out F` (fractions of messages), `--delay-ms N` (for
//! `--delay-fraction F` of the replies, all by default),
//! `--offline-secs N` (answer Offline for the first N seconds).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use syscollector::manager::{serve, DocStore, Faults as NetFaults, ServerConfig};

const USAGE: &str = "\
usage: syscollector-manager serve --socket PATH [--db PATH] [--events PATH]
                              [--seed N] [--drop-in F] [--drop-out F] [--dup-in F] [--dup-out F]
                              [--reorder-in F] [--reorder-out F] [--delay-ms N]
                              [--delay-fraction F] [--offline-secs N]
       syscollector-manager dump --db PATH --index NAME [--module NAME]
       syscollector-manager ids --db PATH [--module NAME]";

fn fraction(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("'{v}' is not a fraction between 0 and 1")),
    }
}

fn number(v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("'{v}' is not a number"))
}

fn run() -> Result<(), String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_env();
    let mut command: Option<String> = None;
    let mut socket: Option<PathBuf> = None;
    let mut db: Option<PathBuf> = None;
    let mut events: Option<PathBuf> = None;
    let mut index: Option<String> = None;
    let mut module: Option<String> = None;
    let mut faults = NetFaults::default();
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        let val = |p: &mut lexopt::Parser| -> Result<String, String> {
            p.value()
                .map_err(|e| e.to_string())
                .map(|v| v.to_string_lossy().into_owned())
        };
        match arg {
            Long("socket") => socket = Some(val(&mut p)?.into()),
            Long("db") => db = Some(val(&mut p)?.into()),
            Long("events") => events = Some(val(&mut p)?.into()),
            Long("index") => index = Some(val(&mut p)?),
            Long("module") => module = Some(val(&mut p)?),
            Long("seed") => faults.seed = number(&val(&mut p)?)?,
            Long("drop-in") => faults.drop_in = fraction(&val(&mut p)?)?,
            Long("drop-out") => faults.drop_out = fraction(&val(&mut p)?)?,
            Long("dup-in") => faults.duplicate_in = fraction(&val(&mut p)?)?,
            Long("dup-out") => faults.duplicate_out = fraction(&val(&mut p)?)?,
            Long("reorder-out") => faults.reorder_out = fraction(&val(&mut p)?)?,
            Long("reorder-in") => faults.reorder_in = fraction(&val(&mut p)?)?,
            Long("delay-fraction") => faults.delay_fraction = Some(fraction(&val(&mut p)?)?),
            Long("delay-ms") => faults.delay = Duration::from_millis(number(&val(&mut p)?)?),
            Long("offline-secs") => {
                faults.offline_for = Duration::from_secs(number(&val(&mut p)?)?)
            }
            Short('h') | Long("help") => {
                println!("{USAGE}");
                return Ok(());
            }
            Value(v) if command.is_none() => command = Some(v.to_string_lossy().into_owned()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    match command.as_deref() {
        Some("serve") => {
            let socket = socket.ok_or("serve needs --socket")?;
            let stop = Arc::new(AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(sig, stop.clone())
                    .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
            }
            eprintln!("syscollector-manager: listening on {}", socket.display());
            let cfg = ServerConfig {
                socket,
                db,
                events,
                faults,
            };
            serve(cfg, stop, &|m| eprintln!("syscollector-manager: {m}"))
                .map_err(|e| format!("cannot serve: {e}"))
        }
        Some("dump") => {
            let db = db.ok_or("dump needs --db")?;
            let index = index.ok_or("dump needs --index")?;
            let store =
                DocStore::open(&db).map_err(|e| format!("cannot open {}: {e}", db.display()))?;
            let docs = store
                .dump(&index, module.as_deref())
                .map_err(|e| format!("cannot read {}: {e}", db.display()))?;
            for (module, id, version, doc) in docs {
                let doc: serde_json::Value =
                    serde_json::from_str(&doc).unwrap_or(serde_json::Value::Null);
                println!(
                    "{}",
                    serde_json::json!({"module": module, "id": id, "version": version, "document": doc})
                );
            }
            Ok(())
        }
        Some("ids") => {
            let db = db.ok_or("ids needs --db")?;
            let store =
                DocStore::open(&db).map_err(|e| format!("cannot open {}: {e}", db.display()))?;
            for (index, id) in store
                .ids(module.as_deref())
                .map_err(|e| format!("cannot read {}: {e}", db.display()))?
            {
                println!("{index} {id}");
            }
            Ok(())
        }
        Some(other) => Err(format!("unknown command '{other}'")),
        None => Err("missing command".into()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syscollector-manager: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
