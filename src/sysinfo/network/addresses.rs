//! The IPv4 and IPv6 addresses of the interfaces, with netmask and broadcast.
//!
//! For the running host (root `/`) they come from `getifaddrs()`, as the agent reads
//! them: labels such as `eth0:1` count for `eth0`; the IPv4 broadcast is the one the
//! system reports (the peer address on point-to-point links, the address itself on a link
//! with neither broadcast nor point-to-point flag such as `lo`), else the address ORed
//! with the inverted netmask; IPv6 addresses have no broadcast ("") unless the link has a peer.
//!
//! Below any other root there is no `getifaddrs()` to ask, so files stand in:
//! - IPv6 from `proc/net/if_inet6` (address, prefix length and interface per line);
//! - IPv4 from `proc/net/fib_trie`, whose `/32 host LOCAL` leaves are the local
//!   addresses, each given the interface and netmask of the longest directly connected
//!   route of `proc/net/route` that holds it; addresses in a host-scope local prefix
//!   without such a route (127.0.0.1 in 127.0.0.0/8) belong to `lo`. An address that
//!   neither rule places (a point-to-point address whose only route is its peer's, an
//!   address added without a prefix route) is left out with a debug line. The broadcast
//!   is what getifaddrs would report for the common case: on a link with neither the
//!   broadcast nor the point-to-point flag (`flags` in sysfs; without that file, a
//!   loopback `type`) the address itself (127.0.0.1 on lo), else the address ORed with
//!   the inverted netmask (the broadcast `ip addr add ... brd +` and DHCP clients set).

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use super::{Family, RouteV4, PROC_NET_LIMIT, UNKNOWN_VALUE};
use crate::sysinfo::parse::net::{
    ipv4_broadcast, ipv4_netmask, ipv6_from_hex_bytes, ipv6_netmask, ipv6_text,
};
use crate::sysinfo::{read, LinuxSysInfo};

/// One address of an interface, with the texts of the address table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The interface name (without a `:label` suffix).
    pub iface: String,
    pub family: Family,
    pub ip: String,
    pub netmask: String,
    pub broadcast: String,
}

/// What `/proc/net/fib_trie` tells about local IPv4 addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FibTrie {
    /// The local addresses (`/32 host LOCAL` leaves), each once, in file order.
    pub local: Vec<Ipv4Addr>,
    /// Local prefixes wider than one address (`127.0.0.0` `/8 host LOCAL`).
    pub local_prefixes: Vec<(Ipv4Addr, u8)>,
}

/// The addresses of the running host, from `getifaddrs()`.
pub fn from_getifaddrs() -> Result<Vec<Address>, nix::Error> {
    let mut addrs = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs()? {
        let iface = base_name(&ifa.interface_name).to_string();
        let Some(address) = ifa.address else {
            continue;
        };
        let peer = ifa.broadcast.or(ifa.destination);
        if let Some(sin) = address.as_sockaddr_in() {
            let ip = sin.ip();
            let netmask = ifa.netmask.as_ref().and_then(|m| m.as_sockaddr_in());
            // glibc's getifaddrs always fills `ifa_broadaddr` for IPv4: with the kernel's
            // IFA_BROADCAST when the address has one, else with IFA_ADDRESS, which for a
            // link that is neither broadcast nor point-to-point (lo) is the address itself
            // (127.0.0.1). nix shows the field only under IFF_BROADCAST/IFF_POINTOPOINT, so
            // without either flag the system's value is the address. Computing from the
            // netmask stays for a broadcast link that reports none.
            let flagged = ifa.flags.intersects(
                nix::net::if_::InterfaceFlags::IFF_BROADCAST
                    | nix::net::if_::InterfaceFlags::IFF_POINTOPOINT,
            );
            let broadcast = match (peer.as_ref().and_then(|b| b.as_sockaddr_in()), netmask) {
                (Some(b), _) => b.ip().to_string(),
                (None, _) if !flagged => ip.to_string(),
                (None, Some(mask)) => ipv4_broadcast(ip, mask.ip()).to_string(),
                (None, None) => UNKNOWN_VALUE.to_string(),
            };
            addrs.push(Address {
                iface,
                family: Family::V4,
                ip: ip.to_string(),
                netmask: netmask.map(|m| m.ip().to_string()).unwrap_or_default(),
                broadcast,
            });
        } else if let Some(sin6) = address.as_sockaddr_in6() {
            let netmask = ifa.netmask.as_ref().and_then(|m| m.as_sockaddr_in6());
            let broadcast = peer.as_ref().and_then(|b| b.as_sockaddr_in6());
            addrs.push(Address {
                iface,
                family: Family::V6,
                ip: ipv6_text(&sin6.ip()),
                netmask: netmask.map(|m| ipv6_text(&m.ip())).unwrap_or_default(),
                broadcast: broadcast.map(|b| ipv6_text(&b.ip())).unwrap_or_default(),
            });
        }
    }
    Ok(addrs)
}

