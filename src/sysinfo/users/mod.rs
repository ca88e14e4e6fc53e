//! The `dbsync_users` rows on Linux: one per account of `<root>/etc/passwd`.
//!
//! Each row joins four sources, as the Wazuh agent does:
//! - `/etc/passwd` ([`crate::sysinfo::parse::accounts`]): name, ids, GECOS, home, shell;
//! - the group file: the user's groups as `getgrouplist` lists them (the primary group
//!   first, then every group naming the user, each gid once), by name, joined with `:`;
//! - `/etc/shadow` (readable by root only): password status, hash algorithm and aging;
//!   without it those columns keep the agent's "unknown" values;
//! - [`utmp`] (`/run/utmp`): the user's current sessions: `login_status` 1 when there is
//!   one, tty, type and pid of the newest, its time as `user_last_login`, and every
//!   session's address in `host_ip` (joined with `,`);
//! - [`sudoers`]: `user_roles` is `sudo` when a sudoers rule header names the user.
//!
//! Columns the agent fills only on other systems keep its Linux values: `user_type`,
//! `user_uuid`, `user_created`, `user_auth_failed_timestamp` unknown (`" "`),
//! `user_is_hidden` and `user_auth_failed_count` 0. `user_is_remote` is 1, as the agent
//! reports for every account it lists.

pub mod sudoers;
pub mod utmp;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::accounts;
use super::parse::accounts::{parse_shadow, GroupEntry, PasswdEntry, ShadowEntry, LIST_SEPARATOR};
use super::{read, CollectError, LinuxSysInfo};
use crate::Row;
use utmp::UtmpRecord;

/// utmp holds one record per terminal; a few thousand at most.
const UTMP_READ_LIMIT: u64 = 16 << 20;
/// The places of the utmp file below the root (`/var/run` is a link to `/run`).
const UTMP_PATHS: [&str; 2] = ["/run/utmp", "/var/run/utmp"];
const SECONDS_PER_DAY: i64 = 86_400;

/// `secs` since the epoch as ISO 8601 UTC with milliseconds, as the agent writes
/// timestamps (`2024-05-01T10:00:00.000Z`); `None` outside years 1970–9999.
pub fn iso8601(secs: i64) -> Option<String> {
    let secs = u64::try_from(secs).ok()?;
    if secs >= 253_402_300_800 {
        return None;
    }
    let time = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))?;
    Some(humantime::format_rfc3339_millis(time).to_string())
}

/// The names of `user`'s groups, as `getgrouplist` + `getgrgid` give them: the primary
/// gid first, then the gid of every group whose member list names the user, each gid
/// once; each gid named after the first group entry with that gid (gids without an
/// entry are left out).
pub fn user_group_names(user: &PasswdEntry, groups: &[GroupEntry]) -> Vec<String> {
    let mut gids = vec![user.gid];
    for g in groups {
        if g.members.contains(&user.name) && !gids.contains(&g.gid) {
            gids.push(g.gid);
        }
    }
    let mut names_by_gid: HashMap<u32, &str> = HashMap::new();
    for g in groups {
        names_by_gid.entry(g.gid).or_insert(g.name.as_str());
    }
    gids.iter()
        .filter_map(|gid| names_by_gid.get(gid).map(|n| n.to_string()))
        .collect()
}

/// Sets the login columns of `row` from the utmp records of `user`.
fn set_login(row: &mut Row, user: &str, sessions: &[UtmpRecord]) {
    let mine: Vec<&UtmpRecord> = sessions.iter().filter(|s| s.user == user).collect();
    if mine.is_empty() {
        row.insert("login_status".into(), 0.into());
        row.insert("login_tty".into(), " ".into());
        row.insert("login_type".into(), " ".into());
        row.insert("process_pid".into(), 0.into());
        row.insert("user_last_login".into(), " ".into());
        row.insert("host_ip".into(), " ".into());
        return;
    }
    row.insert("login_status".into(), 1.into());
    // The newest session (strictly newer than the epoch) gives the time, tty, type, pid.
    let mut newest: Option<&UtmpRecord> = None;
    for s in &mine {
        if s.time > newest.map_or(0, |n| n.time) {
            newest = Some(s);
        }
    }
    if let Some(s) = newest {
        if let Some(time) = iso8601(i64::from(s.time)) {
            row.insert("user_last_login".into(), time.into());
        }
        row.insert("login_tty".into(), s.line.clone().into());
        row.insert("login_type".into(), s.type_name().into());
        row.insert("process_pid".into(), s.pid.into());
    }
    let hosts: Vec<String> = mine
        .iter()
        .map(|s| s.address())
        .filter(|h| !h.is_empty())
        .collect();
    let hosts = if hosts.is_empty() {
        " ".to_string()
    } else {
        hosts.join(",")
    };
    row.insert("host_ip".into(), hosts.into());
}

/// Sets the password columns of `row` from the user's shadow entry, if any.
fn set_password(row: &mut Row, entry: Option<&ShadowEntry>) {
    let mut put = |k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    let Some(e) = entry else {
        put("user_password_expiration_date", " ".into());
        put("user_password_hash_algorithm", " ".into());
        put("user_password_inactive_days", 0.into());
        put("user_password_last_change", 0.into());
        put("user_password_max_days_between_changes", 0.into());
        put("user_password_min_days_between_changes", 0.into());
        put("user_password_status", " ".into());
        put("user_password_warning_days_before_expiration", 0.into());
        return;
    };
    let expiration = if e.expire > 0 {
        e.expire
            .checked_mul(SECONDS_PER_DAY)
            .and_then(iso8601)
            .unwrap_or_else(|| " ".to_string())
    } else {
        " ".to_string()
    };
    let last_change = e.last_change.saturating_mul(SECONDS_PER_DAY).max(0);
    put("user_password_expiration_date", expiration.into());
    put("user_password_hash_algorithm", e.hash_algorithm().into());
    put("user_password_inactive_days", e.inactive.into());
    put("user_password_last_change", last_change.into());
    put("user_password_max_days_between_changes", e.max.into());
    put("user_password_min_days_between_changes", e.min.into());
    put("user_password_status", e.password_status().into());
    put(
        "user_password_warning_days_before_expiration",
        e.warning.into(),
    );
}

