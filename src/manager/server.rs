//! The reference manager as a server: a Unix socket, the [`Manager`] sessions behind the
//! shared [fault model](super::faults), a SQLite [`DocStore`] and an events log.
//!
//! Agents connect and send [`Frame`]s. Sync frames go to the session logic; every
//! completed session is written to the store in one transaction, and a session that never
//! completes writes nothing. Stateless events are appended to the events log, one JSON
//! object per line. Every `Start` is logged (`Start {...}`) with the agent metadata it
//! carries. Replies go back on the connection the request came from.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::os::unix::net::{UnixListener, UnixStream};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::faults::{Faults, FaultyManager, Held};
use super::framing::{Frame, LOC_EVENT, LOC_SYNC};
use super::sessions::Manager;
use super::store::DocStore;
use crate::sync_protocol::wire::Message;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub socket: PathBuf,
    /// The document store; `None` keeps it in memory only.
    pub db: Option<PathBuf>,
    /// Where stateless events are appended.
    pub events: Option<PathBuf>,
    pub faults: Faults,
}

struct Shared {
    peer: FaultyManager,
    store: Option<DocStore>,
    events: Option<BufWriter<std::fs::File>>,
    /// The connection (and module location) each open session was started on, so that a
    /// deferred reply goes back where its session came from.
    owners: HashMap<u64, (usize, String)>,
}

/// Serves until `stop` is set (checked every 100 ms). Returns an error only when the
/// socket cannot be bound.
pub fn serve(
    cfg: ServerConfig,
    stop: Arc<AtomicBool>,
    log: &(dyn Fn(&str) + Sync),
) -> std::io::Result<()> {
    serve_as(cfg, Manager::new(), stop, log)
}

/// [`serve`], answering as `manager` does (alpha0's `Manager::new()`, beta4's
/// `Manager::beta4`).
pub fn serve_as(
    cfg: ServerConfig,
    manager: Manager,
    stop: Arc<AtomicBool>,
    log: &(dyn Fn(&str) + Sync),
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&cfg.socket);
    let listener = UnixListener::bind(&cfg.socket)?;
    listener.set_nonblocking(true)?;
    let mut manager = manager;
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
        peer: FaultyManager::new(manager, cfg.faults.clone()),
        store,
        events,
        owners: HashMap::new(),
    }));
    std::thread::scope(|scope| {
        let mut next_id = 0usize;
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    let stop = stop.clone();
                    next_id += 1;
                    let id = next_id;
                    scope.spawn(move || connection(id, stream, shared, stop, log));
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
    id: usize,
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
    let mut held_out: Held<Frame> = Held::default();
    // An incoming message held back to be handled after the next one.
    let mut held_in: Held<Frame> = Held::default();
    while !stop.load(Ordering::SeqCst) {
        for f in due_replies(&shared, id) {
            if f.write_to(&mut writer).is_err() {
                return;
            }
        }
        let frames = match Frame::read_from(&mut reader) {
            Ok(Some(f)) => {
                let hold = shared.lock().peer.hold_incoming();
                held_in.pass(f, hold)
            }
            Ok(None) => return,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                // Nothing more is coming for now: nothing held may wait forever.
                if let Some(h) = held_out.take() {
                    if h.write_to(&mut writer).is_err() {
                        return;
                    }
                }
                held_in.take().into_iter().collect()
            }
            Err(e) => {
                log(&format!("connection closed: {e}"));
                return;
            }
        };
        for frame in frames {
            let (replies, delay, reorder) = handle(&shared, id, frame, log);
            for reply in replies {
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                for f in held_out.pass(reply, reorder) {
                    if f.write_to(&mut writer).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The deferred replies (beta4's final `EndAck`s) due for the sessions of connection `id`.
fn due_replies(shared: &Arc<Mutex<Shared>>, id: usize) -> Vec<Frame> {
    let mut s = shared.lock();
    let Shared { peer, owners, .. } = &mut *s;
    let mine = |session: u64| owners.get(&session).is_some_and(|(c, _)| *c == id);
    let due = peer.take_due(&mine);
    due.into_iter()
        .filter_map(|payload| {
            let session = match Message::decode(&payload) {
                Ok(Message::EndAck { session, .. }) => session,
                _ => return None,
            };
            let location = owners.remove(&session).map(|(_, l)| l)?;
            Some(Frame {
                loc: LOC_SYNC,
                location,
                payload,
            })
        })
        .collect()
}

/// The replies to one frame, the delay before each, and whether to hold one back.
fn handle(
    shared: &Arc<Mutex<Shared>>,
    id: usize,
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
    if let Message::Start(start) = &msg {
        // Who opened the session, as a manager attributes its documents.
        let m = &start.metadata;
        let mut line = serde_json::json!({
            "module": start.module, "mode": format!("{:?}", start.mode),
            "agent_id": m.agent_id, "agent_name": m.agent_name,
            "agent_version": m.agent_version, "groups": m.groups,
            "hostname": m.hostname, "architecture": m.architecture,
            "os_name": m.os_name, "os_platform": m.os_platform,
            "os_type": m.os_type, "os_version": m.os_version,
        });
        // A beta agent's Start carries its cluster; an alpha0 one's has no such fields.
        for (key, value) in [
            ("cluster_name", &m.cluster_name),
            ("cluster_node", &m.cluster_node),
        ] {
            if let (Some(v), Some(obj)) = (value, line.as_object_mut()) {
                obj.insert(key.into(), v.clone().into());
            }
        }
        log(&format!("Start {line}"));
    }
    if let Message::DataBatch(values) = &msg {
        log(&format!(
            "DataBatch of {} values, {} bytes",
            values.len(),
            frame.payload.len()
        ));
    }
    let replies = s.peer.handle(msg);
    // Who owns each session this connection opened (for the replies beta4 sends later).
    let deferring = s.peer.manager.generation.is_beta();
    for payload in replies.messages.iter().filter(|_| deferring) {
        if let Ok(Message::StartAck { session, .. }) = Message::decode(payload) {
            s.owners.insert(session, (id, frame.location.clone()));
        }
    }
    let completed = std::mem::take(&mut s.peer.manager.completed);
    for c in completed {
        if let Some(store) = s.store.as_mut() {
            if let Err(e) = store.apply(&c.module, &c.ops) {
                log(&format!("cannot store session {}: {e}", c.session));
            }
        }
    }
    let out = replies
        .messages
        .into_iter()
        .map(|payload| Frame {
            loc: LOC_SYNC,
            location: frame.location.clone(),
            payload,
        })
        .collect();
    (out, replies.delay, replies.reorder)
}
