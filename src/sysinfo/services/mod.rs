//! The `dbsync_services` rows on Linux: one per systemd service unit.
//!
//! With [`ServiceSource::SystemBus`] (the default for root `/`) the units come from
//! systemd over the system D-Bus, as the
//! Wazuh agent reads them: `ListUnits` on `org.freedesktop.systemd1`, then the
//! `FragmentPath`, `SourcePath`, `UnitFileState` (interface `…systemd1.Unit`) and `User`
//! (`…systemd1.Service`) properties of each service (see [`dbus`]). The bus address is
//! the standard one: `DBUS_SYSTEM_BUS_ADDRESS` when set, else
//! `unix:path=/var/run/dbus/system_bus_socket`. Every call has a 2-second timeout.
//!
//! When the bus cannot be reached (a container without systemd, a host whose systemd
//! does not answer) or the source is [`ServiceSource::UnitFiles`] (the default for any
//! other root: the bus describes the live host, not a mounted tree), the services are
//! read from the unit files on disk instead (see
//! [`unit_files`]), so installed services are still reported, with the runtime columns
//! (state, sub-state, job) unknown.
//!
//! Row values follow the agent: `service_id` and `service_name` are the unit name
//! without `.service`; `service_state`/`service_sub_state` the active and sub state;
//! `service_enabled` the unit file state (`enabled`, `disabled`, `static`, `masked`, …);
//! `process_executable` the unit file (`FragmentPath`); `file_path` the `SourcePath`
//! (the SysV script a generated unit comes from), `" "` when empty; the job columns the
//! unit's pending job. Columns the agent leaves empty on Linux stay `" "` or 0.

pub mod dbus;
pub mod unit_files;

use std::time::Duration;

use serde_json::Value;

use super::{CollectError, LinuxSysInfo, ServiceSource};
use crate::Row;

/// How long one D-Bus call may take before the collector gives up on the bus.
pub const DBUS_TIMEOUT: Duration = Duration::from_secs(2);

/// One systemd unit, with the values the row is made of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unit {
    /// The unit name (`ssh.service`).
    pub id: String,
    pub description: String,
    pub load_state: String,
    pub active_state: String,
    pub sub_state: String,
    pub following: String,
    pub object_path: String,
    pub job_id: u32,
    pub job_type: String,
    pub job_path: String,
    pub fragment_path: String,
    pub source_path: String,
    pub user: String,
    pub unit_file_state: String,
}

/// systemd's object path of a unit: `/org/freedesktop/systemd1/unit/` and the name with
/// every byte other than an ASCII letter (or a digit after the first byte) written as
/// `_xx` (lowercase hex): `ssh.service` → `…/unit/ssh_2eservice`.
pub fn object_path(unit: &str) -> String {
    let mut path = String::from("/org/freedesktop/systemd1/unit/");
    if unit.is_empty() {
        path.push('_');
    }
    for (i, b) in unit.bytes().enumerate() {
        if b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()) {
            path.push(char::from(b));
        } else {
            path.push_str(&format!("_{b:02x}"));
        }
    }
    path
}

/// `s`, or the unknown marker `" "` when it is empty.
fn or_unknown(s: &str) -> Value {
    if s.is_empty() {
        " ".into()
    } else {
        s.into()
    }
}

