//! The reference manager's side of the house: what runs the module on its own against a
//! manager, outside wazuh-modulesd (the command line's `run`, the first-sync benchmark).
//!
//! * [`link`]: the agent's end of the socket to a reference manager;
//! * [`agent`]: the module, its sync loop and that link, as wazuh-modulesd would run them.
//!
//! Neither is part of what the C host loads: `libsyscollector.so` exports only `src/ffi/`.

pub mod agent;
pub mod link;
