//! Documents as a beta host's module (v5.0.0-beta4) shapes them, from real collector rows
//! (the fixture trees, through the scan's row preparation and a real SQLite diff engine):
//! the ECS conversions field by field, the validation against the index templates with the
//! lines beta4 logs for a refused document, and the alpha0 documents of the same rows.
//!
//! The expected values come from an oracle written here from beta4's `ecs*Data` functions
//! of `syscollectorImp.cpp` (each table's list of (JSON pointer, column, conversion) as the
//! reference spells it), not from the library's own conversion code.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::helpers::fixture;
use serde_json::{json, Value};
use syscollector::catalog::{self, Gather, ScanOptions, TableDef};
use syscollector::dbsync::{Change, DbSync};
use syscollector::generation::Generation;
use syscollector::inventory::events::{self, Operation};
use syscollector::inventory::validate::{self, Purpose};
use syscollector::sysinfo::LinuxSysInfo;
use syscollector::{null_logger, LogLevel, Row};

/// The conversions of beta4's `ecs*Data` functions.
#[derive(Clone, Copy, Debug)]
enum R {
    /// `setJsonField`: `""`, `" "` and `null` → null, else the value.
    P,
    /// `setJsonField(..., true)`: a number → `(int)v != 0`, a string → `v != "0"`.
    B,
    /// `setJsonFieldArray`: split on ',', items trimmed of spaces, empty ones dropped.
    A,
    /// cpu speed: a non-zero number → int64, else null.
    Speed,
    /// process pid: `std::stoll` of the string, null on failure or when not a string.
    Pid,
    /// inode / address type: a number → `std::to_string(int64)`, a string as is.
    NumStr,
    /// mtu: a number other than 0 and UINT32_MAX, else null.
    Mtu,
    /// metric: `std::stoll` of a string, int64 of a number.
    Metric,
    /// user id / ephemeral id: a number → `std::to_string(int)`, anything else as is.
    IntStr,
}
use R::*;

type Fields = &'static [(&'static str, &'static str, R)];

