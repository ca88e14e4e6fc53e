//! An in-process transport to a [`Manager`] running in its own thread, with faults.
//!
//! Messages the agent sends are decoded (verified) by the manager thread, which answers
//! through a reply sink, as the host daemon would route the manager's replies back through
//! `syscollector_parse_response`. Faults are reproducible from a seed: drop a fraction of
//! messages in either direction, drop chosen sequence numbers the first time they are
//! seen (to force a ReqRet), duplicate replies, answer with a forced status, and replay a
//! stale reply of an earlier session before each new one.

use std::collections::BTreeSet;
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use parking_lot::Mutex;

use super::manager::Manager;
use super::session::Transport;
use super::wire::{Message, Status};

/// Deterministic fault injection settings.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Fraction of agent → manager messages lost.
    pub drop_to_manager: f64,
    /// Fraction of manager → agent replies lost.
    pub drop_to_agent: f64,
    /// Fraction of replies delivered twice.
    pub duplicate_to_agent: f64,
    /// Sequence numbers of data messages lost the first time they are sent.
    pub drop_seq_once: BTreeSet<u64>,
    /// Before each StartAck, first deliver the last EndAck of an earlier session.
    pub stale_replies: bool,
}

/// A small xorshift generator: reproducible faults without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

type ReplySink = Arc<dyn Fn(&[u8]) + Send + Sync>;

struct Shared {
    manager: Manager,
    faults: Faults,
    rng: Rng,
    dropped_once: BTreeSet<u64>,
    last_end_ack: Option<Vec<u8>>,
    sink: Option<ReplySink>,
    sent: usize,
    available: bool,
}

/// The agent's end of the loopback; clone it freely.
#[derive(Clone)]
pub struct Loopback {
    shared: Arc<Mutex<Shared>>,
    tx: Sender<Vec<u8>>,
}

impl Loopback {
    /// Starts the manager thread.
    pub fn new(faults: Faults) -> Loopback {
        let shared = Arc::new(Mutex::new(Shared {
            manager: Manager::new(),
            rng: Rng::new(faults.seed),
            faults,
            dropped_once: BTreeSet::new(),
            last_end_ack: None,
            sink: None,
            sent: 0,
            available: true,
        }));
        let (tx, rx) = channel::<Vec<u8>>();
        let worker_shared = shared.clone();
        // The thread ends by itself when the last clone (the last sender) is dropped.
        std::thread::spawn(move || {
            while let Ok(buf) = rx.recv() {
                let (replies, sink) = {
                    let mut s = worker_shared.lock();
                    let Ok(msg) = Message::decode(&buf) else {
                        continue;
                    };
                    let data_seq = match &msg {
                        Message::DataValue { seq, .. }
                        | Message::DataContext { seq, .. }
                        | Message::DataClean { seq, .. } => Some(*seq),
                        _ => None,
                    };
                    if let Some(seq) = data_seq {
                        if s.faults.drop_seq_once.contains(&seq) && s.dropped_once.insert(seq) {
                            continue;
                        }
                    }
                    let drop_rate = s.faults.drop_to_manager;
                    if drop_rate > 0.0 && s.rng.unit() < drop_rate {
                        continue;
                    }
                    let is_start = matches!(msg, Message::Start(_));
                    let mut replies = Vec::new();
                    if is_start && s.faults.stale_replies {
                        if let Some(stale) = s.last_end_ack.clone() {
                            replies.push(stale);
                        }
                    }
                    for r in s.manager.handle(msg) {
                        let enc = r.encode();
                        if matches!(r, Message::EndAck { .. }) {
                            s.last_end_ack = Some(enc.clone());
                        }
                        let drop = s.faults.drop_to_agent;
                        if drop > 0.0 && s.rng.unit() < drop {
                            continue;
                        }
                        let dup = s.faults.duplicate_to_agent;
                        if dup > 0.0 && s.rng.unit() < dup {
                            replies.push(enc.clone());
                        }
                        replies.push(enc);
                    }
                    (replies, s.sink.clone())
                };
                if let Some(sink) = sink {
                    for r in replies {
                        sink(&r);
                    }
                }
            }
        });
        Loopback { shared, tx }
    }

    /// Where replies go (normally a sync protocol's `parse_response`).
    pub fn set_reply_sink(&self, sink: impl Fn(&[u8]) + Send + Sync + 'static) {
        self.shared.lock().sink = Some(Arc::new(sink));
    }

    /// Runs `f` on the manager (inspect the store, force a status, …).
    pub fn with_manager<T>(&self, f: impl FnOnce(&mut Manager) -> T) -> T {
        f(&mut self.shared.lock().manager)
    }

    /// Answers every Start and End with `status` (None: answer normally).
    pub fn force_status(&self, status: Option<Status>) {
        self.shared.lock().manager.forced_status = status;
    }

    /// Makes the channel unavailable (as a closed agent queue) or available again.
    pub fn set_available(&self, up: bool) {
        self.shared.lock().available = up;
    }

    /// Messages the agent sent so far.
    pub fn sent(&self) -> usize {
        self.shared.lock().sent
    }

    /// Changes the fault settings from now on.
    pub fn set_faults(&self, faults: Faults) {
        let mut s = self.shared.lock();
        s.rng = Rng::new(faults.seed);
        s.faults = faults;
        s.dropped_once.clear();
    }
}

impl Transport for Loopback {
    fn check(&self) -> bool {
        self.shared.lock().available
    }

    fn send(&self, message: &[u8]) -> bool {
        {
            let mut s = self.shared.lock();
            if !s.available {
                return false;
            }
            s.sent += 1;
        }
        self.tx.send(message.to_vec()).is_ok()
    }
}

/// A protocol instance whose transport is a new loopback manager, with the manager's
/// replies routed back into the instance's `parse_response`.
pub fn connected(
    settings: super::Settings,
    queue: super::PersistentQueue,
    faults: Faults,
    metadata: super::MetadataSource,
    log: crate::Logger,
) -> (Arc<super::SyncProtocol>, Loopback) {
    let peer = Loopback::new(faults);
    let proto = Arc::new(super::SyncProtocol::new(
        settings,
        queue,
        Arc::new(peer.clone()),
        metadata,
        log,
    ));
    let weak = Arc::downgrade(&proto);
    peer.set_reply_sink(move |buf| {
        if let Some(p) = weak.upgrade() {
            p.parse_response(buf);
        }
    });
    (proto, peer)
}
