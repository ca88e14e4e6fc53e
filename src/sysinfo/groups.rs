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

use super::accounts;
use super::parse::accounts::{parse_group, GroupEntry, PasswdEntry, LIST_SEPARATOR};
use super::{CollectError, LinuxSysInfo};
use crate::Row;

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
    let text = super::read::text(&path, accounts::READ_LIMIT)
        .map_err(|e| CollectError::io(path.display(), e))?;
    let parsed = parse_group(&text);
    if parsed.skipped > 0 {
        p.debug(&format!(
            "/etc/group: {} malformed line(s) skipped",
            parsed.skipped
        ));
    }
    let users = accounts::read_passwd(p);
    Ok(distinct_groups(&parsed.entries)
        .into_iter()
        .map(|g| group_row(g, &users))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let users = crate::sysinfo::parse::accounts::parse_passwd(
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nzed:x:1001:1:z:/h:/bin/sh\n",
        )
        .entries;
        let group =
            crate::sysinfo::parse::accounts::parse_group_line("daemon:x:1:pollinate,daemon")
                .unwrap();
        let row = group_row(&group, &users);
        assert_eq!(row["group_users"], "daemon:pollinate:zed");
        assert_eq!(row["group_id"], 1);
        assert_eq!(row["group_id_signed"], 1);
        assert_eq!(row["group_is_hidden"], 0);
        assert_eq!(row["group_description"], " ");
        let nobody =
            crate::sysinfo::parse::accounts::parse_group_line("nogroup:x:4294967294:").unwrap();
        let row = group_row(&nobody, &users);
        assert_eq!(row["group_users"], " ");
        assert_eq!(row["group_id"], 4294967294u32);
        assert_eq!(row["group_id_signed"], -2);
    }
}
