//! Drop-in with the C++ module: its `local.db` and sync queues taken over as they are, ours
//! opened by the reference's rules, nothing re-reported either way (issue 9). The
//! reference's schema, its open rules and its checksum rule are written here from the
//! reference's facts, independently of the library.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::Connection;
use serde_json::{json, Value};
use sha1::Digest as _;
use syscollector::inventory::{Collectors, Config, Inventory, Sink, Stateful};
use syscollector::manager::loopback;
use syscollector::manager::Faults;
use syscollector::sync_protocol::{AgentMetadata, Mode, PersistentQueue, Settings, SyncOption};
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, LogLevel, Logger, Row};

/// The reference's CREATE statements (syscollectorTablesDef.hpp, v5.0.0-alpha0), one line
/// each.
const REFERENCE_CREATE: &[&str] = &[
    "CREATE TABLE dbsync_osinfo (hostname TEXT, architecture TEXT, os_name TEXT, os_version TEXT, os_codename TEXT, os_major TEXT, os_minor TEXT, os_patch TEXT, os_build TEXT, os_platform TEXT, os_type TEXT, os_kernel_name TEXT, os_kernel_release TEXT, os_kernel_version TEXT, os_distribution_release TEXT, os_full TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (os_name, os_version)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_hwinfo (serial_number TEXT, cpu_name TEXT, cpu_cores INTEGER, cpu_speed DOUBLE, memory_total INTEGER, memory_free INTEGER, memory_used INTEGER, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (serial_number)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_hotfixes (hotfix_name TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (hotfix_name)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_packages (name TEXT, version_ TEXT, vendor TEXT, installed TEXT, path TEXT, architecture TEXT, category TEXT, description TEXT, size BIGINT, priority TEXT, multiarch TEXT, source TEXT, type TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (name,version_,architecture,type,path)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_processes (pid TEXT, name TEXT, state TEXT, parent_pid BIGINT, utime BIGINT, stime BIGINT, command_line TEXT, args TEXT, args_count BIGINT, start TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (pid)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_ports (network_transport TEXT, source_ip TEXT, source_port BIGINT, destination_ip TEXT, destination_port BIGINT, host_network_egress_queue BIGINT, host_network_ingress_queue BIGINT, file_inode BIGINT, interface_state TEXT, process_pid BIGINT, process_name TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (file_inode, network_transport, source_ip, source_port)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_network_iface (interface_name TEXT, interface_alias TEXT, interface_type TEXT, interface_state TEXT, interface_mtu INTEGER, host_mac TEXT, host_network_egress_packages INTEGER, host_network_ingress_packages INTEGER, host_network_egress_bytes INTEGER, host_network_ingress_bytes INTEGER, host_network_egress_errors INTEGER, host_network_ingress_errors INTEGER, host_network_egress_drops INTEGER, host_network_ingress_drops INTEGER, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (interface_name,interface_alias,interface_type)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_network_protocol (interface_name TEXT, network_type TEXT, network_gateway TEXT, network_dhcp INTEGER, network_metric TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (interface_name,network_type)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_network_address (interface_name TEXT, network_type INTEGER, network_ip TEXT, network_netmask TEXT, network_broadcast TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (interface_name,network_type,network_ip)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_users (user_name TEXT, user_full_name TEXT, user_home TEXT, user_id BIGINT, user_uid_signed BIGINT, user_uuid TEXT, user_groups TEXT, user_group_id BIGINT, user_group_id_signed BIGINT, user_created TEXT, user_roles TEXT, user_shell TEXT, user_type TEXT, user_is_hidden INTEGER, user_is_remote INTEGER, user_last_login TEXT, user_auth_failed_count BIGINT, user_auth_failed_timestamp TEXT, user_password_last_change BIGINT, user_password_expiration_date TEXT, user_password_hash_algorithm TEXT, user_password_inactive_days INTEGER, user_password_max_days_between_changes INTEGER, user_password_min_days_between_changes INTEGER, user_password_status TEXT, user_password_warning_days_before_expiration INTEGER, process_pid BIGINT, host_ip TEXT, login_status INTEGER, login_tty TEXT, login_type TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (user_name)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_groups (group_id BIGINT, group_name TEXT, group_description TEXT, group_id_signed BIGINT, group_uuid TEXT, group_is_hidden INTEGER, group_users TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (group_name)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_services (service_id TEXT, service_name TEXT, service_description TEXT, service_type TEXT, service_state TEXT, service_sub_state TEXT, service_enabled TEXT, service_start_type TEXT, service_restart TEXT, service_frequency BIGINT, service_starts_on_mount INTEGER, service_starts_on_path_modified TEXT, service_starts_on_not_empty_directory TEXT, service_inetd_compatibility INTEGER, process_pid BIGINT, process_executable TEXT, process_args TEXT, process_user_name TEXT, process_group_name TEXT, process_working_dir TEXT, process_root_dir TEXT, file_path TEXT, service_address TEXT, log_file_path TEXT, error_log_file_path TEXT, service_exit_code INTEGER, service_win32_exit_code INTEGER, service_following TEXT, service_object_path TEXT, service_target_ephemeral_id BIGINT, service_target_type TEXT, service_target_address TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (service_id, file_path)) WITHOUT ROWID;",
    "CREATE TABLE dbsync_browser_extensions (browser_name TEXT, user_id TEXT, package_name TEXT, package_id TEXT, package_version_ TEXT, package_description TEXT, package_vendor TEXT, package_build_version TEXT, package_path TEXT, browser_profile_name TEXT, browser_profile_path TEXT, package_reference TEXT, package_permissions TEXT, package_type TEXT, package_enabled INTEGER, package_visible INTEGER, package_autoupdate INTEGER, package_persistent INTEGER, package_from_webstore INTEGER, browser_profile_referenced INTEGER, package_installed TEXT, file_hash_sha256 TEXT, checksum TEXT, version INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (browser_name,user_id,browser_profile_path,package_name,package_version_)) WITHOUT ROWID;",
    "CREATE TABLE table_metadata (table_name TEXT PRIMARY KEY, last_sync_time INTEGER NOT NULL);",
];

