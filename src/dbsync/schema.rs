//! The 13 inventory tables of the local database, as data.
//!
//! The C daemon, the manager and older agents all agree on these table names, column names,
//! column types and primary keys, so they are written down once here and everything else
//! (CREATE statements, the diff engine, document ids, sync indices) is derived from them.

use std::fmt::Write as _;

/// The SQLite storage class a column is declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Integer,
    BigInt,
    Double,
}

impl ColumnType {
    fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::Integer => "INTEGER",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Double => "DOUBLE",
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

/// One inventory table: its name, the sync index its documents go to, its data columns
/// (without `checksum` and `version`, which every table has) and its primary key.
#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    pub index: &'static str,
    pub columns: &'static [Column],
    pub primary_key: &'static [&'static str],
    /// Documents of this table go to the vulnerability-detector sync instance.
    pub vd: bool,
}

/// Name of the per-row checksum column.
pub const CHECKSUM: &str = "checksum";
/// Name of the per-row document version column.
pub const VERSION: &str = "version";
/// Name of the table that records the last integrity check per table.
pub const METADATA_TABLE: &str = "table_metadata";

const fn t(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Text,
    }
}
const fn i(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Integer,
    }
}
const fn b(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::BigInt,
    }
}
const fn d(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Double,
    }
}

pub const OS: TableDef = TableDef {
    name: "dbsync_osinfo",
    index: "wazuh-states-inventory-system",
    columns: &[
        t("hostname"),
        t("architecture"),
        t("os_name"),
        t("os_version"),
        t("os_codename"),
        t("os_major"),
        t("os_minor"),
        t("os_patch"),
        t("os_build"),
        t("os_platform"),
        t("os_type"),
        t("os_kernel_name"),
        t("os_kernel_release"),
        t("os_kernel_version"),
        t("os_distribution_release"),
        t("os_full"),
    ],
    primary_key: &["os_name", "os_version"],
    vd: true,
};

pub const HARDWARE: TableDef = TableDef {
    name: "dbsync_hwinfo",
    index: "wazuh-states-inventory-hardware",
    columns: &[
        t("serial_number"),
        t("cpu_name"),
        i("cpu_cores"),
        d("cpu_speed"),
        i("memory_total"),
        i("memory_free"),
        i("memory_used"),
    ],
    primary_key: &["serial_number"],
    vd: false,
};

pub const HOTFIXES: TableDef = TableDef {
    name: "dbsync_hotfixes",
    index: "wazuh-states-inventory-hotfixes",
    columns: &[t("hotfix_name")],
    primary_key: &["hotfix_name"],
    vd: true,
};

pub const PACKAGES: TableDef = TableDef {
    name: "dbsync_packages",
    index: "wazuh-states-inventory-packages",
    columns: &[
        t("name"),
        t("version_"),
        t("vendor"),
        t("installed"),
        t("path"),
        t("architecture"),
        t("category"),
        t("description"),
        b("size"),
        t("priority"),
        t("multiarch"),
        t("source"),
        t("type"),
    ],
    primary_key: &["name", "version_", "architecture", "type", "path"],
    vd: true,
};

pub const PROCESSES: TableDef = TableDef {
    name: "dbsync_processes",
    index: "wazuh-states-inventory-processes",
    columns: &[
        t("pid"),
        t("name"),
        t("state"),
        b("parent_pid"),
        b("utime"),
        b("stime"),
        t("command_line"),
        t("args"),
        b("args_count"),
        t("start"),
    ],
    primary_key: &["pid"],
    vd: false,
};

pub const PORTS: TableDef = TableDef {
    name: "dbsync_ports",
    index: "wazuh-states-inventory-ports",
    columns: &[
        t("network_transport"),
        t("source_ip"),
        b("source_port"),
        t("destination_ip"),
        b("destination_port"),
        b("host_network_egress_queue"),
        b("host_network_ingress_queue"),
        b("file_inode"),
        t("interface_state"),
        b("process_pid"),
        t("process_name"),
    ],
    primary_key: &[
        "file_inode",
        "network_transport",
        "source_ip",
        "source_port",
    ],
    vd: false,
};

