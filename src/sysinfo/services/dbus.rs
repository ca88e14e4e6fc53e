//! systemd's units over D-Bus, through `zbus`'s blocking API.
//!
//! `org.freedesktop.systemd1.Manager.ListUnits` gives every loaded unit as
//! `(name, description, load state, active state, sub state, followed unit, object
//! path, job id, job type, job path)`; the four extra columns of a service are read with
//! `org.freedesktop.DBus.Properties.Get` on its object, as the agent reads them (a
//! property that cannot be read, or is not a string, stays empty).
//!
//! Bounded in time: connecting (including the bus handshake) and `ListUnits` together
//! must finish within the given timeout, and so must every property call. Once one
//! property call times out, the remaining properties are left empty instead of waiting
//! again for each unit.

use std::sync::mpsc;
use std::time::Duration;

use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

use super::Unit;
use crate::sysinfo::CollectError;

const SYSTEMD: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SERVICE: &str = "org.freedesktop.systemd1.Service";

/// Which bus to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The system bus: `DBUS_SYSTEM_BUS_ADDRESS`, else the standard socket.
    System,
    /// A bus at this D-Bus address (`unix:path=…`).
    Address(String),
}

/// One entry of `ListUnits`' reply, `a(ssssssouso)`.
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

fn dbus_error(what: &str, e: zbus::Error) -> CollectError {
    CollectError::Other(format!("D-Bus {what}: {e}"))
}

fn timed_out(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Connects to `bus` and lists its units, giving up when both have not finished within
/// `timeout` (a peer that accepts the socket but never completes the handshake, or a
/// systemd that does not answer, is left to the worker thread).
fn connect_and_list(
    bus: Bus,
    timeout: Duration,
) -> Result<(Connection, Vec<ListedUnit>), CollectError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("syscollector-dbus".into())
        .spawn(move || {
            let result = (|| {
                let builder = match bus {
                    Bus::System => zbus::blocking::connection::Builder::system(),
                    Bus::Address(a) => zbus::blocking::connection::Builder::address(a.as_str()),
                };
                let conn = builder
                    .and_then(|b| b.method_timeout(timeout).build())
                    .map_err(|e| dbus_error("connection", e))?;
                let reply = conn
                    .call_method(Some(SYSTEMD), MANAGER_PATH, Some(MANAGER), "ListUnits", &())
                    .map_err(|e| dbus_error("ListUnits", e))?;
                let listed: Vec<ListedUnit> = reply
                    .body()
                    .deserialize()
                    .map_err(|e| dbus_error("ListUnits reply", e))?;
                Ok((conn, listed))
            })();
            // The receiver may have given up already; nothing to do then.
            let _ = tx.send(result);
        })
        .map_err(|e| CollectError::io("D-Bus thread", e))?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => Err(CollectError::Other(format!(
            "D-Bus: no list of units within {timeout:?}"
        ))),
    }
}

/// A string property of the object at `path`; `Ok(None)` when it cannot be read or is not
/// a string, `Err` when the call timed out.
fn string_property(
    conn: &Connection,
    path: &str,
    interface: &str,
    name: &str,
) -> Result<Option<String>, zbus::Error> {
    let reply = match conn.call_method(
        Some(SYSTEMD),
        path,
        Some(PROPERTIES),
        "Get",
        &(interface, name),
    ) {
        Ok(reply) => reply,
        Err(e) if timed_out(&e) => return Err(e),
        Err(_) => return Ok(None),
    };
    let value: OwnedValue = match reply.body().deserialize() {
        Ok(v) => v,
        Err(_) => return Ok(None),
    };
    let text = match &*value {
        Value::Str(s) => Some(s.as_str().to_string()),
        _ => None,
    };
    Ok(text)
}

/// Every unit systemd has loaded, the extra properties filled for the services.
pub fn list_units(bus: Bus, timeout: Duration) -> Result<Vec<Unit>, CollectError> {
    let (conn, listed) = connect_and_list(bus, timeout)?;

    let mut units = Vec::with_capacity(listed.len());
    let mut properties_answer = true;
    for (id, description, load, active, sub, following, path, job_id, job_type, job_path) in listed
    {
        let mut unit = Unit {
            id,
            description,
            load_state: load,
            active_state: active,
            sub_state: sub,
            following,
            object_path: path.as_str().to_string(),
            job_id,
            job_type,
            job_path: job_path.as_str().to_string(),
            ..Unit::default()
        };
        if properties_answer && unit.id.ends_with(".service") {
            let queries: [(&str, &str, &mut String); 4] = [
                (UNIT, "FragmentPath", &mut unit.fragment_path),
                (UNIT, "SourcePath", &mut unit.source_path),
                (SERVICE, "User", &mut unit.user),
                (UNIT, "UnitFileState", &mut unit.unit_file_state),
            ];
            for (interface, name, slot) in queries {
                match string_property(&conn, &unit.object_path, interface, name) {
                    Ok(Some(value)) => *slot = value,
                    Ok(None) => {}
                    Err(_) => {
                        properties_answer = false;
                        break;
                    }
                }
            }
        }
        units.push(unit);
    }
    Ok(units)
}
