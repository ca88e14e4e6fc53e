//! The manager's side of the protocol, faithful enough to test the agent against.
//!
//! The real Wazuh manager cannot run here, so this is the peer our tests (and the reference
//! manager tool) talk to. It answers `Start` with a fresh session id, collects the numbered
//! messages, answers `End` with `ReqRet` for any missing sequence numbers or with `EndAck`,
//! compares `ChecksumModule` with its own copy, and applies a session to its store only when
//! the session completes, all at once: a session that never completes changes nothing.
//!
//! It decodes every message of either generation. As an alpha0 manager (the default) it
//! ignores a `DataBatch`, as alpha0's manager rejects a message type it does not know. As a
//! beta4 manager ([`Manager::beta4`]) it does what beta4's `inventory_sync` does: the values
//! of a `DataBatch` count as that many `DataValue`s, and an `End` that completes a session
//! is answered `EndAck(Processing)` at once and with the final `EndAck` once the documents
//! are indexed ([`Manager::processing_time`] later, through [`Manager::take_deferred`]);
//! an `End` repeated meanwhile is answered `Processing` again, and a session completed by
//! the data a `ReqRet` asked for gets only the final `EndAck`. The `Start`'s cluster name
//! and node are kept with the session ([`Manager::starts`]); the documents are stored the
//! same way in both modes.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::generation::Generation;
use crate::sync_protocol::wire::{Message, Mode, Start, Status};

/// How many of the last `Start`s a manager keeps for inspection.
const STARTS_KEPT: usize = 256;

/// What the manager holds for one index: document id → (version, document).
pub type IndexStore = BTreeMap<String, (u64, Value)>;

/// The manager's copy of every index, per module name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Store {
    pub indices: BTreeMap<String, IndexStore>,
}

impl Store {
    /// Applies one change.
    pub fn apply(&mut self, op: &StoreOp) {
        match op {
            StoreOp::Upsert {
                index,
                id,
                version,
                doc,
            } => {
                self.indices
                    .entry(index.clone())
                    .or_default()
                    .insert(id.clone(), (*version, doc.clone()));
            }
            StoreOp::Delete { index, id } => {
                if let Some(docs) = self.indices.get_mut(index) {
                    docs.remove(id);
                }
            }
            StoreOp::ClearIndex { index } => {
                self.indices.remove(index);
            }
        }
    }