/// The addresses below the provider's root, from `/proc/net` files; `interfaces` are the
/// known interface names and `routes` the lines of `/proc/net/route`.
pub fn from_files(
    p: &LinuxSysInfo,
    routes: &[RouteV4],
    interfaces: &HashSet<&str>,
) -> Vec<Address> {
    let mut addrs = Vec::new();
    if let Some(text) = p.read_text("/proc/net/fib_trie", PROC_NET_LIMIT) {
        let trie = parse_fib_trie(&text);
        let (mut found, unplaced) = place_ipv4(&trie, routes, interfaces);
        for ip in unplaced {
            p.debug(&format!(
                "local address {ip} has no directly connected route: its interface is unknown"
            ));
        }
        let mut plain: HashMap<String, bool> = HashMap::new();
        for addr in &mut found {
            let is_plain = *plain
                .entry(addr.iface.clone())
                .or_insert_with(|| without_broadcast(p, &addr.iface));
            if is_plain {
                addr.broadcast.clone_from(&addr.ip);
            }
        }
        addrs.extend(found);
    }
    let path = p.path("/proc/net/if_inet6");
    let mut skipped = 0usize;
    let result = read::lines(&path, PROC_NET_LIMIT, |line| {
        match parse_if_inet6_line(line) {
            Some(addr) => addrs.push(addr),
            None => skipped += 1,
        }
    });
    if let Err(e) = result {
        if e.kind() != std::io::ErrorKind::NotFound {
            p.debug(&format!("cannot read {}: {e}", path.display()));
        }
    }
    if skipped > 0 {
        p.debug(&format!(
            "{}: skipped {skipped} malformed lines",
            path.display()
        ));
    }
    addrs
}

/// `IFF_BROADCAST` and `IFF_POINTOPOINT` of `<linux/if.h>`.
const IFF_BROADCAST: u64 = 0x2;
const IFF_POINTOPOINT: u64 = 0x10;
/// `ARPHRD_LOOPBACK` of `<linux/if_arp.h>`.
const ARPHRD_LOOPBACK: i64 = 772;

/// Whether the link `iface` has neither the broadcast nor the point-to-point flag, so
/// that getifaddrs gives its IPv4 addresses themselves as broadcast: from the `flags` file
/// in sysfs (`0x1003`), else true for a loopback `type`.
fn without_broadcast(p: &LinuxSysInfo, iface: &str) -> bool {
    let dir = format!("/sys/class/net/{iface}");
    let attr = |file: &str| {
        let path = p.path(&format!("{dir}/{file}"));
        p.read_text_at(&path, 4096)
    };
    if let Some(flags) = attr("flags") {
        let text = flags.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if let Ok(flags) = u64::from_str_radix(digits, 16) {
            return flags & (IFF_BROADCAST | IFF_POINTOPOINT) == 0;
        }
        p.debug(&format!("{iface}: flags {text:?} are not a hex number"));
    }
    attr("type").and_then(|t| t.trim().parse::<i64>().ok()) == Some(ARPHRD_LOOPBACK)
}