const HW: Fields = &[
    ("/host/cpu/cores", "cpu_cores", P),
    ("/host/cpu/name", "cpu_name", P),
    ("/host/cpu/speed", "cpu_speed", Speed),
    ("/host/memory/free", "memory_free", P),
    ("/host/memory/total", "memory_total", P),
    ("/host/memory/used", "memory_used", P),
    ("/host/serial_number", "serial_number", P),
];
const OS: Fields = &[
    ("/host/architecture", "architecture", P),
    ("/host/hostname", "hostname", P),
    ("/host/os/build", "os_build", P),
    ("/host/os/codename", "os_codename", P),
    (
        "/host/os/distribution/release",
        "os_distribution_release",
        P,
    ),
    ("/host/os/full", "os_full", P),
    ("/host/os/kernel/name", "os_kernel_name", P),
    ("/host/os/kernel/release", "os_kernel_release", P),
    ("/host/os/kernel/version", "os_kernel_version", P),
    ("/host/os/major", "os_major", P),
    ("/host/os/minor", "os_minor", P),
    ("/host/os/name", "os_name", P),
    ("/host/os/type", "os_type", P),
    ("/host/os/patch", "os_patch", P),
    ("/host/os/platform", "os_platform", P),
    ("/host/os/version", "os_version", P),
];
const HOTFIXES: Fields = &[("/package/hotfix/name", "hotfix_name", P)];
const PACKAGES: Fields = &[
    ("/package/architecture", "architecture", P),
    ("/package/category", "category", P),
    ("/package/description", "description", P),
    ("/package/installed", "installed", P),
    ("/package/multiarch", "multiarch", P),
    ("/package/name", "name", P),
    ("/package/path", "path", P),
    ("/package/priority", "priority", P),
    ("/package/size", "size", P),
    ("/package/source", "source", P),
    ("/package/type", "type", P),
    ("/package/vendor", "vendor", P),
    ("/package/version", "version_", P),
];
const PROCESSES: Fields = &[
    ("/process/args", "args", A),
    ("/process/args_count", "args_count", P),
    ("/process/command_line", "command_line", P),
    ("/process/name", "name", P),
    ("/process/parent/pid", "parent_pid", P),
    ("/process/pid", "pid", Pid),
    ("/process/start", "start", P),
    ("/process/state", "state", P),
    ("/process/stime", "stime", P),
    ("/process/utime", "utime", P),
];
const PORTS: Fields = &[
    ("/destination/ip", "destination_ip", A),
    ("/destination/port", "destination_port", P),
    ("/file/inode", "file_inode", NumStr),
    ("/host/network/egress/queue", "host_network_egress_queue", P),
    (
        "/host/network/ingress/queue",
        "host_network_ingress_queue",
        P,
    ),
    ("/interface/state", "interface_state", P),
    ("/network/transport", "network_transport", P),
    ("/process/name", "process_name", P),
    ("/process/pid", "process_pid", P),
    ("/source/ip", "source_ip", A),
    ("/source/port", "source_port", P),
];
const IFACE: Fields = &[
    ("/host/mac", "host_mac", A),
    (
        "/host/network/ingress/bytes",
        "host_network_ingress_bytes",
        P,
    ),
    (
        "/host/network/ingress/drops",
        "host_network_ingress_drops",
        P,
    ),
    (
        "/host/network/ingress/errors",
        "host_network_ingress_errors",
        P,
    ),
    (
        "/host/network/ingress/packets",
        "host_network_ingress_packages",
        P,
    ),
    ("/host/network/egress/bytes", "host_network_egress_bytes", P),
    ("/host/network/egress/drops", "host_network_egress_drops", P),
    (
        "/host/network/egress/errors",
        "host_network_egress_errors",
        P,
    ),
    (
        "/host/network/egress/packets",
        "host_network_egress_packages",
        P,
    ),
    ("/interface/alias", "interface_alias", P),
    ("/interface/mtu", "interface_mtu", Mtu),
    ("/interface/name", "interface_name", P),
    ("/interface/state", "interface_state", P),
    ("/interface/type", "interface_type", P),
];
const PROTOCOL: Fields = &[
    ("/interface/name", "interface_name", P),
    ("/network/dhcp", "network_dhcp", B),
    ("/network/gateway", "network_gateway", A),
    ("/network/metric", "network_metric", Metric),
    ("/network/type", "network_type", P),
];
const ADDRESS: Fields = &[
    ("/interface/name", "interface_name", P),
    ("/network/broadcast", "network_broadcast", A),
    ("/network/ip", "network_ip", A),
    ("/network/netmask", "network_netmask", A),
    ("/network/type", "network_type", NumStr),
];
const USERS: Fields = &[
    ("/host/ip", "host_ip", A),
    ("/login/status", "login_status", B),
    ("/login/tty", "login_tty", P),
    ("/login/type", "login_type", P),
    ("/process/pid", "process_pid", P),
    ("/user/auth_failures/count", "user_auth_failed_count", P),
    (
        "/user/auth_failures/timestamp",
        "user_auth_failed_timestamp",
        P,
    ),
    ("/user/created", "user_created", P),
    ("/user/full_name", "user_full_name", P),
    ("/user/group/id", "user_group_id", P),
    ("/user/group/id_signed", "user_group_id_signed", P),
    ("/user/groups", "user_groups", A),
    ("/user/home", "user_home", P),
    ("/user/id", "user_id", IntStr),
    ("/user/is_hidden", "user_is_hidden", B),
    ("/user/is_remote", "user_is_remote", B),
    ("/user/last_login", "user_last_login", P),
    ("/user/name", "user_name", P),
    (
        "/user/password/expiration_date",
        "user_password_expiration_date",
        P,
    ),
    (
        "/user/password/hash_algorithm",
        "user_password_hash_algorithm",
        P,
    ),
    (
        "/user/password/inactive_days",
        "user_password_inactive_days",
        P,
    ),
    ("/user/password/last_change", "user_password_last_change", P),
    (
        "/user/password/max_days_between_changes",
        "user_password_max_days_between_changes",
        P,
    ),
    (
        "/user/password/min_days_between_changes",
        "user_password_min_days_between_changes",
        P,
    ),
    ("/user/password/status", "user_password_status", P),
    (
        "/user/password/warning_days_before_expiration",
        "user_password_warning_days_before_expiration",
        P,
    ),
    ("/user/roles", "user_roles", A),
    ("/user/shell", "user_shell", P),
    ("/user/type", "user_type", P),
    ("/user/uid_signed", "user_uid_signed", P),
    ("/user/uuid", "user_uuid", P),
];
const GROUPS: Fields = &[
    ("/group/description", "group_description", P),
    ("/group/id", "group_id", P),
    ("/group/id_signed", "group_id_signed", P),
    ("/group/is_hidden", "group_is_hidden", B),
    ("/group/name", "group_name", P),
    ("/group/users", "group_users", A),
    ("/group/uuid", "group_uuid", P),
];
const SERVICES: Fields = &[
    ("/error/log/file/path", "error_log_file_path", P),
    ("/file/path", "file_path", P),
    ("/log/file/path", "log_file_path", P),
    ("/process/args", "process_args", A),
    ("/process/executable", "process_executable", P),
    ("/process/group/name", "process_group_name", P),
    ("/process/pid", "process_pid", P),
    ("/process/root_directory", "process_root_dir", P),
    ("/process/user/name", "process_user_name", P),
    ("/process/working_directory", "process_working_dir", P),
    ("/service/address", "service_address", P),
    ("/service/description", "service_description", P),
    ("/service/enabled", "service_enabled", P),
    ("/service/exit_code", "service_exit_code", P),
    ("/service/following", "service_following", P),
    ("/service/frequency", "service_frequency", P),
    ("/service/id", "service_id", P),
    (
        "/service/inetd_compatibility",
        "service_inetd_compatibility",
        B,
    ),
    ("/service/name", "service_name", P),
    ("/service/object_path", "service_object_path", P),
    ("/service/restart", "service_restart", P),
    ("/service/start_type", "service_start_type", P),
    ("/service/starts/on_mount", "service_starts_on_mount", B),
    (
        "/service/starts/on_not_empty_directory",
        "service_starts_on_not_empty_directory",
        A,
    ),
    (
        "/service/starts/on_path_modified",
        "service_starts_on_path_modified",
        A,
    ),
    ("/service/state", "service_state", P),
    ("/service/sub_state", "service_sub_state", P),
    ("/service/target/address", "service_target_address", P),
    (
        "/service/target/ephemeral_id",
        "service_target_ephemeral_id",
        IntStr,
    ),
    ("/service/target/type", "service_target_type", P),
    ("/service/type", "service_type", P),
    ("/service/win32_exit_code", "service_win32_exit_code", P),
];
const BROWSER: Fields = &[
    ("/browser/name", "browser_name", P),
    ("/browser/profile/name", "browser_profile_name", P),
    ("/browser/profile/path", "browser_profile_path", P),
    (
        "/browser/profile/referenced",
        "browser_profile_referenced",
        B,
    ),
    ("/file/hash/sha256", "file_hash_sha256", P),
    ("/package/autoupdate", "package_autoupdate", B),
    ("/package/build_version", "package_build_version", P),
    ("/package/description", "package_description", P),
    ("/package/enabled", "package_enabled", B),
    ("/package/from_webstore", "package_from_webstore", B),
    ("/package/id", "package_id", P),
    ("/package/installed", "package_installed", P),
    ("/package/name", "package_name", P),
    ("/package/path", "package_path", P),
    ("/package/permissions", "package_permissions", A),
    ("/package/persistent", "package_persistent", B),
    ("/package/reference", "package_reference", P),
    ("/package/type", "package_type", P),
    ("/package/vendor", "package_vendor", P),
    ("/package/version", "package_version_", P),
    ("/package/visible", "package_visible", B),
    ("/user/id", "user_id", P),
];