    /// The checksum the agent computes for a table: SHA-1 of the concatenated row
    /// checksums in ascending order; here read from each document's `checksum.hash.sha1`.
    pub fn checksum(&self, index: &str) -> String {
        let mut sums: Vec<&str> = self
            .indices
            .get(index)
            .map(|docs| {
                docs.values()
                    .filter_map(|(_, d)| d.pointer("/checksum/hash/sha1").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        sums.sort_unstable();
        let mut h = Sha1::new();
        for s in sums {
            h.update(s.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

#[derive(Debug)]
struct Session {
    start: Start,
    received: BTreeMap<u64, Message>,
    checksums: Vec<(String, String)>,
    /// End arrived while messages were missing; complete as soon as they are in.
    end_seen: bool,
}

/// One change a completed session made to a module's store.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    Upsert {
        index: String,
        id: String,
        version: u64,
        doc: Value,
    },
    Delete {
        index: String,
        id: String,
    },
    /// Every document of the index is gone (DataClean, or the start of a FULL resend).
    ClearIndex {
        index: String,
    },
}

/// A session the manager applied, with what it changed, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    pub session: u64,
    pub module: String,
    pub mode: Mode,
    pub messages: usize,
    pub ops: Vec<StoreOp>,
}

/// Session handling of one manager.
#[derive(Debug, Default)]
pub struct Manager {
    next_session: u64,
    sessions: HashMap<u64, Session>,
    finished: BTreeSet<u64>,
    /// The documents of every index, whichever instance (`syscollector` or
    /// `syscollector_vd`) delivered them: the indexer holds one `wazuh-states-inventory-*`
    /// per index.
    pub store: Store,
    /// Every completed session, in order.
    pub completed: Vec<Completed>,
    /// While set, every Start and End is answered with this status.
    pub forced_status: Option<Status>,
    /// Which manager this is: alpha0's (the default) or beta4's (see the module docs).
    pub generation: Generation,
    /// beta4 mode: how long indexing a completed session takes before its final `EndAck`.
    pub processing_time: Duration,
    /// How many messages of each kind arrived (every kind, whatever the mode did with it).
    pub seen: BTreeMap<&'static str, usize>,
    /// The last `Start`s received, oldest first.
    pub starts: VecDeque<Start>,
    /// Replies due later (beta4's final `EndAck`s), with when they are due.
    deferred: Vec<(Instant, Message)>,
    /// beta4 mode: sessions applied whose final `EndAck` is due at the instant given.
    indexing: HashMap<u64, Instant>,
}

impl Manager {
    /// A manager with an empty store.
    pub fn new() -> Manager {
        Manager {
            next_session: 1000,
            ..Manager::default()
        }
    }

    /// A manager that answers as beta4's does, taking `processing_time` to index.
    pub fn beta4(processing_time: Duration) -> Manager {
        Manager {
            generation: Generation::Beta,
            processing_time,
            ..Manager::new()
        }
    }

    /// The replies that came due (beta4's final `EndAck`s) of the sessions `mine` accepts,
    /// in order; the others stay.
    pub fn take_deferred(&mut self, now: Instant, mine: &dyn Fn(u64) -> bool) -> Vec<Message> {
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred)
            .into_iter()
            .partition(|(at, m)| *at <= now && mine(reply_session(m)));
        self.deferred = later;
        for (_, m) in &due {
            // Indexed: an End repeated from now on is answered Ok.
            self.indexing.remove(&reply_session(m));
        }
        due.into_iter().map(|(_, m)| m).collect()
    }

    /// When the next deferred reply is due.
    pub fn next_deferred(&self) -> Option<Instant> {
        self.deferred.iter().map(|(at, _)| *at).min()
    }

    /// A copy of the documents held.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Handles one message from an agent and returns the replies to send back.
    pub fn handle(&mut self, msg: Message) -> Vec<Message> {
        *self.seen.entry(msg.kind()).or_default() += 1;
        match msg {
            Message::Start(start) => {
                if self.starts.len() == STARTS_KEPT {
                    self.starts.pop_front();
                }
                self.starts.push_back((*start).clone());
                if let Some(status) = self.forced_status {
                    return vec![Message::StartAck { status, session: 0 }];
                }
                self.next_session += 1;
                let session = self.next_session;
                self.sessions.insert(
                    session,
                    Session {
                        start: *start,
                        received: BTreeMap::new(),
                        checksums: Vec::new(),
                        end_seen: false,
                    },
                );
                vec![Message::StartAck {
                    status: Status::Ok,
                    session,
                }]
            }
            Message::DataValue { seq, session, .. }
            | Message::DataContext { seq, session, .. }
            | Message::DataClean { seq, session, .. } => {
                let complete = match self.sessions.get_mut(&session) {
                    Some(s) => {
                        s.received.insert(seq, msg);
                        s.end_seen && s.received.len() as u64 >= s.start.size
                    }
                    None => false,
                };
                // The last message asked for by a ReqRet completes the session.
                if complete {
                    self.end(session, false)
                } else {
                    Vec::new()
                }
            }
            Message::DataBatch(values) => {
                if !self.generation.is_beta() {
                    // alpha0's manager does not know the message type.
                    return Vec::new();
                }
                let mut touched = BTreeSet::new();
                for v in values {
                    let session = v.session;
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.received.insert(v.seq, Message::data_value(v));
                        touched.insert(session);
                    }
                }
                let mut out = Vec::new();
                for session in touched {
                    let complete = self
                        .sessions
                        .get(&session)
                        .is_some_and(|s| s.end_seen && s.received.len() as u64 >= s.start.size);
                    if complete {
                        out.extend(self.end(session, false));
                    }
                }
                out
            }
            Message::ChecksumModule {
                session,
                index,
                checksum,
            } => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.checksums.push((index, checksum));
                }
                Vec::new()
            }
            Message::End { session } => self.end(session, true),
            // Replies are the manager's own messages; an agent does not send them.
            Message::StartAck { .. } | Message::EndAck { .. } | Message::ReqRet { .. } => {
                Vec::new()
            }
        }
    }

