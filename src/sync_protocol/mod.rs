//! The Agent Sync Protocol: reliable delivery of the stateful inventory documents.
//!
//! * [`wire`]: the FlatBuffers messages, verified on the way in;
//! * [`queue`]: the persistent SQLite queue of differences;
//! * [`session`]: one protocol instance driving sessions over a [`session::Transport`];
//! * [`manager`] and [`loopback`]: the manager's side, to test against and to run locally.

pub mod framing;
pub mod loopback;
pub mod manager;
pub mod queue;
pub mod server;
pub mod session;
pub mod wire;

pub use queue::{Item, PersistentQueue};
pub use session::{MetadataSource, Settings, SyncProtocol, SyncResult, Transport};
pub use wire::{AgentMetadata, Mode, Status, SyncOption};