fn fields_of(table: &str) -> Fields {
    match table {
        "dbsync_hwinfo" => HW,
        "dbsync_osinfo" => OS,
        "dbsync_hotfixes" => HOTFIXES,
        "dbsync_packages" => PACKAGES,
        "dbsync_processes" => PROCESSES,
        "dbsync_ports" => PORTS,
        "dbsync_network_iface" => IFACE,
        "dbsync_network_protocol" => PROTOCOL,
        "dbsync_network_address" => ADDRESS,
        "dbsync_users" => USERS,
        "dbsync_groups" => GROUPS,
        "dbsync_services" => SERVICES,
        "dbsync_browser_extensions" => BROWSER,
        other => panic!("no beta4 field list for {other}"),
    }
}

fn unknown(v: &Value) -> bool {
    v == &json!("") || v == &json!(" ")
}

/// `std::stoll`: leading white space, a sign, the leading decimal digits.
fn stoll(s: &str) -> Option<i64> {
    let s = s.trim_start_matches(|c: char| " \t\n\r\x0b\x0c".contains(c));
    let (sign, rest) = if let Some(r) = s.strip_prefix('-') {
        (-1i128, r)
    } else {
        (1i128, s.strip_prefix('+').unwrap_or(s))
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let v = sign * digits.parse::<i128>().ok()?;
    i64::try_from(v).ok()
}

fn num_i64(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| u as i64))
        .unwrap_or_else(|| v.as_f64().unwrap() as i64)
}

/// The value beta4's `ecs*Data` gives the field, for a stored value `v` (`None`: the
/// column is absent from the row).
fn beta4(rule: R, v: Option<&Value>) -> Value {
    let Some(v) = v else {
        return Value::Null;
    };
    match rule {
        P => {
            if unknown(v) {
                Value::Null
            } else {
                v.clone()
            }
        }
        B => {
            if unknown(v) || v.is_null() {
                Value::Null
            } else if v.is_number() {
                json!(num_i64(v) as i32 != 0)
            } else if let Some(s) = v.as_str() {
                json!(s != "0")
            } else {
                v.clone()
            }
        }
        A => {
            if v.is_null() || unknown(v) {
                Value::Null
            } else if let Some(s) = v.as_str() {
                Value::Array(
                    s.split(',')
                        .map(|x| x.trim_matches(' '))
                        .filter(|x| !x.is_empty())
                        .map(|x| json!(x))
                        .collect(),
                )
            } else {
                json!([v])
            }
        }
        Speed => {
            if v.is_number() && v.as_f64().unwrap() != 0.0 {
                json!(num_i64(v))
            } else {
                Value::Null
            }
        }
        Pid => match v.as_str() {
            Some(s) if !unknown(v) => stoll(s).map_or(Value::Null, |n| json!(n)),
            _ => Value::Null,
        },
        NumStr => {
            if v.is_number() {
                json!(num_i64(v).to_string())
            } else if v.is_string() {
                v.clone()
            } else {
                Value::Null
            }
        }
        Mtu => {
            if v.is_number() && num_i64(v) != 4294967295 && num_i64(v) != 0 {
                v.clone()
            } else {
                Value::Null
            }
        }
        Metric => {
            if v.is_null() || unknown(v) {
                Value::Null
            } else if let Some(s) = v.as_str() {
                stoll(s).map_or(Value::Null, |n| json!(n))
            } else if v.is_number() {
                json!(num_i64(v))
            } else {
                Value::Null
            }
        }
        IntStr => {
            if v.is_number() {
                json!((num_i64(v) as i32).to_string())
            } else {
                v.clone()
            }
        }
    }
}

/// Every leaf path of a document (arrays are leaves), as JSON pointers.
fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                leaves(child, &format!("{prefix}/{k}"), out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

/// Asserts a beta document is exactly what beta4 makes of `row`: each field of its list
/// with the oracle's value, plus `checksum.hash.sha1` and `state`, nothing else.
fn assert_beta4_document(table: &TableDef, row: &Row, doc: &Value) {
    let fields = fields_of(table.name);
    for (pointer, column, rule) in fields {
        let expected = beta4(*rule, row.get(*column));
        assert_eq!(
            doc.pointer(pointer),
            Some(&expected),
            "{} {pointer} from {column} = {:?} ({rule:?})",
            table.name,
            row.get(*column)
        );
    }
    let checksum = row["checksum"].clone();
    assert_eq!(doc.pointer("/checksum/hash/sha1"), Some(&checksum));
    assert_eq!(
        doc.pointer("/state/document_version"),
        Some(&row["version"])
    );
    let modified = doc.pointer("/state/modified_at").unwrap().as_str().unwrap();
    assert!(validate::is_iso8601(modified), "{modified}");
    let mut all = Vec::new();
    leaves(doc, "", &mut all);
    for leaf in all {
        let known = fields.iter().any(|(p, _, _)| *p == leaf)
            || leaf == "/checksum/hash/sha1"
            || leaf.starts_with("/state/");
        assert!(
            known,
            "{}: field {leaf} that beta4 does not make",
            table.name
        );
    }
}

/// The rows of `table` as a scan hands them to the events: the collector's rows from the
/// tree `root`, the table's row hooks, the checksum, then a real diff engine (an insertion
/// per row, with its version).
fn scanned(table: &'static TableDef, root: &Path) -> Vec<Row> {
    let provider = LinuxSysInfo::with_root(root, null_logger());
    let collector = table.collector;
    let position = collector
        .tables
        .iter()
        .position(|t| t.name == table.name)
        .unwrap();
    let mut raw = Vec::new();
    match collector.gather {
        Gather::Rows(gather) => gather(&provider, &mut |r| raw.push(r)).unwrap(),
        Gather::Joint(gather) => raw = gather(&provider).unwrap().swap_remove(position),
    }
    store(table, raw)
}

fn store(table: &'static TableDef, raw: Vec<Row>) -> Vec<Row> {
    let mut select = table.hooks.select.map(|make| make(ScanOptions::default()));
    let mut db = DbSync::in_memory().unwrap();
    let mut txn = db.begin(table).unwrap();
    let mut out = Vec::new();
    for row in raw {
        let row = match select.as_mut() {
            Some(select) => match select(row) {
                Some(r) => r,
                None => continue,
            },
            None => row,
        };
        let mut row = events::prepare_row(row);
        for field in table.hooks.hashed_only {
            row.remove(*field);
        }
        txn.push(row, &mut |c| {
            if let Change::Inserted(r) = c {
                out.push(r)
            }
        })
        .unwrap();
    }
    txn.finish(&mut |_| {}).unwrap();
    out
}

/// Where each table's real rows come from: a fixture tree (hotfixes are a Windows table:
/// its one column from a row as the Windows collector makes it).
fn rows_of(table: &'static TableDef) -> Vec<Row> {
    let tree = match table.name {
        "dbsync_hwinfo" | "dbsync_osinfo" | "dbsync_processes" => "debian12",
        "dbsync_packages" => "pkg-debian",
        "dbsync_ports" => "ports-netns",
        "dbsync_network_iface" | "dbsync_network_protocol" | "dbsync_network_address" => {
            "net-debian12"
        }
        "dbsync_users" | "dbsync_groups" => "users-debian12",
        "dbsync_services" => "services-debian12",
        "dbsync_browser_extensions" => "browsers-debian12",
        "dbsync_hotfixes" => {
            let row = json!({"hotfix_name": "KB5034441"});
            return store(table, vec![row.as_object().unwrap().clone()]);
        }
        other => panic!("{other}"),
    };
    let rows = scanned(table, &fixture(tree));
    assert!(!rows.is_empty(), "{}: no row from {tree}", table.name);
    rows
}

type Lines = Arc<Mutex<Vec<(LogLevel, String)>>>;

fn capture() -> (impl Fn(LogLevel, &str), Lines) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    (
        move |level, msg: &str| sink.lock().unwrap().push((level, msg.to_string())),
        lines,
    )
}