pub const NETWORK_IFACE: TableDef = TableDef {
    name: "dbsync_network_iface",
    index: "wazuh-states-inventory-interfaces",
    columns: &[
        t("interface_name"),
        t("interface_alias"),
        t("interface_type"),
        t("interface_state"),
        i("interface_mtu"),
        t("host_mac"),
        i("host_network_egress_packages"),
        i("host_network_ingress_packages"),
        i("host_network_egress_bytes"),
        i("host_network_ingress_bytes"),
        i("host_network_egress_errors"),
        i("host_network_ingress_errors"),
        i("host_network_egress_drops"),
        i("host_network_ingress_drops"),
    ],
    primary_key: &["interface_name", "interface_alias", "interface_type"],
    vd: false,
};

pub const NETWORK_PROTOCOL: TableDef = TableDef {
    name: "dbsync_network_protocol",
    index: "wazuh-states-inventory-protocols",
    columns: &[
        t("interface_name"),
        t("network_type"),
        t("network_gateway"),
        i("network_dhcp"),
        t("network_metric"),
    ],
    primary_key: &["interface_name", "network_type"],
    vd: false,
};

pub const NETWORK_ADDRESS: TableDef = TableDef {
    name: "dbsync_network_address",
    index: "wazuh-states-inventory-networks",
    columns: &[
        t("interface_name"),
        i("network_type"),
        t("network_ip"),
        t("network_netmask"),
        t("network_broadcast"),
    ],
    primary_key: &["interface_name", "network_type", "network_ip"],
    vd: false,
};

pub const USERS: TableDef = TableDef {
    name: "dbsync_users",
    index: "wazuh-states-inventory-users",
    columns: &[
        t("user_name"),
        t("user_full_name"),
        t("user_home"),
        b("user_id"),
        b("user_uid_signed"),
        t("user_uuid"),
        t("user_groups"),
        b("user_group_id"),
        b("user_group_id_signed"),
        t("user_created"),
        t("user_roles"),
        t("user_shell"),
        t("user_type"),
        i("user_is_hidden"),
        i("user_is_remote"),
        t("user_last_login"),
        b("user_auth_failed_count"),
        t("user_auth_failed_timestamp"),
        b("user_password_last_change"),
        t("user_password_expiration_date"),
        t("user_password_hash_algorithm"),
        i("user_password_inactive_days"),
        i("user_password_max_days_between_changes"),
        i("user_password_min_days_between_changes"),
        t("user_password_status"),
        i("user_password_warning_days_before_expiration"),
        b("process_pid"),
        t("host_ip"),
        i("login_status"),
        t("login_tty"),
        t("login_type"),
    ],
    primary_key: &["user_name"],
    vd: false,
};

pub const GROUPS: TableDef = TableDef {
    name: "dbsync_groups",
    index: "wazuh-states-inventory-groups",
    columns: &[
        b("group_id"),
        t("group_name"),
        t("group_description"),
        b("group_id_signed"),
        t("group_uuid"),
        i("group_is_hidden"),
        t("group_users"),
    ],
    primary_key: &["group_name"],
    vd: false,
};

pub const SERVICES: TableDef = TableDef {
    name: "dbsync_services",
    index: "wazuh-states-inventory-services",
    columns: &[
        t("service_id"),
        t("service_name"),
        t("service_description"),
        t("service_type"),
        t("service_state"),
        t("service_sub_state"),
        t("service_enabled"),
        t("service_start_type"),
        t("service_restart"),
        b("service_frequency"),
        i("service_starts_on_mount"),
        t("service_starts_on_path_modified"),
        t("service_starts_on_not_empty_directory"),
        i("service_inetd_compatibility"),
        b("process_pid"),
        t("process_executable"),
        t("process_args"),
        t("process_user_name"),
        t("process_group_name"),
        t("process_working_dir"),
        t("process_root_dir"),
        t("file_path"),
        t("service_address"),
        t("log_file_path"),
        t("error_log_file_path"),
        i("service_exit_code"),
        i("service_win32_exit_code"),
        t("service_following"),
        t("service_object_path"),
        b("service_target_ephemeral_id"),
        t("service_target_type"),
        t("service_target_address"),
    ],
    primary_key: &["service_id", "file_path"],
    vd: false,
};

