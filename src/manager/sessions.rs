//! The manager's side of the protocol, faithful enough to test the agent against.
//!
//! The real Wazuh manager cannot run here, so this is the peer our tests (and the reference
//! manager tool) talk to. It answers `Start` with a fresh session id, collects the numbered
//! messages, answers `End` with `ReqRet` for any missing sequence numbers or with `EndAck`,
//! compares `ChecksumModule` with its own copy, and applies a session to its store only when
//! the session completes, all at once: a session that never completes changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::sync_protocol::wire::{Message, Mode, Start, Status};

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
}

impl Manager {
    /// A manager with an empty store.
    pub fn new() -> Manager {
        Manager {
            next_session: 1000,
            ..Manager::default()
        }
    }

    /// A copy of the documents held.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Handles one message from an agent and returns the replies to send back.
    pub fn handle(&mut self, msg: Message) -> Vec<Message> {
        match msg {
            Message::Start(start) => {
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
                    self.end(session)
                } else {
                    Vec::new()
                }
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
            Message::End { session } => self.end(session),
            // Replies are the manager's own messages; an agent does not send them.
            Message::StartAck { .. } | Message::EndAck { .. } | Message::ReqRet { .. } => {
                Vec::new()
            }
        }
    }

    fn end(&mut self, session: u64) -> Vec<Message> {
        if let Some(status) = self.forced_status {
            return vec![Message::EndAck { status, session }];
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
        vec![Message::EndAck { status, session }]
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
