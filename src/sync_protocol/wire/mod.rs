//! The sync protocol's wire messages: FlatBuffers tables of `schemas/inventorySync.fbs`.
//!
//! `inventory_sync_generated.rs` is produced by `flatc --rust` from the schema and committed;
//! this file wraps it with builders for the messages the agent sends and one verified
//! decoder for the messages the manager sends. Every incoming buffer goes through the
//! FlatBuffers verifier before any field is read.
//!
//! The beta hosts' additions (beta1 … rc1 share them) are decoded in both generations and
//! written only when the caller puts them in the message: [`Status::Processing`], the
//! `Start`'s cluster name and node ([`AgentMetadata::cluster_name`], `None` leaves the
//! fields out of the buffer) and [`Message::DataBatch`]. An alpha0 session builds none of
//! them, so its bytes are the ones the golden fixtures hold.

// Generated code: flatc's output is kept as it comes, so lints that would ask for changes
// to it are silenced here and only here.
#[allow(
    clippy::all,
    clippy::pedantic,
    unused_imports,
    dead_code,
    non_camel_case_types,
    non_snake_case,
    deprecated,
    unsafe_op_in_unsafe_fn,
    mismatched_lifetime_syntaxes
)]
#[rustfmt::skip]
mod inventory_sync_generated;

use inventory_sync_generated::wazuh::sync_schema as fb;

use flatbuffers::{FlatBufferBuilder, WIPOffset};

/// Why an incoming buffer was rejected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("invalid FlatBuffer message: {0}")]
    Invalid(String),
    #[error("message has no content")]
    Empty,
}

/// Session mode as carried in `Start` (the schema's `Mode` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    ModuleFull,
    ModuleDelta,
    ModuleCheck,
    MetadataDelta,
    MetadataCheck,
    GroupDelta,
    GroupCheck,
}

impl Mode {
    fn to_fb(self) -> fb::Mode {
        match self {
            Mode::ModuleFull => fb::Mode::ModuleFull,
            Mode::ModuleDelta => fb::Mode::ModuleDelta,
            Mode::ModuleCheck => fb::Mode::ModuleCheck,
            Mode::MetadataDelta => fb::Mode::MetadataDelta,
            Mode::MetadataCheck => fb::Mode::MetadataCheck,
            Mode::GroupDelta => fb::Mode::GroupDelta,
            Mode::GroupCheck => fb::Mode::GroupCheck,
        }
    }

    fn from_fb(m: fb::Mode) -> Option<Mode> {
        Some(match m {
            fb::Mode::ModuleFull => Mode::ModuleFull,
            fb::Mode::ModuleDelta => Mode::ModuleDelta,
            fb::Mode::ModuleCheck => Mode::ModuleCheck,
            fb::Mode::MetadataDelta => Mode::MetadataDelta,
            fb::Mode::MetadataCheck => Mode::MetadataCheck,
            fb::Mode::GroupDelta => Mode::GroupDelta,
            fb::Mode::GroupCheck => Mode::GroupCheck,
            _ => return None,
        })
    }
}

/// The `Start` option: plain sync or the vulnerability detector's first/ongoing sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncOption {
    Sync,
    VdFirst,
    VdSync,
}

impl SyncOption {
    fn to_fb(self) -> fb::Option {
        match self {
            SyncOption::Sync => fb::Option::Sync,
            SyncOption::VdFirst => fb::Option::VDFirst,
            SyncOption::VdSync => fb::Option::VDSync,
        }
    }

    fn from_fb(o: fb::Option) -> Option<SyncOption> {
        Some(match o {
            fb::Option::Sync => SyncOption::Sync,
            fb::Option::VDFirst => SyncOption::VdFirst,
            fb::Option::VDSync => SyncOption::VdSync,
            _ => return None,
        })
    }
}

/// Status of a manager's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    Error,
    Offline,
    ChecksumMismatch,
    /// beta1 onwards: the session is complete and the manager is still indexing it; the
    /// final `EndAck` comes later.
    Processing,
}

