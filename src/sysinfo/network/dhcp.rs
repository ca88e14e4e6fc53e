//! The `network_dhcp` flag of an interface and address family, from configuration files.
//!
//! The agent reads two sources, and so does this module, first:
//! - Debian's ifupdown, `/etc/network/interfaces`: the method of the interface's
//!   `iface <name> inet|inet6 <method>` stanza;
//! - Red Hat's and SUSE's `ifcfg-<name>` in `/etc/sysconfig/network-scripts/` (else
//!   `/etc/sysconfig/network/`): `BOOTPROTO` for IPv4, `DHCPV6C` for IPv6, 0 when the
//!   key is absent.
//!
//! Values map as the agent maps them: dhcp, yes and bootp are 1; static, none, no and
//! manual are 0; any other value (loopback, auto, dhcp4...) is 1.
//!
//! Beyond the agent (which reports 0 for every interface they manage), when neither
//! source has the interface:
//! - NetworkManager keyfiles (`/etc/NetworkManager/system-connections/`, then `/run/...`):
//!   the first profile, by file name, whose `interface-name` is the interface; its
//!   `[ipv4]`/`[ipv6]` `method` auto or dhcp is 1, any other 0 (absent means auto);
//! - systemd-networkd `.network` files (`/etc`, `/run`, `/usr/local/lib`, `/usr/lib`,
//!   `/lib` below `systemd/network`, a name in an earlier directory hiding the same name
//!   in a later one; this also covers netplan, which writes them to `/run`): the first
//!   file, by name, whose `[Match] Name=` globs match; `DHCP=yes|ipv4|ipv6` sets 1 for the
//!   families it names.
//!
//! Other deviations from the agent: ifupdown stanzas are looked up per family (the agent
//! takes the interface's first stanza whatever its family, and then reports 1 for the
//! other family); files named by `source`/`source-directory` lines are read too; ifcfg
//! values may be quoted and are compared case-insensitively; lines may be indented.
//! Without any of these, the flag is 0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Family;
use crate::sysinfo::LinuxSysInfo;

/// Configuration files are small; this bounds a corrupt one.
const CONFIG_LIMIT: u64 = 4 << 20;

/// How deep `source` lines of ifupdown files are followed, and how many files at most.
const MAX_SOURCE_DEPTH: usize = 4;
const MAX_SOURCED_FILES: usize = 256;

/// The configuration files that decide the flag, read once per scan.
pub struct DhcpConfig<'a> {
    p: &'a LinuxSysInfo,
    /// `/etc/network/interfaces` and the files it sources, in reading order.
    ifupdown: Vec<String>,
    /// NetworkManager keyfiles, in lookup order.
    network_manager: Vec<String>,
    /// systemd-networkd `.network` files, in lookup order.
    networkd: Vec<String>,
}

impl<'a> DhcpConfig<'a> {
    /// Reads the configuration below the provider's root.
    pub fn load(p: &'a LinuxSysInfo) -> Self {
        let mut ifupdown = Vec::new();
        read_ifupdown(p, Path::new("/etc/network/interfaces"), 0, &mut ifupdown);

        let mut network_manager = Vec::new();
        for dir in [
            "/etc/NetworkManager/system-connections",
            "/run/NetworkManager/system-connections",
        ] {
            for (_, path) in dir_files(p, Path::new(dir)) {
                network_manager.extend(read_config(p, &path));
            }
        }

        let mut by_name = BTreeMap::new();
        for dir in [
            "/etc/systemd/network",
            "/run/systemd/network",
            "/usr/local/lib/systemd/network",
            "/usr/lib/systemd/network",
            "/lib/systemd/network",
        ] {
            for (name, path) in dir_files(p, Path::new(dir)) {
                if name.ends_with(".network") {
                    by_name.entry(name).or_insert(path);
                }
            }
        }
        let networkd = by_name
            .values()
            .filter_map(|path| read_config(p, path))
            .collect();

        DhcpConfig {
            p,
            ifupdown,
            network_manager,
            networkd,
        }
    }

    /// The flag of `iface` for `family`: 1 when configured by DHCP (see the module doc).
    pub fn status(&self, iface: &str, family: Family) -> u32 {
        if let Some(method) = self
            .ifupdown
            .iter()
            .find_map(|text| ifupdown_method(text, iface, family))
        {
            return agent_value(method);
        }
        for dir in ["/etc/sysconfig/network-scripts", "/etc/sysconfig/network"] {
            let file = Path::new(dir).join(format!("ifcfg-{iface}"));
            if let Some(text) = read_config(self.p, &file).filter(|t| !t.trim().is_empty()) {
                return ifcfg_status(&text, family);
            }
        }
        if let Some(status) = self
            .network_manager
            .iter()
            .find_map(|text| network_manager_status(text, iface, family))
        {
            return status;
        }
        self.networkd
            .iter()
            .find_map(|text| networkd_status(text, iface, family))
            .unwrap_or(0)
    }
}

/// The agent's value for a configuration method or BOOTPROTO value.
pub fn agent_value(method: &str) -> u32 {
    match method.to_ascii_lowercase().as_str() {
        "static" | "none" | "no" | "manual" => 0,
        _ => 1,
    }
}

