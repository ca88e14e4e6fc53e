//! The one fault model of the reference manager, shared by the in-process [`loopback`]
//! and the socket [`server`]: what happens to messages between the agent and the
//! [`Manager`], reproducible from a seed.
//!
//! [`FaultyManager`] wraps a [`Manager`] and decides, message by message, what is lost,
//! duplicated, delayed or held back; the transports only carry out those decisions
//! ([`Held`] is the one-slot hold-back both of them use for reordering).
//!
//! [`loopback`]: super::loopback
//! [`server`]: super::server

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::sessions::Manager;
use crate::sync_protocol::wire::{Message, Status};

/// Deterministic fault settings; the default is a perfect link.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Fraction of incoming (agent → manager) sync messages lost.
    pub drop_in: f64,
    /// Fraction of incoming sync messages handled twice (as if sent twice).
    pub duplicate_in: f64,
    /// Fraction of incoming messages held back and handled after the next one.
    pub reorder_in: f64,
    /// Sequence numbers of data messages (or of values in a DataBatch) lost the first time
    /// they arrive (forces a ReqRet).
    pub drop_seq_once: BTreeSet<u64>,
    /// Fraction of replies (manager → agent) lost.
    pub drop_out: f64,
    /// Fraction of replies sent twice.
    pub duplicate_out: f64,
    /// Fraction of replies held back and sent after the next one.
    pub reorder_out: f64,
    /// Delay before a reply.
    pub delay: Duration,
    /// Fraction of replies delayed by `delay` (all of them when unset).
    pub delay_fraction: Option<f64>,
    /// Answer Offline to every Start and End for this long after the manager started.
    pub offline_for: Duration,
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

    /// True with probability `p` (draws a number only when `p > 0`, so that a fault that
    /// is off does not change the sequence the others see).
    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

/// What to send back for one incoming message, and how.
#[derive(Debug, Default)]
pub struct Replies {
    /// The encoded replies, in order (duplicates included).
    pub messages: Vec<Vec<u8>>,
    /// How long to wait before each reply.
    pub delay: Duration,
    /// Hold the first reply back until after the next one sent.
    pub reorder: bool,
}

/// A [`Manager`] behind a faulty link.
#[derive(Debug)]
pub struct FaultyManager {
    /// The sessions and the documents they delivered.
    pub manager: Manager,
    faults: Faults,
    rng: Rng,
    started: Instant,
    dropped_once: BTreeSet<u64>,
    last_end_ack: Option<Vec<u8>>,
    forced: Option<Status>,
}

impl FaultyManager {
    /// `manager` behind a link with `faults`; the offline period starts now.
    pub fn new(manager: Manager, faults: Faults) -> FaultyManager {
        FaultyManager {
            manager,
            rng: Rng::new(faults.seed),
            faults,
            started: Instant::now(),
            dropped_once: BTreeSet::new(),
            last_end_ack: None,
            forced: None,
        }
    }

    /// Changes the fault settings from now on (the generator restarts from the new seed).
    pub fn set_faults(&mut self, faults: Faults) {
        self.rng = Rng::new(faults.seed);
        self.faults = faults;
        self.dropped_once.clear();
    }

    /// Answers every Start and End with `status` (None: answer normally).
    pub fn force_status(&mut self, status: Option<Status>) {
        self.forced = status;
    }

    /// Whether to hold the message that just arrived back until after the next one.
    pub fn hold_incoming(&mut self) -> bool {
        let p = self.faults.reorder_in;
        self.rng.chance(p)
    }

