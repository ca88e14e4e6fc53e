//! The address notations of `/proc/net` and of the network tables: hex addresses as the
//! kernel prints them, IPv6 text as `inet_ntop` writes it, netmasks and broadcasts. Pure
//! functions, shared by the network and ports collectors.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv4 address as `/proc/net` prints it: the 32-bit value in host byte order, in hex.
pub fn ipv4_from_proc_hex(hex: &str) -> Option<Ipv4Addr> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    Some(Ipv4Addr::from(value.to_ne_bytes()))
}

/// An IPv6 address as `ipv6_route` and `if_inet6` print it: 32 hex digits, the bytes in
/// network order.
pub fn ipv6_from_hex_bytes(hex: &str) -> Option<Ipv6Addr> {
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
}

/// An IPv6 address as glibc's `inet_ntop` writes it (what the agent reports): like Rust's
/// notation, except that an IPv4-compatible address (`::a.b.c.d`, 96 zero bits followed
/// by a non-zero second-to-last group) keeps the dotted tail.
pub fn ipv6_text(addr: &Ipv6Addr) -> String {
    let s = addr.segments();
    if s[..6].iter().all(|&w| w == 0) && s[6] != 0 {
        let [.., a, b, c, d] = addr.octets();
        return format!("::{}", Ipv4Addr::new(a, b, c, d));
    }
    addr.to_string()
}

/// The IPv4 netmask of a prefix length (clamped to 32).
pub fn ipv4_netmask(prefix_len: u8) -> Ipv4Addr {
    let bits = u32::MAX
        .checked_shl(32 - u32::from(prefix_len.min(32)))
        .unwrap_or(0);
    Ipv4Addr::from(bits)
}

/// The IPv6 netmask of a prefix length (clamped to 128).
pub fn ipv6_netmask(prefix_len: u8) -> Ipv6Addr {
    let bits = u128::MAX
        .checked_shl(128 - u32::from(prefix_len.min(128)))
        .unwrap_or(0);
    Ipv6Addr::from(bits)
}

/// The broadcast address the agent derives when the system gives none.
pub fn ipv4_broadcast(ip: Ipv4Addr, netmask: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip) | !u32::from(netmask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_text_matches_inet_ntop() {
        let text = |s: &str| ipv6_text(&s.parse().unwrap());
        assert_eq!(text("::"), "::");
        assert_eq!(text("::1"), "::1");
        assert_eq!(text("fe80::fc:ff:fe00:1"), "fe80::fc:ff:fe00:1");
        assert_eq!(text("::ffff:127.0.0.1"), "::ffff:127.0.0.1");
        assert_eq!(text("::0.2.0.3"), "::0.2.0.3");
        assert_eq!(text("::1:0"), "::0.1.0.0");
        assert_eq!(text("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(text("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(text("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
    }

    #[test]
    fn masks_and_broadcasts() {
        assert_eq!(ipv4_netmask(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(ipv4_netmask(8), Ipv4Addr::new(255, 0, 0, 0));
        assert_eq!(ipv4_netmask(21), Ipv4Addr::new(255, 255, 248, 0));
        assert_eq!(ipv4_netmask(32), Ipv4Addr::BROADCAST);
        assert_eq!(ipv4_netmask(200), Ipv4Addr::BROADCAST);
        assert_eq!(ipv6_text(&ipv6_netmask(64)), "ffff:ffff:ffff:ffff::");
        assert_eq!(ipv6_text(&ipv6_netmask(0)), "::");
        assert_eq!(ipv6_netmask(128), Ipv6Addr::from(u128::MAX));
        let ip = Ipv4Addr::new(192, 0, 2, 2);
        assert_eq!(
            ipv4_broadcast(ip, ipv4_netmask(24)),
            Ipv4Addr::new(192, 0, 2, 255)
        );
        assert_eq!(ipv4_broadcast(ip, ipv4_netmask(32)), ip);
    }

    #[test]
    fn proc_hex_addresses() {
        // /proc/net/route on a little-endian host writes 192.0.2.1 as 010200C0.
        let expected = if cfg!(target_endian = "little") {
            "010200C0"
        } else {
            "C0000201"
        };
        assert_eq!(
            ipv4_from_proc_hex(expected),
            Some(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert_eq!(ipv4_from_proc_hex("0102"), None);
        assert_eq!(ipv4_from_proc_hex("0102zz00"), None);
        assert_eq!(ipv4_from_proc_hex("+1020C00"), None);
        assert_eq!(
            ipv6_from_hex_bytes("fd000000000000000000000000000001"),
            Some("fd00::1".parse().unwrap())
        );
        assert_eq!(ipv6_from_hex_bytes("fd00"), None);
        assert_eq!(ipv6_from_hex_bytes("ü000000000000000000000000000001"), None);
    }
}
