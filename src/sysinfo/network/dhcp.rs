//! The `network_dhcp` flag of an interface and address family, from configuration files,
//! derived exactly as the agent (v5.0.0-alpha0) derives it.
//!
//! The flag is part of the checksum of both the protocol row and the address rows, so any
//! other value than the agent's would make an agent upgraded in place (or rolled back)
//! re-report every protocol and address row of the interface. The rules are therefore the
//! agent's, quirks included:
//! - When `/etc/network/interfaces` is not empty, it alone decides: its first line that
//!   splits at single spaces into exactly the four words `iface <name> <family> <method>`
//!   for the interface gives the method when `<family>` is the row's (`inet`, `inet6`),
//!   and 1 when it is the other family's; without such a line the flag is 0. An indented
//!   or tab-separated stanza does not count, and files named by `source` lines are not
//!   read (Debian 12's default file holds nothing but such a line: 0 everywhere).
//! - Else `ifcfg-<name>` in `/etc/sysconfig/network-scripts/`, or, when that is missing or
//!   empty, in `/etc/sysconfig/network/`: the first line that splits at `=` into exactly a
//!   key and a value with key `BOOTPROTO` (IPv4) or `DHCPV6C` (IPv6) gives the value; 0
//!   without one.
//! - Methods and values map case-sensitively, as written (quotes included): `dhcp`, `yes`
//!   and `bootp` are 1; `static`, `none`, `no` and `manual` are 0; anything else is 1.
//!
//! NetworkManager keyfiles and systemd-networkd files are not read: the agent reports 0 for
//! the interfaces they manage, so this module does too.
//!
//! Splitting follows the agent's `getline` loop: the text is cut at every delimiter and a
//! single empty piece after a trailing delimiter is dropped (`"a b "` is two words,
//! `"a  b"` three, `""` none).

use super::Family;
use crate::sysinfo::LinuxSysInfo;

/// Configuration files are small; this bounds a corrupt one.
const CONFIG_LIMIT: u64 = 4 << 20;

/// Debian's ifupdown file.
const IFUPDOWN_FILE: &str = "/etc/network/interfaces";

/// The directories of `ifcfg-<name>` files, in lookup order (Red Hat, then SUSE).
const IFCFG_DIRS: [&str; 2] = ["/etc/sysconfig/network-scripts/", "/etc/sysconfig/network/"];

/// The configuration that decides the flag, read once per scan.
pub struct DhcpConfig<'a> {
    p: &'a LinuxSysInfo,
    /// The text of `/etc/network/interfaces` ("" when missing or unreadable).
    ifupdown: String,
}

impl<'a> DhcpConfig<'a> {
    /// Reads the ifupdown file below the provider's root.
    pub fn load(p: &'a LinuxSysInfo) -> Self {
        DhcpConfig {
            p,
            ifupdown: read_config(p, IFUPDOWN_FILE),
        }
    }

    /// The flag of `iface` for `family` (see the module doc).
    pub fn status(&self, iface: &str, family: Family) -> u32 {
        if !self.ifupdown.is_empty() {
            return ifupdown_status(&self.ifupdown, iface, family);
        }
        let file = format!("ifcfg-{iface}");
        let text = IFCFG_DIRS
            .iter()
            .map(|dir| read_config(self.p, &format!("{dir}{file}")))
            .find(|text| !text.is_empty())
            .unwrap_or_default();
        ifcfg_status(&text, family)
    }
}

/// The agent's value for a configuration method or `BOOTPROTO`/`DHCPV6C` value.
pub fn agent_value(method: &str) -> u32 {
    match method {
        "dhcp" | "yes" | "bootp" => 1,
        "static" | "none" | "no" | "manual" => 0,
        _ => 1,
    }
}

/// Cuts `text` at every `delimiter` as the agent's split does (see the module doc).
pub fn agent_split(text: &str, delimiter: char) -> Vec<&str> {
    let mut pieces: Vec<&str> = text.split(delimiter).collect();
    if pieces.last() == Some(&"") {
        pieces.pop();
    }
    pieces
}

/// The flag an ifupdown file gives `iface` (see the module doc).
pub fn ifupdown_status(text: &str, iface: &str, family: Family) -> u32 {
    let wanted = match family {
        Family::V4 => "inet",
        Family::V6 => "inet6",
    };
    for line in agent_split(text, '\n') {
        if let [kind, name, fam, method] = agent_split(line, ' ')[..] {
            if kind == "iface" && name == iface {
                return if fam == wanted {
                    agent_value(method)
                } else {
                    1
                };
            }
        }
    }
    0
}

