//! The `dbsync_services` collector, both ways it reads services:
//! - over D-Bus, against a real `dbus-daemon` started on a private socket in a temporary
//!   directory, where this test process plays systemd (a zbus object server owning
//!   `org.freedesktop.systemd1` that answers `ListUnits` and the property calls for a few
//!   units, as systemd does); with timeouts for a missing bus, a bus without systemd, a
//!   peer that never answers and a `ListUnits` that never returns;
//! - from unit files, on tests/fixtures/services-debian12 (unit files and links copied
//!   from a Debian 12 system, plus a local unit, a drop-in, a runtime link, an empty and
//!   a masked unit) and on this machine, both checked against `systemctl --root=…
//!   list-unit-files`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::fixture;
use serde_json::json;
use syscollector::sysinfo::services::{collect_from_bus, object_path, unit_files};
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};
use zbus::zvariant::OwnedObjectPath;

/// A private `dbus-daemon`, stopped when dropped.
struct Bus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    fn start() -> Bus {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("bus");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--print-address")
            .stdout(Stdio::piped())
            // It warns that it cannot raise its file limit when not started by init.
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon) must be installed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {line:?}");
        Bus {
            child,
            address,
            _dir: dir,
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type ListedUnit = (
    String,
    String,
    String,
    String,
    String,
    String,
    OwnedObjectPath,
    u32,
    String,
    OwnedObjectPath,
);

/// `org.freedesktop.systemd1.Manager`, as much of it as the collector uses.
struct Manager {
    units: Vec<ListedUnit>,
    delay: Duration,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Manager")]
impl Manager {
    fn list_units(&self) -> Vec<ListedUnit> {
        std::thread::sleep(self.delay);
        self.units.clone()
    }
}

/// The `org.freedesktop.systemd1.Unit` properties the collector reads.
struct UnitProps {
    fragment: String,
    source: String,
    state: String,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Unit")]
impl UnitProps {
    #[zbus(property)]
    fn fragment_path(&self) -> String {
        self.fragment.clone()
    }
    #[zbus(property)]
    fn source_path(&self) -> String {
        self.source.clone()
    }
    #[zbus(property)]
    fn unit_file_state(&self) -> String {
        self.state.clone()
    }
    /// A property the collector does not read, as systemd has many.
    #[zbus(property)]
    fn active_enter_timestamp(&self) -> u64 {
        1_700_000_000_000_000
    }
}

/// The `org.freedesktop.systemd1.Service` property the collector reads.
struct ServiceProps {
    user: String,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Service")]
impl ServiceProps {
    #[zbus(property)]
    fn user(&self) -> String {
        self.user.clone()
    }
}

fn path(p: &str) -> OwnedObjectPath {
    OwnedObjectPath::try_from(p.to_string()).unwrap()
}

/// One unit as ListUnits lists it (no job unless given).
fn listed(id: &str, description: &str, load: &str, active: &str, sub: &str) -> ListedUnit {
    (
        id.into(),
        description.into(),
        load.into(),
        active.into(),
        sub.into(),
        String::new(),
        path(&object_path(id)),
        0,
        String::new(),
        path("/"),
    )
}

/// Plays systemd on `bus` with a few units; `delay` slows `ListUnits` down.
fn fake_systemd(bus: &Bus, delay: Duration) -> zbus::blocking::Connection {
    let mut pg = listed(
        "postgresql@15-main.service",
        "PostgreSQL Cluster 15-main",
        "loaded",
        "active",
        "running",
    );
    pg.7 = 42;
    pg.8 = "restart".into();
    pg.9 = path("/org/freedesktop/systemd1/job/42");
    let mut alias = listed("sshd.service", "", "loaded", "active", "running");
    alias.5 = "ssh.service".into();
    let units = vec![
        listed(
            "ssh.socket",
            "OpenBSD Secure Shell server socket",
            "loaded",
            "inactive",
            "dead",
        ),
        listed(
            "ssh.service",
            "OpenBSD Secure Shell server",
            "loaded",
            "active",
            "running",
        ),
        pg,
        listed(
            "apache-htcacheclean.service",
            "LSB: Cache cleaner process for Apache2",
            "loaded",
            "inactive",
            "dead",
        ),
        listed(
            "auditd.service",
            "auditd.service",
            "not-found",
            "inactive",
            "dead",
        ),
        alias,
    ];
    let props = [
        (
            "ssh.service",
            "/lib/systemd/system/ssh.service",
            "",
            "enabled",
            "",
        ),
        (
            "postgresql@15-main.service",
            "/lib/systemd/system/postgresql@.service",
            "",
            "enabled-runtime",
            "postgres",
        ),
        (
            "apache-htcacheclean.service",
            "/run/systemd/generator.late/apache-htcacheclean.service",
            "/etc/init.d/apache-htcacheclean",
            "generated",
            "",
        ),
    ];
    let mut builder = zbus::blocking::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name("org.freedesktop.systemd1")
        .unwrap()
        .serve_at("/org/freedesktop/systemd1", Manager { units, delay })
        .unwrap();
    for (id, fragment, source, state, user) in props {
        builder = builder
            .serve_at(
                object_path(id),
                UnitProps {
                    fragment: fragment.into(),
                    source: source.into(),
                    state: state.into(),
                },
            )
            .unwrap()
            .serve_at(object_path(id), ServiceProps { user: user.into() })
            .unwrap();
    }
    builder.build().unwrap()
}

fn by_id(rows: Vec<Row>) -> BTreeMap<String, Row> {
    rows.into_iter()
        .map(|r| (r["service_id"].as_str().unwrap().to_string(), r))
        .collect()
}

/// The row the collector makes from these values (the columns the agent leaves empty
/// on Linux are constant).
#[allow(clippy::too_many_arguments)] // one argument per column that varies
fn service_row(
    name: &str,
    description: &str,
    state: &str,
    sub: &str,
    enabled: &str,
    executable: &str,
    user: &str,
    file_path: &str,
    following: &str,
    job: (u32, &str, &str),
) -> Row {
    json!({
        "service_id": name, "service_name": name, "service_description": description,
        "service_type": " ", "service_state": state, "service_sub_state": sub,
        "service_enabled": enabled, "service_start_type": " ", "service_restart": " ",
        "service_frequency": 0, "service_starts_on_mount": 0,
        "service_starts_on_path_modified": " ", "service_starts_on_not_empty_directory": " ",
        "service_inetd_compatibility": 0, "process_pid": 0, "process_executable": executable,
        "process_args": " ", "process_user_name": user, "process_group_name": " ",
        "file_path": file_path, "service_address": " ", "log_file_path": " ",
        "error_log_file_path": " ", "service_exit_code": 0, "service_win32_exit_code": 0,
        "service_following": following,
        "service_object_path": object_path(&format!("{name}.service")),
        "service_target_ephemeral_id": job.0, "service_target_type": job.1,
        "service_target_address": job.2,
    })
    .as_object()
    .unwrap()
    .clone()
}

#[test]
fn units_from_a_fake_systemd_on_a_real_bus() {
    let bus = Bus::start();
    let _systemd = fake_systemd(&bus, Duration::ZERO);
    let rows = by_id(collect_from_bus(&bus.address, Duration::from_secs(2)).unwrap());
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        [
            "apache-htcacheclean",
            "auditd",
            "postgresql@15-main",
            "ssh",
            "sshd"
        ]
    );
    assert_eq!(
        rows["ssh"],
        service_row(
            "ssh",
            "OpenBSD Secure Shell server",
            "active",
            "running",
            "enabled",
            "/lib/systemd/system/ssh.service",
            "",
            " ",
            "",
            (0, "", "/"),
        )
    );
    assert_eq!(
        rows["postgresql@15-main"],
        service_row(
            "postgresql@15-main",
            "PostgreSQL Cluster 15-main",
            "active",
            "running",
            "enabled-runtime",
            "/lib/systemd/system/postgresql@.service",
            "postgres",
            " ",
            "",
            (42, "restart", "/org/freedesktop/systemd1/job/42"),
        )
    );
    assert_eq!(
        rows["apache-htcacheclean"],
        service_row(
            "apache-htcacheclean",
            "LSB: Cache cleaner process for Apache2",
            "inactive",
            "dead",
            "generated",
            "/run/systemd/generator.late/apache-htcacheclean.service",
            "",
            "/etc/init.d/apache-htcacheclean",
            "",
            (0, "", "/"),
        )
    );
    // No object answers for these two: their property columns stay empty.
    assert_eq!(
        rows["auditd"],
        service_row(
            "auditd",
            "auditd.service",
            "inactive",
            "dead",
            "",
            "",
            "",
            " ",
            "",
            (0, "", "/"),
        )
    );
    assert_eq!(rows["sshd"]["service_following"], "ssh.service");
}

#[test]
fn missing_or_silent_buses_time_out_quickly() {
    let limit = Duration::from_millis(2500);
    let dir = tempfile::tempdir().unwrap();

    // No socket at all.
    let start = Instant::now();
    let nowhere = format!("unix:path={}", dir.path().join("none").display());
    assert!(collect_from_bus(&nowhere, Duration::from_secs(2)).is_err());
    assert!(start.elapsed() < limit);

    // A socket whose peer never speaks.
    let silent = dir.path().join("silent");
    let _listener = std::os::unix::net::UnixListener::bind(&silent).unwrap();
    let start = Instant::now();
    let err = collect_from_bus(
        &format!("unix:path={}", silent.display()),
        Duration::from_secs(2),
    )
    .unwrap_err();
    assert!(start.elapsed() < limit, "{:?}: {err}", start.elapsed());

    // A bus nobody plays systemd on.
    let bus = Bus::start();
    let start = Instant::now();
    assert!(collect_from_bus(&bus.address, Duration::from_secs(2)).is_err());
    assert!(start.elapsed() < limit);

    // A systemd whose ListUnits does not answer in time.
    let _systemd = fake_systemd(&bus, Duration::from_secs(4));
    let start = Instant::now();
    let err = collect_from_bus(&bus.address, Duration::from_secs(2)).unwrap_err();
    assert!(start.elapsed() < limit, "{:?}: {err}", start.elapsed());
}

/// The collector of the live host asks the system bus (`DBUS_SYSTEM_BUS_ADDRESS`), and
/// reads unit files when nothing answers there. The only test that sets the variable.
#[test]
fn live_collector_uses_the_system_bus_then_unit_files() {
    // It sets an environment variable, which every test of this binary (and every process
    // they start) shares.
    if !crate::helpers::alone_in_child(
        "sysinfo_services::live_collector_uses_the_system_bus_then_unit_files",
    ) {
        return;
    }
    let bus = Bus::start();
    let _systemd = fake_systemd(&bus, Duration::ZERO);
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &bus.address);
    let rows = LinuxSysInfo::new(null_logger()).services().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().any(|r| r["service_id"] == "ssh"));

    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:path={}", dir.path().join("none").display());
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &nowhere);
    let start = Instant::now();
    let rows = LinuxSysInfo::new(null_logger()).services().unwrap();
    assert!(start.elapsed() < Duration::from_millis(2500));
    let from_files = unit_files::list_units(&LinuxSysInfo::new(null_logger()));
    assert_eq!(
        rows.len(),
        from_files
            .iter()
            .filter(|u| u.id.ends_with(".service"))
            .count()
    );
    assert!(rows.iter().all(|r| r["service_state"] == " "));
    std::env::remove_var("DBUS_SYSTEM_BUS_ADDRESS");
}

