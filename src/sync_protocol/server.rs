//! The reference manager as a server: a Unix socket, the [`Manager`] sessions, a SQLite
//! store and an events log, with network faults for tests.
//!
//! Agents connect and send [`Frame`]s. Sync frames go to the session logic; every
//! completed session is written to the store in one transaction (one row per document,
//! keyed by module, index and id, as the indexer holds `wazuh-states-inventory-*`), and a
//! session that never completes writes nothing. Stateless events are appended to the events
//! log, one JSON object per line. Every `Start` is logged (`Start {...}`) with the agent
//! metadata it carries. Replies go back on the connection the request came from.

use std::io::{BufWriter, Write};
use std::os::unix::net::{UnixListener, UnixStream};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::{params, Connection};

use super::framing::{Frame, LOC_EVENT, LOC_SYNC};
use super::loopback::Rng;
use super::manager::{Manager, StoreOp};
use super::wire::{Message, Status};

/// Network faults, reproducible from `seed`.
#[derive(Debug, Clone, Default)]
pub struct NetFaults {
    pub seed: u64,
    /// Fraction of incoming sync messages dropped.
    pub drop_in: f64,
    /// Fraction of incoming sync messages processed twice (as if sent twice).
    pub duplicate_in: f64,
    /// Fraction of replies dropped.
    pub drop_out: f64,
    /// Fraction of replies sent twice.
    pub duplicate_out: f64,
    /// Fraction of replies held back and sent after the next one.
    pub reorder_out: f64,
    /// Fraction of incoming messages held back and handled after the next one.
    pub reorder_in: f64,
    /// Delay before a reply.
    pub delay: Duration,
    /// Fraction of replies delayed by `delay` (all of them when unset).
    pub delay_fraction: Option<f64>,
    /// Answer Offline to every session for this long after start.
    pub offline_for: Duration,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub socket: PathBuf,
    /// The document store; `None` keeps it in memory only.
    pub db: Option<PathBuf>,
    /// Where stateless events are appended.
    pub events: Option<PathBuf>,
    pub faults: NetFaults,
}

/// The SQLite document store: one table per index (named like the index), one row per
/// document id, as the indexer holds `wazuh-states-inventory-*`. Each row also records the
/// module (sync instance) that last wrote it.
pub struct DocStore {
    conn: Connection,
}

/// An index name as a quoted SQL identifier.
fn table_of(index: &str) -> String {
    format!("\"{}\"", index.replace('"', "\"\""))
}

impl DocStore {
    /// Opens (or creates) the store.
    pub fn open(path: &Path) -> rusqlite::Result<DocStore> {
        let conn = Connection::open(path)?;
        let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        Ok(DocStore { conn })
    }

