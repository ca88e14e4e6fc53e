//! The table of tables: every inventory table, declared once.
//!
//! A table's declaration (one `static` in one of the files below) says everything the rest
//! of the crate needs to know about it; nothing else names a table by string:
//!
//! | table                       | collector            | sync index (`wazuh-states-inventory-…`) | instance | hooks |
//! |-----------------------------|----------------------|------------------------------|----------|-------|
//! | `dbsync_hwinfo`             | `hardware`           | `hardware`                   | regular  | |
//! | `dbsync_osinfo`             | `os`                 | `system`                     | VD       | data context: packages |
//! | `dbsync_network_iface`      | `network`            | `interfaces`                 | regular  | |
//! | `dbsync_network_protocol`   | `network`            | `protocols`                  | regular  | |
//! | `dbsync_network_address`    | `network`            | `networks`                   | regular  | |
//! | `dbsync_packages`           | `packages`           | `packages`                   | VD       | normalizer; data context: OS; skipped while its sources are unchanged |
//! | `dbsync_hotfixes`           | `hotfixes`           | `hotfixes`                   | VD       | |
//! | `dbsync_ports`              | `ports`              | `ports`                      | regular  | socket selection |
//! | `dbsync_processes`          | `processes`          | `processes`                  | regular  | |
//! | `dbsync_groups`             | `groups`             | `groups`                     | regular  | |
//! | `dbsync_users`              | `users`              | `users`                      | regular  | |
//! | `dbsync_services`           | `services`           | `services`                   | regular  | |
//! | `dbsync_browser_extensions` | `browser_extensions` | `browser-extensions`         | regular  | install time as a number |
//!
//! Per table: its columns (SQLite type, ECS document path, ECS kind), primary key, sync
//! index, sync instance (regular or vulnerability detector) and the tables the
//! vulnerability detector needs as context when it changes, the [`Collector`] that fills
//! it, its row [`Hooks`], and for a beta host's document limits the name agentd gives its
//! limit and the columns that order its rows (the [`SYNC`] column is declared once, here,
//! for every table). Per collector: the name the host's configuration and logs
//! use, its command-line aliases, its on/off switch in [`Collectors`] and the
//! [`SysInfo`] call that produces its rows.
//!
//! Derived from here: the CREATE statements ([`crate::dbsync::schema`]), the ECS documents
//! ([`crate::inventory::ecs`]), which collectors are on ([`Collectors`]), the scan loop
//! (one pass over [`COLLECTORS`]), the data-context rule of the vulnerability detector,
//! the command line's `--only` names ([`by_cli_name`]) and the header's
//! `SYSCOLLECTOR_SYNC_INDEX_*` defines ([`sync_index_defines`], checked by
//! `tests/all/header.rs`).
//!
//! Files: [`system`] (hardware, OS, hotfixes), [`network`] (interfaces, protocols,
//! addresses, ports), [`software`] (packages, browser extensions), [`activity`]
//! (processes, services), [`accounts`] (users, groups).

pub mod accounts;
pub mod activity;
pub mod network;
pub mod software;
pub mod system;

pub use accounts::{GROUPS, USERS};
pub use activity::{PROCESSES, SERVICES};
pub use network::{NETWORK_ADDRESS, NETWORK_IFACE, NETWORK_PROTOCOL, PORTS};
pub use software::{BROWSER_EXTENSIONS, PACKAGES};
pub use system::{HARDWARE, HOTFIXES, OS};

use crate::sysinfo::{CollectError, SysInfo};
use crate::Row;

/// The SQLite storage class a column is declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    BigInt,
    Double,
}

/// How a column's value is carried into the ECS document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// As it is.
    Plain,
    /// `0`/`"0"` → false, any other number or string → true.
    Bool,
    /// A string is split on commas into trimmed, non-empty items; anything else becomes a
    /// one-item array.
    Array,
}

/// One column of a table: its name and storage type in the local database, and the
/// dot-separated path and kind of the document field it becomes.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    /// The ECS path (`package.name`); empty for the bookkeeping columns.
    pub ecs: &'static str,
    pub kind: Kind,
}

impl Column {
    /// The column with [`Kind::Bool`].
    pub const fn flag(mut self) -> Column {
        self.kind = Kind::Bool;
        self
    }

    /// The column with [`Kind::Array`].
    pub const fn list(mut self) -> Column {
        self.kind = Kind::Array;
        self
    }
}