/// One line of `/proc/net/if_inet6`: `address ifindex prefix_len scope flags name`, the
/// numbers in hex. None for malformed lines.
pub fn parse_if_inet6_line(line: &str) -> Option<Address> {
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    if fields.len() != 6 {
        return None;
    }
    let ip = ipv6_from_hex_bytes(fields.first()?)?;
    let prefix_len = u8::from_str_radix(fields.get(2)?, 16).ok()?;
    if prefix_len > 128 {
        return None;
    }
    Some(Address {
        iface: base_name(fields.get(5)?).to_string(),
        family: Family::V6,
        ip: ipv6_text(&ip),
        netmask: ipv6_text(&ipv6_netmask(prefix_len)),
        broadcast: String::new(),
    })
}

/// Parses `/proc/net/fib_trie`: `|-- a.b.c.d` lines open a leaf, the `/len scope type`
/// lines under it are its routes. Lines of any other shape are ignored.
pub fn parse_fib_trie(text: &str) -> FibTrie {
    let mut trie = FibTrie::default();
    let mut seen = HashSet::new();
    let mut leaf: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(ip) = line.strip_prefix("|-- ") {
            leaf = ip.trim().parse().ok();
            continue;
        }
        let (Some(ip), Some(route)) = (leaf, line.strip_prefix('/')) else {
            leaf = None;
            continue;
        };
        let mut words = route.split_ascii_whitespace();
        let (Some(len), Some(_scope), Some(kind)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(len) = len.parse::<u8>() else {
            continue;
        };
        if kind != "LOCAL" || len > 32 {
            continue;
        }
        if len == 32 {
            if seen.insert(ip) {
                trie.local.push(ip);
            }
        } else if !trie.local_prefixes.contains(&(ip, len)) {
            trie.local_prefixes.push((ip, len));
        }
    }
    trie
}

/// Gives each local address of `trie` its interface and netmask (see the module doc).
/// Returns the placed addresses and those that could not be placed.
pub fn place_ipv4(
    trie: &FibTrie,
    routes: &[RouteV4],
    interfaces: &HashSet<&str>,
) -> (Vec<Address>, Vec<Ipv4Addr>) {
    let contains = |net: Ipv4Addr, mask: Ipv4Addr, ip: Ipv4Addr| {
        u32::from(ip) & u32::from(mask) == u32::from(net) & u32::from(mask)
    };
    let mut placed = Vec::new();
    let mut unplaced = Vec::new();
    for &ip in &trie.local {
        let connected = routes
            .iter()
            .filter(|r| {
                r.gateway.is_unspecified()
                    && !r.mask.is_unspecified()
                    && interfaces.contains(r.iface.as_str())
                    && contains(r.destination, r.mask, ip)
            })
            .fold(None::<&RouteV4>, |best, r| match best {
                Some(b) if u32::from(b.mask).count_ones() >= u32::from(r.mask).count_ones() => {
                    Some(b)
                }
                _ => Some(r),
            });
        let found = match connected {
            Some(route) => Some((route.iface.as_str(), route.mask)),
            None if interfaces.contains("lo") => trie
                .local_prefixes
                .iter()
                .map(|&(net, len)| (net, ipv4_netmask(len)))
                .find(|&(net, mask)| contains(net, mask, ip))
                .map(|(_, mask)| ("lo", mask)),
            None => None,
        };
        match found {
            Some((iface, mask)) => placed.push(Address {
                iface: iface.to_string(),
                family: Family::V4,
                ip: ip.to_string(),
                netmask: mask.to_string(),
                broadcast: ipv4_broadcast(ip, mask).to_string(),
            }),
            None => unplaced.push(ip),
        }
    }
    (placed, unplaced)
}