    fn ensure_table(conn: &Connection, index: &str) -> rusqlite::Result<()> {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (id TEXT PRIMARY KEY NOT NULL, module TEXT NOT NULL, \
             version INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;",
            table_of(index)
        ))
    }

    /// The indices that have a table.
    pub fn indices(&self) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    /// Applies one completed session's changes in one transaction.
    pub fn apply(&mut self, module: &str, ops: &[StoreOp]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for op in ops {
            match op {
                StoreOp::Upsert {
                    index,
                    id,
                    version,
                    doc,
                } => {
                    Self::ensure_table(&tx, index)?;
                    tx.prepare_cached(&format!(
                        "INSERT OR REPLACE INTO {} (id, module, version, doc) VALUES (?1, ?2, ?3, ?4)",
                        table_of(index)
                    ))?
                    .execute(params![id, module, *version as i64, doc.to_string()])?;
                }
                StoreOp::Delete { index, id } => {
                    Self::ensure_table(&tx, index)?;
                    tx.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", table_of(index)))?
                        .execute(params![id])?;
                }
                StoreOp::ClearIndex { index } => {
                    Self::ensure_table(&tx, index)?;
                    tx.execute(&format!("DELETE FROM {}", table_of(index)), [])?;
                }
            }
        }
        tx.commit()
    }

    /// Loads everything into a manager's in-memory store.
    pub fn load_into(&self, manager: &mut Manager) -> rusqlite::Result<()> {
        for index in self.indices()? {
            for (_, id, version, doc) in self.dump(&index, None)? {
                let doc = serde_json::from_str(&doc).unwrap_or(serde_json::Value::Null);
                manager.store.apply(&StoreOp::Upsert {
                    index: index.clone(),
                    id,
                    version,
                    doc,
                });
            }
        }
        Ok(())
    }

    /// `(index, id)` of every document (written by `module` only, if given), ordered.
    pub fn ids(&self, module: Option<&str>) -> rusqlite::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for index in self.indices()? {
            for (m, id, _, _) in self.dump(&index, None)? {
                if module.is_none_or(|want| want == m) {
                    out.push((index.clone(), id));
                }
            }
        }
        Ok(out)
    }

    /// `(module, id, version, document)` of `index` (written by `module` only, if given),
    /// ordered by id; empty for an index the manager never received.
    pub fn dump(
        &self,
        index: &str,
        module: Option<&str>,
    ) -> rusqlite::Result<Vec<(String, String, u64, String)>> {
        let exists: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [index],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT module, id, version, doc FROM {} WHERE (?1 IS NULL OR module = ?1) ORDER BY id",
            table_of(index)
        ))?;
        let rows = stmt.query_map(params![module], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.collect()
    }
}

struct Shared {
    manager: Manager,
    store: Option<DocStore>,
    events: Option<BufWriter<std::fs::File>>,
    rng: Rng,
    faults: NetFaults,
    started: Instant,
}

/// Serves until `stop` is set (checked every 100 ms). Returns an error only when the
/// socket cannot be bound.
pub fn serve(
    cfg: ServerConfig,
    stop: Arc<AtomicBool>,
    log: &(dyn Fn(&str) + Sync),
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&cfg.socket);
    let listener = UnixListener::bind(&cfg.socket)?;
    listener.set_nonblocking(true)?;
    let mut manager = Manager::new();
    let store = match &cfg.db {
        Some(p) => match DocStore::open(p) {
            Ok(s) => {
                if let Err(e) = s.load_into(&mut manager) {
                    log(&format!("cannot load store {}: {e}", p.display()));
                }
                Some(s)
            }
            Err(e) => {
                log(&format!("cannot open store {}: {e}", p.display()));
                None
            }
        },
        None => None,
    };
    let events = cfg.events.as_ref().and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .map(BufWriter::new)
            .map_err(|e| log(&format!("cannot open events log {}: {e}", p.display())))
            .ok()
    });
    let shared = Arc::new(Mutex::new(Shared {
        manager,
        store,
        events,
        rng: Rng::new(cfg.faults.seed),
        faults: cfg.faults.clone(),
        started: Instant::now(),
    }));
    std::thread::scope(|scope| {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    let stop = stop.clone();
                    scope.spawn(move || connection(stream, shared, stop, log));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    log(&format!("accept failed: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    });
    if let Some(ev) = shared.lock().events.as_mut() {
        let _ = ev.flush();
    }
    let _ = std::fs::remove_file(&cfg.socket);
    Ok(())
}

fn connection(
    stream: UnixStream,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    log: &(dyn Fn(&str) + Sync),
) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = std::io::BufReader::new(stream);
    // A reply held back to be delivered after the next one (reordering fault).
    let mut held: Option<Frame> = None;
    // An incoming message held back to be handled after the next one.
    let mut held_in: Option<Frame> = None;
    let mut pending: Vec<Frame> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let frame = match pending.pop() {
            Some(f) => f,
            None => match Frame::read_from(&mut reader) {
                Ok(Some(f)) => {
                    let hold = {
                        let mut s = shared.lock();
                        let r = s.faults.reorder_in;
                        r > 0.0 && s.rng.unit() < r
                    };
                    if hold && held_in.is_none() {
                        held_in = Some(f);
                        continue;
                    }
                    if let Some(h) = held_in.take() {
                        pending.push(h);
                    }
                    f
                }
                Ok(None) => return,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    // Nothing more is coming for now: nothing held may wait forever.
                    if let Some(h) = held.take() {
                        if h.write_to(&mut writer).is_err() {
                            return;
                        }
                    }
                    if let Some(h) = held_in.take() {
                        pending.push(h);
                    }
                    continue;
                }
                Err(e) => {
                    log(&format!("connection closed: {e}"));
                    return;
                }
            },
        };
        let (replies, delay, reorder) = handle(&shared, frame, log);
        for reply in replies {
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if reorder && held.is_none() {
                held = Some(reply);
                continue;
            }
            if reply.write_to(&mut writer).is_err() {
                return;
            }
            if let Some(h) = held.take() {
                if h.write_to(&mut writer).is_err() {
                    return;
                }
            }
        }
    }
}

