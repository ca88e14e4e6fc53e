//! The Agent Sync Protocol: reliable delivery of the stateful inventory documents.

pub mod queue;
pub mod wire;