fn without_times(mut v: Value) -> Value {
    if let Some(state) = v.get_mut("state").and_then(Value::as_object_mut) {
        state.remove("modified_at");
    }
    if let Some(event) = v.pointer_mut("/data/event").and_then(Value::as_object_mut) {
        event.remove("created");
    }
    v
}

#[test]
fn every_table_real_rows_shaped_as_beta4_and_valid() {
    for table in catalog::TABLES.iter().copied() {
        let rows = rows_of(table);
        for row in &rows {
            let change = Change::Inserted(row.clone());
            let (log, lines) = capture();
            let out = events::scan_change(table, &change, Generation::Beta, true, &log);
            let (st, json) = out.stateful.expect("a real row's document is admitted");
            assert!(
                lines.lock().unwrap().is_empty(),
                "{}: {:?}",
                table.name,
                lines.lock().unwrap()
            );
            assert!(out.rejected.is_none());
            assert_eq!(st.operation, Operation::Create);
            assert_eq!(st.index, table.index);
            assert_eq!(st.id, events::document_id(table, row));
            let doc = Value::Object(st.document.clone());
            assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), doc);
            assert_beta4_document(table, row, &doc);
            assert_eq!(validate::validate(table.index, &doc), Some(vec![]));
            // The stateless event carries the same fields, without checksum and state.
            let sl: Value = serde_json::from_str(&out.stateless.unwrap()).unwrap();
            let mut data = doc.as_object().unwrap().clone();
            data.remove("checksum");
            data.remove("state");
            let mut got = sl["data"].as_object().unwrap().clone();
            assert_eq!(got.remove("event").unwrap()["type"], json!("created"));
            assert_eq!(got, data, "{}", table.name);
            assert_eq!(sl["collector"], json!(table.name));
        }
    }
}

#[test]
fn alpha0_documents_of_the_same_rows_are_unchanged() {
    for table in catalog::TABLES.iter().copied() {
        for row in rows_of(table) {
            let change = Change::Inserted(row.clone());
            let (st, sl) = events::events(table, &change);
            let (st0, sl0) = events::events_for(table, &change, Generation::Alpha0);
            assert_eq!(
                without_times(Value::Object(st.document.clone())),
                without_times(Value::Object(st0.document.clone()))
            );
            assert_eq!(
                without_times(Value::Object(sl.clone())),
                without_times(Value::Object(sl0))
            );
            let (log, lines) = capture();
            let out = events::scan_change(table, &change, Generation::Alpha0, false, &log);
            let (st1, json) = out.stateful.unwrap();
            assert!(out.stateless.is_none());
            assert!(lines.lock().unwrap().is_empty());
            assert_eq!(
                without_times(serde_json::from_str(&json).unwrap()),
                without_times(Value::Object(st.document.clone()))
            );
            assert_eq!(st1.id, st.id);
            // alpha0 copies the stored values (pid stays a string, inode a number, ...).
            for c in table.columns {
                let path = format!("/{}", c.ecs.replace('.', "/"));
                let v = Value::Object(st.document.clone());
                let got = v.pointer(&path).unwrap();
                if matches!(c.kind, catalog::Kind::Plain) {
                    let stored = row.get(c.name).cloned().unwrap_or(Value::Null);
                    let expected = if unknown(&stored) {
                        Value::Null
                    } else {
                        stored
                    };
                    assert_eq!(got, &expected, "{} {}", table.name, c.name);
                }
            }
        }
    }
}

fn obj(v: Value) -> Row {
    v.as_object().unwrap().clone()
}

fn beta_doc(table: &'static TableDef, row: Value) -> Value {
    let st = events::stateful_for(table, &obj(row), Operation::Create, Generation::Beta);
    Value::Object(st.document)
}