/// The method of the first `iface <iface> <inet|inet6> <method>` stanza of an ifupdown
/// file.
pub fn ifupdown_method<'t>(text: &'t str, iface: &str, family: Family) -> Option<&'t str> {
    let family = match family {
        Family::V4 => "inet",
        Family::V6 => "inet6",
    };
    text.lines().find_map(|line| {
        let mut words = line.split_ascii_whitespace();
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("iface"), Some(name), Some(fam), Some(method))
                if name == iface && fam == family =>
            {
                Some(method)
            }
            _ => None,
        }
    })
}

/// The `source <glob>` and `source-directory <dir>` lines of an ifupdown file.
pub fn ifupdown_sources(text: &str) -> Vec<(bool, &str)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_ascii_whitespace();
            match (words.next(), words.next()) {
                (Some("source"), Some(path)) => Some((false, path)),
                (Some("source-directory"), Some(path)) => Some((true, path)),
                _ => None,
            }
        })
        .collect()
}

/// The flag in an `ifcfg-<name>` file: the `BOOTPROTO` (IPv4) or `DHCPV6C` (IPv6) value
/// mapped by [`agent_value`], 0 without the key.
pub fn ifcfg_status(text: &str, family: Family) -> u32 {
    let wanted = match family {
        Family::V4 => "BOOTPROTO",
        Family::V6 => "DHCPV6C",
    };
    text.lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| key.trim() == wanted)
        .map(|(_, value)| agent_value(unquote(value.trim())))
        .next()
        .unwrap_or(0)
}

/// The flag a NetworkManager keyfile gives `iface`, or None when the profile is for
/// another interface.
pub fn network_manager_status(text: &str, iface: &str, family: Family) -> Option<u32> {
    let entries = ini_entries(text);
    let bound = entries.iter().any(|(section, key, value)| {
        *section == "connection" && *key == "interface-name" && *value == iface
    });
    if !bound {
        return None;
    }
    let section = match family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    };
    let method = entries
        .iter()
        .rev()
        .find(|(s, key, _)| *s == section && *key == "method")
        .map_or("auto", |(_, _, value)| *value);
    Some(u32::from(matches!(method, "auto" | "dhcp")))
}

/// The flag a systemd-networkd `.network` file gives `iface`, or None when its `[Match]`
/// section does not select the interface (or selects by properties other than the name,
/// which files cannot tell).
pub fn networkd_status(text: &str, iface: &str, family: Family) -> Option<u32> {
    let entries = ini_entries(text);
    let mut patterns: Vec<&str> = Vec::new();
    let mut other_keys = false;
    for (section, key, value) in &entries {
        if *section != "Match" {
            continue;
        }
        if *key == "Name" {
            if value.is_empty() {
                patterns.clear();
            } else {
                patterns.extend(value.split_ascii_whitespace());
            }
        } else {
            other_keys = true;
        }
    }
    let selected = match patterns.first() {
        None => !other_keys,
        Some(first) => {
            let inverted = first.starts_with('!');
            let matched = patterns
                .iter()
                .enumerate()
                .map(|(i, pat)| match pat.strip_prefix('!') {
                    Some(rest) if i == 0 => rest,
                    _ => pat,
                })
                .any(|pat| glob_match(pat, iface));
            matched != inverted
        }
    };
    if !selected {
        return None;
    }
    let dhcp = entries
        .iter()
        .rev()
        .find(|(section, key, _)| *section == "Network" && *key == "DHCP")
        .map_or("no", |(_, _, value)| *value)
        .to_ascii_lowercase();
    let on = match dhcp.as_str() {
        "yes" | "true" | "1" | "on" | "both" => true,
        "ipv4" => family == Family::V4,
        "ipv6" => family == Family::V6,
        _ => false,
    };
    Some(u32::from(on))
}

/// `(section, key, value)` of an INI-style file (keyfiles, systemd units), trimmed;
/// comment lines (`#`, `;`) and lines outside sections are dropped.
fn ini_entries(text: &str) -> Vec<(&str, &str, &str)> {
    let mut section = None;
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim());
            continue;
        }
        if let (Some(section), Some((key, value))) = (section, line.split_once('=')) {
            entries.push((section, key.trim(), value.trim()));
        }
    }
    entries
}

/// A value without one pair of surrounding quotes.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// Shell-style matching of `name` against `pattern` with `*`, `?` and `[...]` classes
/// (ranges, `!`/`^` negation); used for interface names and file globs.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let pat: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = name.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // Where the last `*` was, and the text position it currently swallows up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pat.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some('?') => Some(p + 1),
            Some('[') => class_match(&pat, p, text.get(t).copied()),
            Some(&c) => (text.get(t) == Some(&c)).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                t += 1;
            }
            (None, Some((sp, st))) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// Matches `c` against the class opening at `pat[open]`; the pattern index after the