/// The row of a unit; `None` unless it is a service (`*.service`).
pub fn unit_row(unit: &Unit) -> Option<Row> {
    let name = unit.id.strip_suffix(".service")?;
    let mut row = Row::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    put("service_id", or_unknown(name));
    put("service_name", or_unknown(name));
    put("service_description", unit.description.clone().into());
    put("service_type", " ".into());
    put("service_state", unit.active_state.clone().into());
    put("service_sub_state", unit.sub_state.clone().into());
    put("service_enabled", unit.unit_file_state.clone().into());
    put("service_start_type", " ".into());
    put("service_restart", " ".into());
    put("service_frequency", 0.into());
    put("service_starts_on_mount", 0.into());
    put("service_starts_on_path_modified", " ".into());
    put("service_starts_on_not_empty_directory", " ".into());
    put("service_inetd_compatibility", 0.into());
    put("process_pid", 0.into());
    put("process_executable", unit.fragment_path.clone().into());
    put("process_args", " ".into());
    put("process_user_name", unit.user.clone().into());
    put("process_group_name", " ".into());
    put("file_path", or_unknown(&unit.source_path));
    put("service_address", " ".into());
    put("log_file_path", " ".into());
    put("error_log_file_path", " ".into());
    put("service_exit_code", 0.into());
    put("service_win32_exit_code", 0.into());
    put("service_following", unit.following.clone().into());
    put("service_object_path", unit.object_path.clone().into());
    put("service_target_ephemeral_id", unit.job_id.into());
    put("service_target_type", unit.job_type.clone().into());
    put("service_target_address", unit.job_path.clone().into());
    Some(row)
}

/// Rows of the service units of `units`.
pub fn rows(units: &[Unit]) -> Vec<Row> {
    units.iter().filter_map(unit_row).collect()
}

/// Rows of `dbsync_services` from systemd at the D-Bus `address` (tests point this at a
/// private bus; the collector uses the system bus).
pub fn collect_from_bus(address: &str, timeout: Duration) -> Result<Vec<Row>, CollectError> {
    let units = dbus::list_units(dbus::Bus::Address(address.to_string()), timeout)?;
    Ok(rows(&units))
}

/// Rows of `dbsync_services`.
pub fn collect(p: &LinuxSysInfo) -> Result<Vec<Row>, CollectError> {
    let bus = match &p.sources().services {
        ServiceSource::SystemBus => Some(dbus::Bus::System),
        ServiceSource::Bus(address) => Some(dbus::Bus::Address(address.clone())),
        ServiceSource::UnitFiles => None,
    };
    if let Some(bus) = bus {
        match dbus::list_units(bus, DBUS_TIMEOUT) {
            Ok(units) => return Ok(rows(&units)),
            Err(e) => p.debug(&format!(
                "systemd is not reachable over D-Bus ({e}); reading unit files instead"
            )),
        }
    }
    Ok(rows(&unit_files::list_units(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_paths_as_systemd_escapes_them() {
        assert_eq!(
            object_path("ssh.service"),
            "/org/freedesktop/systemd1/unit/ssh_2eservice"
        );
        assert_eq!(
            object_path("getty@tty1.service"),
            "/org/freedesktop/systemd1/unit/getty_40tty1_2eservice"
        );
        assert_eq!(
            object_path("1password.service"),
            "/org/freedesktop/systemd1/unit/_31password_2eservice"
        );
        assert_eq!(
            object_path("systemd-journald.service"),
            "/org/freedesktop/systemd1/unit/systemd_2djournald_2eservice"
        );
    }

    #[test]
    fn only_services_become_rows() {
        let unit = Unit {
            id: "cron.service".into(),
            description: "Regular background program processing daemon".into(),
            load_state: "loaded".into(),
            active_state: "active".into(),
            sub_state: "running".into(),
            object_path: object_path("cron.service"),
            job_path: "/".into(),
            fragment_path: "/lib/systemd/system/cron.service".into(),
            unit_file_state: "enabled".into(),
            ..Unit::default()
        };
        let row = unit_row(&unit).unwrap();
        assert_eq!(row["service_id"], "cron");
        assert_eq!(row["service_name"], "cron");
        assert_eq!(row["service_state"], "active");
        assert_eq!(row["service_enabled"], "enabled");
        assert_eq!(
            row["process_executable"],
            "/lib/systemd/system/cron.service"
        );
        assert_eq!(row["file_path"], " ");
        assert_eq!(row["service_target_ephemeral_id"], 0);
        assert_eq!(row["service_target_address"], "/");
        let timer = Unit {
            id: "apt-daily.timer".into(),
            ..unit
        };
        assert!(unit_row(&timer).is_none());
    }
}