#[test]
fn numbers_strings_nulls_and_arrays_as_beta4_converts_them() {
    use catalog::*;
    let speed = |v: Value| beta_doc(&HARDWARE, json!({"serial_number": "s", "cpu_speed": v}));
    assert_eq!(speed(json!(2400.7))["host"]["cpu"]["speed"], json!(2400));
    assert_eq!(speed(json!(3200))["host"]["cpu"]["speed"], json!(3200));
    for v in [
        json!(0),
        json!(0.0),
        json!(""),
        json!(" "),
        json!("2400"),
        Value::Null,
    ] {
        assert_eq!(speed(v.clone())["host"]["cpu"]["speed"], Value::Null, "{v}");
    }

    let pid = |v: Value| beta_doc(&PROCESSES, json!({"pid": v}))["process"]["pid"].clone();
    assert_eq!(pid(json!("42")), json!(42));
    assert_eq!(pid(json!(" 7")), json!(7));
    assert_eq!(pid(json!("12abc")), json!(12));
    assert_eq!(pid(json!("-3")), json!(-3));
    for v in [
        json!(""),
        json!(" "),
        json!("abc"),
        json!("99999999999999999999"),
        json!(42),
        Value::Null,
    ] {
        assert_eq!(pid(v.clone()), Value::Null, "{v}");
    }

    let port = |k: &str, v: Value| {
        let mut row = json!({"file_inode": 1, "network_transport": "tcp", "source_ip": "1.1.1.1",
                             "source_port": 22});
        row[k] = v;
        beta_doc(&PORTS, row)
    };
    assert_eq!(
        port("file_inode", json!(1234))["file"]["inode"],
        json!("1234")
    );
    assert_eq!(port("file_inode", json!(""))["file"]["inode"], json!(""));
    assert_eq!(
        port("file_inode", Value::Null)["file"]["inode"],
        Value::Null
    );
    assert_eq!(
        port("source_ip", json!("10.0.0.1"))["source"]["ip"],
        json!(["10.0.0.1"])
    );
    assert_eq!(port("source_ip", json!(" "))["source"]["ip"], Value::Null);
    assert_eq!(
        port("destination_ip", json!(""))["destination"]["ip"],
        Value::Null
    );
    assert_eq!(
        port("destination_ip", json!("::"))["destination"]["ip"],
        json!(["::"])
    );
    // Absent from the row: null in a stateful document.
    assert_eq!(
        port("source_port", json!(22))["destination"]["ip"],
        Value::Null
    );
    assert_eq!(
        port("source_port", json!(22))["destination"]["port"],
        Value::Null
    );

    let mtu = |v: Value| {
        beta_doc(
            &NETWORK_IFACE,
            json!({"interface_name": "eth0", "interface_mtu": v}),
        )["interface"]["mtu"]
            .clone()
    };
    assert_eq!(mtu(json!(1500)), json!(1500));
    for v in [json!(0), json!(4294967295u64), json!("1500"), json!(" ")] {
        assert_eq!(mtu(v.clone()), Value::Null, "{v}");
    }

    let proto = |k: &str, v: Value| {
        let mut row = json!({"interface_name": "eth0", "network_type": "ipv4"});
        row[k] = v;
        beta_doc(&NETWORK_PROTOCOL, row)
    };
    assert_eq!(
        proto("network_metric", json!("100"))["network"]["metric"],
        json!(100)
    );
    assert_eq!(
        proto("network_metric", json!(100))["network"]["metric"],
        json!(100)
    );
    for v in [json!(" "), json!(""), json!("x"), json!(true)] {
        assert_eq!(
            proto("network_metric", v.clone())["network"]["metric"],
            Value::Null
        );
    }
    assert_eq!(
        proto("network_gateway", json!("192.168.1.1, fe80::1"))["network"]["gateway"],
        json!(["192.168.1.1", "fe80::1"])
    );
    assert_eq!(
        proto("network_gateway", json!(" "))["network"]["gateway"],
        Value::Null
    );
    assert_eq!(
        proto("network_dhcp", json!(1))["network"]["dhcp"],
        json!(true)
    );
    assert_eq!(
        proto("network_dhcp", json!("0"))["network"]["dhcp"],
        json!(false)
    );
    // The protocol's type stays a string; only the address table's is converted.
    assert_eq!(
        proto("network_dhcp", json!(0))["network"]["type"],
        json!("ipv4")
    );

    let addr = |k: &str, v: Value| {
        let mut row =
            json!({"interface_name": "eth0", "network_type": 0, "network_ip": "10.0.0.2"});
        row[k] = v;
        beta_doc(&NETWORK_ADDRESS, row)
    };
    assert_eq!(
        addr("network_type", json!(0))["network"]["type"],
        json!("0")
    );
    assert_eq!(
        addr("network_type", json!(1))["network"]["type"],
        json!("1")
    );
    assert_eq!(
        addr("network_type", json!("x"))["network"]["type"],
        json!("x")
    );
    assert_eq!(
        addr("network_type", Value::Null)["network"]["type"],
        Value::Null
    );
    let a = addr("network_netmask", json!("255.255.255.0"));
    assert_eq!(a["network"]["ip"], json!(["10.0.0.2"]));
    assert_eq!(a["network"]["netmask"], json!(["255.255.255.0"]));
    assert_eq!(a["network"]["broadcast"], Value::Null);

    let uid =
        |v: Value| beta_doc(&USERS, json!({"user_name": "u", "user_id": v}))["user"]["id"].clone();
    assert_eq!(uid(json!(1000)), json!("1000"));
    assert_eq!(uid(json!(0)), json!("0"));
    // A C int: 4294967294 wraps to -2, as std::to_string(value.get<int>()) does.
    assert_eq!(uid(json!(4294967294u64)), json!("-2"));
    assert_eq!(uid(json!("")), json!(""));
    assert_eq!(uid(json!(" ")), json!(" "));
    assert_eq!(uid(Value::Null), Value::Null);

    let eph = |row: Value| beta_doc(&SERVICES, row)["service"]["target"]["ephemeral_id"].clone();
    assert_eq!(
        eph(json!({"service_id": "a", "service_target_ephemeral_id": 7})),
        json!("7")
    );
    assert_eq!(
        eph(json!({"service_id": "a", "service_target_ephemeral_id": " "})),
        json!(" ")
    );
    assert_eq!(eph(json!({"service_id": "a"})), Value::Null);

    let g = beta_doc(
        &GROUPS,
        json!({"group_name": "g", "group_is_hidden": 0,
                                     "group_users": "a, b,,c ", "group_uuid": " "}),
    );
    assert_eq!(g["group"]["is_hidden"], json!(false));
    assert_eq!(g["group"]["users"], json!(["a", "b", "c"]));
    assert_eq!(g["group"]["uuid"], Value::Null);
    assert_eq!(g["group"]["description"], Value::Null);
    // beta4 trims items of spaces only; alpha0 (unchanged) of any white space.
    let tabs = json!({"group_name": "g", "group_users": "a,\tb"});
    assert_eq!(
        beta_doc(&GROUPS, tabs.clone())["group"]["users"],
        json!(["a", "\tb"])
    );
    let alpha = events::stateful(&GROUPS, &obj(tabs), Operation::Create);
    assert_eq!(
        Value::Object(alpha.document)["group"]["users"],
        json!(["a", "b"])
    );
}