/// The reference's persistent queue table (persistent_queue_storage.cpp).
const REFERENCE_QUEUE: &str = "CREATE TABLE IF NOT EXISTS persistent_queue (id TEXT PRIMARY KEY NOT NULL, idx TEXT NOT NULL, data TEXT NOT NULL, operation INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 0, sync_status INTEGER NOT NULL DEFAULT 0, create_status INTEGER NOT NULL DEFAULT 0, operation_syncing INTEGER NOT NULL DEFAULT 3, is_data_context INTEGER NOT NULL DEFAULT 0);";

const ROOT: &str = "tests/fixtures/net-debian12";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(ROOT)
}

/// The reference's row checksum: SHA-1 (hex) of the compact JSON of the row with its keys
/// sorted (nlohmann's object order).
fn reference_checksum(row: &Row) -> String {
    let sorted: BTreeMap<&String, &Value> = row.iter().collect();
    let text = serde_json::to_string(&sorted).unwrap();
    hex::encode(sha1::Sha1::digest(text.as_bytes()))
}

/// The protocol and address rows the reference (v5.0.0-alpha0) stores on the machine the
/// fixture was captured from, written from its rules and the fixture's files, not from the
/// library: one gateway per interface, the first route with a gateway in
/// `proc/net/route` (eth0: 192.0.2.1, metric 0; lo: none, " " and ""), in the IPv4 and the
/// IPv6 row alike, the IPv6 row without metric; DHCP 0 (no ifupdown or ifcfg file); the
/// addresses as getifaddrs gives them (`ip-addr.json`), lo's IPv4 broadcast being
/// 127.0.0.1. Address rows also hold the two fields the reference hashes, then drops.
fn reference_network_rows() -> Vec<(&'static str, Row)> {
    let protocol = |iface: &str, family: &str, gateway: &str, metric: &str| {
        json!({"interface_name": iface, "network_type": family, "network_gateway": gateway,
               "network_dhcp": 0, "network_metric": metric})
    };
    let address = |iface: &str, family: u8, ip: &str, mask: &str, broadcast: &str, metric: &str| {
        json!({"interface_name": iface, "network_type": family, "network_ip": ip,
               "network_netmask": mask, "network_broadcast": broadcast,
               "network_dhcp": 0, "network_metric": metric})
    };
    let v6_mask = "ffff:ffff:ffff:ffff::";
    let rows = [
        (
            "dbsync_network_protocol",
            protocol("eth0", "ipv4", "192.0.2.1", "0"),
        ),
        (
            "dbsync_network_protocol",
            protocol("eth0", "ipv6", "192.0.2.1", ""),
        ),
        ("dbsync_network_protocol", protocol("lo", "ipv4", " ", "")),
        ("dbsync_network_protocol", protocol("lo", "ipv6", " ", "")),
        (
            "dbsync_network_address",
            address("eth0", 0, "192.0.2.2", "255.255.255.0", "192.0.2.255", "0"),
        ),
        (
            "dbsync_network_address",
            address("eth0", 1, "fd00::2", v6_mask, "", ""),
        ),
        (
            "dbsync_network_address",
            address("eth0", 1, "fe80::fc:ff:fe00:1", v6_mask, "", ""),
        ),
        (
            "dbsync_network_address",
            address("lo", 0, "127.0.0.1", "255.0.0.0", "127.0.0.1", ""),
        ),
        (
            "dbsync_network_address",
            address(
                "lo",
                1,
                "::1",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "",
                "",
            ),
        ),
    ];
    rows.into_iter()
        .map(|(t, v)| (t, v.as_object().cloned().unwrap()))
        .collect()
}