    /// The manager's replies that came due since (beta4's final `EndAck`s) for the sessions
    /// `mine` accepts, through the outgoing faults (loss, duplication).
    pub fn take_due(&mut self, mine: &dyn Fn(u64) -> bool) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for r in self.manager.take_deferred(Instant::now(), mine) {
            let enc = r.encode();
            self.last_end_ack = Some(enc.clone());
            if self.rng.chance(self.faults.drop_out) {
                continue;
            }
            if self.rng.chance(self.faults.duplicate_out) {
                out.push(enc.clone());
            }
            out.push(enc);
        }
        out
    }

    /// Handles one verified message from an agent through the faults.
    pub fn handle(&mut self, mut msg: Message) -> Replies {
        if let Message::DataBatch(values) = &mut msg {
            // The batched values whose sequence number is to be lost once.
            values.retain(|v| {
                !(self.faults.drop_seq_once.contains(&v.seq) && self.dropped_once.insert(v.seq))
            });
        }
        let data_seq = match &msg {
            Message::DataValue { seq, .. }
            | Message::DataContext { seq, .. }
            | Message::DataClean { seq, .. } => Some(*seq),
            _ => None,
        };
        if let Some(seq) = data_seq {
            if self.faults.drop_seq_once.contains(&seq) && self.dropped_once.insert(seq) {
                return Replies::default();
            }
        }
        let f = &self.faults;
        if self.rng.chance(f.drop_in) {
            return Replies::default();
        }
        let offline = !f.offline_for.is_zero() && self.started.elapsed() < f.offline_for;
        self.manager.forced_status = if offline {
            Some(Status::Offline)
        } else {
            self.forced
        };
        let mut messages = Vec::new();
        if f.stale_replies && matches!(msg, Message::Start(_)) {
            if let Some(stale) = self.last_end_ack.clone() {
                messages.push(stale);
            }
        }
        let mut replies = Vec::new();
        if self.rng.chance(f.duplicate_in) {
            replies.extend(self.manager.handle(msg.clone()));
        }
        replies.extend(self.manager.handle(msg));
        for r in replies {
            let enc = r.encode();
            if matches!(r, Message::EndAck { .. }) {
                self.last_end_ack = Some(enc.clone());
            }
            if self.rng.chance(f.drop_out) {
                continue;
            }
            if self.rng.chance(f.duplicate_out) {
                messages.push(enc.clone());
            }
            messages.push(enc);
        }
        let reorder = self.rng.chance(f.reorder_out);
        let delay = match f.delay_fraction {
            Some(frac) if self.rng.unit() >= frac => Duration::ZERO,
            _ => f.delay,
        };
        Replies {
            messages,
            delay,
            reorder,
        }
    }
}

/// A one-slot hold-back: reordering by delivering one item after the next.
#[derive(Debug)]
pub struct Held<T>(Option<T>);

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held(None)
    }
}

impl<T> Held<T> {
    /// Passes `item` on, or keeps it when `hold` and nothing is held yet. Returns what to
    /// deliver now, in order: `item`, then what was held before it.
    pub fn pass(&mut self, item: T, hold: bool) -> Vec<T> {
        if hold && self.0.is_none() {
            self.0 = Some(item);
            return Vec::new();
        }
        let mut out = vec![item];
        out.extend(self.0.take());
        out
    }

    /// What is held, to deliver when nothing else comes (nothing may wait forever).
    pub fn take(&mut self) -> Option<T> {
        self.0.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_item_goes_after_the_next() {
        let mut h = Held::default();
        assert!(h.pass(1, true).is_empty());
        assert_eq!(h.pass(2, true), [2, 1]);
        assert_eq!(h.pass(3, false), [3]);
        assert!(h.pass(4, true).is_empty());
        assert_eq!(h.take(), Some(4));
        assert_eq!(h.take(), None);
    }

    #[test]
    fn same_seed_same_faults() {
        let draws = |seed| {
            let mut r = Rng::new(seed);
            (0..100).map(|_| r.chance(0.3)).collect::<Vec<_>>()
        };
        assert_eq!(draws(5), draws(5));
        assert_ne!(draws(5), draws(6));
        let mut off = Rng::new(1);
        let before = off.clone().unit();
        assert!(!off.chance(0.0));
        assert_eq!(off.unit(), before, "a fault that is off draws nothing");
    }

    #[test]
    fn offline_period_then_normal_answers() {
        let start = Message::Start(Box::new(crate::sync_protocol::wire::Start {
            module: "syscollector".into(),
            mode: crate::sync_protocol::Mode::ModuleDelta,
            size: 0,
            indices: Vec::new(),
            option: crate::sync_protocol::SyncOption::Sync,
            metadata: Default::default(),
            global_version: 0,
        }));
        let mut m = FaultyManager::new(
            Manager::new(),
            Faults {
                offline_for: Duration::from_millis(200),
                ..Faults::default()
            },
        );
        let status = |r: Replies| match Message::decode(&r.messages[0]) {
            Ok(Message::StartAck { status, .. }) => status,
            other => panic!("{other:?}"),
        };
        assert_eq!(status(m.handle(start.clone())), Status::Offline);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(status(m.handle(start.clone())), Status::Ok);
        m.force_status(Some(Status::Error));
        assert_eq!(status(m.handle(start)), Status::Error);
    }
}