/// `systemctl --root=ROOT list-unit-files --type=service`: unit file name → state.
fn systemctl_states(root: &Path) -> BTreeMap<String, String> {
    let out = Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args([
            "list-unit-files",
            "--type=service",
            "--no-legend",
            "--no-pager",
        ])
        .output()
        .expect("systemctl (Debian package systemd) must be installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .collect()
}

/// Our unit file states against systemctl's for every unit that is not a template, an
/// alias, or made at boot.
fn check_states_against_systemctl(root: &Path) -> usize {
    let units = unit_files::list_units(&LinuxSysInfo::with_root(root, null_logger()));
    let ours: BTreeMap<&str, &str> = units
        .iter()
        .map(|u| (u.id.as_str(), u.unit_file_state.as_str()))
        .collect();
    let mut checked = 0;
    for (name, state) in systemctl_states(root) {
        if name.contains("@.") || ["alias", "generated", "transient"].contains(&state.as_str()) {
            assert!(
                !ours.contains_key(name.as_str()) || state != "alias",
                "{name}"
            );
            continue;
        }
        assert_eq!(
            ours.get(name.as_str()).copied(),
            Some(state.as_str()),
            "{name}"
        );
        checked += 1;
    }
    checked
}

#[test]
fn fixture_unit_files() {
    let root = fixture("services-debian12");
    assert!(check_states_against_systemctl(&root) >= 10);
    let rows = by_id(
        LinuxSysInfo::with_root(&root, null_logger())
            .services()
            .unwrap(),
    );
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        [
            "backup",
            "console-getty",
            "cryptdisks",
            "dbus",
            "debug-shell",
            "e2scrub_reap",
            "empty",
            "getty@tty1",
            "hwclock",
            "man-db",
            "postgresql",
            "postgresql@15-main",
            "systemd-logind",
            "systemd-timesyncd",
        ]
    );
    let files = |name: &str, description: &str, enabled: &str, file: &str, user: &str| {
        service_row(
            name,
            description,
            " ",
            " ",
            enabled,
            file,
            user,
            " ",
            " ",
            (0, " ", " "),
        )
    };
    let expected = [
        files(
            "backup",
            "Nightly backup of /srv",
            "disabled",
            "/etc/systemd/system/backup.service",
            "backup",
        ),
        files(
            "console-getty",
            "Console Getty",
            "enabled-runtime",
            "/usr/lib/systemd/system/console-getty.service",
            "",
        ),
        files(
            "debug-shell",
            "debug-shell.service",
            "masked",
            "/etc/systemd/system/debug-shell.service",
            "",
        ),
        files(
            "getty@tty1",
            "Getty on tty1",
            "enabled",
            "/usr/lib/systemd/system/getty@.service",
            "",
        ),
        files(
            "postgresql",
            "PostgreSQL RDBMS (site override)",
            "enabled",
            "/usr/lib/systemd/system/postgresql.service",
            "postgres",
        ),
        files(
            "postgresql@15-main",
            "PostgreSQL Cluster 15-main",
            "enabled",
            "/usr/lib/systemd/system/postgresql@.service",
            "",
        ),
        files(
            "systemd-timesyncd",
            "Network Time Synchronization",
            "enabled",
            "/usr/lib/systemd/system/systemd-timesyncd.service",
            "systemd-timesync",
        ),
        files(
            "man-db",
            "Daily man-db regeneration",
            "static",
            "/usr/lib/systemd/system/man-db.service",
            "man",
        ),
    ];
    for want in expected {
        let name = want["service_id"].as_str().unwrap();
        assert_eq!(rows[name], want, "{name}");
    }
    assert_eq!(rows["empty"]["service_enabled"], "masked");
    assert_eq!(rows["hwclock"]["service_enabled"], "masked");
}