/// The fixture's network rows as the reference would store them: (table, row with
/// checksum). Interface rows are the library's (their values are checked against the
/// fixture in `sysinfo_network`); protocol and address rows are
/// [`reference_network_rows`]. Address rows are hashed with their family's DHCP flag and
/// metric, which are dropped afterwards.
fn reference_rows() -> Vec<(&'static str, Row)> {
    let net = LinuxSysInfo::with_root(root(), null_logger())
        .network()
        .unwrap();
    let mut rows: Vec<(&'static str, Row)> = net
        .interfaces
        .into_iter()
        .map(|r| ("dbsync_network_iface", r))
        .collect();
    rows.extend(reference_network_rows());
    let mut out = Vec::new();
    for (table, mut row) in rows {
        let sum = reference_checksum(&row);
        if table == "dbsync_network_address" {
            row.remove("network_dhcp");
            row.remove("network_metric");
        }
        row.insert("checksum".into(), Value::from(sum));
        out.push((table, row));
    }
    assert!(out.iter().any(|(t, _)| *t == "dbsync_network_address"));
    out
}

/// Creates a `local.db` as the C++ module leaves it: its pragmas and CREATE statements,
/// user_version 1, `db_status_field_dm` added to the scanned tables, the rows stored.
fn write_reference_db(path: &Path, rows: &[(&'static str, Row)]) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "PRAGMA temp_store = memory; PRAGMA journal_mode = truncate; PRAGMA synchronous = OFF; PRAGMA user_version = 1;",
    )
    .unwrap();
    for stmt in REFERENCE_CREATE {
        c.execute_batch(stmt).unwrap();
    }
    for t in [
        "dbsync_network_iface",
        "dbsync_network_protocol",
        "dbsync_network_address",
    ] {
        c.execute_batch(&format!(
            "ALTER TABLE {t} ADD COLUMN db_status_field_dm INTEGER DEFAULT 1;"
        ))
        .unwrap();
    }
    for (table, row) in rows {
        let cols: Vec<&String> = row.keys().collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            cols.iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            vec!["?"; cols.len()].join(", ")
        );
        let values: Vec<rusqlite::types::Value> = cols
            .iter()
            .map(|k| match &row[*k] {
                Value::String(s) => rusqlite::types::Value::Text(s.clone()),
                Value::Number(n) if n.is_i64() || n.is_u64() => {
                    rusqlite::types::Value::Integer(n.as_i64().unwrap_or(i64::MAX))
                }
                Value::Number(n) => rusqlite::types::Value::Real(n.as_f64().unwrap()),
                Value::Null => rusqlite::types::Value::Null,
                other => rusqlite::types::Value::Text(other.to_string()),
            })
            .collect();
        c.execute(&sql, rusqlite::params_from_iter(values)).unwrap();
    }
}

#[derive(Default)]
struct Recorder {
    stateful: Mutex<usize>,
    stateless: Mutex<usize>,
}

impl Sink for Recorder {
    fn stateless(&self, _event: &str) {
        *self.stateless.lock() += 1;
    }
    fn stateful(&self, _doc: &Stateful, _json: &str) {
        *self.stateful.lock() += 1;
    }
}

fn network_module(db: &Path) -> (Inventory, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let inv = Inventory::new(
        Config {
            collectors: Collectors {
                network: true,
                ..Collectors::default()
            },
            notify_on_first_scan: true,
            db_path: Some(db.to_path_buf()),
            ..Config::default()
        },
        Box::new(LinuxSysInfo::with_root(root(), null_logger())),
        rec.clone(),
        null_logger(),
    )
    .unwrap();
    (inv, rec)
}

#[test]
fn an_upgrade_over_the_reference_database_reports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let rows = reference_rows();
    write_reference_db(&db, &rows);

    let (inv, rec) = network_module(&db);
    let report = inv.scan();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.tables.len(), 3, "{report:?}");
    let mut changed = 0;
    for t in &report.tables {
        changed += t.stats.inserted + t.stats.modified + t.stats.deleted;
    }
    let events = (*rec.stateful.lock(), *rec.stateless.lock());
    println!(
        "upgrade over a reference-schema database at {ROOT}: {} rows, {changed} differences, {} stateful + {} stateless events",
        rows.len(), events.0, events.1
    );
    assert_eq!(changed, 0, "{report:?}");
    assert_eq!(events, (0, 0));
    // The file was kept, not moved aside.
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("corrupt")
        })
        .count();
    assert_eq!(aside, 0);
}