pub const BROWSER_EXTENSIONS: TableDef = TableDef {
    name: "dbsync_browser_extensions",
    index: "wazuh-states-inventory-browser-extensions",
    columns: &[
        t("browser_name"),
        t("user_id"),
        t("package_name"),
        t("package_id"),
        t("package_version_"),
        t("package_description"),
        t("package_vendor"),
        t("package_build_version"),
        t("package_path"),
        t("browser_profile_name"),
        t("browser_profile_path"),
        t("package_reference"),
        t("package_permissions"),
        t("package_type"),
        i("package_enabled"),
        i("package_visible"),
        i("package_autoupdate"),
        i("package_persistent"),
        i("package_from_webstore"),
        i("browser_profile_referenced"),
        t("package_installed"),
        t("file_hash_sha256"),
    ],
    primary_key: &[
        "browser_name",
        "user_id",
        "browser_profile_path",
        "package_name",
        "package_version_",
    ],
    vd: false,
};

/// Every inventory table, in the order a scan visits them.
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

/// Looks a table up by its name (`dbsync_*`).
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// Looks a table up by its sync index name (`wazuh-states-inventory-*`).
pub fn table_for_index(index: &str) -> Option<&'static TableDef> {
    TABLES.iter().copied().find(|t| t.index == index)
}

impl TableDef {
    /// The column definition of `name`, `checksum` and `version` included.
    pub fn column(&self, name: &str) -> Option<Column> {
        match name {
            CHECKSUM => Some(t(CHECKSUM)),
            VERSION => Some(i(VERSION)),
            _ => self.columns.iter().copied().find(|c| c.name == name),
        }
    }

    /// Data columns followed by `checksum` and `version`: the stored columns, in order.
    pub fn stored_columns(&self) -> impl Iterator<Item = Column> + '_ {
        self.columns
            .iter()
            .copied()
            .chain([t(CHECKSUM), i(VERSION)])
    }

    /// The CREATE TABLE statement for this table.
    pub fn create_sql(&self) -> String {
        let mut sql = format!("CREATE TABLE IF NOT EXISTS {} (", self.name);
        for c in self.columns {
            let _ = write!(sql, "{} {}, ", c.name, c.ty.sql());
        }
        let _ = write!(
            sql,
            "{CHECKSUM} TEXT, {VERSION} INTEGER NOT NULL DEFAULT 1, PRIMARY KEY ({})) WITHOUT ROWID;",
            self.primary_key.join(", ")
        );
        sql
    }
}

/// The CREATE TABLE statement of `table_metadata`.
pub fn metadata_create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {METADATA_TABLE} (table_name TEXT PRIMARY KEY, last_sync_time INTEGER NOT NULL);"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_keys_are_columns() {
        for t in TABLES {
            for pk in t.primary_key {
                assert!(
                    t.column(pk).is_some(),
                    "{}: pk {pk} is not a column",
                    t.name
                );
            }
        }
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
        let vd: Vec<_> = TABLES.iter().filter(|t| t.vd).map(|t| t.name).collect();
        assert_eq!(vd, ["dbsync_osinfo", "dbsync_packages", "dbsync_hotfixes"]);
    }

    #[test]
    fn create_sql_is_valid_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for t in TABLES {
            conn.execute_batch(&t.create_sql()).unwrap();
            let n: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM pragma_table_info('{}')", t.name),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n as usize, t.columns.len() + 2);
        }
        conn.execute_batch(&metadata_create_sql()).unwrap();
    }
}