/// Everything a user row is built from besides the account itself.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub groups: Vec<GroupEntry>,
    /// `None` when the shadow file could not be read.
    pub shadow: Option<Vec<ShadowEntry>>,
    pub sessions: Vec<UtmpRecord>,
    /// Users named by a sudoers rule header.
    pub sudoers: Vec<sudoers::SudoersRule>,
}

/// The row of one account.
pub fn user_row(user: &PasswdEntry, src: &Sources) -> Row {
    let mut row = Row::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    put("user_name", user.name.clone().into());
    put("user_id", user.uid.into());
    put("user_uid_signed", (user.uid as i32).into());
    put("user_group_id", user.gid.into());
    put("user_group_id_signed", (user.gid as i32).into());
    put("user_full_name", user.gecos.clone().into());
    put("user_home", user.home.clone().into());
    put("user_shell", user.shell.clone().into());
    put("user_is_remote", 1.into());
    let names = user_group_names(user, &src.groups);
    let names = if names.is_empty() {
        " ".to_string()
    } else {
        names.join(LIST_SEPARATOR)
    };
    put("user_groups", names.into());
    put("user_type", " ".into());
    put("user_uuid", " ".into());
    put("user_is_hidden", 0.into());
    put("user_created", " ".into());
    put("user_auth_failed_count", 0.into());
    put("user_auth_failed_timestamp", " ".into());
    let sudo = src
        .sudoers
        .iter()
        .any(|r| sudoers::header_names_user(&r.header, &user.name));
    put("user_roles", if sudo { "sudo" } else { " " }.into());
    set_login(&mut row, &user.name, &src.sessions);
    let entry = src
        .shadow
        .as_deref()
        .and_then(|s| s.iter().rev().find(|e| e.name == user.name));
    set_password(&mut row, entry);
    row
}

/// The utmp records below the root (an empty list when there is no utmp file).
fn read_sessions(p: &LinuxSysInfo) -> Vec<UtmpRecord> {
    for file in UTMP_PATHS {
        let path = p.path(file);
        match read::bytes(&path, UTMP_READ_LIMIT) {
            Ok(bytes) => {
                if bytes.len() % utmp::RECORD_SIZE != 0 {
                    p.debug(&format!(
                        "{}: {} trailing byte(s) of a partial record ignored",
                        path.display(),
                        bytes.len() % utmp::RECORD_SIZE
                    ));
                }
                // Records of pid 1 (init's own) are no sessions.
                return utmp::parse_utmp(&bytes)
                    .into_iter()
                    .filter(|r| r.pid != 1)
                    .collect();
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                p.debug(&format!("cannot read {}: {e}", path.display()));
                return Vec::new();
            }
        }
    }
    Vec::new()
}

/// The shadow entries below the root, `None` when the file cannot be read.
fn read_shadow(p: &LinuxSysInfo) -> Option<Vec<ShadowEntry>> {
    let text = p.read_text("/etc/shadow", accounts::READ_LIMIT)?;
    let parsed = parse_shadow(&text);
    if parsed.skipped > 0 {
        p.debug(&format!(
            "/etc/shadow: {} malformed line(s) skipped",
            parsed.skipped
        ));
    }
    Some(parsed.entries)
}

/// Rows of `dbsync_users`.
pub fn collect(p: &LinuxSysInfo) -> Result<Vec<Row>, CollectError> {
    let path = p.path("/etc/passwd");
    let text =
        read::text(&path, accounts::READ_LIMIT).map_err(|e| CollectError::io(path.display(), e))?;
    let users = accounts::parse_checked(p, &text);
    let src = Sources {
        groups: accounts::read_groups(p),
        shadow: read_shadow(p),
        sessions: read_sessions(p),
        sudoers: sudoers::read_rules(p),
    };
    let mut seen = HashSet::new();
    Ok(users
        .iter()
        .filter(|u| seen.insert(u.name.as_str()))
        .map(|u| user_row(u, &src))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysinfo::parse::accounts::{parse_group, parse_passwd_line};

    #[test]
    fn timestamps() {
        assert_eq!(iso8601(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(
            iso8601(1_758_203_148).as_deref(),
            Some("2025-09-18T13:45:48.000Z")
        );
        assert_eq!(iso8601(-1), None);
        assert_eq!(iso8601(i64::MAX), None);
    }

    #[test]
    fn groups_of_a_user() {
        let groups = parse_group(
            "root:x:0:\nadm:x:4:syslog,alice\nalice:x:1000:\nsudo:x:27:alice\nalias:x:27:alice\n",
        )
        .entries;
        let alice = parse_passwd_line("alice:x:1000:1000::/home/alice:/bin/bash").unwrap();
        assert_eq!(user_group_names(&alice, &groups), ["alice", "adm", "sudo"]);
        let orphan = parse_passwd_line("o:x:5:999::/:/bin/sh").unwrap();
        assert!(user_group_names(&orphan, &groups).is_empty());
    }
}