/// `pragma table_info` of every table: (name, type, notnull, default, pk position).
/// A column as `pragma table_info` describes it: name, type, not null, default, key position.
type ColumnInfo = (String, String, i64, Option<String>, i64);

fn table_info(c: &Connection) -> BTreeMap<String, Vec<ColumnInfo>> {
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
        .into_iter()
        .map(|n| {
            let cols = c
                .prepare(&format!("PRAGMA table_info('{n}')"))
                .unwrap()
                .query_map([], |r| {
                    Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (n, cols)
        })
        .collect()
}

fn without_rowid(c: &Connection) -> Vec<String> {
    c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn our_database_has_the_reference_schema_and_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let (inv, _rec) = network_module(&db);
    inv.scan();
    drop(inv);

    let reference = Connection::open_in_memory().unwrap();
    for stmt in REFERENCE_CREATE {
        reference.execute_batch(stmt).unwrap();
    }
    let ours = Connection::open(&db).unwrap();
    assert_eq!(table_info(&ours), table_info(&reference));
    assert_eq!(without_rowid(&ours), without_rowid(&reference));

    // The reference's open: user_version 0 would make it delete the file.
    let version: i64 = ours
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    // Its first full scan of a table adds its bookkeeping column; the checksums it would
    // compute for the same host are the ones stored.
    for t in [
        "dbsync_network_iface",
        "dbsync_network_protocol",
        "dbsync_network_address",
    ] {
        ours.execute_batch(&format!(
            "ALTER TABLE {t} ADD COLUMN db_status_field_dm INTEGER DEFAULT 1;"
        ))
        .unwrap();
    }
    let mut expected: Vec<(String, String)> = reference_rows()
        .into_iter()
        .map(|(t, r)| (t.to_string(), r["checksum"].as_str().unwrap().to_string()))
        .collect();
    expected.sort();
    let mut stored = Vec::new();
    for t in [
        "dbsync_network_iface",
        "dbsync_network_protocol",
        "dbsync_network_address",
    ] {
        let mut stmt = ours.prepare(&format!("SELECT checksum FROM {t}")).unwrap();
        for sum in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            stored.push((t.to_string(), sum.unwrap()));
        }
    }
    stored.sort();
    assert_eq!(stored, expected);
    drop(ours);

    // And our library opens the database the reference has touched as its own.
    let (inv, rec) = network_module(&db);
    let report = inv.scan();
    let changed: usize = report
        .tables
        .iter()
        .map(|t| t.stats.inserted + t.stats.modified + t.stats.deleted)
        .sum();
    assert_eq!((changed, *rec.stateful.lock()), (0, 0), "{report:?}");
}

/// Issue 12.8: a beta host over a `local.db` an alpha0 module wrote (here the C++ one's,
/// with its bookkeeping column) gets the document-limit column in place: every row marked
/// synced (alpha0 sent every document), checksums and versions untouched, nothing
/// reported, the file kept; the migrated file opens as it is after a restart.
#[test]
fn an_alpha0_database_is_migrated_to_beta_in_place_and_nothing_is_reported() {
    use syscollector::catalog::TABLES;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let rows = reference_rows();
    write_reference_db(&db, &rows);
    let before: BTreeMap<String, Vec<(String, i64)>> = {
        let c = Connection::open(&db).unwrap();
        network_tables()
            .iter()
            .map(|t| (t.to_string(), checksums_and_versions(&c, t)))
            .collect()
    };

    let become_beta = |inv: &Inventory| {
        let cell = inv.generation_cell();
        assert!(cell.claim_beta());
        cell.freeze();
        inv.enter_beta();
    };
    let (inv, rec) = network_module(&db);
    become_beta(&inv);
    {
        let c = Connection::open(&db).unwrap();
        let info = table_info(&c);
        for t in TABLES {
            let sync: Vec<&ColumnInfo> = info[t.name].iter().filter(|c| c.0 == "sync").collect();
            assert_eq!(
                sync,
                [&(
                    "sync".to_string(),
                    "INTEGER".to_string(),
                    0,
                    Some("0".to_string()),
                    0
                )],
                "{}",
                t.name
            );
            let waiting: i64 = c
                .query_row(
                    &format!("SELECT COUNT(*) FROM {} WHERE sync IS NOT 1", t.name),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(waiting, 0, "{}", t.name);
        }
        let synced: i64 = network_tables()
            .iter()
            .map(|t| {
                c.query_row(
                    &format!("SELECT COUNT(*) FROM {t} WHERE sync = 1"),
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap()
            })
            .sum();
        assert_eq!(synced as usize, rows.len());
        for t in network_tables() {
            assert_eq!(checksums_and_versions(&c, t), before[t], "{t}");
        }
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 1);
    }
    let report = inv.scan();
    let changed: usize = report
        .tables
        .iter()
        .map(|t| t.stats.inserted + t.stats.modified + t.stats.deleted)
        .sum();
    assert_eq!(changed, 0, "{report:?}");
    // Unlimited tables whose rows are all synced: nothing to promote.
    assert!(inv.set_document_limits(&json!({
        "network_iface": 0, "network_protocol": 0, "network_address": 0
    })));
    let events = (*rec.stateful.lock(), *rec.stateless.lock());
    println!(
        "alpha0 database migrated to beta at {ROOT}: {} rows marked synced, {changed} differences, {} stateful + {} stateless events",
        rows.len(),
        events.0,
        events.1
    );
    assert_eq!(events, (0, 0));
    drop(inv);

    // A restart: the migrated file is this host's database as it is.
    let (inv, rec) = network_module(&db);
    become_beta(&inv);
    let report = inv.scan();
    assert!(report.failures.is_empty(), "{report:?}");
    assert!(report
        .tables
        .iter()
        .all(|t| t.stats.inserted + t.stats.modified + t.stats.deleted == 0));
    assert_eq!((*rec.stateful.lock(), *rec.stateless.lock()), (0, 0));
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("corrupt")
        })
        .count();
    assert_eq!(aside, 0);
}