const fn column(name: &'static str, ty: ColumnType, ecs: &'static str) -> Column {
    Column {
        name,
        ty,
        ecs,
        kind: Kind::Plain,
    }
}
/// A `TEXT` column mapped to `ecs`.
pub const fn text(name: &'static str, ecs: &'static str) -> Column {
    column(name, ColumnType::Text, ecs)
}
/// An `INTEGER` column mapped to `ecs`.
pub const fn int(name: &'static str, ecs: &'static str) -> Column {
    column(name, ColumnType::Integer, ecs)
}
/// A `BIGINT` column mapped to `ecs`.
pub const fn bigint(name: &'static str, ecs: &'static str) -> Column {
    column(name, ColumnType::BigInt, ecs)
}
/// A `DOUBLE` column mapped to `ecs`.
pub const fn double(name: &'static str, ecs: &'static str) -> Column {
    column(name, ColumnType::Double, ecs)
}

/// The document-limit flag of a row, `sync INTEGER DEFAULT 0`, which every table has on a
/// beta host (beta4's syscollectorTablesDef.hpp) and none has on an alpha0 host: 1 when the
/// row's document is one the manager is meant to hold (within its table's limit, or every
/// row when the table has none), 0 when it waits for room. It is bookkeeping, like
/// `checksum` and `version`: never part of a row's checksum, of a document or of a diff.
/// Alpha0 databases get it in place ([`crate::dbsync::DbSync::migrate_to_beta`]).
pub const SYNC: Column = int("sync", "");
/// The value [`SYNC`] takes when a row is stored without one (a new row).
pub const SYNC_DEFAULT: i64 = 0;

/// Options of a scan that row hooks may read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanOptions {
    /// Every TCP socket, not only listening ones (`ports_all`).
    pub ports_all: bool,
}

/// A per-scan filter over a collector's raw rows: `None` drops the row.
pub type RowFilter = Box<dyn FnMut(Row) -> Option<Row>>;

/// A table's [`Hooks::sources`]: the fingerprint of its sources, or `None`.
pub type SourcesCall = fn(&dyn SysInfo) -> Option<Vec<u8>>;

/// What the scan does to a table's rows between its collector and the diff engine.
#[derive(Clone, Copy)]

pub struct Hooks {
    /// Before the checksum, on each raw row (with state for one scan, e.g. to drop
    /// duplicates).
    pub select: Option<fn(ScanOptions) -> RowFilter>,
    /// After the checksum, the package normalizer's rules apply (renames, additions, and
    /// excluded rows are not stored).
    pub normalize: bool,
    /// Fields of the collector's row that are part of its checksum and then dropped
    /// before the row is stored or reported (the reference hashes some rows before it
    /// removes fields that belong to another table).
    pub hashed_only: &'static [&'static str],
    /// The identity of everything the table's rows are read from (see
    /// [`SysInfo::packages_fingerprint`]); when it is the one stored with the table after
    /// its previous scan, the scan skips the table: no row can have changed.
    pub sources: Option<SourcesCall>,
}

impl Hooks {
    /// No hook: rows go to the diff engine as the collector made them.
    pub const NONE: Hooks = Hooks {
        select: None,
        normalize: false,
        hashed_only: &[],
        sources: None,
    };
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("select", &self.select.is_some())
            .field("normalize", &self.normalize)
            .field("hashed_only", &self.hashed_only)
            .field("sources", &self.sources.is_some())
            .finish()
    }
}

/// Which sync protocol instance carries a table's documents.
#[derive(Debug, Clone, Copy)]
pub enum Instance {
    /// The module's regular instance.
    Regular,
    /// The vulnerability detector's instance (`<module>_vd`); when this table has pending
    /// differences, the rows of `context` are sent with them as DataContext.
    Vd {
        context: &'static [&'static TableDef],
    },
}

