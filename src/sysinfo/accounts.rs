//! The account databases below the root, read for several collectors: the users and
//! groups collectors, and the browser-extensions collector (home directories and their
//! owners, [`homes`]). Parsing is in [`super::parse::accounts`]; this module only reads and logs.

use std::collections::HashSet;

use super::parse::accounts::{parse_group, parse_passwd, GroupEntry, PasswdEntry};
use super::LinuxSysInfo;

/// The account files of a huge directory-backed host can be large; nothing real is bigger.
pub const READ_LIMIT: u64 = 64 << 20;

/// Reads and parses `<root>/etc/passwd`; an unreadable file is an empty database.
pub fn read_passwd(p: &LinuxSysInfo) -> Vec<PasswdEntry> {
    match p.read_text("/etc/passwd", READ_LIMIT) {
        Some(text) => parse_checked(p, &text),
        None => Vec::new(),
    }
}

/// Parses a passwd text, logging how many lines were skipped.
pub fn parse_checked(p: &LinuxSysInfo, text: &str) -> Vec<PasswdEntry> {
    let parsed = parse_passwd(text);
    if parsed.skipped > 0 {
        p.debug(&format!(
            "/etc/passwd: {} malformed line(s) skipped",
            parsed.skipped
        ));
    }
    parsed.entries
}

/// Reads and parses `<root>/etc/group`; an unreadable file is an empty database.
pub fn read_groups(p: &LinuxSysInfo) -> Vec<GroupEntry> {
    let Some(text) = p.read_text("/etc/group", READ_LIMIT) else {
        return Vec::new();
    };
    let parsed = parse_group(&text);
    if parsed.skipped > 0 {
        p.debug(&format!(
            "/etc/group: {} malformed line(s) skipped",
            parsed.skipped
        ));
    }
    parsed.entries
}

/// A home directory to search and the uid (as text) of its owner, "" when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub path: String,
    pub uid: String,
}

/// The homes to search: each account's home directory (first account of a home wins),
/// then the directories of `/home` no account has (named after their user, as the agent
/// looks them up). Homes that are not directories below the root are left out.
pub fn homes(p: &LinuxSysInfo) -> Vec<Home> {
    let users = read_passwd(p);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for u in &users {
        let home = u.home.trim_end_matches('/');
        if !u.home.starts_with('/') || !p.path(&u.home).is_dir() {
            continue;
        }
        let home = if home.is_empty() { "/" } else { home };
        if seen.insert(home.to_string()) {
            out.push(Home {
                path: home.to_string(),
                uid: u.uid.to_string(),
            });
        }
    }
    let Ok(listing) = std::fs::read_dir(p.path("/home")) else {
        return out;
    };
    let mut dirs: Vec<String> = listing
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    dirs.sort();
    for name in dirs {
        let path = format!("/home/{name}");
        if seen.insert(path.clone()) {
            let uid = users
                .iter()
                .find(|u| u.name == name)
                .map(|u| u.uid.to_string())
                .unwrap_or_default();
            out.push(Home { path, uid });
        }
    }
    out
}
