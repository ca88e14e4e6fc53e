//! The integration tests as one test crate (one binary, linked once), a module per area:
//! - `helpers`: what several modules share (fixture paths, running a test alone in a child).
//! - `beta_host`: the C ABI driven as a beta host (v5.0.0-beta1 … rc1) drives it: generation, new exports and queries.
//! - `beta_documents`: documents as a beta4 host's module shapes and validates them.
//! - `cli`: the command-line tools (`syscollector`, `syscollector-manager`) as a user runs them.
//! - `dbsync`: the diff engine on a real SQLite file.
//! - `doc_limits`: document limits on a beta host (sync column, promotion, recovery, VD context).
//! - `dropin`: in place of the C++ module: its local.db, queues and checksums taken over.
//! - `dropin_logs`: the log lines of a full cycle and of the scans, as the reference writes them.
//! - `e2e`: the whole system as separate processes over a real socket (C host, agent, manager).
//! - `exported_symbols`: the cdylib exports exactly the C ABI of `include/syscollector.h`.
//! - `ffi_host`: the C ABI driven as a hostile host would (re-init, double lock, reentrant query).
//! - `header`: the committed C header is what cbindgen makes of the code today.
//! - `inventory`: the inventory module end to end on a system tree in a temporary directory.
//! - `memory`: the bounded-memory paths (paged sessions and deletions, chunked dpkg reads) give the same results.
//! - `metadata_shm`: the agent metadata read from the provider's shared-memory file.
//! - `normalizer`: the package normalizer on the agent's own `norm_config.json` rules.
//! - `storage_faults`: transient storage faults lose nothing; stops end checks and scans (issue 13.2).
//! - `sync_crash`: crash safety of the persistent queue (a child process killed at random moments).
//! - `sync_protocol`: the sync protocol against the in-process manager.
//! - `sysinfo_browser_extensions`: the `dbsync_browser_extensions` collector on fixture trees.
//! - `sysinfo_fifo`: no collector blocks on a FIFO (issue 13.1).
//! - `sysinfo_groups`: the `dbsync_groups` collector.
//! - `sysinfo_hardware`: the `dbsync_hwinfo` collector on fixture trees.
//! - `sysinfo_network`: the network collectors (interfaces, protocols, addresses).
//! - `sysinfo_os`: the `dbsync_osinfo` collector on fixture trees of many distributions.
//! - `sysinfo_packages_deb`: the packages collector on a Debian tree.
//! - `sysinfo_packages_other`: pacman, apk and snap rows, and the rescan cache.
//! - `sysinfo_packages_rpm`: the rpm readers on real databases made with rpm 4.18.
//! - `sysinfo_ports`: the `dbsync_ports` collector on captured `/proc` trees.
//! - `sysinfo_processes`: the `dbsync_processes` collector on captured `/proc` trees.
//! - `sysinfo_services`: the `dbsync_services` collector (systemd over D-Bus, unit files).
//! - `sysinfo_sources`: the live sources of the provider, chosen by name, run on this machine.
//! - `sysinfo_users`: the `dbsync_users` collector.
//! - `unchanged_sources`: a table whose sources did not change is skipped, and read in full once one did.

mod helpers;

mod beta_documents;
mod beta_host;
mod cli;
mod dbsync;
mod doc_limits;
mod dropin;
mod dropin_logs;
mod e2e;
mod exported_symbols;
mod ffi_host;
mod header;
mod inventory;
mod memory;
mod metadata_shm;
mod normalizer;
mod storage_faults;
mod sync_crash;
mod sync_protocol;
mod sysinfo_browser_extensions;
mod sysinfo_fifo;
mod sysinfo_groups;
mod sysinfo_hardware;
mod sysinfo_network;
mod sysinfo_os;
mod sysinfo_packages_deb;
mod sysinfo_packages_other;
mod sysinfo_packages_rpm;
mod sysinfo_ports;
mod sysinfo_processes;
mod sysinfo_services;
mod sysinfo_sources;
mod sysinfo_users;
mod unchanged_sources;
