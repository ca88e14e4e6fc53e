//! Agent Sync Protocol.
