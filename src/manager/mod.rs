//! The reference Wazuh manager: the peer the agent's [`sync_protocol`] talks to in the
//! tests, the benchmarks and the `syscollector-manager` tool. It is not part of the agent
//! library's job (nothing in [`ffi`] uses it); it lives here so that every test drives the
//! agent against the same peer.
//!
//! * [`sessions`]: the manager's side of a sync session and its in-memory document store;
//! * [`store`]: the document store on disk (SQLite), as the indexer holds the documents;
//! * [`faults`]: the one fault model (loss, duplication, reordering, delay, offline), seeded;
//! * [`loopback`]: an in-process transport to a manager thread, through the faults;
//! * [`server`]: the manager on a Unix socket, through the same faults;
//! * [`framing`]: how agent-queue messages travel over a stream socket.
//!
//! [`sync_protocol`]: crate::sync_protocol
//! [`ffi`]: crate::ffi

pub mod faults;
pub mod framing;
pub mod loopback;
pub mod server;
pub mod sessions;
pub mod store;

pub use faults::{Faults, Rng};
pub use loopback::Loopback;
pub use server::{serve, ServerConfig};
pub use sessions::{Completed, Manager, Store, StoreOp};
pub use store::DocStore;