/// The replies to one frame, the delay before each, and whether to hold one back.
fn handle(
    shared: &Arc<Mutex<Shared>>,
    frame: Frame,
    log: &(dyn Fn(&str) + Sync),
) -> (Vec<Frame>, Duration, bool) {
    let mut s = shared.lock();
    if frame.loc == LOC_EVENT {
        if let Some(ev) = s.events.as_mut() {
            let _ = ev.write_all(&frame.payload);
            let _ = ev.write_all(b"\n");
            let _ = ev.flush();
        }
        return (Vec::new(), Duration::ZERO, false);
    }
    if frame.loc != LOC_SYNC {
        return (Vec::new(), Duration::ZERO, false);
    }
    let msg = match Message::decode(&frame.payload) {
        Ok(m) => m,
        Err(e) => {
            log(&format!(
                "rejected a sync message from {}: {e}",
                frame.location
            ));
            return (Vec::new(), Duration::ZERO, false);
        }
    };
    let f = s.faults.clone();
    if f.drop_in > 0.0 && s.rng.unit() < f.drop_in {
        return (Vec::new(), Duration::ZERO, false);
    }
    if let Message::Start(start) = &msg {
        // Who opened the session, as a manager would attribute its documents.
        let m = &start.metadata;
        log(&format!(
            "Start {}",
            serde_json::json!({
                "module": start.module, "mode": format!("{:?}", start.mode),
                "agent_id": m.agent_id, "agent_name": m.agent_name,
                "agent_version": m.agent_version, "groups": m.groups,
                "hostname": m.hostname, "architecture": m.architecture,
                "os_name": m.os_name, "os_platform": m.os_platform,
                "os_type": m.os_type, "os_version": m.os_version,
            })
        ));
    }
    let offline = !f.offline_for.is_zero() && s.started.elapsed() < f.offline_for;
    s.manager.forced_status = offline.then_some(Status::Offline);
    let mut replies = Vec::new();
    if f.duplicate_in > 0.0 && s.rng.unit() < f.duplicate_in {
        replies.extend(s.manager.handle(msg.clone()));
    }
    replies.extend(s.manager.handle(msg));
    let completed = std::mem::take(&mut s.manager.completed);
    for c in completed {
        if let Some(store) = s.store.as_mut() {
            if let Err(e) = store.apply(&c.module, &c.ops) {
                log(&format!("cannot store session {}: {e}", c.session));
            }
        }
    }
    let mut out = Vec::new();
    for r in replies {
        let frame = Frame {
            loc: LOC_SYNC,
            location: frame.location.clone(),
            payload: r.encode(),
        };
        if f.drop_out > 0.0 && s.rng.unit() < f.drop_out {
            continue;
        }
        if f.duplicate_out > 0.0 && s.rng.unit() < f.duplicate_out {
            out.push(frame.clone());
        }
        out.push(frame);
    }
    let reorder = f.reorder_out > 0.0 && s.rng.unit() < f.reorder_out;
    let delay = match f.delay_fraction {
        Some(frac) if s.rng.unit() >= frac => Duration::ZERO,
        _ => f.delay,
    };
    (out, delay, reorder)
}