/// The flag in an `ifcfg-<name>` file: the first `BOOTPROTO` (IPv4) or `DHCPV6C` (IPv6)
/// value mapped by [`agent_value`], 0 without the key.
pub fn ifcfg_status(text: &str, family: Family) -> u32 {
    let wanted = match family {
        Family::V4 => "BOOTPROTO",
        Family::V6 => "DHCPV6C",
    };
    for line in agent_split(text, '\n') {
        if let [key, value] = agent_split(line, '=')[..] {
            if key == wanted {
                return agent_value(value);
            }
        }
    }
    0
}

/// The text of a configuration file below the root, "" when missing or unreadable.
fn read_config(p: &LinuxSysInfo, file: &str) -> String {
    let path = p.path(file);
    if !path.is_file() {
        return String::new();
    }
    p.read_text_at(&path, CONFIG_LIMIT).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_values() {
        for (value, flag) in [
            ("dhcp", 1),
            ("yes", 1),
            ("bootp", 1),
            ("static", 0),
            ("none", 0),
            ("no", 0),
            ("manual", 0),
            ("loopback", 1),
            ("auto", 1),
            ("DHCP", 1),
            ("STATIC", 1),
            ("'none'", 1),
            ("", 1),
        ] {
            assert_eq!(agent_value(value), flag, "{value:?}");
        }
    }

    #[test]
    fn splits_as_getline() {
        assert_eq!(agent_split("a b ", ' '), ["a", "b"]);
        assert_eq!(agent_split("a  b", ' '), ["a", "", "b"]);
        assert_eq!(agent_split("a  ", ' '), ["a", ""]);
        assert_eq!(agent_split(" a", ' '), ["", "a"]);
        assert_eq!(agent_split("", ' '), Vec::<&str>::new());
        assert_eq!(agent_split("KEY=", '='), ["KEY"]);
    }

    #[test]
    fn ifupdown_first_stanza_decides() {
        let text = "auto eth0\niface eth0 inet dhcp\niface eth0 inet6 static\n";
        assert_eq!(ifupdown_status(text, "eth0", Family::V4), 1);
        // The first stanza is IPv4's: the agent gives IPv6 1.
        assert_eq!(ifupdown_status(text, "eth0", Family::V6), 1);
        let text = "iface eth0 inet6 manual\niface eth0 inet dhcp\n";
        assert_eq!(ifupdown_status(text, "eth0", Family::V6), 0);
        assert_eq!(ifupdown_status(text, "eth0", Family::V4), 1);
        // Not four single-space words: no stanza.
        for text in [
            "  iface eth0 inet static\n",
            "iface\teth0\tinet\tstatic\n",
            "iface eth0  inet static\n",
            "iface eth0 inet static hw\n",
        ] {
            assert_eq!(ifupdown_status(text, "eth0", Family::V4), 0, "{text:?}");
        }
        // A trailing space is dropped; a CR stays part of the method (and maps to 1).
        assert_eq!(
            ifupdown_status("iface eth0 inet static \n", "eth0", Family::V4),
            0
        );
        assert_eq!(
            ifupdown_status("iface eth0 inet static\r\n", "eth0", Family::V4),
            1
        );
        assert_eq!(
            ifupdown_status("iface eth1 inet static\n", "eth0", Family::V4),
            0
        );
    }

    #[test]
    fn ifcfg_values() {
        assert_eq!(ifcfg_status("BOOTPROTO=dhcp\n", Family::V4), 1);
        assert_eq!(ifcfg_status("BOOTPROTO=none\n", Family::V4), 0);
        assert_eq!(ifcfg_status("BOOTPROTO=\"none\"\n", Family::V4), 1);
        assert_eq!(ifcfg_status(" BOOTPROTO=dhcp\n", Family::V4), 0);
        assert_eq!(
            ifcfg_status("BOOTPROTO=a=b\nBOOTPROTO=none\n", Family::V4),
            0
        );
        assert_eq!(
            ifcfg_status("BOOTPROTO=\nBOOTPROTO=static\n", Family::V4),
            0
        );
        assert_eq!(ifcfg_status("BOOTPROTO=dhcp\n", Family::V6), 0);
        assert_eq!(ifcfg_status("DHCPV6C=yes\n", Family::V6), 1);
        assert_eq!(ifcfg_status("", Family::V4), 0);
    }
}