#[test]
fn modification_previous_values_go_through_the_beta_conversions() {
    use catalog::*;
    let new = obj(
        json!({"user_name": "u", "user_id": 1001, "user_home": "/home/u",
                         "checksum": "n", "version": 2}),
    );
    let old = obj(json!({"user_name": "u", "user_id": 1000, "checksum": "o", "version": 1}));
    let change = Change::Modified { new, old };
    let (log, lines) = capture();
    let out = events::scan_change(&USERS, &change, Generation::Beta, true, &log);
    assert!(lines.lock().unwrap().is_empty());
    let (st, _) = out.stateful.unwrap();
    assert_eq!(st.operation, Operation::Modify);
    assert_eq!(st.document["user"]["id"], json!("1001"));
    let sl: Value = serde_json::from_str(&out.stateless.unwrap()).unwrap();
    assert_eq!(sl["data"]["event"]["type"], json!("modified"));
    assert_eq!(sl["data"]["event"]["changed_fields"], json!(["user.id"]));
    assert_eq!(sl["data"]["user"]["previous"], json!({"id": "1000"}));
    assert_eq!(sl["data"]["user"]["id"], json!("1001"));
    // alpha0: the numbers as stored.
    let (_, sl0) = events::events(&USERS, &change);
    assert_eq!(sl0["data"]["user"]["previous"], json!({"id": 1000}));
}

fn messages(lines: &Lines) -> Vec<(LogLevel, String)> {
    lines.lock().unwrap().clone()
}

#[test]
fn invalid_scan_document_discarded_row_marked_stateless_still_sent() {
    let table = &catalog::PROCESSES;
    let row = events::prepare_row(obj(json!({"pid": "42", "name": "x", "start": "yesterday"})));
    let row = store(table, vec![row]).remove(0);
    let (log, lines) = capture();
    let out = events::scan_change(
        table,
        &Change::Inserted(row.clone()),
        Generation::Beta,
        true,
        &log,
    );
    assert!(out.stateful.is_none());
    assert_eq!(out.rejected.as_ref(), Some(&row));
    let sl: Value = serde_json::from_str(out.stateless.as_deref().unwrap()).unwrap();
    assert_eq!(sl["data"]["process"]["pid"], json!(42));
    let lines = messages(&lines);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(
        lines[0],
        (
            LogLevel::Error,
            "Schema validation failed for Syscollector message (table: dbsync_processes, index: \
             wazuh-states-inventory-processes). Errors:   - process.start: Invalid date format. \
             Expected ISO8601, got: yesterday"
                .to_string()
        )
    );
    assert_eq!(lines[1].0, LogLevel::Error);
    let raw = lines[1]
        .1
        .strip_prefix("Raw event that failed validation: ")
        .unwrap();
    let raw: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(raw["process"]["start"], json!("yesterday"));
    assert_eq!(raw["checksum"]["hash"]["sha1"], row["checksum"]);
    assert_eq!(
        lines[2],
        (
            LogLevel::Error,
            "Discarding invalid Syscollector message (table: dbsync_processes)".to_string()
        )
    );
    assert_eq!(
        lines[3],
        (
            LogLevel::Debug,
            "Marking entry from table dbsync_processes for deferred deletion due to validation failure"
                .to_string()
        )
    );

    // A deletion is not queued either, and nothing is marked.
    let (log, lines) = capture();
    let out = events::scan_change(
        table,
        &Change::Deleted(row.clone()),
        Generation::Beta,
        false,
        &log,
    );
    assert!(out.stateful.is_none() && out.rejected.is_none() && out.stateless.is_none());
    let lines = messages(&lines);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[2]
        .1
        .starts_with("Discarding invalid Syscollector message"));

    // An alpha0 host never validates: the same row is queued as before.
    let (log, lines) = capture();
    let out = events::scan_change(
        table,
        &Change::Inserted(row),
        Generation::Alpha0,
        true,
        &log,
    );
    let (st, _) = out.stateful.unwrap();
    assert_eq!(st.document["process"]["pid"], json!("42"));
    assert!(out.rejected.is_none());
    assert!(messages(&lines).is_empty());
}