/// One inventory table.
#[derive(Debug)]
pub struct TableDef {
    /// Name in the local database (`dbsync_*`); also the stateless events' `collector`.
    pub name: &'static str,
    /// Sync index its documents go to (`wazuh-states-inventory-*`).
    pub index: &'static str,
    /// Data columns, without `checksum` and `version` (which every table has).
    pub columns: &'static [Column],
    pub primary_key: &'static [&'static str],
    /// Document limits (beta hosts): the name agentd's `getdoclimits syscollector` answer
    /// gives this table's limit (beta4's `AGENTD_TO_INDEX_MAP`).
    pub limit_name: &'static str,
    /// Document limits: the columns whose order (case-insensitive) decides which rows are
    /// promoted into free room first (ascending) and which leave a lowered limit first
    /// (descending); beta4's "simplified ordering fields" (`*_ORDER_BY`).
    pub limit_order: &'static [&'static str],
    /// The sync instance and, for the VD one, its data context.
    pub instance: Instance,
    /// The collector that fills it.
    pub collector: &'static Collector,
    pub hooks: Hooks,
}

impl TableDef {
    /// Documents of this table go to the vulnerability-detector sync instance.
    pub const fn vd(&self) -> bool {
        matches!(self.instance, Instance::Vd { .. })
    }

    /// The tables whose rows go with this table's pending differences as DataContext of
    /// the vulnerability detector (none for a regular table).
    pub fn data_context(&self) -> &'static [&'static TableDef] {
        match self.instance {
            Instance::Vd { context } => context,
            Instance::Regular => &[],
        }
    }
}

/// A provider call that hands one table's rows, one at a time, to a callback.
pub type RowsCall = fn(&dyn SysInfo, &mut dyn FnMut(Row)) -> Result<(), CollectError>;
/// A provider call that returns several tables' rows, one list per table.
pub type JointCall = fn(&dyn SysInfo) -> Result<Vec<Vec<Row>>, CollectError>;

/// How a collector's rows are obtained from the data provider.
pub enum Gather {
    /// One table's rows, handed over one at a time.
    Rows(RowsCall),
    /// Several tables' rows from one walk: one list per table of the collector, in its
    /// order; when it fails, none of them changes.
    Joint(JointCall),
}

/// One collector: what the host's configuration switches on and off.
pub struct Collector {
    /// Its name in the host's configuration and logs (`hardware`, `network`, …).
    pub name: &'static str,
    /// More names the command line's `--only` accepts for it.
    pub cli_aliases: &'static [&'static str],
    /// The tables it fills, in scan order.
    pub tables: &'static [&'static TableDef],
    /// Its switch in [`Collectors`].
    pub switch: fn(&mut Collectors) -> &mut bool,
    pub gather: Gather,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Which collectors run (the host's `syscollector_init` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collectors {
    pub hardware: bool,
    pub os: bool,
    pub network: bool,
    pub packages: bool,
    pub ports: bool,
    /// An option of the ports collector: every TCP socket, not only listening ones.
    pub ports_all: bool,
    pub processes: bool,
    pub hotfixes: bool,
    pub groups: bool,
    pub users: bool,
    pub services: bool,
    pub browser_extensions: bool,
}

impl Collectors {
    /// Every collector on (ports: listening only).
    pub fn all() -> Self {
        let mut c = Collectors::default();
        for collector in COLLECTORS {
            *(collector.switch)(&mut c) = true;
        }
        c
    }

    /// The collectors that fill `tables`.
    pub fn for_tables<'a>(tables: impl IntoIterator<Item = &'a &'static TableDef>) -> Self {
        let mut c = Collectors::default();
        for t in tables {
            *(t.collector.switch)(&mut c) = true;
        }
        c
    }

    /// Whether `collector` is on.
    pub fn is_on(&self, collector: &Collector) -> bool {
        let mut copy = *self;
        *(collector.switch)(&mut copy)
    }

    /// Whether the collector that fills `table` is enabled.
    pub fn enabled(&self, table: &TableDef) -> bool {
        self.is_on(table.collector)
    }

    /// True when no collector is enabled.
    pub fn none(&self) -> bool {
        !COLLECTORS.iter().any(|c| self.is_on(c))
    }

    /// Scan options the row hooks read.
    pub fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            ports_all: self.ports_all,
        }
    }
}

/// Every collector, in the order a scan runs them.
pub static COLLECTORS: [&Collector; 11] = [
    &system::HARDWARE_COLLECTOR,
    &system::OS_COLLECTOR,
    &network::NETWORK_COLLECTOR,
    &software::PACKAGES_COLLECTOR,
    &system::HOTFIXES_COLLECTOR,
    &network::PORTS_COLLECTOR,
    &activity::PROCESSES_COLLECTOR,
    &accounts::GROUPS_COLLECTOR,
    &accounts::USERS_COLLECTOR,
    &activity::SERVICES_COLLECTOR,
    &software::BROWSER_EXTENSIONS_COLLECTOR,
];