impl Status {
    fn to_fb(self) -> fb::Status {
        match self {
            Status::Ok => fb::Status::Ok,
            Status::Error => fb::Status::Error,
            Status::Offline => fb::Status::Offline,
            Status::ChecksumMismatch => fb::Status::ChecksumMismatch,
            Status::Processing => fb::Status::Processing,
        }
    }

    fn from_fb(s: fb::Status) -> Option<Status> {
        Some(match s {
            fb::Status::Ok => Status::Ok,
            fb::Status::Error => Status::Error,
            fb::Status::Offline => Status::Offline,
            fb::Status::ChecksumMismatch => Status::ChecksumMismatch,
            fb::Status::Processing => Status::Processing,
            _ => return None,
        })
    }
}

/// The agent facts a `Start` carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMetadata {
    pub architecture: String,
    pub hostname: String,
    pub os_name: String,
    pub os_platform: String,
    pub os_type: String,
    pub os_version: String,
    pub agent_version: String,
    pub agent_name: String,
    pub agent_id: String,
    pub groups: Vec<String>,
    /// beta1 onwards: the cluster of the agent's manager, as the agent learnt it in its
    /// handshake. `None` leaves the field out of the `Start` (an alpha0 agent has none);
    /// a beta agent always writes both, empty when it does not know them.
    pub cluster_name: Option<String>,
    pub cluster_node: Option<String>,
}

/// One document of a `DataValue` or of a `DataBatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub seq: u64,
    pub session: u64,
    /// The schema's `Operation::Delete`; otherwise `Upsert`.
    pub delete: bool,
    pub id: String,
    pub index: String,
    pub version: u64,
    pub data: Vec<u8>,
}

/// How large a `DataBatch` may grow, as beta4's agent estimates it: the agent queue's
/// message limit (`OS_MAXSTR`, 64 KiB) less 4 KiB for the queue's headers and the
/// FlatBuffers alignment.
pub const BATCH_PAYLOAD_LIMIT: usize = 60 * 1024;
/// beta4's estimate of what one value costs in a batch beyond its id, index and data.
pub const BATCH_ITEM_OVERHEAD: usize = 80;
/// beta4's estimate of the batch's own tables (DataBatch, its vector, Message, root).
pub const BATCH_OVERHEAD: usize = 128;

impl Value {
    /// What this value adds to a batch's estimated size (beta4's formula).
    pub fn batch_estimate(&self) -> usize {
        BATCH_ITEM_OVERHEAD + self.id.len() + self.index.len() + self.data.len()
    }
}

/// A `Start` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub module: String,
    pub mode: Mode,
    pub size: u64,
    pub indices: Vec<String>,
    pub option: SyncOption,
    pub metadata: AgentMetadata,
    pub global_version: u64,
}

/// Every message of the protocol, in either direction, decoded and owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `delete` is the schema's `Operation::Delete`; otherwise `Upsert`.
    DataValue {
        seq: u64,
        session: u64,
        delete: bool,
        id: String,
        index: String,
        version: u64,
        data: Vec<u8>,
    },
    DataContext {
        seq: u64,
        session: u64,
        id: String,
        index: String,
        data: Vec<u8>,
    },
    DataClean {
        seq: u64,
        session: u64,
        index: String,
    },
    ChecksumModule {
        session: u64,
        index: String,
        checksum: String,
    },
    Start(Box<Start>),
    StartAck {
        status: Status,
        session: u64,
    },
    End {
        session: u64,
    },
    EndAck {
        status: Status,
        session: u64,
    },
    /// Inclusive ranges of sequence numbers to send again.
    ReqRet {
        session: u64,
        ranges: Vec<(u64, u64)>,
    },
    /// beta1 onwards: several documents in one message.
    DataBatch(Vec<Value>),
}

fn bytes_of(v: Option<flatbuffers::Vector<'_, i8>>) -> Vec<u8> {
    v.map(|v| v.bytes().to_vec()).unwrap_or_default()
}

fn text(s: Option<&str>) -> String {
    s.unwrap_or_default().to_string()
}