/// An interface name without the `:label` of an alias.
fn base_name(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIB_TRIE: &str = "\
Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
           |-- 127.0.0.1
              /32 host LOCAL
           |-- 192.0.2.2
              /32 host LOCAL
";

    #[test]
    fn fib_trie_local_addresses() {
        let trie = parse_fib_trie(FIB_TRIE);
        assert_eq!(
            trie.local,
            [Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(192, 0, 2, 2)]
        );
        assert_eq!(trie.local_prefixes, [(Ipv4Addr::new(127, 0, 0, 0), 8)]);
        assert_eq!(parse_fib_trie(""), FibTrie::default());
        assert_eq!(
            parse_fib_trie("|-- 10.0.0.1\n/32 host\n/x host LOCAL\n/33 host LOCAL\n"),
            FibTrie::default()
        );
        // A route line not under a leaf belongs to nothing.
        assert_eq!(
            parse_fib_trie("+-- 10.0.0.0/8 2 0 2\n/32 host LOCAL\n"),
            FibTrie::default()
        );
    }

    #[test]
    fn addresses_take_the_longest_connected_route() {
        let route = |iface: &str, dest: [u8; 4], gw: [u8; 4], len: u8| RouteV4 {
            iface: iface.into(),
            destination: dest.into(),
            gateway: gw.into(),
            mask: ipv4_netmask(len),
            metric: "0".into(),
        };
        let routes = [
            route("eth1", [0, 0, 0, 0], [0, 0, 0, 0], 0),
            route("eth1", [10, 0, 0, 0], [0, 0, 0, 0], 8),
            route("eth0", [10, 20, 30, 0], [0, 0, 0, 0], 24),
            route("eth0", [10, 20, 30, 0], [0, 0, 0, 0], 16),
            route("eth2", [10, 20, 30, 40], [10, 0, 0, 1], 32),
            route("gone", [10, 20, 30, 40], [0, 0, 0, 0], 30),
        ];
        let trie = FibTrie {
            local: vec![
                Ipv4Addr::new(10, 20, 30, 40),
                Ipv4Addr::new(10, 9, 9, 9),
                Ipv4Addr::new(127, 0, 0, 1),
                Ipv4Addr::new(203, 0, 113, 7),
            ],
            local_prefixes: vec![(Ipv4Addr::new(127, 0, 0, 0), 8)],
        };
        let known: HashSet<&str> = ["eth0", "eth1", "eth2", "lo"].into_iter().collect();
        let (placed, unplaced) = place_ipv4(&trie, &routes, &known);
        let summary: Vec<(&str, &str, &str)> = placed
            .iter()
            .map(|a| (a.iface.as_str(), a.ip.as_str(), a.netmask.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("eth0", "10.20.30.40", "255.255.255.0"),
                ("eth1", "10.9.9.9", "255.0.0.0"),
                ("lo", "127.0.0.1", "255.0.0.0"),
            ]
        );
        assert_eq!(placed[1].broadcast, "10.255.255.255");
        assert_eq!(unplaced, [Ipv4Addr::new(203, 0, 113, 7)]);
        // Without a loopback interface the local prefix places nothing.
        let known: HashSet<&str> = ["eth0"].into_iter().collect();
        let (placed, unplaced) = place_ipv4(&trie, &routes, &known);
        assert_eq!(placed.len(), 1);
        assert_eq!(unplaced.len(), 3);
    }

    #[test]
    fn if_inet6_lines() {
        let addr = parse_if_inet6_line("fe8000000000000000fc00fffe000001 04 40 20 80     eth0");
        assert_eq!(
            addr,
            Some(Address {
                iface: "eth0".into(),
                family: Family::V6,
                ip: "fe80::fc:ff:fe00:1".into(),
                netmask: "ffff:ffff:ffff:ffff::".into(),
                broadcast: String::new(),
            })
        );
        assert_eq!(parse_if_inet6_line(""), None);
        assert_eq!(parse_if_inet6_line("fe80 04 40 20 80 eth0"), None);
        assert_eq!(
            parse_if_inet6_line("fe8000000000000000fc00fffe000001 04 99 20 80 eth0"),
            None
        );
        assert_eq!(
            parse_if_inet6_line("fe8000000000000000fc00fffe000001 04 40 20 80"),
            None
        );
    }
}
