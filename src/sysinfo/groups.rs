//! The `dbsync_groups` rows on Linux: one per group of `<root>/etc/group`.
//!
//! The Wazuh agent walks the group database (one group per gid, the first entry of a gid
//! winning) and lists, for each group, its members: the users named in the group's
//! member field plus the users whose primary group it is, sorted and joined with the
//! agent's secondary separator `:`. Reading the files below the root instead of the
//! host's NSS lets the same code run on fixture trees and mounted images.
//!
//! Row values follow the agent: `group_id` is the gid, `group_id_signed` the gid as a
//! signed 32-bit number, `group_description`, `group_uuid` are unknown (`" "`) and
//! `group_is_hidden` is 0 on Linux; `group_users` is `" "` when the group has nobody.

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Value};

use super::users::passwd::{self, PasswdEntry};
use super::{CollectError, LinuxSysInfo};
use crate::Row;

/// The group file of a huge directory-backed host can be large; nothing real is bigger.
pub(crate) const READ_LIMIT: u64 = 64 << 20;

/// How the agent joins the names of a list column (`group_users`, `user_groups`).
pub const LIST_SEPARATOR: &str = ":";

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    /// The user names of the fourth field, in file order.
    pub members: Vec<String>,
}

/// What a parse of an account file found: its entries and how many lines it skipped as
/// malformed (comments and blank lines are not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    pub entries: Vec<T>,
    pub skipped: usize,
}

/// One `/etc/group` line (`name:password:gid:member,member`), as glibc reads it: the
/// gid must be a decimal number, members are trimmed and empty ones dropped. `None` for
/// a malformed line, and for NIS compat lines (`+`/`-`), which name no local group.
pub fn parse_group_line(line: &str) -> Option<GroupEntry> {
    let mut fields = line.splitn(4, ':');
    let name = fields.next()?;
    let _password = fields.next()?;
    let gid = parse_id(fields.next()?)?;
    let members = fields.next().unwrap_or("");
    if name.is_empty() || name.starts_with('+') || name.starts_with('-') {
        return None;
    }
    let members = members
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    Some(GroupEntry {
        name: name.to_string(),
        gid,
        members,
    })
}

/// Every group of an `/etc/group` text, malformed lines skipped.
pub fn parse_group(text: &str) -> Parsed<GroupEntry> {
    let mut parsed = Parsed {
        entries: Vec::new(),
        skipped: 0,
    };
    for line in account_lines(text) {
        match parse_group_line(line) {
            Some(entry) => parsed.entries.push(entry),
            None => parsed.skipped += 1,
        }
    }
    parsed
}

/// The lines of an account file that hold an entry: blank lines and `#` comments, which
/// glibc passes over, are left out.
pub(crate) fn account_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| {
        let t = l.trim_start();
        !t.is_empty() && !t.starts_with('#')
    })
}

/// A uid or gid field as glibc's `strtoul` in base 10 reads it (leading blanks allowed,
/// nothing after the digits).
pub(crate) fn parse_id(field: &str) -> Option<u32> {
    let digits = field.trim_start();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads and parses `<root>/etc/group`; an unreadable file is an empty database.
pub(crate) fn read_groups(p: &LinuxSysInfo) -> Vec<GroupEntry> {
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

/// The groups the agent reports: the first entry of each gid, and (so that the primary
/// key stays unique) the first entry of each name.
pub fn distinct_groups(groups: &[GroupEntry]) -> Vec<&GroupEntry> {
    let mut gids = HashSet::new();
    let mut names = HashSet::new();
    groups
        .iter()
        .filter(|g| gids.insert(g.gid) && names.insert(g.name.as_str()))
        .collect()
}

/// The members of `group`: its member list plus the users whose primary group it is,
/// sorted and without repeats.
pub fn group_users(group: &GroupEntry, users: &[PasswdEntry]) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = group.members.iter().cloned().collect();
    names.extend(
        users
            .iter()
            .filter(|u| u.gid == group.gid)
            .map(|u| u.name.clone()),
    );
    names
}

/// The row of one group.
pub fn group_row(group: &GroupEntry, users: &[PasswdEntry]) -> Row {
    let members = group_users(group, users);
    let members = if members.is_empty() {
        " ".to_string()
    } else {
        members.into_iter().collect::<Vec<_>>().join(LIST_SEPARATOR)
    };
    let row = json!({
        "group_id": group.gid,
        "group_name": group.name,
        "group_description": " ",
        "group_id_signed": group.gid as i32,
        "group_uuid": " ",
        "group_is_hidden": 0,
        "group_users": members,
    });
    match row {
        Value::Object(map) => map,
        _ => Row::new(),
    }
}

/// Rows of `dbsync_groups`.
pub fn collect(p: &LinuxSysInfo) -> Result<Vec<Row>, CollectError> {
    let path = p.path("/etc/group");
    let text =
        super::read_limited(&path, READ_LIMIT).map_err(|e| CollectError::io(path.display(), e))?;
    let parsed = parse_group(&text);
    if parsed.skipped > 0 {
        p.debug(&format!(
            "/etc/group: {} malformed line(s) skipped",
            parsed.skipped
        ));
    }
    let users = passwd::read_passwd(p);
    Ok(distinct_groups(&parsed.entries)
        .into_iter()
        .map(|g| group_row(g, &users))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_glibc_reads_them() {
        let text = "root:x:0:\n# comment\n\nadm:x:4:syslog,alice\nsp:x:5: bob , carol ,\n\
                    bad:x:z:\nshort:x:6\n+nis\nlast:x:7:a,,b\n";
        let parsed = parse_group(text);
        let names: Vec<_> = parsed.entries.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["root", "adm", "sp", "short", "last"]);
        assert_eq!(parsed.skipped, 2);
        assert_eq!(parsed.entries[1].members, ["syslog", "alice"]);
        assert_eq!(parsed.entries[2].members, ["bob", "carol"]);
        assert!(parsed.entries[3].members.is_empty());
        assert_eq!(parsed.entries[4].members, ["a", "b"]);
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id("0"), Some(0));
        assert_eq!(parse_id(" 13"), Some(13));
        assert_eq!(parse_id("4294967295"), Some(u32::MAX));
        assert_eq!(parse_id("4294967296"), None);
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("0x10"), None);
        assert_eq!(parse_id(""), None);
    }

    #[test]
    fn first_gid_and_first_name_win() {
        let groups = parse_group("a:x:1:\nb:x:1:\na:x:2:\nc:x:3:\n").entries;
        let kept: Vec<_> = distinct_groups(&groups)
            .iter()
            .map(|g| (g.name.as_str(), g.gid))
            .collect();
        assert_eq!(kept, [("a", 1), ("c", 3)]);
    }

    #[test]
    fn row_lists_members_and_primary_users() {
        let users = passwd::parse_passwd(
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nzed:x:1001:1:z:/h:/bin/sh\n",
        )
        .entries;
        let group = parse_group_line("daemon:x:1:pollinate,daemon").unwrap();
        let row = group_row(&group, &users);
        assert_eq!(row["group_users"], "daemon:pollinate:zed");
        assert_eq!(row["group_id"], 1);
        assert_eq!(row["group_id_signed"], 1);
        assert_eq!(row["group_is_hidden"], 0);
        assert_eq!(row["group_description"], " ");
        let nobody = parse_group_line("nogroup:x:4294967294:").unwrap();
        let row = group_row(&nobody, &users);
        assert_eq!(row["group_users"], " ");
        assert_eq!(row["group_id"], 4294967294u32);
        assert_eq!(row["group_id_signed"], -2);
    }
}
