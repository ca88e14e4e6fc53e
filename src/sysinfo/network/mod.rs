//! The three network tables on Linux: `dbsync_network_iface`, `dbsync_network_protocol`
//! and `dbsync_network_address`.
//!
//! Interfaces are the entries of `<root>/sys/class/net` (down ones too); their type,
//! state, MTU and MAC come from the files there, their counters from `<root>/proc/net/dev`
//! (as the agent reads them; `statistics/` in sysfs only when the interface is missing
//! there). Addresses come from `getifaddrs()` for the running host and from files for any
//! other root (see [`addresses`]). Gateways and metrics come from `<root>/proc/net/route`,
//! the DHCP flag from configuration files (see [`dhcp`]).
//!
//! Values are the Wazuh agent's (v5.0.0-alpha0), so that an agent upgraded in place or
//! rolled back computes the same checksums and re-reports nothing:
//! - `interface_alias` is "" (the agent has no alias on Linux);
//! - `interface_type` maps the ARPHRD number of `type` with the agent's table, where only
//!   the single-number entries can match: 1 ethernet, 4 token ring, 19 ATM, 24 firewire,
//!   512 point-to-point; every other number (loopback 772, tunnels, wireless) gives "",
//!   and a missing `type` file " ";
//! - `interface_state`/`host_mac` are the first line of `operstate`/`address`, " " when
//!   the file is missing or empty; `interface_mtu` is 0 when unknown;
//! - the interface's gateway is that of its first route in `/proc/net/route` with a
//!   gateway, " " without one; its IPv4 metric is the metric of that route, else of its
//!   last route ("" without routes);
//! - one protocol row per interface and address family that has addresses, with the DHCP
//!   flag of that family. Both rows carry the interface's gateway (the agent keeps one
//!   gateway per interface, taken from the IPv4 route table, and gives it to the IPv6 row
//!   too); the IPv4 row has the IPv4 metric, the IPv6 row an empty metric (the agent
//!   reads no IPv6 route);
//! - one address row per address, with network_type 0 (IPv4) or 1 (IPv6).

pub mod addresses;
pub mod dhcp;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::net::Ipv4Addr;

use serde_json::Value;

pub use super::parse::net::{
    ipv4_broadcast, ipv4_from_proc_hex, ipv4_netmask, ipv6_from_hex_bytes, ipv6_netmask, ipv6_text,
};
use super::{read, AddressSource, CollectError, LinuxSysInfo, NetworkRows};
use crate::Row;
use addresses::Address;

/// What the agent writes when a value is unknown.
pub const UNKNOWN_VALUE: &str = " ";

/// The small sysfs attribute files hold a line; nothing real comes near this.
const ATTR_LIMIT: u64 = 64 << 10;

/// Route tables of a full-table router run to a few hundred megabytes; stop beyond that.
pub(crate) const PROC_NET_LIMIT: u64 = 512 << 20;

/// An address family of the protocol and address tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// `network_type` of the protocol table.
    pub fn protocol_name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// `network_type` of the address table.
    pub fn address_type(self) -> i64 {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
        }
    }
}

/// The traffic counters of one interface, as `/proc/net/dev` has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// One line of `/proc/net/route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteV4 {
    pub iface: String,
    pub destination: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub mask: Ipv4Addr,
    /// The metric as the file writes it (decimal).
    pub metric: String,
}

