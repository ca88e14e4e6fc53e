//! The Agent Sync Protocol: reliable delivery of the stateful inventory documents.
//!
//! * [`wire`]: the FlatBuffers messages, verified on the way in;
//! * [`queue`]: the persistent SQLite queue of differences;
//! * [`session`]: one protocol instance driving sessions over a [`session::Transport`];
//! * [`socket`]: the command line's transport to a manager over a Unix socket.
//!
//! The manager's side, to test against and to run locally, is [`crate::manager`].

pub mod queue;
pub mod session;
pub mod wire;

pub use queue::{Item, ItemOperation, PersistentQueue};
pub use session::{
    Integrity, MetadataSource, Outcome, Settings, SyncError, SyncProtocol, Transport,
};
pub use wire::{AgentMetadata, Mode, Status, SyncOption};