/// Every inventory table, in the order a scan visits them (the collectors' tables, in
/// collector order).
pub static TABLES: [&TableDef; 13] = [
    &HARDWARE,
    &OS,
    &NETWORK_IFACE,
    &NETWORK_PROTOCOL,
    &NETWORK_ADDRESS,
    &PACKAGES,
    &HOTFIXES,
    &PORTS,
    &PROCESSES,
    &GROUPS,
    &USERS,
    &SERVICES,
    &BROWSER_EXTENSIONS,
];

/// Index telling the manager to drop vulnerability results when OS or packages go away
/// (sent with a DataClean of any VD table).
pub const VULNERABILITIES_INDEX: &str = "wazuh-states-vulnerabilities";

/// Looks a table up by its name (`dbsync_*`).
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// Looks a table up by its sync index name (`wazuh-states-inventory-*`).
pub fn table_for_index(index: &str) -> Option<&'static TableDef> {
    TABLES.iter().copied().find(|t| t.index == index)
}

/// Looks a collector up by its configuration name.
pub fn collector(name: &str) -> Option<&'static Collector> {
    COLLECTORS.iter().copied().find(|c| c.name == name)
}

/// The tables a command-line word names: a collector's name or alias (all its tables),
/// or a table's name with or without its `dbsync_` prefix.
pub fn by_cli_name(name: &str) -> Option<Vec<&'static TableDef>> {
    if let Some(c) = COLLECTORS
        .iter()
        .find(|c| c.name == name || c.cli_aliases.contains(&name))
    {
        return Some(c.tables.to_vec());
    }
    let full = if name.starts_with("dbsync_") {
        name.to_string()
    } else {
        format!("dbsync_{name}")
    };
    table(&full).map(|t| vec![t])
}

