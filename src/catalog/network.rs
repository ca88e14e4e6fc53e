//! The network: interfaces, their per-family settings and addresses (one walk over the
//! interfaces fills all three), and open sockets.

use super::{
    bigint, int, text, Collector, Gather, Hooks, Instance, RowFilter, ScanOptions, TableDef,
};

pub static NETWORK_COLLECTOR: Collector = Collector {
    name: "network",
    cli_aliases: &[],
    tables: &[&NETWORK_IFACE, &NETWORK_PROTOCOL, &NETWORK_ADDRESS],
    switch: |c| &mut c.network,
    gather: Gather::Joint(|p| {
        p.network()
            .map(|n| vec![n.interfaces, n.protocols, n.addresses])
    }),
};

pub static NETWORK_IFACE: TableDef = TableDef {
    name: "dbsync_network_iface",
    index: "wazuh-states-inventory-interfaces",
    columns: &[
        text("interface_name", "interface.name"),
        text("interface_alias", "interface.alias"),
        text("interface_type", "interface.type"),
        text("interface_state", "interface.state"),
        int("interface_mtu", "interface.mtu"),
        text("host_mac", "host.mac").list(),
        int(
            "host_network_egress_packages",
            "host.network.egress.packets",
        ),
        int(
            "host_network_ingress_packages",
            "host.network.ingress.packets",
        ),
        int("host_network_egress_bytes", "host.network.egress.bytes"),
        int("host_network_ingress_bytes", "host.network.ingress.bytes"),
        int("host_network_egress_errors", "host.network.egress.errors"),
        int("host_network_ingress_errors", "host.network.ingress.errors"),
        int("host_network_egress_drops", "host.network.egress.drops"),
        int("host_network_ingress_drops", "host.network.ingress.drops"),
    ],
    primary_key: &["interface_name", "interface_alias", "interface_type"],
    limit_name: "network_iface",
    limit_order: &["interface_name"],
    instance: Instance::Regular,
    collector: &NETWORK_COLLECTOR,
    hooks: Hooks::NONE,
};

pub static NETWORK_PROTOCOL: TableDef = TableDef {
    name: "dbsync_network_protocol",
    index: "wazuh-states-inventory-protocols",
    columns: &[
        text("interface_name", "interface.name"),
        text("network_type", "network.type"),
        text("network_gateway", "network.gateway"),
        int("network_dhcp", "network.dhcp").flag(),
        text("network_metric", "network.metric"),
    ],
    primary_key: &["interface_name", "network_type"],
    limit_name: "network_protocol",
    limit_order: &["interface_name"],
    instance: Instance::Regular,
    collector: &NETWORK_COLLECTOR,
    hooks: Hooks::NONE,
};

pub static NETWORK_ADDRESS: TableDef = TableDef {
    name: "dbsync_network_address",
    index: "wazuh-states-inventory-networks",
    columns: &[
        text("interface_name", "interface.name"),
        int("network_type", "network.type"),
        text("network_ip", "network.ip"),
        text("network_netmask", "network.netmask"),
        text("network_broadcast", "network.broadcast"),
    ],
    primary_key: &["interface_name", "network_type", "network_ip"],
    limit_name: "network_address",
    limit_order: &["interface_name"],
    instance: Instance::Regular,
    collector: &NETWORK_COLLECTOR,
    // The reference hashes an address row while it still holds its family's DHCP flag and
    // metric (integer flag; the IPv4 metric of the interface's routes, "" for IPv6) and
    // only then drops them: the collector puts them in, the checksum covers them, the
    // table does not keep them. The same checksum is what lets either module take over
    // the other's database without re-reporting.
    hooks: Hooks {
        select: None,
        normalize: false,
        hashed_only: &["network_dhcp", "network_metric"],
        sources: None,
    },
};

pub static PORTS_COLLECTOR: Collector = Collector {
    name: "ports",
    cli_aliases: &[],
    tables: &[&PORTS],
    switch: |c| &mut c.ports,
    gather: Gather::Rows(|p, each| p.ports().map(|rows| rows.into_iter().for_each(each))),
};

/// The collector reports every socket; [`select_ports`] keeps the inventory's.
pub static PORTS: TableDef = TableDef {
    name: "dbsync_ports",
    index: "wazuh-states-inventory-ports",
    columns: &[
        text("network_transport", "network.transport"),
        text("source_ip", "source.ip"),
        bigint("source_port", "source.port"),
        text("destination_ip", "destination.ip"),
        bigint("destination_port", "destination.port"),
        bigint("host_network_egress_queue", "host.network.egress.queue"),
        bigint("host_network_ingress_queue", "host.network.ingress.queue"),
        bigint("file_inode", "file.inode"),
        text("interface_state", "interface.state"),
        bigint("process_pid", "process.pid"),
        text("process_name", "process.name"),
    ],
    primary_key: &[
        "file_inode",
        "network_transport",
        "source_ip",
        "source_port",
    ],
    limit_name: "ports",
    limit_order: &["file_inode"],
    instance: Instance::Regular,
    collector: &PORTS_COLLECTOR,
    hooks: Hooks {
        select: Some(port_filter),
        normalize: false,
        hashed_only: &[],
        sources: None,
    },
};

fn port_filter(options: ScanOptions) -> RowFilter {
    let mut seen = std::collections::HashSet::new();
    Box::new(move |row| keep_port(&row, options.ports_all, &mut seen).then_some(row))
}

fn keep_port(
    row: &crate::Row,
    ports_all: bool,
    seen: &mut std::collections::HashSet<String>,
) -> bool {
    let transport = row
        .get("network_transport")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .trim();
    let keep = if transport.starts_with("tcp") {
        ports_all
            || row
                .get("interface_state")
                .and_then(|v| v.as_str())
                .map(str::trim)
                == Some("listening")
    } else {
        transport.starts_with("udp")
    };
    keep && seen.insert(crate::inventory::events::document_id(&PORTS, row))
}

/// The sockets the ports table keeps: every UDP socket, TCP sockets in the listening state
/// (all of them with `ports_all`), each (inode, transport, address, port) once.
pub fn select_ports(rows: Vec<crate::Row>, ports_all: bool) -> Vec<crate::Row> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|row| keep_port(row, ports_all, &mut seen))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn port(transport: &str, state: &str, inode: u64, port: u16) -> crate::Row {
        json!({"network_transport": transport, "interface_state": state, "file_inode": inode,
               "source_ip": "0.0.0.0", "source_port": port})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn ports_keep_listening_tcp_all_udp_once() {
        let rows = vec![
            port("tcp", "listening", 1, 22),
            port("tcp", "established", 2, 22),
            port("tcp6", "listening", 3, 22),
            port("udp", "", 4, 53),
            port("udp", "", 4, 53),
            port("raw", "", 5, 0),
        ];
        let kept = select_ports(rows.clone(), false);
        let inodes: Vec<_> = kept.iter().map(|r| r["file_inode"].clone()).collect();
        assert_eq!(inodes, [json!(1), json!(3), json!(4)]);
        assert_eq!(select_ports(rows.clone(), true).len(), 4);
        let mut filter = port_filter(ScanOptions { ports_all: false });
        let streamed: Vec<_> = rows.into_iter().filter_map(&mut *filter).collect();
        assert_eq!(streamed, kept);
    }
}