/// Collects the rows of the three network tables. Fails only when the interface
/// directory cannot be listed.
pub fn collect(p: &LinuxSysInfo) -> Result<NetworkRows, CollectError> {
    let names = interface_names(p)?;
    let stats = p
        .read_text("/proc/net/dev", PROC_NET_LIMIT)
        .map(|text| parse_net_dev(&text))
        .unwrap_or_default();
    let routes4 = read_lines(p, "/proc/net/route", parse_route_line);
    let known: HashSet<&str> = names.iter().map(|(name, _)| name.as_str()).collect();
    let addrs = if p.sources().addresses == AddressSource::Getifaddrs {
        match addresses::from_getifaddrs() {
            Ok(addrs) => addrs,
            Err(e) => {
                p.debug(&format!(
                    "getifaddrs failed ({e}); reading addresses from /proc"
                ));
                addresses::from_files(p, &routes4, &known)
            }
        }
    } else {
        addresses::from_files(p, &routes4, &known)
    };
    let dhcp = dhcp::DhcpConfig::load(p);

    // Addresses by interface and family, each address once, in the order found.
    let mut by_iface: BTreeMap<(&str, Family), Vec<&Address>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for addr in &addrs {
        if !known.contains(addr.iface.as_str()) {
            p.debug(&format!(
                "address {} belongs to {}, which is not in /sys/class/net",
                addr.ip, addr.iface
            ));
            continue;
        }
        if seen.insert((addr.iface.as_str(), addr.family, addr.ip.as_str())) {
            by_iface
                .entry((addr.iface.as_str(), addr.family))
                .or_default()
                .push(addr);
        }
    }

    let mut rows = NetworkRows::default();
    for (name, dir_name) in &names {
        let link = stats
            .get(name)
            .copied()
            .unwrap_or_else(|| sysfs_stats(p, dir_name));
        rows.interfaces
            .push(interface_row(p, name, dir_name, &link));
    }
    for ((iface, family), list) in &by_iface {
        // One gateway per interface, from the IPv4 routes, in both rows; the IPv6 row
        // has no metric (see the module doc).
        let (gateway, ipv4_metric) = gateway_v4(&routes4, iface);
        let metric = match family {
            Family::V4 => ipv4_metric,
            Family::V6 => String::new(),
        };
        let mut proto = Row::new();
        proto.insert("interface_name".into(), Value::from(*iface));
        proto.insert("network_type".into(), Value::from(family.protocol_name()));
        proto.insert("network_gateway".into(), Value::from(gateway));
        proto.insert(
            "network_dhcp".into(),
            Value::from(dhcp.status(iface, *family)),
        );
        // The address rows carry their family's DHCP flag and metric for the checksum
        // (see the address table's `hashed_only` in the catalog).
        let dhcp_flag = proto.get("network_dhcp").cloned().unwrap_or(Value::from(0));
        let address_metric = Value::from(metric.as_str());
        proto.insert("network_metric".into(), Value::from(metric));
        rows.protocols.push(proto);
        for addr in list {
            let mut row = Row::new();
            row.insert("interface_name".into(), Value::from(*iface));
            row.insert("network_type".into(), Value::from(family.address_type()));
            row.insert("network_ip".into(), Value::from(addr.ip.as_str()));
            row.insert("network_netmask".into(), Value::from(addr.netmask.as_str()));
            row.insert(
                "network_broadcast".into(),
                Value::from(addr.broadcast.as_str()),
            );
            row.insert("network_dhcp".into(), dhcp_flag.clone());
            row.insert("network_metric".into(), address_metric.clone());
            rows.addresses.push(row);
        }
    }
    Ok(rows)
}

/// The interfaces of `<root>/sys/class/net` (directories, or links to them: the kernel
/// may also put a `bonding_masters` file there), sorted, with their directory names.
fn interface_names(p: &LinuxSysInfo) -> Result<Vec<(String, OsString)>, CollectError> {
    let dir = p.path("/sys/class/net");
    let entries = std::fs::read_dir(&dir).map_err(|e| CollectError::io(dir.display(), e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                p.debug(&format!("cannot list {}: {e}", dir.display()));
                continue;
            }
        };
        if !entry.path().is_dir() {
            continue;
        }
        let dir_name = entry.file_name();
        names.push((dir_name.to_string_lossy().into_owned(), dir_name));
    }
    names.sort();
    Ok(names)
}

fn interface_row(p: &LinuxSysInfo, name: &str, dir_name: &OsString, link: &LinkStats) -> Row {
    let attr = |file: &str| -> Option<String> {
        let path = p.path("/sys/class/net").join(dir_name).join(file);
        match read::text(&path, ATTR_LIMIT) {
            Ok(text) if !text.is_empty() => Some(text),
            Ok(_) => None,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    p.debug(&format!("cannot read {}: {e}", path.display()));
                }
                None
            }
        }
    };
    let first_line = |file: &str| -> String {
        attr(file)
            .map(|text| text.lines().next().unwrap_or("").to_string())
            .unwrap_or_else(|| UNKNOWN_VALUE.to_string())
    };
    let kind = match attr("type") {
        None => UNKNOWN_VALUE,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(code) => interface_type_name(code),
            Err(_) => {
                p.debug(&format!("{name}: type {:?} is not a number", text.trim()));
                UNKNOWN_VALUE
            }
        },
    };
    let mtu = attr("mtu")
        .and_then(|text| text.trim().parse::<u32>().ok())
        .unwrap_or(0);

    let mut row = Row::new();
    row.insert("interface_name".into(), Value::from(name));
    row.insert("interface_alias".into(), Value::from(""));
    row.insert("interface_type".into(), Value::from(kind));
    row.insert(
        "interface_state".into(),
        Value::from(first_line("operstate")),
    );
    row.insert("interface_mtu".into(), Value::from(mtu));
    row.insert("host_mac".into(), Value::from(first_line("address")));
    let counters = [
        ("host_network_egress_packages", link.tx_packets),
        ("host_network_ingress_packages", link.rx_packets),
        ("host_network_egress_bytes", link.tx_bytes),
        ("host_network_ingress_bytes", link.rx_bytes),
        ("host_network_egress_errors", link.tx_errors),
        ("host_network_ingress_errors", link.rx_errors),
        ("host_network_egress_drops", link.tx_dropped),
        ("host_network_ingress_drops", link.rx_dropped),
    ];
    for (key, value) in counters {
        row.insert(key.into(), Value::from(value));
    }
    row
}

