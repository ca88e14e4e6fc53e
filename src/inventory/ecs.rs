//! The ECS shape of each table's documents.
//!
//! The manager indexes inventory documents in `wazuh-states-inventory-*` under Elastic
//! Common Schema field names (`package.name`, `process.parent.pid`, …). This file is the
//! one place that says which row column becomes which document field, and how: copied,
//! read as a boolean, or split on commas into an array.

use serde_json::Value;

use crate::dbsync::schema::{self, TableDef};
use crate::Row;

/// How a column's value is carried into the document.
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

/// One document field: its path (dot separated) and the row column it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub path: &'static str,
    pub column: &'static str,
    pub kind: Kind,
}

const fn p(path: &'static str, column: &'static str) -> Field {
    Field {
        path,
        column,
        kind: Kind::Plain,
    }
}
const fn b(path: &'static str, column: &'static str) -> Field {
    Field {
        path,
        column,
        kind: Kind::Bool,
    }
}
const fn a(path: &'static str, column: &'static str) -> Field {
    Field {
        path,
        column,
        kind: Kind::Array,
    }
}

const SYSTEM: &[Field] = &[
    p("host.architecture", "architecture"),
    p("host.hostname", "hostname"),
    p("host.os.build", "os_build"),
    p("host.os.codename", "os_codename"),
    p("host.os.distribution.release", "os_distribution_release"),
    p("host.os.full", "os_full"),
    p("host.os.kernel.name", "os_kernel_name"),
    p("host.os.kernel.release", "os_kernel_release"),
    p("host.os.kernel.version", "os_kernel_version"),
    p("host.os.major", "os_major"),
    p("host.os.minor", "os_minor"),
    p("host.os.name", "os_name"),
    p("host.os.type", "os_type"),
    p("host.os.patch", "os_patch"),
    p("host.os.platform", "os_platform"),
    p("host.os.version", "os_version"),
];

const HARDWARE: &[Field] = &[
    p("host.cpu.cores", "cpu_cores"),
    p("host.cpu.name", "cpu_name"),
    p("host.cpu.speed", "cpu_speed"),
    p("host.memory.free", "memory_free"),
    p("host.memory.total", "memory_total"),
    p("host.memory.used", "memory_used"),
    p("host.serial_number", "serial_number"),
];

const HOTFIXES: &[Field] = &[p("package.hotfix.name", "hotfix_name")];

const PACKAGES: &[Field] = &[
    p("package.architecture", "architecture"),
    p("package.category", "category"),
    p("package.description", "description"),
    p("package.installed", "installed"),
    p("package.multiarch", "multiarch"),
    p("package.name", "name"),
    p("package.path", "path"),
    p("package.priority", "priority"),
    p("package.size", "size"),
    p("package.source", "source"),
    p("package.type", "type"),
    p("package.vendor", "vendor"),
    p("package.version", "version_"),
];

const PROCESSES: &[Field] = &[
    a("process.args", "args"),
    p("process.args_count", "args_count"),
    p("process.command_line", "command_line"),
    p("process.name", "name"),
    p("process.parent.pid", "parent_pid"),
    p("process.pid", "pid"),
    p("process.start", "start"),
    p("process.state", "state"),
    p("process.stime", "stime"),
    p("process.utime", "utime"),
];

const PORTS: &[Field] = &[
    p("destination.ip", "destination_ip"),
    p("destination.port", "destination_port"),
    p("file.inode", "file_inode"),
    p("host.network.egress.queue", "host_network_egress_queue"),
    p("host.network.ingress.queue", "host_network_ingress_queue"),
    p("interface.state", "interface_state"),
    p("network.transport", "network_transport"),
    p("process.name", "process_name"),
    p("process.pid", "process_pid"),
    p("source.ip", "source_ip"),
    p("source.port", "source_port"),
];

const INTERFACES: &[Field] = &[
    a("host.mac", "host_mac"),
    p("host.network.ingress.bytes", "host_network_ingress_bytes"),
    p("host.network.ingress.drops", "host_network_ingress_drops"),
    p("host.network.ingress.errors", "host_network_ingress_errors"),
    p(
        "host.network.ingress.packets",
        "host_network_ingress_packages",
    ),
    p("host.network.egress.bytes", "host_network_egress_bytes"),
    p("host.network.egress.drops", "host_network_egress_drops"),
    p("host.network.egress.errors", "host_network_egress_errors"),
    p(
        "host.network.egress.packets",
        "host_network_egress_packages",
    ),
    p("interface.alias", "interface_alias"),
    p("interface.mtu", "interface_mtu"),
    p("interface.name", "interface_name"),
    p("interface.state", "interface_state"),
    p("interface.type", "interface_type"),
];