/// class when it matches; None when it does not, or when the class is unterminated.
fn class_match(pat: &[char], open: usize, c: Option<char>) -> Option<usize> {
    let c = c?;
    let mut i = open + 1;
    let negated = matches!(pat.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let here = *pat.get(i)?;
        if here == ']' && !first {
            break;
        }
        first = false;
        match (pat.get(i + 1), pat.get(i + 2)) {
            (Some('-'), Some(&hi)) if hi != ']' => {
                matched |= here <= c && c <= hi;
                i += 3;
            }
            _ => {
                matched |= here == c;
                i += 1;
            }
        }
    }
    (matched != negated).then_some(i + 1)
}

/// Reads an ifupdown file and, recursively, the files its `source` lines name.
fn read_ifupdown(p: &LinuxSysInfo, file: &Path, depth: usize, out: &mut Vec<String>) {
    let Some(text) = read_config(p, file) else {
        return;
    };
    let mut sourced = Vec::new();
    for (is_dir, path) in ifupdown_sources(&text) {
        // Relative paths are relative to /etc/network.
        let path = Path::new("/etc/network").join(path);
        if is_dir {
            sourced.extend(
                dir_files(p, &path)
                    .into_iter()
                    .filter(|(name, _)| {
                        name.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    })
                    .map(|(_, file)| file),
            );
        } else {
            sourced.extend(expand_glob(p, &path));
        }
    }
    out.push(text);
    if depth >= MAX_SOURCE_DEPTH {
        return;
    }
    for file in sourced {
        if out.len() >= MAX_SOURCED_FILES {
            p.debug("too many files sourced by /etc/network/interfaces; reading no more");
            return;
        }
        read_ifupdown(p, &file, depth + 1, out);
    }
}

/// The files a path with a glob in its last component names, sorted.
fn expand_glob(p: &LinuxSysInfo, path: &Path) -> Vec<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?', '[']) {
        return vec![path.to_path_buf()];
    }
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    dir_files(p, dir)
        .into_iter()
        .filter(|(file, _)| glob_match(&name, file))
        .map(|(_, file)| file)
        .collect()
}

/// The regular files of a directory below the root, `(name, host path)` sorted by name;
/// hidden files are left out.
fn dir_files(p: &LinuxSysInfo, dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(p.path(&dir.to_string_lossy())) else {
        return Vec::new();
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (!name.starts_with('.')).then(|| (name.clone(), dir.join(name)))
        })
        .collect();
    files.sort();
    files
}

/// The text of a configuration file (a host path, read below the root).
fn read_config(p: &LinuxSysInfo, file: &Path) -> Option<String> {
    p.read_text_at(&p.path(&file.to_string_lossy()), CONFIG_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("eth0", "eth0"));
        assert!(!glob_match("eth0", "eth01"));
        assert!(glob_match("en*", "enp0s3"));
        assert!(glob_match("*", ""));
        assert!(glob_match("e*0", "eth0"));
        assert!(!glob_match("e*1", "eth0"));
        assert!(glob_match("eth?", "eth7"));
        assert!(glob_match("eth[0-3]", "eth2"));
        assert!(!glob_match("eth[!0-3]", "eth2"));
        assert!(glob_match("eth[^0-3]", "eth9"));
        assert!(glob_match("[]a]", "]"));
        assert!(!glob_match("eth[0", "eth0"));
        assert!(glob_match("*a*b*c", "xxaxxbxxc"));
        assert!(!glob_match("*a*b*c", "xxaxxbxx"));
    }

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
        ] {
            assert_eq!(agent_value(value), flag, "{value}");
        }
    }

    #[test]
    fn ifcfg_values() {
        let text = "DEVICE=eth0\nBOOTPROTO=\"dhcp\"\nONBOOT=yes\n";
        assert_eq!(ifcfg_status(text, Family::V4), 1);
        assert_eq!(ifcfg_status(text, Family::V6), 0);
        assert_eq!(ifcfg_status("BOOTPROTO='none'\n", Family::V4), 0);
        assert_eq!(ifcfg_status("BOOTPROTO=STATIC\n", Family::V4), 0);
        assert_eq!(ifcfg_status("DHCPV6C=yes\n", Family::V6), 1);
        assert_eq!(ifcfg_status("\u{0}\u{1}garbage", Family::V4), 0);
    }

    #[test]
    fn networkd_matching() {
        let text = "[Match]\nName=en* eth0\n\n[Network]\nDHCP=ipv4\n";
        assert_eq!(networkd_status(text, "eth0", Family::V4), Some(1));
        assert_eq!(networkd_status(text, "enp1s0", Family::V6), Some(0));
        assert_eq!(networkd_status(text, "wlan0", Family::V4), None);
        let inverted = "[Match]\nName=!lo\n[Network]\nDHCP=yes\n";
        assert_eq!(networkd_status(inverted, "lo", Family::V4), None);
        assert_eq!(networkd_status(inverted, "eth1", Family::V6), Some(1));
        let by_mac = "[Match]\nMACAddress=00:11:22:33:44:55\n[Network]\nDHCP=yes\n";
        assert_eq!(networkd_status(by_mac, "eth0", Family::V4), None);
        let all = "[Network]\nAddress=10.0.0.2/24\n";
        assert_eq!(networkd_status(all, "eth0", Family::V4), Some(0));
    }
}