fn strings(v: Option<flatbuffers::Vector<'_, flatbuffers::ForwardsUOffset<&str>>>) -> Vec<String> {
    v.map(|v| v.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The fields of one value to encode, borrowed.
struct ValueRef<'v> {
    seq: u64,
    session: u64,
    delete: bool,
    id: &'v str,
    index: &'v str,
    version: u64,
    data: &'v [u8],
}

/// Writes one `DataValue` table (strings, then data, then the table: the order every
/// alpha0 `DataValue` was written in).
fn encode_value<'b>(
    b: &mut FlatBufferBuilder<'b>,
    v: ValueRef<'_>,
) -> WIPOffset<fb::DataValue<'b>> {
    let id = b.create_string(v.id);
    let index = b.create_string(v.index);
    let signed: Vec<i8> = v.data.iter().map(|&x| x as i8).collect();
    let data = b.create_vector(&signed);
    fb::DataValue::create(
        b,
        &fb::DataValueArgs {
            seq: v.seq,
            session: v.session,
            operation: if v.delete {
                fb::Operation::Delete
            } else {
                fb::Operation::Upsert
            },
            id: Some(id),
            index: Some(index),
            version: v.version,
            data: Some(data),
        },
    )
}

fn decode_value(t: &fb::DataValue<'_>) -> Value {
    Value {
        seq: t.seq(),
        session: t.session(),
        delete: t.operation() == fb::Operation::Delete,
        id: text(t.id()),
        index: text(t.index()),
        version: t.version(),
        data: bytes_of(t.data()),
    }
}

