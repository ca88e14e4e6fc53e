//! Inventory module.