fn network_tables() -> [&'static str; 3] {
    [
        "dbsync_network_iface",
        "dbsync_network_protocol",
        "dbsync_network_address",
    ]
}

fn checksums_and_versions(c: &Connection, table: &str) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = c
        .prepare(&format!("SELECT checksum, version FROM {table}"))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.sort();
    out
}

fn metadata() -> Option<AgentMetadata> {
    Some(AgentMetadata {
        architecture: "x86_64".into(),
        hostname: "test".into(),
        agent_id: "001".into(),
        groups: vec!["default".into()],
        ..AgentMetadata::default()
    })
}

#[test]
fn the_reference_queue_is_delivered_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syscollector_sync.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(REFERENCE_QUEUE).unwrap();
        let doc = |i: u32| json!({"process": {"pid": i.to_string()}}).to_string();
        // One difference pending, one in flight when the C++ module stopped.
        c.execute(
            "INSERT INTO persistent_queue (id, idx, data, operation, version) VALUES ('a', 'wazuh-states-inventory-processes', ?1, 0, 1)",
            [doc(1)],
        )
        .unwrap();
        c.execute(
            "INSERT INTO persistent_queue (id, idx, data, operation, version, sync_status, create_status, operation_syncing) VALUES ('b', 'wazuh-states-inventory-processes', ?1, 0, 1, 1, 1, 0)",
            [doc(2)],
        )
        .unwrap();
    }
    let queue = PersistentQueue::open(&path, &|_| {}).unwrap();
    let (proto, peer) = loopback::connected(
        Settings {
            module: "syscollector".into(),
            timeout: Duration::from_millis(2000),
            retries: 3,
            max_eps: 0,
            end_delay: Duration::ZERO,
        },
        queue,
        Faults::default(),
        Arc::new(metadata),
        null_logger(),
    );
    proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .unwrap();
    let held = || {
        peer.with_manager(|m| m.store())
            .indices
            .get("wazuh-states-inventory-processes")
            .map(|d| d.len())
            .unwrap_or(0)
    };
    assert_eq!(held(), 2);
    assert_eq!(peer.sent(), 4, "Start + 2 DataValue + End");
    assert!(proto.queue().is_empty().unwrap());
    proto
        .synchronize(Mode::ModuleDelta, SyncOption::Sync)
        .unwrap();
    assert_eq!(peer.sent(), 4, "nothing delivered twice");
}