const PROTOCOLS: &[Field] = &[
    p("interface.name", "interface_name"),
    b("network.dhcp", "network_dhcp"),
    p("network.gateway", "network_gateway"),
    p("network.metric", "network_metric"),
    p("network.type", "network_type"),
];

const NETWORKS: &[Field] = &[
    p("interface.name", "interface_name"),
    p("network.broadcast", "network_broadcast"),
    p("network.ip", "network_ip"),
    p("network.netmask", "network_netmask"),
    p("network.type", "network_type"),
];

const USERS: &[Field] = &[
    a("host.ip", "host_ip"),
    b("login.status", "login_status"),
    p("login.tty", "login_tty"),
    p("login.type", "login_type"),
    p("process.pid", "process_pid"),
    p("user.auth_failures.count", "user_auth_failed_count"),
    p("user.auth_failures.timestamp", "user_auth_failed_timestamp"),
    p("user.created", "user_created"),
    p("user.full_name", "user_full_name"),
    p("user.group.id", "user_group_id"),
    p("user.group.id_signed", "user_group_id_signed"),
    a("user.groups", "user_groups"),
    p("user.home", "user_home"),
    p("user.id", "user_id"),
    b("user.is_hidden", "user_is_hidden"),
    b("user.is_remote", "user_is_remote"),
    p("user.last_login", "user_last_login"),
    p("user.name", "user_name"),
    p(
        "user.password.expiration_date",
        "user_password_expiration_date",
    ),
    p(
        "user.password.hash_algorithm",
        "user_password_hash_algorithm",
    ),
    p("user.password.inactive_days", "user_password_inactive_days"),
    p("user.password.last_change", "user_password_last_change"),
    p(
        "user.password.max_days_between_changes",
        "user_password_max_days_between_changes",
    ),
    p(
        "user.password.min_days_between_changes",
        "user_password_min_days_between_changes",
    ),
    p("user.password.status", "user_password_status"),
    p(
        "user.password.warning_days_before_expiration",
        "user_password_warning_days_before_expiration",
    ),
    a("user.roles", "user_roles"),
    p("user.shell", "user_shell"),
    p("user.type", "user_type"),
    p("user.uid_signed", "user_uid_signed"),
    p("user.uuid", "user_uuid"),
];

const GROUPS: &[Field] = &[
    p("group.description", "group_description"),
    p("group.id", "group_id"),
    p("group.id_signed", "group_id_signed"),
    b("group.is_hidden", "group_is_hidden"),
    p("group.name", "group_name"),
    a("group.users", "group_users"),
    p("group.uuid", "group_uuid"),
];

const SERVICES: &[Field] = &[
    p("error.log.file.path", "error_log_file_path"),
    p("file.path", "file_path"),
    p("log.file.path", "log_file_path"),
    a("process.args", "process_args"),
    p("process.executable", "process_executable"),
    p("process.group.name", "process_group_name"),
    p("process.pid", "process_pid"),
    p("process.root_directory", "process_root_dir"),
    p("process.user.name", "process_user_name"),
    p("process.working_directory", "process_working_dir"),
    p("service.address", "service_address"),
    p("service.description", "service_description"),
    p("service.enabled", "service_enabled"),
    p("service.exit_code", "service_exit_code"),
    p("service.following", "service_following"),
    p("service.frequency", "service_frequency"),
    p("service.id", "service_id"),
    b("service.inetd_compatibility", "service_inetd_compatibility"),
    p("service.name", "service_name"),
    p("service.object_path", "service_object_path"),
    p("service.restart", "service_restart"),
    p("service.start_type", "service_start_type"),
    b("service.starts.on_mount", "service_starts_on_mount"),
    a(
        "service.starts.on_not_empty_directory",
        "service_starts_on_not_empty_directory",
    ),
    a(
        "service.starts.on_path_modified",
        "service_starts_on_path_modified",
    ),
    p("service.state", "service_state"),
    p("service.sub_state", "service_sub_state"),
    p("service.target.address", "service_target_address"),
    p("service.target.ephemeral_id", "service_target_ephemeral_id"),
    p("service.target.type", "service_target_type"),
    p("service.type", "service_type"),
    p("service.win32_exit_code", "service_win32_exit_code"),
];

