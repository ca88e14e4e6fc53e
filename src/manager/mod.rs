//! The reference Wazuh manager: the peer the agent's [`sync_protocol`] talks to in the
//! tests, the benchmarks and the `syscollector-manager` tool, and what runs the module on
//! its own against it (the command line's `run`, the first-sync benchmark). None of it is
//! part of the agent library's job: nothing in [`ffi`] uses it.
//!
//! * [`sessions`]: the manager's side of a sync session and its in-memory document store;
//! * [`store`]: the document store on disk (SQLite), as the indexer holds the documents;
//! * [`faults`]: the one fault model (loss, duplication, reordering, delay, offline), seeded;
//! * [`loopback`]: an in-process transport to a manager thread, through the faults;
//! * [`server`]: the manager on a Unix socket, through the same faults;
//! * [`framing`]: how agent-queue messages travel over a stream socket;
//! * [`link`]: the agent's end of the socket to a reference manager;
//! * [`agent`]: the module, its sync loop and that link, as wazuh-modulesd would run them.
//!
//! [`sync_protocol`]: crate::sync_protocol
//! [`ffi`]: crate::ffi

pub mod agent;
pub mod faults;
pub mod framing;
pub mod link;
pub mod loopback;
pub mod server;
pub mod sessions;
pub mod store;

pub use faults::{Faults, Rng};
pub use loopback::Loopback;
pub use server::{serve, serve_as, ServerConfig};
pub use sessions::{Completed, Manager, Store, StoreOp};
pub use store::DocStore;
