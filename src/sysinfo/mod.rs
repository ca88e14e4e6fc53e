//! The data provider: what the host looks like right now.
//!
//! [`SysInfo`] is the seam between the inventory module and the platform. Each method
//! returns the current rows of one collector's tables, with the column names the catalog
//! declares; which method fills which table is said once, by the collector's
//! [`Gather`](crate::catalog::Gather) in [`crate::catalog`]. The module computes
//! checksums, diffs and events. The Linux
//! implementation, [`LinuxSysInfo`], reads everything below a configurable root directory
//! (default `/`), so every parser runs on fixture trees of other distributions in tests.
//!
//! The modules split by job: [`read`] is the one way any collector reads a file (never
//! blocking, always bounded); [`parse`] holds the pure parsers shared by several
//! collectors (bytes in, types out); [`accounts`] the account databases several
//! collectors read; every other module is one collector, and no collector imports
//! another. What is asked of the live system rather than read below the root (the
//! addresses from `getifaddrs`, the services from systemd over D-Bus, the kernel from
//! `uname`) is chosen by name in [`Sources`], so each live source can be driven by a test.

pub mod accounts;
pub mod browser_extensions;
pub mod groups;
pub mod hardware;
pub mod network;
pub mod os;
pub mod packages;
pub mod parse;
pub mod ports;
pub mod processes;
pub mod read;
pub mod services;
pub mod users;

use std::path::{Path, PathBuf};

use crate::{null_logger, Logger, Row};

/// Why a collector produced no rows.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// This provider does not collect that table (yet, or on this platform). The module
    /// leaves the table as it is instead of reporting every row deleted.
    #[error("the {0} collector is not available in this build")]
    Unsupported(&'static str),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl CollectError {
    /// An I/O error with the path or object it concerns.
    pub fn io(what: impl std::fmt::Display, source: std::io::Error) -> Self {
        CollectError::Io {
            what: what.to_string(),
            source,
        }
    }
}

/// Rows of the three network tables, gathered together because they come from one walk
/// over the interfaces.
#[derive(Debug, Default, Clone)]
pub struct NetworkRows {
    pub interfaces: Vec<Row>,
    pub protocols: Vec<Row>,
    pub addresses: Vec<Row>,
}

/// A source of inventory rows.
pub trait SysInfo: Send + Sync {
    /// The one row of `dbsync_osinfo`.
    fn os(&self) -> Result<Row, CollectError>;
    /// The one row of `dbsync_hwinfo`.
    fn hardware(&self) -> Result<Row, CollectError>;
    /// Every process, one row at a time.
    fn processes(&self, each: &mut dyn FnMut(Row)) -> Result<(), CollectError>;
    /// Every installed package, one row at a time.
    fn packages(&self, _each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        Err(CollectError::Unsupported("packages"))
    }
    /// The identity of every file the packages' rows would be read from: equal values mean
    /// [`packages`](Self::packages) would give the same rows. `None` (the default) when the
    /// provider cannot tell.
    fn packages_fingerprint(&self) -> Option<Vec<u8>> {
        None
    }
    /// Installed hotfixes (a Windows notion).
    fn hotfixes(&self) -> Result<Vec<Row>, CollectError> {
        Err(CollectError::Unsupported("hotfixes"))
    }
    /// Interfaces, per-family protocol settings and addresses.
    fn network(&self) -> Result<NetworkRows, CollectError> {
        Err(CollectError::Unsupported("network"))
    }
    /// Open sockets.
    fn ports(&self) -> Result<Vec<Row>, CollectError> {
        Err(CollectError::Unsupported("ports"))
    }
    /// Local user accounts.
    fn users(&self) -> Result<Vec<Row>, CollectError> {
        Err(CollectError::Unsupported("users"))
    }
    /// Local groups.
    fn groups(&self) -> Result<Vec<Row>, CollectError> {
        Err(CollectError::Unsupported("groups"))
    }
    /// System services.
    fn services(&self) -> Result<Vec<Row>, CollectError> {
        Err(CollectError::Unsupported("services"))
    }
    /// Browser extensions of every user.
    fn browser_extensions(&self) -> Result<Vec<Row>, CollectError> {
        Err(CollectError::Unsupported("browser extensions"))
    }
}

/// Reads at most `limit` bytes of `path` as text (invalid UTF-8 replaced), so that a huge
/// or endless file cannot exhaust memory; refuses anything but a regular file without
/// blocking (see [`read`]).
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<String> {
    read::text(path, limit)
}

/// Where the addresses of the network tables come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressSource {
    /// `getifaddrs(3)` of the running host (the files when it fails).
    Getifaddrs,
    /// `proc/net/fib_trie`, `proc/net/if_inet6` and `proc/net/route` below the root.
    Files,
}

/// Where the services come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceSource {
    /// systemd over the system D-Bus (the unit files when it cannot be reached).
    SystemBus,
    /// systemd over the D-Bus at this address (a private bus; the unit files when it
    /// cannot be reached).
    Bus(String),
    /// The unit files below the root.
    UnitFiles,
}

/// Where the kernel facts of the OS row come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelSource {
    /// `uname(2)` of the running host.
    Uname,
    /// `proc/sys/kernel/{ostype,hostname,version,arch,osrelease}` below the root, each
    /// missing or empty one from `uname(2)`.
    Files,
}

/// The sources a provider asks the live system instead of reading files below its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub addresses: AddressSource,
    pub services: ServiceSource,
    pub kernel: KernelSource,
}