const BROWSER_EXTENSIONS: &[Field] = &[
    p("browser.name", "browser_name"),
    p("browser.profile.name", "browser_profile_name"),
    p("browser.profile.path", "browser_profile_path"),
    b("browser.profile.referenced", "browser_profile_referenced"),
    p("file.hash.sha256", "file_hash_sha256"),
    b("package.autoupdate", "package_autoupdate"),
    p("package.build_version", "package_build_version"),
    p("package.description", "package_description"),
    b("package.enabled", "package_enabled"),
    b("package.from_webstore", "package_from_webstore"),
    p("package.id", "package_id"),
    p("package.installed", "package_installed"),
    p("package.name", "package_name"),
    p("package.path", "package_path"),
    a("package.permissions", "package_permissions"),
    b("package.persistent", "package_persistent"),
    p("package.reference", "package_reference"),
    p("package.type", "package_type"),
    p("package.vendor", "package_vendor"),
    p("package.version", "package_version_"),
    b("package.visible", "package_visible"),
    p("user.id", "user_id"),
];

/// The document fields of `table`.
pub fn fields(table: &TableDef) -> &'static [Field] {
    match table.name {
        n if n == schema::OS.name => SYSTEM,
        n if n == schema::HARDWARE.name => HARDWARE,
        n if n == schema::HOTFIXES.name => HOTFIXES,
        n if n == schema::PACKAGES.name => PACKAGES,
        n if n == schema::PROCESSES.name => PROCESSES,
        n if n == schema::PORTS.name => PORTS,
        n if n == schema::NETWORK_IFACE.name => INTERFACES,
        n if n == schema::NETWORK_PROTOCOL.name => PROTOCOLS,
        n if n == schema::NETWORK_ADDRESS.name => NETWORKS,
        n if n == schema::USERS.name => USERS,
        n if n == schema::GROUPS.name => GROUPS,
        n if n == schema::SERVICES.name => SERVICES,
        n if n == schema::BROWSER_EXTENSIONS.name => BROWSER_EXTENSIONS,
        _ => &[],
    }
}

/// True for the values the reference treats as "no value": the empty string and the
/// collectors' unknown marker, a single space.
pub fn is_empty_value(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.is_empty() || s == " ")
}

fn convert(kind: Kind, v: &Value) -> Value {
    if v.is_null() || is_empty_value(v) {
        return Value::Null;
    }
    match kind {
        Kind::Plain => v.clone(),
        Kind::Bool => match v {
            Value::Number(n) => Value::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
            Value::String(s) => Value::Bool(s != "0"),
            other => other.clone(),
        },
        Kind::Array => match v {
            Value::String(s) => Value::Array(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            other => Value::Array(vec![other.clone()]),
        },
    }
}

/// Sets `value` at the dot-separated `path` of `doc`, creating objects on the way.
pub fn set_path(doc: &mut Row, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut cur = doc;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part.to_string(), value);
            return;
        }
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Row::new()));
        if !entry.is_object() {
            *entry = Value::Object(Row::new());
        }
        match entry {
            Value::Object(m) => cur = m,
            _ => return,
        }
    }
}

/// The ECS document of a row. With `all_fields`, every field of the table is present
/// (`null` when the row has no value); without, only the fields whose column the row has
/// (used for the old values of a modification).
pub fn document(table: &TableDef, row: &Row, all_fields: bool) -> Row {
    let mut doc = Row::new();
    for f in fields(table) {
        match row.get(f.column) {
            Some(v) => set_path(&mut doc, f.path, convert(f.kind, v)),
            None if all_fields => set_path(&mut doc, f.path, Value::Null),
            None => {}
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_table_column_has_exactly_one_field() {
        for t in schema::TABLES {
            let fs = fields(t);
            for c in t.columns {
                let n = fs.iter().filter(|f| f.column == c.name).count();
                assert_eq!(n, 1, "{}.{}", t.name, c.name);
            }
            assert_eq!(fs.len(), t.columns.len(), "{}", t.name);
        }
    }

    #[test]
    fn empty_and_unknown_become_null() {
        let row = json!({"name": "", "pid": " ", "args": "a, b,,c", "state": "S"});
        let doc = document(&schema::PROCESSES, row.as_object().unwrap(), true);
        let doc = Value::Object(doc);
        assert_eq!(doc["process"]["name"], Value::Null);
        assert_eq!(doc["process"]["pid"], Value::Null);
        assert_eq!(doc["process"]["args"], json!(["a", "b", "c"]));
        assert_eq!(doc["process"]["state"], json!("S"));
        assert_eq!(doc["process"]["parent"]["pid"], Value::Null);
    }

    #[test]
    fn booleans() {
        let row = json!({"group_is_hidden": 0, "group_name": "x"});
        let doc = Value::Object(document(&schema::GROUPS, row.as_object().unwrap(), false));
        assert_eq!(doc, json!({"group": {"is_hidden": false, "name": "x"}}));
        let row = json!({"group_is_hidden": "1"});
        let doc = Value::Object(document(&schema::GROUPS, row.as_object().unwrap(), false));
        assert_eq!(doc["group"]["is_hidden"], json!(true));
    }
}