/// A sync transport whose manager never answers: documents stay in the queues.
struct Unreachable;

impl syscollector::sync_protocol::Transport for Unreachable {
    fn check(&self) -> bool {
        false
    }
    fn send(&self, _message: &[u8]) -> bool {
        false
    }
}

/// Queues every stateful document, as the host's persist callback does.
struct QueueSink(Arc<syscollector::inventory::InventorySync>);

impl Sink for QueueSink {
    fn stateless(&self, _event: &str) {}
    fn stateful(&self, doc: &Stateful, json: &str) {
        self.0
            .persist(&doc.id, doc.operation, doc.index, json, doc.version);
    }
}

fn open_sync(dir: &Path) -> Arc<syscollector::inventory::InventorySync> {
    Arc::new(
        syscollector::inventory::InventorySync::open(
            syscollector::inventory::SyncConfig {
                module: "syscollector".into(),
                db_path: dir.join("syscollector_sync.db"),
                db_path_vd: dir.join("syscollector_vd_sync.db"),
                end_delay: Duration::ZERO,
                timeout: Duration::from_millis(10),
                retries: 0,
                max_eps: 0,
                integrity_interval: 3600,
                generation: Default::default(),
            },
            &|_| Arc::new(Unreachable),
            Arc::new(|| None),
            null_logger(),
        )
        .unwrap(),
    )
}

/// A provider whose package collector yields `n` packages, then fails or not.
struct ManyPackages {
    n: usize,
    fail: bool,
}