#[test]
fn broken_unit_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("etc/systemd/system");
    std::fs::create_dir_all(units.join("multi-user.target.wants")).unwrap();
    std::fs::write(units.join("good.service"), "[Unit]\nDescription=Good\n").unwrap();
    std::fs::write(
        units.join("binary.service"),
        [0u8, 159, 146, 150, 10, 255, 0],
    )
    .unwrap();
    std::fs::write(
        units.join("noeq.service"),
        "[Unit\nDescription\n=\n[Install]\nWantedBy",
    )
    .unwrap();
    std::os::unix::fs::symlink("loop.service", units.join("loop.service")).unwrap();
    std::os::unix::fs::symlink("/nowhere/gone.service", units.join("gone.service")).unwrap();
    std::os::unix::fs::symlink(
        "/nowhere",
        units.join("multi-user.target.wants/x@y.service"),
    )
    .unwrap();
    std::fs::create_dir(units.join("dir.service")).unwrap();
    let rows = by_id(
        LinuxSysInfo::with_root(dir.path(), null_logger())
            .services()
            .unwrap(),
    );
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        ["binary", "gone", "good", "loop", "noeq"]
    );
    assert_eq!(rows["good"]["service_description"], "Good");
    assert_eq!(rows["good"]["service_enabled"], "static");
    assert_eq!(rows["binary"]["service_description"], "binary.service");
    assert_eq!(rows["loop"]["service_description"], "loop.service");
}