    /// The answer to a session that may be complete: to its `End` (`from_end`) or to the
    /// data that completed it after a `ReqRet`.
    fn end(&mut self, session: u64, from_end: bool) -> Vec<Message> {
        if let Some(status) = self.forced_status {
            return vec![Message::EndAck { status, session }];
        }
        if let Some(due) = self.indexing.get(&session) {
            if Instant::now() < *due {
                // beta4: End again while the session is being indexed.
                return vec![Message::EndAck {
                    status: Status::Processing,
                    session,
                }];
            }
            self.indexing.remove(&session);
        }
        if self.finished.contains(&session) {
            // A repeated End of an applied session: applying again would change nothing.
            return vec![Message::EndAck {
                status: Status::Ok,
                session,
            }];
        }
        let Some(s) = self.sessions.get_mut(&session) else {
            return vec![Message::EndAck {
                status: Status::Error,
                session,
            }];
        };
        s.end_seen = true;
        let missing: Vec<u64> = (0..s.start.size)
            .filter(|q| !s.received.contains_key(q))
            .collect();
        if !missing.is_empty() {
            return vec![Message::ReqRet {
                session,
                ranges: ranges(&missing),
            }];
        }
        let Some(s) = self.sessions.remove(&session) else {
            return Vec::new();
        };
        self.finished.insert(session);
        let module = s.start.module.clone();
        let store = &mut self.store;
        let mut status = Status::Ok;
        let mut ops = Vec::new();
        if s.start.mode == Mode::ModuleCheck {
            for (index, checksum) in &s.checksums {
                if store.checksum(index) != *checksum {
                    status = Status::ChecksumMismatch;
                }
            }
        } else {
            if s.start.mode == Mode::ModuleFull {
                for index in &s.start.indices {
                    ops.push(StoreOp::ClearIndex {
                        index: index.clone(),
                    });
                }
            }
            for m in s.received.values() {
                match m {
                    Message::DataValue {
                        delete,
                        id,
                        index,
                        version,
                        data,
                        ..
                    } => ops.push(if *delete {
                        StoreOp::Delete {
                            index: index.clone(),
                            id: id.clone(),
                        }
                    } else {
                        StoreOp::Upsert {
                            index: index.clone(),
                            id: id.clone(),
                            version: *version,
                            doc: serde_json::from_slice(data).unwrap_or(Value::Null),
                        }
                    }),
                    Message::DataClean { index, .. } => ops.push(StoreOp::ClearIndex {
                        index: index.clone(),
                    }),
                    _ => {}
                }
            }
            for op in &ops {
                store.apply(op);
            }
        }
        self.completed.push(Completed {
            session,
            module,
            mode: s.start.mode,
            messages: s.received.len(),
            ops,
        });
        if !self.generation.is_beta() {
            return vec![Message::EndAck { status, session }];
        }
        let due = Instant::now() + self.processing_time;
        self.indexing.insert(session, due);
        self.deferred
            .push((due, Message::EndAck { status, session }));
        if from_end {
            vec![Message::EndAck {
                status: Status::Processing,
                session,
            }]
        } else {
            Vec::new()
        }
    }
}

/// The session a reply is for.
fn reply_session(m: &Message) -> u64 {
    match m {
        Message::StartAck { session, .. }
        | Message::EndAck { session, .. }
        | Message::ReqRet { session, .. } => *session,
        _ => 0,
    }
}

/// Inclusive ranges covering sorted sequence numbers.
pub fn ranges(seqs: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &q in seqs {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == q => *end = q,
            _ => out.push((q, q)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_neighbours() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), [(0, 2), (5, 5), (7, 8)]);
        assert!(ranges(&[]).is_empty());
    }
}