impl SysInfo for ManyPackages {
    fn os(&self) -> Result<Row, syscollector::sysinfo::CollectError> {
        Err(syscollector::sysinfo::CollectError::Unsupported("os"))
    }
    fn hardware(&self) -> Result<Row, syscollector::sysinfo::CollectError> {
        Err(syscollector::sysinfo::CollectError::Unsupported("hardware"))
    }
    fn processes(
        &self,
        _each: &mut dyn FnMut(Row),
    ) -> Result<(), syscollector::sysinfo::CollectError> {
        Err(syscollector::sysinfo::CollectError::Unsupported(
            "processes",
        ))
    }
    fn packages(
        &self,
        each: &mut dyn FnMut(Row),
    ) -> Result<(), syscollector::sysinfo::CollectError> {
        for i in 0..self.n {
            let row = json!({"name": format!("p{i}"), "version_": "1.0", "architecture": "amd64",
                             "type": "deb", "path": " "});
            each(row.as_object().cloned().unwrap());
        }
        if self.fail {
            return Err(syscollector::sysinfo::CollectError::Other(
                "the package database went away".into(),
            ));
        }
        Ok(())
    }
}

fn packages_module(
    dir: &Path,
    n: usize,
    fail: bool,
) -> (Inventory, Arc<syscollector::inventory::InventorySync>) {
    let sync = open_sync(dir);
    let inv = Inventory::new(
        Config {
            collectors: Collectors {
                packages: true,
                ..Collectors::default()
            },
            db_path: Some(dir.join("local.db")),
            ..Config::default()
        },
        Box::new(ManyPackages { n, fail }),
        Arc::new(QueueSink(sync.clone())),
        null_logger(),
    )
    .unwrap();
    inv.attach_sync(sync.clone());
    (inv, sync)
}

#[test]
fn a_scan_failing_after_ten_thousand_rows_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, sync) = packages_module(dir.path(), 10_000, true);
    inv.scan();
    let stored = inv
        .with_db(|db| db.count(&syscollector::dbsync::schema::PACKAGES))
        .unwrap();
    let queued = sync.vd.queue().len().unwrap() + sync.regular.queue().len().unwrap();
    assert_eq!((stored, queued), (0, 0));
    drop(inv);
    drop(sync);

    let dir = tempfile::tempdir().unwrap();
    let (inv, sync) = packages_module(dir.path(), 10_000, false);
    inv.scan();
    let stored = inv
        .with_db(|db| db.count(&syscollector::dbsync::schema::PACKAGES))
        .unwrap();
    let queued = sync.vd.queue().len().unwrap() + sync.regular.queue().len().unwrap();
    assert_eq!((stored, queued), (10_000, 10_000));
}

#[test]
fn delete_database_leaves_no_files_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, _sync) = packages_module(dir.path(), 3, false);
    inv.scan();
    let files = [
        "local.db",
        "syscollector_sync.db",
        "syscollector_vd_sync.db",
    ];
    for f in files {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    inv.delete_database();
    let left = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".db"))
            .collect()
    };
    assert_eq!(left(dir.path()), Vec::<String>::new());
    // The module keeps running without them, and recreates nothing.
    inv.scan();
    assert_eq!(left(dir.path()), Vec::<String>::new());
}

/// The log lines a logger received.
type Lines = Arc<Mutex<Vec<(LogLevel, String)>>>;

fn capture() -> (Logger, Lines) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    (
        Arc::new(move |level, m: &str| l.lock().push((level, m.to_string()))),
        lines,
    )
}

#[test]
fn scans_are_logged_per_collector_as_the_reference() {
    let (log, lines) = capture();
    let inv = Inventory::new(
        Config {
            collectors: Collectors {
                network: true,
                ..Collectors::default()
            },
            ..Config::default()
        },
        Box::new(LinuxSysInfo::with_root(root(), null_logger())),
        Arc::new(Recorder::default()),
        log,
    )
    .unwrap();
    inv.scan();
    let said: Vec<String> = lines
        .lock()
        .iter()
        .filter(|(_, m)| m.ends_with(" scan"))
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(said, ["Starting network scan", "Ending network scan"]);
}

#[test]
fn lo_reports_the_broadcast_getifaddrs_gives() {
    let net = LinuxSysInfo::with_root("/", null_logger())
        .network()
        .unwrap();
    let lo = net
        .addresses
        .iter()
        .find(|r| r["interface_name"] == "lo" && r["network_ip"] == "127.0.0.1")
        .expect("lo has 127.0.0.1 on this host");
    assert_eq!(lo["network_broadcast"], "127.0.0.1");
}