/// This machine's unit files, as systemctl reads them.
#[test]
fn live_unit_files_match_systemctl() {
    assert!(check_states_against_systemctl(Path::new("/")) > 0);
}

/// The services source is chosen by name: a private bus for a fixture root gives the bus's
/// units, the unit-file source on this machine gives its unit files, whatever the root.
#[test]
fn services_source_by_name() {
    use syscollector::sysinfo::{ServiceSource, Sources};
    let bus = Bus::start();
    let _systemd = fake_systemd(&bus, Duration::ZERO);
    let root = fixture("services-debian12");
    let from_bus = LinuxSysInfo::with_root(&root, null_logger()).with_sources(Sources {
        services: ServiceSource::Bus(bus.address.clone()),
        ..Sources::files()
    });
    assert_eq!(
        by_id(from_bus.services().unwrap()),
        by_id(collect_from_bus(&bus.address, Duration::from_secs(2)).unwrap())
    );
    let fixture_files = LinuxSysInfo::with_root(&root, null_logger());
    assert_eq!(fixture_files.sources().services, ServiceSource::UnitFiles);
    let rows = by_id(fixture_files.services().unwrap());
    assert!(rows.len() > 5, "{}", rows.len());
    assert!(rows.values().all(|r| r["service_state"] == " "));

    let live_files = LinuxSysInfo::new(null_logger()).with_sources(Sources {
        services: ServiceSource::UnitFiles,
        ..Sources::live()
    });
    let units = unit_files::list_units(&live_files);
    assert_eq!(
        live_files.services().unwrap().len(),
        units.iter().filter(|u| u.id.ends_with(".service")).count()
    );
}