impl Sources {
    /// The running host's own sources: getifaddrs, the system bus, uname.
    pub fn live() -> Self {
        Sources {
            addresses: AddressSource::Getifaddrs,
            services: ServiceSource::SystemBus,
            kernel: KernelSource::Uname,
        }
    }

    /// Files below the root only (a fixture tree, a mounted image).
    pub fn files() -> Self {
        Sources {
            addresses: AddressSource::Files,
            services: ServiceSource::UnitFiles,
            kernel: KernelSource::Files,
        }
    }

    /// The default for `root`: [`Sources::live`] for `/`, [`Sources::files`] otherwise.
    pub fn for_root(root: &Path) -> Self {
        if root == Path::new("/") {
            Self::live()
        } else {
            Self::files()
        }
    }
}

/// The Linux data provider, reading below `root`.
#[derive(Clone)]
pub struct LinuxSysInfo {
    root: PathBuf,
    log: Logger,
    sources: Sources,
    /// Package rows of sources that did not change since the last scan (none for a
    /// provider that scans once).
    packages_cache: Option<std::sync::Arc<packages::PackageCache>>,
}

impl LinuxSysInfo {
    /// A provider for the running host (`/`).
    pub fn new(log: Logger) -> Self {
        Self::with_root("/", log)
    }

    /// A provider that reads `root` as if it were `/` (fixture trees, containers), with
    /// the default [`Sources`] of that root.
    pub fn with_root(root: impl Into<PathBuf>, log: Logger) -> Self {
        let root = root.into();
        LinuxSysInfo {
            sources: Sources::for_root(&root),
            root,
            log,
            packages_cache: Some(std::sync::Arc::new(packages::PackageCache::new())),
        }
    }

    /// The same provider without the package cache: every scan reads every package
    /// database, and none keeps a copy of the rows for the next one. For a process that
    /// scans once (`syscollector scan`), where a copy would never be replayed.
    pub fn without_package_cache(mut self) -> Self {
        self.packages_cache = None;
        self
    }

    /// The same provider with other live sources.
    pub fn with_sources(mut self, sources: Sources) -> Self {
        self.sources = sources;
        self
    }

    /// The root directory this provider reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The live sources this provider uses.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// `path` (absolute, as on the host) below the root.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    fn debug(&self, msg: &str) {
        (self.log)(crate::LogLevel::Debug, msg);
    }

    /// Logs a failed read of `path` at debug level, unless the file is just missing.
    pub(crate) fn read_failed(&self, path: &Path, e: &std::io::Error) {
        if e.kind() != std::io::ErrorKind::NotFound {
            self.debug(&format!("cannot read {}: {e}", path.display()));
        }
    }

    /// The text of `file` (absolute, as on the host) below the root, at most `limit` bytes,
    /// invalid UTF-8 replaced; `None` when it cannot be read. A missing file is the normal
    /// case; other errors (a FIFO, a directory) are logged at debug level.
    pub fn read_text(&self, file: &str, limit: u64) -> Option<String> {
        self.read_text_at(&self.path(file), limit)
    }

    /// As [`LinuxSysInfo::read_text`] for a path already below the root.
    pub fn read_text_at(&self, path: &Path, limit: u64) -> Option<String> {
        read::text(path, limit)
            .map_err(|e| self.read_failed(path, &e))
            .ok()
    }

    /// The bytes of `path` (already below the root), at most `limit`; `None` when it
    /// cannot be read (logged at debug level unless missing).
    pub fn read_bytes_at(&self, path: &Path, limit: u64) -> Option<Vec<u8>> {
        read::bytes(path, limit)
            .map_err(|e| self.read_failed(path, &e))
            .ok()
    }
}

impl Default for LinuxSysInfo {
    fn default() -> Self {
        Self::new(null_logger())
    }
}

impl SysInfo for LinuxSysInfo {
    fn os(&self) -> Result<Row, CollectError> {
        os::collect(self)
    }

    fn hardware(&self) -> Result<Row, CollectError> {
        hardware::collect(self)
    }

    fn processes(&self, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        processes::collect(self, each)
    }

    fn packages(&self, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
        match &self.packages_cache {
            Some(cache) => packages::collect_cached(self, cache, each),
            None => packages::collect(self, each),
        }
    }

    fn packages_fingerprint(&self) -> Option<Vec<u8>> {
        let mut fp = packages::fingerprint(self)?;
        // The same files below another root are other files.
        fp.extend_from_slice(self.root.as_os_str().as_encoded_bytes());
        Some(fp)
    }

    fn hotfixes(&self) -> Result<Vec<Row>, CollectError> {
        // Hotfixes are Windows updates; a Linux host has none.
        Ok(Vec::new())
    }

    fn network(&self) -> Result<NetworkRows, CollectError> {
        network::collect(self)
    }

    fn ports(&self) -> Result<Vec<Row>, CollectError> {
        ports::collect(self)
    }

    fn users(&self) -> Result<Vec<Row>, CollectError> {
        users::collect(self)
    }

    fn groups(&self) -> Result<Vec<Row>, CollectError> {
        groups::collect(self)
    }

    fn services(&self) -> Result<Vec<Row>, CollectError> {
        services::collect(self)
    }

    fn browser_extensions(&self) -> Result<Vec<Row>, CollectError> {
        browser_extensions::collect(self)
    }
}
