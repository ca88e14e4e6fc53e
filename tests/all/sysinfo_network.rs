//! The network collector (`dbsync_network_iface`, `_protocol`, `_address`) on trees
//! captured from this machine and from a network namespace built with iproute2 (each
//! with the `ip -j addr` output taken at the same moment), on DHCP configurations of
//! ifupdown, network-scripts, NetworkManager and systemd-networkd (read exactly as the
//! reference reads them, the last two not at all), on broken files, and live against
//! `ip -j addr` / `ip -j route`. Expected values are the reference's (v5.0.0-alpha0):
//! what it would store on the machine a tree was captured from.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use crate::helpers::{capture_logger, fixture};
use serde_json::{json, Value};
use syscollector::sysinfo::network::{ipv4_broadcast, ipv4_netmask, ipv6_netmask, ipv6_text};
use syscollector::sysinfo::{CollectError, LinuxSysInfo, NetworkRows, SysInfo};
use syscollector::{null_logger, Row};

fn collect_root(root: &Path) -> NetworkRows {
    LinuxSysInfo::with_root(root, null_logger())
        .network()
        .unwrap()
}

/// Copies fixture trees on top of each other into a temporary root.
fn overlay(names: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for name in names {
        copy_tree(&fixture(name), root.path());
    }
    root
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn write(root: &Path, file: &str, content: impl AsRef<[u8]>) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Rows keyed by their primary key values joined with '|'.
fn keyed(rows: &[Row], key: &[&str]) -> BTreeMap<String, Row> {
    let mut map = BTreeMap::new();
    for row in rows {
        let k = key
            .iter()
            .map(|k| match &row[*k] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|");
        assert!(map.insert(k.clone(), row.clone()).is_none(), "{k} twice");
    }
    map
}

fn protocols(rows: &NetworkRows) -> BTreeMap<String, Row> {
    keyed(&rows.protocols, &["interface_name", "network_type"])
}

fn interfaces(rows: &NetworkRows) -> BTreeMap<String, Row> {
    keyed(&rows.interfaces, &["interface_name"])
}

fn row(value: Value) -> Row {
    value.as_object().unwrap().clone()
}

/// `(interface, network_type, ip, netmask, broadcast)` of the address rows.
type AddressKey = (String, i64, String, String, String);

fn address_set(rows: &NetworkRows) -> BTreeSet<AddressKey> {
    rows.addresses
        .iter()
        .map(|r| {
            // The five stored columns, and the two the reference hashes then drops.
            assert_eq!(r.len(), 7, "{r:?}");
            assert!(
                r["network_dhcp"].is_i64() && r["network_metric"].is_string(),
                "{r:?}"
            );
            (
                r["interface_name"].as_str().unwrap().to_string(),
                r["network_type"].as_i64().unwrap(),
                r["network_ip"].as_str().unwrap().to_string(),
                r["network_netmask"].as_str().unwrap().to_string(),
                r["network_broadcast"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What glibc's getifaddrs reports for the addresses of `ip -j addr`, and so what the
/// reference stores: as [`ip_addresses`], except that an IPv4 address without a broadcast
/// (or peer) has itself as its broadcast address (glibc fills the field with the kernel's
/// IFA_ADDRESS then): 127.0.0.1 for lo.
fn getifaddrs_view(ip_json: &Value) -> BTreeSet<AddressKey> {
    let mut set = BTreeSet::new();
    for link in ip_json.as_array().unwrap() {
        let name = link["ifname"].as_str().unwrap();
        for info in link["addr_info"].as_array().unwrap() {
            let local = info["local"].as_str().unwrap();
            let prefix = info["prefixlen"].as_u64().unwrap() as u8;
            match info["family"].as_str().unwrap() {
                "inet" => {
                    let broadcast = info["broadcast"]
                        .as_str()
                        .or(info["address"].as_str())
                        .unwrap_or(local);
                    set.insert((
                        name.into(),
                        0,
                        local.into(),
                        ipv4_netmask(prefix).to_string(),
                        broadcast.into(),
                    ));
                }
                "inet6" => {
                    let netmask = ipv6_text(&ipv6_netmask(prefix));
                    set.insert((name.into(), 1, local.into(), netmask, String::new()));
                }
                other => panic!("family {other}"),
            }
        }
    }
    set
}

/// What the collector can tell from files for the addresses of `ip -j addr`: as
/// [`ip_addresses`], except that an IPv4 address of a link with neither a broadcast nor a
/// point-to-point flag (lo) has itself as its broadcast address.
fn files_view(ip_json: &Value) -> BTreeSet<AddressKey> {
    let plain: BTreeSet<String> = ip_json
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            let flags = l["flags"].as_array().cloned().unwrap_or_default();
            !flags.iter().any(|f| f == "BROADCAST" || f == "POINTOPOINT")
        })
        .map(|l| l["ifname"].as_str().unwrap().to_string())
        .collect();
    ip_addresses(ip_json)
        .into_iter()
        .map(|mut a| {
            if a.1 == 0 && plain.contains(&a.0) {
                a.4 = a.2.clone();
            }
            a
        })
        .collect()
}

/// The address rows `ip -j addr` output stands for: netmasks from prefix lengths, the
/// IPv4 broadcast (or peer) ip reports, else derived; IPv6 without broadcast.
fn ip_addresses(ip_json: &Value) -> BTreeSet<AddressKey> {
    let mut set = BTreeSet::new();
    for link in ip_json.as_array().unwrap() {
        let name = link["ifname"].as_str().unwrap();
        for info in link["addr_info"].as_array().unwrap() {
            let local = info["local"].as_str().unwrap();
            let prefix = info["prefixlen"].as_u64().unwrap() as u8;
            match info["family"].as_str().unwrap() {
                "inet" => {
                    let ip: Ipv4Addr = local.parse().unwrap();
                    let mask = ipv4_netmask(prefix);
                    let broadcast = info["broadcast"]
                        .as_str()
                        .or(info["address"].as_str())
                        .map(str::to_string)
                        .unwrap_or_else(|| ipv4_broadcast(ip, mask).to_string());
                    set.insert((name.into(), 0, local.into(), mask.to_string(), broadcast));
                }
                "inet6" => {
                    let netmask = ipv6_text(&ipv6_netmask(prefix));
                    set.insert((name.into(), 1, local.into(), netmask, String::new()));
                }
                other => panic!("family {other}"),
            }
        }
    }
    set
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Interface rows against `ip -j addr`: same names, MTU, MAC and state.
fn assert_links_match_ip(rows: &NetworkRows, ip_json: &Value) {
    let ours = interfaces(rows);
    let links = ip_json.as_array().unwrap();
    let names: BTreeSet<&str> = links
        .iter()
        .map(|l| l["ifname"].as_str().unwrap())
        .collect();
    assert_eq!(
        ours.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        names
    );
    for link in links {
        let r = &ours[link["ifname"].as_str().unwrap()];
        assert_eq!(r.len(), 14, "{r:?}");
        assert_eq!(r["interface_mtu"], link["mtu"], "{r:?}");
        assert_eq!(
            r["host_mac"].as_str().unwrap(),
            link["address"].as_str().unwrap_or(""),
            "{r:?}"
        );
        assert_eq!(
            r["interface_state"].as_str().unwrap(),
            link["operstate"].as_str().unwrap().to_lowercase()
        );
        assert_eq!(r["interface_alias"], "");
    }
}

#[test]
fn captured_machine_tree() {
    let root = fixture("net-debian12");
    let rows = collect_root(&root);
    let ifaces = interfaces(&rows);
    assert_eq!(
        ifaces["eth0"],
        row(json!({
            "interface_name": "eth0",
            "interface_alias": "",
            "interface_type": "ethernet",
            "interface_state": "up",
            "interface_mtu": 1400,
            "host_mac": "02:fc:00:00:00:01",
            "host_network_egress_packages": 7100,
            "host_network_ingress_packages": 10668,
            "host_network_egress_bytes": 625224,
            "host_network_ingress_bytes": 364668296,
            "host_network_egress_errors": 0,
            "host_network_ingress_errors": 0,
            "host_network_egress_drops": 0,
            "host_network_ingress_drops": 0,
        }))
    );
    // The agent's type table has no entry that matches loopback (772).
    assert_eq!(ifaces["lo"]["interface_type"], "");
    assert_eq!(ifaces["lo"]["interface_state"], "unknown");
    assert_eq!(ifaces["lo"]["host_network_ingress_packages"], 29);
    assert_eq!(ifaces["ifb0"]["interface_state"], "down");
    assert_eq!(ifaces.len(), 4);

    assert_eq!(
        protocols(&rows),
        [
            json!({"interface_name": "eth0", "network_type": "ipv4",
                   "network_gateway": "192.0.2.1", "network_dhcp": 0, "network_metric": "0"}),
            // The reference's IPv6 row: the interface's (IPv4) gateway, no metric.
            json!({"interface_name": "eth0", "network_type": "ipv6",
                   "network_gateway": "192.0.2.1", "network_dhcp": 0, "network_metric": ""}),
            json!({"interface_name": "lo", "network_type": "ipv4",
                   "network_gateway": " ", "network_dhcp": 0, "network_metric": ""}),
            json!({"interface_name": "lo", "network_type": "ipv6",
                   "network_gateway": " ", "network_dhcp": 0, "network_metric": ""}),
        ]
        .into_iter()
        .map(|v| {
            let r = row(v);
            let key = format!(
                "{}|{}",
                r["interface_name"].as_str().unwrap(),
                r["network_type"].as_str().unwrap()
            );
            (key, r)
        })
        .collect::<BTreeMap<_, _>>()
    );

    // The addresses the reference reads from getifaddrs on that machine: lo's broadcast
    // is 127.0.0.1, not 127.255.255.255.
    let ip_json = read_json(&root.join("ip-addr.json"));
    let expected = getifaddrs_view(&ip_json);
    assert!(expected.contains(&(
        "lo".into(),
        0,
        "127.0.0.1".into(),
        "255.0.0.0".into(),
        "127.0.0.1".into()
    )));
    assert_eq!(address_set(&rows), expected);
    assert_links_match_ip(&rows, &ip_json);
}

#[test]
fn captured_namespace_tree() {
    let root = fixture("net-netns");
    let (log, lines) = capture_logger();
    let rows = LinuxSysInfo::with_root(&root, log).network().unwrap();
    let ifaces = interfaces(&rows);
    assert_eq!(ifaces["tap0"]["interface_type"], "ethernet");
    assert_eq!(ifaces["tap0"]["interface_state"], "down");
    assert_eq!(ifaces["tap0"]["host_network_egress_drops"], 1);
    // tun: ARPHRD_NONE (65534), no link-layer address.
    assert_eq!(ifaces["tun0"]["interface_type"], "");
    assert_eq!(ifaces["tun0"]["host_mac"], "");
    assert_eq!(ifaces["ifb0"]["interface_mtu"], 9000);

    let protos = protocols(&rows);
    assert_eq!(protos["tap0|ipv4"]["network_gateway"], "10.20.30.1");
    assert_eq!(protos["tap0|ipv4"]["network_metric"], "100");
    // The IPv6 row has the interface's gateway from the IPv4 routes (the tree's IPv6
    // default route through 2001:db8:1::1 is not read, as by the reference) and no metric.
    assert_eq!(protos["tap0|ipv6"]["network_gateway"], "10.20.30.1");
    assert_eq!(protos["tap0|ipv6"]["network_metric"], "");
    assert_eq!(protos["lo|ipv6"]["network_gateway"], " ");
    assert_eq!(
        protos.keys().collect::<Vec<_>>(),
        ["lo|ipv4", "lo|ipv6", "tap0|ipv4", "tap0|ipv6"]
    );

    // Every address `ip` saw, the labelled secondary one under tap0, except the
    // point-to-point address of tun0: its only route is the peer's, so no file tells
    // its interface (the live collector reads it from getifaddrs).
    let ip_json = read_json(&root.join("ip-addr.json"));
    let mut expected = getifaddrs_view(&ip_json);
    let p2p = expected
        .iter()
        .find(|a| a.0 == "tun0")
        .cloned()
        .expect("tun0 address in ip output");
    expected.remove(&p2p);
    assert_eq!(address_set(&rows), expected);
    assert!(expected.contains(&(
        "tap0".into(),
        0,
        "10.20.30.41".into(),
        "255.255.255.0".into(),
        "10.20.30.255".into()
    )));
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("10.99.0.1")));
    assert_links_match_ip(&rows, &ip_json);
}

fn dhcp_flags(root: &Path) -> BTreeMap<String, i64> {
    protocols(&collect_root(root))
        .into_iter()
        .map(|(k, r)| (k, r["network_dhcp"].as_i64().unwrap()))
        .collect()
}

fn flags(list: &[(&str, i64)]) -> BTreeMap<String, i64> {
    list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn dhcp_from_debian_ifupdown() {
    // Debian 12's /etc/network/interfaces holds only `source /etc/network/interfaces.d/*`:
    // the reference reads no sourced file and finds no stanza, 0 everywhere.
    let root = overlay(&["net-debian12", "net-ifupdown"]);
    assert_eq!(
        dhcp_flags(root.path()),
        flags(&[
            ("eth0|ipv4", 0),
            ("eth0|ipv6", 0),
            ("lo|ipv4", 0),
            ("lo|ipv6", 0)
        ])
    );
    // The same stanzas in the main file: the first stanza of an interface decides, and
    // gives 1 to the other family (eth0: inet dhcp, then inet6 static; lo: inet
    // loopback, which maps to 1).
    let setup =
        std::fs::read_to_string(fixture("net-ifupdown").join("etc/network/interfaces.d/setup"))
            .unwrap();
    write(root.path(), "etc/network/interfaces", &setup);
    assert_eq!(
        dhcp_flags(root.path()),
        flags(&[
            ("eth0|ipv4", 1),
            ("eth0|ipv6", 1),
            ("lo|ipv4", 1),
            ("lo|ipv6", 1)
        ])
    );
}

#[test]
fn dhcp_from_ifupdown_main_file_only() {
    let root = overlay(&["net-debian12"]);
    write(
        root.path(),
        "etc/network/interfaces",
        "auto eth0\niface eth0 inet6 dhcp\niface eth0 inet static\n  address 192.0.2.2/24\n",
    );
    assert_eq!(
        dhcp_flags(root.path()),
        flags(&[
            ("eth0|ipv4", 1),
            ("eth0|ipv6", 1),
            ("lo|ipv4", 0),
            ("lo|ipv6", 0)
        ])
    );
    write(
        root.path(),
        "etc/network/interfaces",
        "iface eth0 inet manual\n\tiface lo inet6 dhcp\niface  lo inet dhcp\n",
    );
    assert_eq!(
        dhcp_flags(root.path()),
        flags(&[
            ("eth0|ipv4", 0),
            ("eth0|ipv6", 1),
            ("lo|ipv4", 0),
            ("lo|ipv6", 0)
        ])
    );
    // A non-empty ifupdown file hides the ifcfg files, even without a stanza.
    write(
        root.path(),
        "etc/sysconfig/network-scripts/ifcfg-eth0",
        "BOOTPROTO=dhcp\nDHCPV6C=yes\n",
    );
    write(root.path(), "etc/network/interfaces", "# nothing\n");
    assert_eq!(dhcp_flags(root.path())["eth0|ipv4"], 0);
    write(root.path(), "etc/network/interfaces", "");
    assert_eq!(dhcp_flags(root.path())["eth0|ipv4"], 1);
    assert_eq!(dhcp_flags(root.path())["eth0|ipv6"], 1);
}

#[test]
fn dhcp_from_rhel_network_scripts() {
    let root = overlay(&["net-debian12", "net-rhel"]);
    // BOOTPROTO=dhcp without DHCPV6C; ifcfg-lo has no BOOTPROTO.
    assert_eq!(
        dhcp_flags(root.path()),
        flags(&[
            ("eth0|ipv4", 1),
            ("eth0|ipv6", 0),
            ("lo|ipv4", 0),
            ("lo|ipv6", 0)
        ])
    );
    write(
        root.path(),
        "etc/sysconfig/network-scripts/ifcfg-lo",
        "DEVICE=lo\nBOOTPROTO=none\nDHCPV6C=yes\n",
    );
    assert_eq!(dhcp_flags(root.path())["lo|ipv4"], 0);
    assert_eq!(dhcp_flags(root.path())["lo|ipv6"], 1);
    // Values as written: a quoted one is not in the agent's table (1).
    write(
        root.path(),
        "etc/sysconfig/network-scripts/ifcfg-lo",
        "BOOTPROTO=\"none\"\n",
    );
    assert_eq!(dhcp_flags(root.path())["lo|ipv4"], 1);
}

#[test]
fn dhcp_from_suse_sysconfig() {
    // ifcfg-eth0: BOOTPROTO='dhcp' (quoted: 1 as any unknown value); ifcfg-lo: static.
    let root = overlay(&["net-debian12", "net-suse"]);
    assert_eq!(
        dhcp_flags(root.path()),
        flags(&[
            ("eth0|ipv4", 1),
            ("eth0|ipv6", 0),
            ("lo|ipv4", 0),
            ("lo|ipv6", 0)
        ])
    );
    write(
        root.path(),
        "etc/sysconfig/network/ifcfg-lo",
        "BOOTPROTO='static'\n",
    );
    assert_eq!(dhcp_flags(root.path())["lo|ipv4"], 1);
    // An empty Red Hat file lets the SUSE one speak; a non-empty one hides it.
    write(root.path(), "etc/sysconfig/network-scripts/ifcfg-lo", "");
    assert_eq!(dhcp_flags(root.path())["lo|ipv4"], 1);
    write(
        root.path(),
        "etc/sysconfig/network-scripts/ifcfg-lo",
        "DEVICE=lo\n",
    );
    assert_eq!(dhcp_flags(root.path())["lo|ipv4"], 0);
}

#[test]
fn dhcp_ignores_network_manager_and_networkd() {
    // NetworkManager keyfiles (eth0 auto/auto) and networkd files (eth0 DHCP=ipv4), as
    // netplan writes them: the reference reads neither and reports 0, so does the module
    // (any other value would change the checksums of the protocol and address rows).
    for tree in ["net-nm", "net-networkd"] {
        let root = overlay(&["net-debian12", tree]);
        assert_eq!(
            dhcp_flags(root.path()),
            flags(&[
                ("eth0|ipv4", 0),
                ("eth0|ipv6", 0),
                ("lo|ipv4", 0),
                ("lo|ipv6", 0)
            ]),
            "{tree}"
        );
    }
}

#[test]
fn counters_from_sysfs_when_proc_net_dev_lacks_the_interface() {
    let root = overlay(&["net-netns"]);
    // Keep only lo in /proc/net/dev; tap0's counters then come from statistics/.
    let dev = std::fs::read_to_string(root.path().join("proc/net/dev")).unwrap();
    let kept: String = dev
        .lines()
        .filter(|l| !l.contains("tap0"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(root.path(), "proc/net/dev", kept);
    write(
        root.path(),
        "sys/class/net/tap0/statistics/rx_dropped",
        "3\n",
    );
    write(
        root.path(),
        "sys/class/net/tap0/statistics/rx_missed_errors",
        "4\n",
    );
    let ifaces = interfaces(&collect_root(root.path()));
    assert_eq!(ifaces["tap0"]["host_network_egress_drops"], 1);
    assert_eq!(ifaces["tap0"]["host_network_ingress_drops"], 7);
    std::fs::remove_dir_all(root.path().join("sys/class/net/tap0/statistics")).unwrap();
    let ifaces = interfaces(&collect_root(root.path()));
    assert_eq!(ifaces["tap0"]["host_network_egress_drops"], 0);
}

#[test]
fn broken_files_are_skipped() {
    let root = overlay(&["net-debian12"]);
    let r = root.path();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    // Truncated and garbage lines around the real ones.
    let dev = std::fs::read_to_string(r.join("proc/net/dev")).unwrap();
    let mut dev_lines: Vec<String> = dev.lines().map(str::to_string).collect();
    dev_lines.insert(2, "  eth9: 1 2 3".into());
    dev_lines.insert(3, "  ifb0: x y z 1 2 3 4 5 6 7 8 9 10 11 12 13".into());
    write(r, "proc/net/dev", dev_lines.join("\n"));
    let route = std::fs::read_to_string(r.join("proc/net/route")).unwrap();
    write(
        r,
        "proc/net/route",
        format!("{route}eth0\t0000\nlo\tZZZZZZZZ\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"),
    );
    let if_inet6 = std::fs::read_to_string(r.join("proc/net/if_inet6")).unwrap();
    let mut bad = garbage.clone();
    bad.extend_from_slice(b"\nfe80 02 40 20 80 eth0\n");
    bad.extend_from_slice(if_inet6.as_bytes());
    write(r, "proc/net/if_inet6", bad);
    let mut trie = garbage.clone();
    trie.extend_from_slice(&std::fs::read(r.join("proc/net/fib_trie")).unwrap());
    write(r, "proc/net/fib_trie", trie);
    write(r, "proc/net/ipv6_route", &garbage);
    write(r, "sys/class/net/ifb1/type", &garbage);
    write(r, "sys/class/net/ifb1/mtu", "-5\n");
    write(r, "sys/class/net/ifb1/operstate", "");
    std::fs::remove_file(r.join("sys/class/net/ifb0/address")).unwrap();
    // Not an interface: the bonding driver's control file.
    write(r, "sys/class/net/bonding_masters", "bond0\n");

    let (log, lines) = capture_logger();
    let rows = LinuxSysInfo::with_root(r, log).network().unwrap();
    let ifaces = interfaces(&rows);
    assert_eq!(
        ifaces.keys().collect::<Vec<_>>(),
        ["eth0", "ifb0", "ifb1", "lo"]
    );
    assert_eq!(ifaces["eth0"]["host_network_ingress_packages"], 10668);
    assert_eq!(ifaces["ifb1"]["interface_type"], " ");
    assert_eq!(ifaces["ifb1"]["interface_mtu"], 0);
    assert_eq!(ifaces["ifb1"]["interface_state"], " ");
    assert_eq!(ifaces["ifb0"]["host_mac"], " ");
    // ipv6_route is not read (garbage there changes nothing); the rest is intact.
    let protos = protocols(&rows);
    assert_eq!(protos["eth0|ipv4"]["network_gateway"], "192.0.2.1");
    assert_eq!(protos["eth0|ipv6"]["network_gateway"], "192.0.2.1");
    let ip_json = read_json(&fixture("net-debian12/ip-addr.json"));
    assert_eq!(address_set(&rows), getifaddrs_view(&ip_json));
    let lines = lines.lock().unwrap();
    assert!(lines.iter().any(|l| l.contains("if_inet6")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("type")), "{lines:?}");
}

#[test]
fn missing_sources() {
    // No interface directory: the collection fails (the module keeps the tables).
    let empty = tempfile::tempdir().unwrap();
    let result = LinuxSysInfo::with_root(empty.path(), null_logger()).network();
    assert!(matches!(result, Err(CollectError::Io { .. })), "{result:?}");

    // Interfaces without any /proc/net file: rows without addresses or counters.
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture("net-debian12/sys"), &root.path().join("sys"));
    let rows = collect_root(root.path());
    assert_eq!(rows.interfaces.len(), 4);
    assert!(rows.protocols.is_empty() && rows.addresses.is_empty());
    let ifaces = interfaces(&rows);
    // Counters fall back to sysfs statistics.
    assert!(
        ifaces["eth0"]["host_network_ingress_packages"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn large_route_table() {
    let root = overlay(&["net-debian12"]);
    // A route table of a full-table router: 200,000 lines without a gateway for eth0.
    let mut route = std::fs::read_to_string(root.path().join("proc/net/route")).unwrap();
    for i in 0..200_000u32 {
        route.push_str(&format!(
            "ifb0\t{:08X}\t00000000\t0001\t0\t0\t7\tFFFFFFFF\t0\t0\t0\n",
            i
        ));
    }
    write(root.path(), "proc/net/route", route);
    let protos = protocols(&collect_root(root.path()));
    assert_eq!(protos["eth0|ipv4"]["network_gateway"], "192.0.2.1");
}

// ---- live ----

fn ip_json(args: &[&str]) -> Value {
    let out = Command::new("ip")
        .arg("-j")
        .args(args)
        .output()
        .expect("iproute2's ip");
    assert!(out.status.success(), "ip {args:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The default gateway of each interface per `ip -j route show default`.
fn ip_gateways(family: &str) -> BTreeMap<String, String> {
    ip_json(&[family, "route", "show", "default"])
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            Some((
                r["dev"].as_str()?.to_string(),
                r["gateway"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Live rows against `ip` output taken before and after them; `expected` are the
/// address rows the collector should have produced.
fn assert_live_rows(
    rows: &NetworkRows,
    before: &Value,
    after: &Value,
    expected: &BTreeSet<AddressKey>,
) {
    // Addresses change while scanning only if something reconfigures the host.
    assert_eq!(ip_addresses(before), ip_addresses(after), "host changed");
    assert_eq!(&address_set(rows), expected);
    assert_links_match_ip(rows, before);
    let protos = protocols(rows);
    // As the reference: both rows of an interface carry its IPv4 gateway; the IPv6 row
    // has no metric.
    for (dev, gateway) in ip_gateways("-4") {
        for name in ["ipv4", "ipv6"] {
            if let Some(proto) = protos.get(&format!("{dev}|{name}")) {
                assert_eq!(proto["network_gateway"], gateway.as_str(), "{proto:?}");
            }
        }
    }
    for proto in protos.values() {
        let dhcp = proto["network_dhcp"].as_i64().unwrap();
        assert!(dhcp == 0 || dhcp == 1);
        if proto["network_type"] == "ipv6" {
            assert_eq!(proto["network_metric"], "", "{proto:?}");
            let v4 = protos.get(&format!(
                "{}|ipv4",
                proto["interface_name"].as_str().unwrap()
            ));
            if let Some(v4) = v4 {
                assert_eq!(proto["network_gateway"], v4["network_gateway"]);
            }
        }
    }
}

#[test]
fn this_machine_agrees_with_ip() {
    let before = ip_json(&["addr"]);
    let stats_before: u64 = std::fs::read_to_string("/sys/class/net/lo/statistics/rx_packets")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let rows = LinuxSysInfo::default().network().unwrap();
    let after = ip_json(&["addr"]);
    assert_live_rows(&rows, &before, &after, &getifaddrs_view(&before));
    let lo = &interfaces(&rows)["lo"];
    assert!(lo["host_network_ingress_packages"].as_u64().unwrap() >= stats_before);
}

#[test]
fn this_machine_through_files_agrees_with_ip() {
    // A root other than "/" that shows this host: addresses come from /proc files.
    let root = tempfile::tempdir().unwrap();
    for dir in ["proc", "sys", "etc", "run"] {
        std::os::unix::fs::symlink(Path::new("/").join(dir), root.path().join(dir)).unwrap();
    }
    let before = ip_json(&["addr"]);
    let rows = collect_root(root.path());
    let after = ip_json(&["addr"]);
    // Point-to-point IPv4 addresses cannot be placed from files (see
    // captured_namespace_tree); every other address must be there.
    let mut expected = files_view(&before);
    for link in before.as_array().unwrap() {
        for info in link["addr_info"].as_array().unwrap() {
            if info["family"] == "inet" && info.get("address").is_some() {
                let local = info["local"].as_str().unwrap();
                expected.retain(|a| a.2 != local);
            }
        }
    }
    assert_live_rows(&rows, &before, &after, &expected);
}

#[test]
fn file_roots_give_the_broadcast_getifaddrs_would() {
    let root = overlay(&["net-debian12"]);
    let broadcast = |ip: &str| -> String {
        collect_root(root.path())
            .addresses
            .iter()
            .find(|r| r["network_ip"] == ip)
            .map(|r| r["network_broadcast"].as_str().unwrap().to_string())
            .unwrap()
    };
    // No `flags` file in the captured tree: lo's loopback type says it has no broadcast,
    // so the address itself, as glibc reports it (the reference's 127.0.0.1).
    assert_eq!(broadcast("127.0.0.1"), "127.0.0.1");
    assert_eq!(broadcast("192.0.2.2"), "192.0.2.255");
    // With `flags`: IFF_UP|IFF_LOOPBACK, then a loopback device given IFF_BROADCAST.
    write(root.path(), "sys/class/net/lo/flags", "0x9\n");
    assert_eq!(broadcast("127.0.0.1"), "127.0.0.1");
    write(root.path(), "sys/class/net/lo/flags", "0xb\n");
    assert_eq!(broadcast("127.0.0.1"), "127.255.255.255");
    // eth0 up without IFF_BROADCAST (nor IFF_POINTOPOINT).
    write(root.path(), "sys/class/net/eth0/flags", "0x1001\n");
    assert_eq!(broadcast("192.0.2.2"), "192.0.2.2");
    write(root.path(), "sys/class/net/eth0/flags", "0x1003\n");
    assert_eq!(broadcast("192.0.2.2"), "192.0.2.255");
    // Unreadable flags: the type decides (lo: loopback).
    write(root.path(), "sys/class/net/lo/flags", "garbage\n");
    assert_eq!(broadcast("127.0.0.1"), "127.0.0.1");
}
