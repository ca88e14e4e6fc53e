//! An in-process transport to a [`Manager`] running in its own thread, through the shared
//! [fault model](super::faults).
//!
//! Messages the agent sends are decoded (verified) by the manager thread, which answers
//! through a reply sink, as the host daemon would route the manager's replies back through
//! `syscollector_parse_response`. Every fault of [`Faults`] applies, as on the socket
//! server: loss, duplication and reordering in either direction, delayed replies, an
//! offline period, sequence numbers lost once (to force a ReqRet) and stale replies of an
//! earlier session.

use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::faults::{Faults, FaultyManager, Held};
use super::sessions::Manager;
use crate::generation::Generation;
use crate::sync_protocol::wire::{Message, Status};
use crate::sync_protocol::{MetadataSource, PersistentQueue, Settings, SyncProtocol, Transport};

type ReplySink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// How long held-back messages wait for a next one before they are delivered anyway.
const HOLD_LIMIT: Duration = Duration::from_millis(100);

struct Shared {
    peer: FaultyManager,
    sink: Option<ReplySink>,
    sent: usize,
    available: bool,
    /// Every message the agent sent, with when, while recording.
    recorded: Option<Vec<(Instant, Vec<u8>)>>,
}

/// The agent's end of the loopback; clone it freely.
#[derive(Clone)]
pub struct Loopback {
    shared: Arc<Mutex<Shared>>,
    tx: Sender<Vec<u8>>,
}

impl Loopback {
    /// Starts the manager thread (an alpha0 manager).
    pub fn new(faults: Faults) -> Loopback {
        Self::with_manager_of(Manager::new(), faults)
    }

    /// Starts the manager thread with `manager` (e.g. [`Manager::beta4`]).
    pub fn with_manager_of(manager: Manager, faults: Faults) -> Loopback {
        let shared = Arc::new(Mutex::new(Shared {
            peer: FaultyManager::new(manager, faults),
            sink: None,
            sent: 0,
            available: true,
            recorded: None,
        }));
        let (tx, rx) = channel::<Vec<u8>>();
        let worker = shared.clone();
        // The thread ends by itself when the last clone (the last sender) is dropped.
        std::thread::spawn(move || {
            let mut held_in: Held<Vec<u8>> = Held::default();
            let mut held_out: Held<Vec<u8>> = Held::default();
            loop {
                // Wake for held messages and for the manager's deferred replies.
                let wait = worker
                    .lock()
                    .peer
                    .manager
                    .next_deferred()
                    .map(|at| at.saturating_duration_since(Instant::now()).min(HOLD_LIMIT))
                    .unwrap_or(HOLD_LIMIT);
                let incoming = match rx.recv_timeout(wait) {
                    Ok(buf) => {
                        let hold = worker.lock().peer.hold_incoming();
                        held_in.pass(buf, hold)
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        // Nothing more is coming for now: nothing held may wait forever.
                        if let Some(h) = held_out.take() {
                            deliver(&worker, &[h]);
                        }
                        held_in.take().into_iter().collect()
                    }
                    Err(RecvTimeoutError::Disconnected) => return,
                };
                let due = worker.lock().peer.take_due(&|_| true);
                deliver(&worker, &due);
                for buf in incoming {
                    let Ok(msg) = Message::decode(&buf) else {
                        continue;
                    };
                    let replies = worker.lock().peer.handle(msg);
                    for reply in replies.messages {
                        if !replies.delay.is_zero() {
                            std::thread::sleep(replies.delay);
                        }
                        deliver(&worker, &held_out.pass(reply, replies.reorder));
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

    /// Runs `f` on the manager (inspect the store, …).
    pub fn with_manager<T>(&self, f: impl FnOnce(&mut Manager) -> T) -> T {
        f(&mut self.shared.lock().peer.manager)
    }

    /// Answers every Start and End with `status` (None: answer normally).
    pub fn force_status(&self, status: Option<Status>) {
        self.shared.lock().peer.force_status(status);
    }

    /// Makes the channel unavailable (as a closed agent queue) or available again.
    pub fn set_available(&self, up: bool) {
        self.shared.lock().available = up;
    }

    /// Messages the agent sent so far.
    pub fn sent(&self) -> usize {
        self.shared.lock().sent
    }

    /// Keeps a copy of every message the agent sends from now on (see [`Self::recorded`]).
    pub fn record(&self) {
        self.shared.lock().recorded.get_or_insert_with(Vec::new);
    }

    /// The messages the agent sent while recording, with when, in order.
    pub fn recorded(&self) -> Vec<(Instant, Vec<u8>)> {
        self.shared.lock().recorded.clone().unwrap_or_default()
    }

    /// Changes the fault settings from now on.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().peer.set_faults(faults);
    }
}

/// Hands replies to the sink, outside the lock (the sink may call back into the agent).
fn deliver(shared: &Mutex<Shared>, replies: &[Vec<u8>]) {
    let sink = shared.lock().sink.clone();
    if let Some(sink) = sink {
        for r in replies {
            sink(r);
        }
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
            if let Some(r) = s.recorded.as_mut() {
                r.push((Instant::now(), message.to_vec()));
            }
        }
        self.tx.send(message.to_vec()).is_ok()
    }
}

/// A protocol instance whose transport is a new loopback manager, with the manager's
/// replies routed back into the instance's `parse_response`.
pub fn connected(
    settings: Settings,
    queue: PersistentQueue,
    faults: Faults,
    metadata: MetadataSource,
    log: crate::Logger,
) -> (Arc<SyncProtocol>, Loopback) {
    connected_to(
        Manager::new(),
        Generation::Alpha0,
        settings,
        queue,
        faults,
        metadata,
        log,
    )
}

/// As [`connected`], with `manager` as the peer and an instance of `generation` (a beta
/// instance against [`Manager::beta4`] speaks the betas' wire).
pub fn connected_to(
    manager: Manager,
    generation: Generation,
    settings: Settings,
    queue: PersistentQueue,
    faults: Faults,
    metadata: MetadataSource,
    log: crate::Logger,
) -> (Arc<SyncProtocol>, Loopback) {
    let peer = Loopback::with_manager_of(manager, faults);
    let proto = Arc::new(
        SyncProtocol::new(settings, queue, Arc::new(peer.clone()), metadata, log)
            .with_generation(generation),
    );
    let weak = Arc::downgrade(&proto);
    peer.set_reply_sink(move |buf| {
        if let Some(p) = weak.upgrade() {
            p.parse_response(buf);
        }
    });
    (proto, peer)
}