/// Every word [`by_cli_name`] accepts: collector names and aliases, then table names
/// with and without `dbsync_`.
pub fn cli_names() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in COLLECTORS {
        names.push(c.name.to_string());
        names.extend(c.cli_aliases.iter().map(|a| a.to_string()));
    }
    for t in TABLES {
        names.push(t.name.to_string());
        names.push(t.name.trim_start_matches("dbsync_").to_string());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// The C header's index defines: `SYSCOLLECTOR_SYNC_INDEX_<NAME>` for every table's index
/// (its name is the index without `wazuh-states-inventory-`, upper case, `-` → `_`) and
/// for [`VULNERABILITIES_INDEX`].
pub fn sync_index_defines() -> Vec<(String, &'static str)> {
    let define = |index: &str| {
        let short = index
            .strip_prefix("wazuh-states-inventory-")
            .or_else(|| index.strip_prefix("wazuh-states-"))
            .unwrap_or(index);
        format!(
            "SYSCOLLECTOR_SYNC_INDEX_{}",
            short.to_ascii_uppercase().replace('-', "_")
        )
    };
    TABLES
        .iter()
        .map(|t| t.index)
        .chain([VULNERABILITIES_INDEX])
        .map(|index| (define(index), index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_the_collectors_tables_in_order() {
        let from_collectors: Vec<&str> = COLLECTORS
            .iter()
            .flat_map(|c| c.tables.iter().map(|t| t.name))
            .collect();
        let tables: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        assert_eq!(from_collectors, tables);
        for c in COLLECTORS {
            for t in c.tables {
                assert!(std::ptr::eq(t.collector, c), "{} of {}", t.name, c.name);
            }
            if let Gather::Rows(_) = c.gather {
                assert_eq!(
                    c.tables.len(),
                    1,
                    "{} streams the rows of one table",
                    c.name
                );
            }
        }
    }

    #[test]
    fn primary_keys_are_columns() {
        for t in TABLES {
            for pk in t.primary_key {
                assert!(
                    t.columns.iter().any(|c| c.name == *pk),
                    "{}: pk {pk} is not a column",
                    t.name
                );
            }
        }
    }

    #[test]
    fn limit_names_are_beta4s_and_order_columns_are_columns() {
        let mut names: Vec<_> = TABLES.iter().map(|t| t.limit_name).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "browser_extensions",
                "groups",
                "hardware",
                "hotfixes",
                "network_address",
                "network_iface",
                "network_protocol",
                "os_info",
                "packages",
                "ports",
                "processes",
                "services",
                "users"
            ]
        );
        for t in TABLES {
            assert!(!t.limit_order.is_empty(), "{}", t.name);
            for c in t.limit_order {
                assert!(t.columns.iter().any(|col| col.name == *c), "{}.{c}", t.name);
            }
            assert!(t.columns.iter().all(|c| c.name != SYNC.name), "{}", t.name);
        }
        assert_eq!(PACKAGES.limit_order, ["name", "type"]);
    }

    #[test]
    fn names_and_indices_are_unique() {
        let mut names: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        let mut idx: Vec<_> = TABLES.iter().map(|t| t.index).collect();
        names.sort();
        names.dedup();
        idx.sort();
        idx.dedup();
        assert_eq!(names.len(), 13);
        assert_eq!(idx.len(), 13);
    }

    #[test]
    fn vd_tables_are_system_packages_hotfixes() {
        let vd: Vec<_> = TABLES.iter().filter(|t| t.vd()).map(|t| t.name).collect();
        assert_eq!(vd, ["dbsync_osinfo", "dbsync_packages", "dbsync_hotfixes"]);
        for t in TABLES {
            assert!(t.data_context().iter().all(|c| c.vd()), "{}", t.name);
        }
        assert_eq!(OS.data_context()[0].name, PACKAGES.name);
        assert_eq!(PACKAGES.data_context()[0].name, OS.name);
        assert!(HOTFIXES.data_context().is_empty());
    }

    #[test]
    fn ecs_paths_are_unique_and_none_is_inside_another() {
        for t in TABLES {
            for a in t.columns {
                assert!(!a.ecs.is_empty(), "{}.{}", t.name, a.name);
                for b in t.columns {
                    if a.name == b.name {
                        continue;
                    }
                    assert_ne!(a.ecs, b.ecs, "{}", t.name);
                    assert!(
                        !b.ecs.starts_with(&format!("{}.", a.ecs)),
                        "{}: {} is inside {}",
                        t.name,
                        b.ecs,
                        a.ecs
                    );
                }
            }
        }
    }

    #[test]
    fn collector_switches_are_distinct_flags() {
        for c in COLLECTORS {
            let mut on = Collectors::default();
            *(c.switch)(&mut on) = true;
            assert!(!on.none());
            let others = COLLECTORS.iter().filter(|o| on.is_on(o)).count();
            assert_eq!(others, 1, "{}", c.name);
            assert!(!on.ports_all);
        }
        let all = Collectors::all();
        assert!(!all.ports_all);
        assert!(COLLECTORS.iter().all(|c| all.is_on(c)));
        assert!(Collectors::default().none());
    }

    #[test]
    fn cli_names_of_the_command_line() {
        let names =
            |w: &str| by_cli_name(w).map(|ts| ts.iter().map(|t| t.name).collect::<Vec<_>>());
        assert_eq!(names("os"), Some(vec!["dbsync_osinfo"]));
        assert_eq!(names("system"), Some(vec!["dbsync_osinfo"]));
        assert_eq!(names("hw"), Some(vec!["dbsync_hwinfo"]));
        assert_eq!(names("hardware"), Some(vec!["dbsync_hwinfo"]));
        assert_eq!(
            names("network"),
            Some(vec![
                "dbsync_network_iface",
                "dbsync_network_protocol",
                "dbsync_network_address"
            ])
        );
        assert_eq!(names("packages"), Some(vec!["dbsync_packages"]));
        assert_eq!(names("dbsync_ports"), Some(vec!["dbsync_ports"]));
        assert_eq!(names("network_iface"), Some(vec!["dbsync_network_iface"]));
        assert_eq!(names("nope"), None);
        for n in cli_names() {
            assert!(by_cli_name(&n).is_some(), "{n}");
        }
    }

    #[test]
    fn index_defines() {
        let d = sync_index_defines();
        assert_eq!(d.len(), 14);
        assert!(d.contains(&(
            "SYSCOLLECTOR_SYNC_INDEX_BROWSER_EXTENSIONS".into(),
            "wazuh-states-inventory-browser-extensions"
        )));
        assert!(d.contains(&(
            "SYSCOLLECTOR_SYNC_INDEX_VULNERABILITIES".into(),
            "wazuh-states-vulnerabilities"
        )));
    }
}