#[test]
fn invalid_recovery_and_data_context_documents_skipped() {
    let table = &catalog::NETWORK_ADDRESS;
    let row = events::prepare_row(obj(json!({"interface_name": "eth0", "network_type": 0,
                                             "network_ip": "999.1.1.1",
                                             "network_netmask": "255.255.255.0"})));
    let row = store(table, vec![row]).remove(0);
    let (log, lines) = capture();
    let got = events::stored_document(
        table,
        &row,
        Operation::Create,
        Generation::Beta,
        Purpose::Recovery,
        &log,
    );
    assert!(got.is_none());
    let lines = messages(&lines);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0].1,
        "Schema validation failed for Syscollector message (recovery event, table: \
         dbsync_network_address, index: wazuh-states-inventory-networks). Errors:   - \
         network.ip[0]: Invalid IP address format: 999.1.1.1"
    );
    assert!(lines[1]
        .1
        .starts_with("Raw event that failed validation: {"));
    assert_eq!(
        lines[2],
        (
            LogLevel::Debug,
            "Skipping persistence of invalid recovery event".to_string()
        )
    );
    // alpha0: admitted, unvalidated.
    let (log, lines) = capture();
    assert!(events::stored_document(
        table,
        &row,
        Operation::Create,
        Generation::Alpha0,
        Purpose::Recovery,
        &log
    )
    .is_some());
    assert!(messages(&lines).is_empty());

    let table = &catalog::PACKAGES;
    let row = events::prepare_row(obj(
        json!({"name": "p", "version_": "1", "architecture": "amd64",
                                             "type": "deb", "path": " ",
                                             "installed": "2023/11/14 22:13:20"}),
    ));
    let row = store(table, vec![row]).remove(0);
    let (log, lines) = capture();
    assert!(events::stored_document(
        table,
        &row,
        Operation::Modify,
        Generation::Beta,
        Purpose::DataContext,
        &log
    )
    .is_none());
    let lines = messages(&lines);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0].1,
        "Schema validation failed for Syscollector message (VD DataContext, table: \
         dbsync_packages, index: wazuh-states-inventory-packages). Errors:   - \
         package.installed: Invalid date format. Expected ISO8601, got: 2023/11/14 22:13:20"
    );
    assert_eq!(
        lines[2],
        (
            LogLevel::Debug,
            "Skipping persistence of invalid VD DataContext event".to_string()
        )
    );
    // A valid stored row is admitted on both generations.
    let row = store(table, vec![events::prepare_row(obj(json!({"name": "p", "version_": "1",
        "architecture": "amd64", "type": "deb", "path": " ", "installed": "2023-11-14T22:13:20.000Z",
        "size": 10})))]).remove(0);
    let (log, lines) = capture();
    let (st, json) = events::stored_document(
        table,
        &row,
        Operation::Modify,
        Generation::Beta,
        Purpose::DataContext,
        &log,
    )
    .unwrap();
    assert!(messages(&lines).is_empty());
    assert_eq!(st.operation, Operation::Modify);
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap()["package"]["size"],
        json!(10)
    );
}

#[test]
fn validator_rules_and_messages() {
    let v = |index: &str, doc: Value| validate::validate(index, &doc).unwrap();
    let p = "wazuh-states-inventory-processes";
    assert_eq!(
        v(p, json!({"process": {"pid": 1, "foo": "x", "bar": null}})),
        ["process.foo: Field not allowed in strict mode"]
    );
    assert_eq!(
        v(p, json!({"extra": 1, "process": {"pid": "1"}})),
        [
            "extra: Field not allowed in strict mode",
            "process.pid: Expected integer, got string with value: \"1\""
        ]
    );
    assert_eq!(
        v(p, json!({"process": {"utime": 1.5}})),
        ["process.utime: Expected integer, got number with value: 1.5"]
    );
    assert_eq!(
        v(p, json!({"process": "x"})),
        ["process: Expected object, got string with value: \"x\""]
    );
    assert_eq!(
        v(p, json!({"process": null, "state": null})),
        Vec::<String>::new()
    );
    assert_eq!(
        v(p, json!({"process": {"start": true}})),
        ["process.start: Expected date (number or ISO8601 string), got boolean with value: true"]
    );
    assert_eq!(
        v(
            p,
            json!({"process": {"start": 1700000000, "args": ["a", 2, null]}})
        ),
        ["process.args[1]: Expected string, got number with value: 2"]
    );
    let g = "wazuh-states-inventory-groups";
    assert_eq!(
        v(
            g,
            json!({"group": {"is_hidden": 1, "id": -5, "description": 3}})
        ),
        [
            "group.description: Expected string, got number with value: 3",
            "group.is_hidden: Expected boolean, got number with value: 1"
        ]
    );
    let h = "wazuh-states-inventory-hardware";
    assert_eq!(
        v(
            h,
            json!({"host": {"memory": {"usage": "x"}, "cpu": {"speed": 2400.5}}})
        ),
        [
            "host.cpu.speed: Expected integer, got number with value: 2400.5",
            "host.memory.usage: Expected number, got string with value: \"x\""
        ]
    );
    let n = "wazuh-states-inventory-networks";
    let ip = |s: &str| v(n, json!({"network": {"ip": [s]}}));
    for ok in [
        "10.0.0.1",
        "::1",
        "fe80::1%eth0",
        "::ffff:10.0.0.1",
        "ffff:ffff:ffff:ffff::",
    ] {
        assert!(ip(ok).is_empty(), "{ok}");
    }
    for bad in [
        "1.2.3",
        "01.2.3.4",
        "256.0.0.1",
        "",
        " ",
        "eth0",
        "1.2.3.4 ",
    ] {
        assert_eq!(
            ip(bad),
            [format!("network.ip[0]: Invalid IP address format: {bad}")]
        );
    }
    assert_eq!(
        v(n, json!({"network": {"netmask": 5}})),
        ["network.netmask: Expected IP address string, got number with value: 5"]
    );
    for ok in [
        "2023-11-14",
        "2023-11-14T22:13:20",
        "2023-11-14T22:13:20.123456789Z",
        "2023-11-14T22:13:20+02:00",
    ] {
        assert!(validate::is_iso8601(ok), "{ok}");
    }
    for bad in [
        "2023-11-14 22:13:20",
        "2023-11-14T22:13:20.0123456789Z",
        "14/11/2023",
        "2023-11-14T22:13Z",
        "２０２３-11-14",
    ] {
        assert!(!validate::is_iso8601(bad), "{bad}");
    }
    assert!(validate::validate("wazuh-states-inventory-nothing", &json!({})).is_none());
    let (log, lines) = capture();
    assert!(!validate::admit(
        "t",
        "wazuh-states-inventory-nothing",
        &json!({}),
        "{}",
        Purpose::Recovery,
        &log
    ));
    assert_eq!(
        messages(&lines),
        [
            (LogLevel::Warning,
             "No schema validator found for index: wazuh-states-inventory-nothing. Discarding message."
                 .to_string()),
            (LogLevel::Debug, "Skipping persistence of invalid recovery event".to_string()),
        ]
    );
    // Every table's index has its template, and every ECS field of the catalog is mapped.
    for t in catalog::TABLES.iter() {
        assert!(validate::indices().any(|i| i == t.index), "{}", t.index);
        for c in t.columns {
            assert!(
                validate::field_type(t.index, c.ecs).is_some(),
                "{} {}",
                t.index,
                c.ecs
            );
        }
        for f in [
            "checksum.hash.sha1",
            "state.modified_at",
            "state.document_version",
        ] {
            assert!(validate::field_type(t.index, f).is_some());
        }
    }
}