impl Message {
    /// A short name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::DataValue { .. } => "DataValue",
            Message::DataContext { .. } => "DataContext",
            Message::DataClean { .. } => "DataClean",
            Message::ChecksumModule { .. } => "ChecksumModule",
            Message::Start(_) => "Start",
            Message::StartAck { .. } => "StartAck",
            Message::End { .. } => "End",
            Message::EndAck { .. } => "EndAck",
            Message::ReqRet { .. } => "ReqRet",
            Message::DataBatch(_) => "DataBatch",
        }
    }

    /// The `DataValue` message of one value.
    pub fn data_value(v: Value) -> Message {
        Message::DataValue {
            seq: v.seq,
            session: v.session,
            delete: v.delete,
            id: v.id,
            index: v.index,
            version: v.version,
            data: v.data,
        }
    }

    /// Serializes the message as a finished FlatBuffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = FlatBufferBuilder::with_capacity(256);
        let (kind, content): (fb::MessageType, WIPOffset<flatbuffers::UnionWIPOffset>) = match self
        {
            Message::DataValue {
                seq,
                session,
                delete,
                id,
                index,
                version,
                data,
            } => {
                let t = encode_value(
                    &mut b,
                    ValueRef {
                        seq: *seq,
                        session: *session,
                        delete: *delete,
                        id,
                        index,
                        version: *version,
                        data,
                    },
                );
                (fb::MessageType::DataValue, t.as_union_value())
            }
            Message::DataBatch(values) => {
                let offsets: Vec<_> = values
                    .iter()
                    .map(|v| {
                        encode_value(
                            &mut b,
                            ValueRef {
                                seq: v.seq,
                                session: v.session,
                                delete: v.delete,
                                id: &v.id,
                                index: &v.index,
                                version: v.version,
                                data: &v.data,
                            },
                        )
                    })
                    .collect();
                let values = b.create_vector(&offsets);
                let t = fb::DataBatch::create(
                    &mut b,
                    &fb::DataBatchArgs {
                        values: Some(values),
                    },
                );
                (fb::MessageType::DataBatch, t.as_union_value())
            }
            Message::DataContext {
                seq,
                session,
                id,
                index,
                data,
            } => {
                let id = b.create_string(id);
                let index = b.create_string(index);
                let signed: Vec<i8> = data.iter().map(|&x| x as i8).collect();
                let data = b.create_vector(&signed);
                let t = fb::DataContext::create(
                    &mut b,
                    &fb::DataContextArgs {
                        seq: *seq,
                        session: *session,
                        id: Some(id),
                        index: Some(index),
                        data: Some(data),
                    },
                );
                (fb::MessageType::DataContext, t.as_union_value())
            }
            Message::DataClean {
                seq,
                session,
                index,
            } => {
                let index = b.create_string(index);
                let t = fb::DataClean::create(
                    &mut b,
                    &fb::DataCleanArgs {
                        seq: *seq,
                        session: *session,
                        index: Some(index),
                    },
                );
                (fb::MessageType::DataClean, t.as_union_value())
            }
            Message::ChecksumModule {
                session,
                index,
                checksum,
            } => {
                let index = b.create_string(index);
                let checksum = b.create_string(checksum);
                let t = fb::ChecksumModule::create(
                    &mut b,
                    &fb::ChecksumModuleArgs {
                        session: *session,
                        index: Some(index),
                        checksum: Some(checksum),
                    },
                );
                (fb::MessageType::ChecksumModule, t.as_union_value())
            }
            Message::Start(s) => {
                let module = b.create_string(&s.module);
                let idx: Vec<_> = s.indices.iter().map(|i| b.create_string(i)).collect();
                let indices = b.create_vector(&idx);
                let m = &s.metadata;
                let architecture = b.create_string(&m.architecture);
                let hostname = b.create_string(&m.hostname);
                let osname = b.create_string(&m.os_name);
                let osplatform = b.create_string(&m.os_platform);
                let ostype = b.create_string(&m.os_type);
                let osversion = b.create_string(&m.os_version);
                let agentversion = b.create_string(&m.agent_version);
                let agentname = b.create_string(&m.agent_name);
                let agentid = b.create_string(&m.agent_id);
                let cluster_name = m.cluster_name.as_deref().map(|c| b.create_string(c));
                let cluster_node = m.cluster_node.as_deref().map(|c| b.create_string(c));
                let g: Vec<_> = m.groups.iter().map(|g| b.create_string(g)).collect();
                let groups = b.create_vector(&g);
                let t = fb::Start::create(
                    &mut b,
                    &fb::StartArgs {
                        module: Some(module),
                        mode: s.mode.to_fb(),
                        size: s.size,
                        index: Some(indices),
                        option: s.option.to_fb(),
                        architecture: Some(architecture),
                        hostname: Some(hostname),
                        osname: Some(osname),
                        osplatform: Some(osplatform),
                        ostype: Some(ostype),
                        osversion: Some(osversion),
                        agentversion: Some(agentversion),
                        agentname: Some(agentname),
                        agentid: Some(agentid),
                        groups: Some(groups),
                        global_version: s.global_version,
                        cluster_name,
                        cluster_node,
                    },
                );
                (fb::MessageType::Start, t.as_union_value())
            }
            Message::StartAck { status, session } => {
                let t = fb::StartAck::create(
                    &mut b,
                    &fb::StartAckArgs {
                        status: status.to_fb(),
                        session: *session,
                    },
                );
                (fb::MessageType::StartAck, t.as_union_value())
            }
            Message::End { session } => {
                let t = fb::End::create(&mut b, &fb::EndArgs { session: *session });
                (fb::MessageType::End, t.as_union_value())
            }
            Message::EndAck { status, session } => {
                let t = fb::EndAck::create(
                    &mut b,
                    &fb::EndAckArgs {
                        status: status.to_fb(),
                        session: *session,
                    },
                );
                (fb::MessageType::EndAck, t.as_union_value())
            }
            Message::ReqRet { session, ranges } => {
                let pairs: Vec<_> = ranges
                    .iter()
                    .map(|&(begin, end)| fb::Pair::create(&mut b, &fb::PairArgs { begin, end }))
                    .collect();
                let seq = b.create_vector(&pairs);
                let t = fb::ReqRet::create(
                    &mut b,
                    &fb::ReqRetArgs {
                        seq: Some(seq),
                        session: *session,
                    },
                );
                (fb::MessageType::ReqRet, t.as_union_value())
            }
        };
        let msg = fb::Message::create(
            &mut b,
            &fb::MessageArgs {
                content_type: kind,
                content: Some(content),
            },
        );
        fb::finish_message_buffer(&mut b, msg);
        b.finished_data().to_vec()
    }

    /// Verifies and decodes one buffer. Nothing of an unverified buffer is read.
    pub fn decode(buf: &[u8]) -> Result<Message, WireError> {
        let m = fb::root_as_message(buf).map_err(|e| WireError::Invalid(e.to_string()))?;
        let bad = |what: &str| WireError::Invalid(format!("{what} out of range"));
        let out = match m.content_type() {
            fb::MessageType::DataValue => {
                let t = m.content_as_data_value().ok_or(WireError::Empty)?;
                Message::data_value(decode_value(&t))
            }
            fb::MessageType::DataBatch => {
                let t = m.content_as_data_batch().ok_or(WireError::Empty)?;
                let values = t
                    .values()
                    .ok_or_else(|| WireError::Invalid("DataBatch without values".into()))?;
                Message::DataBatch(values.iter().map(|v| decode_value(&v)).collect())
            }
            fb::MessageType::DataContext => {
                let t = m.content_as_data_context().ok_or(WireError::Empty)?;
                Message::DataContext {
                    seq: t.seq(),
                    session: t.session(),
                    id: text(t.id()),
                    index: text(t.index()),
                    data: bytes_of(t.data()),
                }
            }
            fb::MessageType::DataClean => {
                let t = m.content_as_data_clean().ok_or(WireError::Empty)?;
                Message::DataClean {
                    seq: t.seq(),
                    session: t.session(),
                    index: text(t.index()),
                }
            }
            fb::MessageType::ChecksumModule => {
                let t = m.content_as_checksum_module().ok_or(WireError::Empty)?;
                Message::ChecksumModule {
                    session: t.session(),
                    index: text(t.index()),
                    checksum: text(t.checksum()),
                }
            }
            fb::MessageType::Start => {
                let t = m.content_as_start().ok_or(WireError::Empty)?;
                Message::Start(Box::new(Start {
                    module: text(t.module()),
                    mode: Mode::from_fb(t.mode()).ok_or_else(|| bad("mode"))?,
                    size: t.size(),
                    indices: strings(t.index()),
                    option: SyncOption::from_fb(t.option()).ok_or_else(|| bad("option"))?,
                    metadata: AgentMetadata {
                        architecture: text(t.architecture()),
                        hostname: text(t.hostname()),
                        os_name: text(t.osname()),
                        os_platform: text(t.osplatform()),
                        os_type: text(t.ostype()),
                        os_version: text(t.osversion()),
                        agent_version: text(t.agentversion()),
                        agent_name: text(t.agentname()),
                        agent_id: text(t.agentid()),
                        groups: strings(t.groups()),
                        cluster_name: t.cluster_name().map(str::to_string),
                        cluster_node: t.cluster_node().map(str::to_string),
                    },
                    global_version: t.global_version(),
                }))
            }
            fb::MessageType::StartAck => {
                let t = m.content_as_start_ack().ok_or(WireError::Empty)?;
                Message::StartAck {
                    status: Status::from_fb(t.status()).ok_or_else(|| bad("status"))?,
                    session: t.session(),
                }
            }
            fb::MessageType::End => {
                let t = m.content_as_end().ok_or(WireError::Empty)?;
                Message::End {
                    session: t.session(),
                }
            }
            fb::MessageType::EndAck => {
                let t = m.content_as_end_ack().ok_or(WireError::Empty)?;
                Message::EndAck {
                    status: Status::from_fb(t.status()).ok_or_else(|| bad("status"))?,
                    session: t.session(),
                }
            }
            fb::MessageType::ReqRet => {
                let t = m.content_as_req_ret().ok_or(WireError::Empty)?;
                Message::ReqRet {
                    session: t.session(),
                    ranges: t
                        .seq()
                        .map(|v| v.iter().map(|p| (p.begin(), p.end())).collect())
                        .unwrap_or_default(),
                }
            }
            _ => return Err(WireError::Empty),
        };
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Message> {
        vec![
            Message::DataValue {
                seq: 3,
                session: 99,
                delete: true,
                id: "abc".into(),
                index: "wazuh-states-inventory-processes".into(),
                version: 7,
                data: br#"{"a":1}"#.to_vec(),
            },
            Message::DataContext {
                seq: 4,
                session: 99,
                id: "x".into(),
                index: "i".into(),
                data: vec![0, 255, 128],
            },
            Message::DataClean {
                seq: 0,
                session: 1,
                index: "wazuh-states-inventory-ports".into(),
            },
            Message::ChecksumModule {
                session: 5,
                index: "i".into(),
                checksum: "deadbeef".into(),
            },
            Message::Start(Box::new(Start {
                module: "syscollector".into(),
                mode: Mode::ModuleDelta,
                size: 12,
                indices: vec!["a".into(), "b".into()],
                option: SyncOption::VdFirst,
                metadata: AgentMetadata {
                    architecture: "x86_64".into(),
                    hostname: "h".into(),
                    groups: vec!["default".into()],
                    ..AgentMetadata::default()
                },
                global_version: 0,
            })),
            Message::StartAck {
                status: Status::Ok,
                session: 42,
            },
            Message::End { session: 42 },
            Message::EndAck {
                status: Status::ChecksumMismatch,
                session: 42,
            },
            Message::ReqRet {
                session: 42,
                ranges: vec![(0, 3), (7, 7)],
            },
            Message::EndAck {
                status: Status::Processing,
                session: 42,
            },
            Message::Start(Box::new(Start {
                module: "syscollector".into(),
                mode: Mode::ModuleFull,
                size: 2,
                indices: vec!["a".into()],
                option: SyncOption::Sync,
                metadata: AgentMetadata {
                    agent_id: "001".into(),
                    groups: vec!["default".into()],
                    cluster_name: Some("wazuh".into()),
                    cluster_node: Some(String::new()),
                    ..AgentMetadata::default()
                },
                global_version: 0,
            })),
            Message::DataBatch(vec![
                Value {
                    seq: 0,
                    session: 42,
                    delete: false,
                    id: "a".into(),
                    index: "wazuh-states-inventory-packages".into(),
                    version: 1,
                    data: br#"{"package":{}}"#.to_vec(),
                },
                Value {
                    seq: 1,
                    session: 42,
                    delete: true,
                    id: "b".into(),
                    index: "wazuh-states-inventory-ports".into(),
                    version: 2,
                    data: Vec::new(),
                },
            ]),
            Message::DataBatch(Vec::new()),
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for m in all() {
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn garbage_and_truncation_are_rejected() {
        assert!(Message::decode(&[]).is_err());
        assert!(Message::decode(&[1, 2, 3]).is_err());
        for m in all() {
            let buf = m.encode();
            assert!(Message::decode(&buf[..1]).is_err());
            // A cut may only remove trailing padding; whatever verifies must be the message.
            for cut in 2..buf.len() {
                if let Ok(d) = Message::decode(&buf[..cut]) {
                    assert_eq!(d, m, "{} cut at {cut}", m.kind());
                }
            }
        }
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for len in [8usize, 64, 512, 4096] {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = Message::decode(&buf);
        }
    }

    #[test]
    fn union_order_is_the_reference_order() {
        assert_eq!(fb::MessageType::DataValue.0, 1);
        assert_eq!(fb::MessageType::DataClean.0, 2);
        assert_eq!(fb::MessageType::ChecksumModule.0, 3);
        assert_eq!(fb::MessageType::Start.0, 4);
        assert_eq!(fb::MessageType::StartAck.0, 5);
        assert_eq!(fb::MessageType::End.0, 6);
        assert_eq!(fb::MessageType::EndAck.0, 7);
        assert_eq!(fb::MessageType::ReqRet.0, 8);
        assert_eq!(fb::MessageType::DataContext.0, 9);
        assert_eq!(fb::MessageType::DataBatch.0, 10);
        assert_eq!(fb::Status::ChecksumMismatch.0, 3);
        assert_eq!(fb::Status::Processing.0, 4);
        assert_eq!(fb::Option::VDSync.0, 2);
        assert_eq!(fb::Mode::GroupCheck.0, 6);
    }
}

#[cfg(test)]
mod golden;