/// The counters of an interface from `sys/class/net/<if>/statistics`, summed as
/// `/proc/net/dev` sums them (received drops include missed packets); zeros when absent.
fn sysfs_stats(p: &LinuxSysInfo, dir_name: &OsString) -> LinkStats {
    let dir = p.path("/sys/class/net").join(dir_name).join("statistics");
    let read = |file: &str| -> u64 {
        let path = dir.join(file);
        read::text(&path, ATTR_LIMIT)
            .map_err(|e| p.read_failed(&path, &e))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    };
    LinkStats {
        rx_bytes: read("rx_bytes"),
        rx_packets: read("rx_packets"),
        rx_errors: read("rx_errors"),
        rx_dropped: read("rx_dropped").saturating_add(read("rx_missed_errors")),
        tx_bytes: read("tx_bytes"),
        tx_packets: read("tx_packets"),
        tx_errors: read("tx_errors"),
        tx_dropped: read("tx_dropped"),
    }
}

/// The agent's name for an ARPHRD interface type number (see the module doc): "" for
/// numbers its table does not match.
pub fn interface_type_name(code: i64) -> &'static str {
    match code {
        1 => "ethernet",
        4 => "token ring",
        19 => "ATM",
        24 => "firewire",
        512 => "point-to-point",
        _ => "",
    }
}

/// Parses `/proc/net/dev`: counters by interface name. Lines that are not
/// `name: <16 numbers>` (the two header lines, garbage) are skipped.
pub fn parse_net_dev(text: &str) -> HashMap<String, LinkStats> {
    let mut stats = HashMap::new();
    for line in text.lines() {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let numbers: Option<Vec<u64>> = counters
            .split_ascii_whitespace()
            .map(|n| n.parse().ok())
            .collect();
        let Some(numbers) = numbers else {
            continue;
        };
        let field = |i: usize| numbers.get(i).copied();
        let (Some(rx_bytes), Some(rx_packets), Some(rx_errors), Some(rx_dropped)) =
            (field(0), field(1), field(2), field(3))
        else {
            continue;
        };
        let (Some(tx_bytes), Some(tx_packets), Some(tx_errors), Some(tx_dropped)) =
            (field(8), field(9), field(10), field(11))
        else {
            continue;
        };
        if name.is_empty() || numbers.len() != 16 {
            continue;
        }
        stats.insert(
            name.to_string(),
            LinkStats {
                rx_bytes,
                rx_packets,
                rx_errors,
                rx_dropped,
                tx_bytes,
                tx_packets,
                tx_errors,
                tx_dropped,
            },
        );
    }
    stats
}

/// One line of `/proc/net/route`; None for the header and malformed lines.
pub fn parse_route_line(line: &str) -> Option<RouteV4> {
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    if fields.len() != 11 {
        return None;
    }
    let iface = *fields.first()?;
    let metric = *fields.get(6)?;
    metric.parse::<i64>().ok()?;
    Some(RouteV4 {
        iface: iface.to_string(),
        destination: ipv4_from_proc_hex(fields.get(1)?)?,
        gateway: ipv4_from_proc_hex(fields.get(2)?)?,
        mask: ipv4_from_proc_hex(fields.get(7)?)?,
        metric: metric.to_string(),
    })
}

/// The gateway and IPv4 metric of `iface`, as the agent picks them (see the module doc).
pub fn gateway_v4(routes: &[RouteV4], iface: &str) -> (String, String) {
    let mut metric = String::new();
    for route in routes.iter().filter(|r| r.iface == iface) {
        metric.clone_from(&route.metric);
        if !route.gateway.is_unspecified() {
            return (route.gateway.to_string(), metric);
        }
    }
    (UNKNOWN_VALUE.to_string(), metric)
}

/// The parsed lines of a `/proc/net` file below the root; malformed lines are skipped
/// (counted in one debug line), a missing file gives nothing.
fn read_lines<T>(p: &LinuxSysInfo, file: &str, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    let path = p.path(file);
    let mut items = Vec::new();
    let mut skipped = 0usize;
    let result = read::lines(&path, PROC_NET_LIMIT, |line| match parse(line) {
        Some(item) => items.push(item),
        None => skipped += 1,
    });
    if let Err(e) = result {
        if e.kind() != std::io::ErrorKind::NotFound {
            p.debug(&format!("cannot read {}: {e}", path.display()));
        }
    }
    // The route file has a header line.
    if skipped > usize::from(file.ends_with("/route")) {
        p.debug(&format!(
            "{}: skipped {skipped} lines that are not routes",
            path.display()
        ));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_types_as_the_agent_maps_them() {
        assert_eq!(interface_type_name(1), "ethernet");
        assert_eq!(interface_type_name(512), "point-to-point");
        assert_eq!(interface_type_name(772), "");
        assert_eq!(interface_type_name(801), "");
        assert_eq!(interface_type_name(-1), "");
    }
}