#[test]
fn alpha0_shaped_documents_would_be_refused_by_beta4() {
    // Why the conversions exist: the same real rows in alpha0's shape break the templates.
    let first = |t: &'static TableDef| rows_of(t).remove(0);
    let errors = |t: &'static TableDef, row: &Row| {
        let st = events::stateful(t, row, Operation::Create);
        validate::validate(t.index, &Value::Object(st.document)).unwrap()
    };
    let row = first(&catalog::PROCESSES);
    assert_eq!(
        errors(&catalog::PROCESSES, &row),
        [format!(
            "process.pid: Expected integer, got string with value: \"{}\"",
            row["pid"].as_str().unwrap()
        )]
    );
    let row = first(&catalog::PORTS);
    assert_eq!(
        errors(&catalog::PORTS, &row),
        [format!(
            "file.inode: Expected string, got number with value: {}",
            row["file_inode"]
        )]
    );
    let row = first(&catalog::NETWORK_ADDRESS);
    assert_eq!(
        errors(&catalog::NETWORK_ADDRESS, &row),
        [format!(
            "network.type: Expected string, got number with value: {}",
            row["network_type"]
        )]
    );
    let row = first(&catalog::USERS);
    assert!(errors(&catalog::USERS, &row).contains(&format!(
        "user.id: Expected string, got number with value: {}",
        row["user_id"]
    )));
}

#[test]
fn deletion_lines_after_a_scan() {
    assert!(validate::deletion_lines(&[]).is_empty());
    assert_eq!(
        validate::deletion_lines(&["dbsync_processes", "dbsync_users"]),
        [
            (
                LogLevel::Debug,
                "Deleting entry from table dbsync_processes due to validation failure".to_string()
            ),
            (
                LogLevel::Debug,
                "Deleting entry from table dbsync_users due to validation failure".to_string()
            ),
            (
                LogLevel::Debug,
                "Deleted 2 item(s) from DBSync due to validation failure".to_string()
            ),
        ]
    );
    let (log, lines) = capture();
    validate::log_initialized(&log);
    validate::log_initialized(&log);
    assert!(messages(&lines).len() <= 1);
}

/// The network tables of the captured Debian 12 machine, value by value as beta4 shapes
/// them (the collector's values are those `sysinfo_network::captured_machine_tree` checks).
#[test]
fn net_debian12_literal_values() {
    let docs = |t: &'static TableDef| -> Vec<Value> {
        rows_of(t)
            .iter()
            .map(|r| {
                let st = events::stateful_for(t, r, Operation::Create, Generation::Beta);
                Value::Object(st.document)
            })
            .collect()
    };
    let find = |docs: &[Value], pairs: &[(&str, Value)]| -> Value {
        docs.iter()
            .find(|d| pairs.iter().all(|(p, v)| d.pointer(p) == Some(v)))
            .cloned()
            .unwrap_or_else(|| panic!("no document with {pairs:?}"))
    };
    let ifaces = docs(&catalog::NETWORK_IFACE);
    let eth0 = find(&ifaces, &[("/interface/name", json!("eth0"))]);
    assert_eq!(eth0["interface"]["mtu"], json!(1400));
    assert_eq!(eth0["host"]["mac"], json!(["02:fc:00:00:00:01"]));
    assert_eq!(
        eth0["host"]["network"]["ingress"]["bytes"],
        json!(364668296)
    );
    assert_eq!(eth0["interface"]["alias"], Value::Null);
    let lo = find(&ifaces, &[("/interface/name", json!("lo"))]);
    assert_eq!(lo["interface"]["type"], Value::Null);
    assert_eq!(lo["interface"]["state"], json!("unknown"));

    let protocols = docs(&catalog::NETWORK_PROTOCOL);
    let p = |name: &str, ty: &str| {
        find(
            &protocols,
            &[
                ("/interface/name", json!(name)),
                ("/network/type", json!(ty)),
            ],
        )
    };
    assert_eq!(
        p("eth0", "ipv4")["network"],
        json!({"dhcp": false, "gateway": ["192.0.2.1"], "metric": 0, "type": "ipv4"})
    );
    assert_eq!(
        p("eth0", "ipv6")["network"],
        json!({"dhcp": false, "gateway": ["192.0.2.1"], "metric": null, "type": "ipv6"})
    );
    assert_eq!(
        p("lo", "ipv4")["network"],
        json!({"dhcp": false, "gateway": null, "metric": null, "type": "ipv4"})
    );

    let addresses = docs(&catalog::NETWORK_ADDRESS);
    let lo4 = find(
        &addresses,
        &[
            ("/interface/name", json!("lo")),
            ("/network/type", json!("0")),
        ],
    );
    assert_eq!(
        lo4["network"],
        json!({"broadcast": ["127.0.0.1"], "ip": ["127.0.0.1"], "netmask": ["255.0.0.0"],
               "type": "0"})
    );
    for d in &addresses {
        let ty = d["network"]["type"].as_str().unwrap();
        assert!(ty == "0" || ty == "1", "{d}");
    }
}
