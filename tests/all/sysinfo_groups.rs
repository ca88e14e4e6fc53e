//! The `dbsync_groups` collector: on the Debian 12 account tree of
//! tests/fixtures/users-debian12 (see tests/all/sysinfo_users.rs for how it was made), on
//! broken group files, and live against `getent group` / `getent passwd`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::helpers::fixture;
use serde_json::json;
use syscollector::sysinfo::{CollectError, LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

fn groups(root: &Path) -> BTreeMap<String, Row> {
    let rows = LinuxSysInfo::with_root(root, null_logger())
        .groups()
        .unwrap();
    let n = rows.len();
    let by_name: BTreeMap<String, Row> = rows
        .into_iter()
        .map(|r| (r["group_name"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(by_name.len(), n, "a group name reported twice");
    by_name
}

fn getent(db: &str) -> String {
    let out = Command::new("getent").arg(db).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn debian_fixture_rows() {
    let rows = groups(&fixture("users-debian12"));
    let text = std::fs::read_to_string(fixture("users-debian12/etc/group")).unwrap();
    assert_eq!(rows.len(), text.lines().count());
    let row = |name: &str, gid: u32, users: &str| {
        json!({
            "group_name": name, "group_id": gid, "group_id_signed": gid as i32,
            "group_description": " ", "group_uuid": " ", "group_is_hidden": 0,
            "group_users": users,
        })
        .as_object()
        .unwrap()
        .clone()
    };
    let expected = [
        row("root", 0, "root"),
        row("daemon", 1, "daemon"),
        row("adm", 4, "alice"),
        row("tty", 5, " "),
        row("sudo", 27, "alice"),
        row("audio", 29, "bob"),
        row("users", 100, "bob:carol"),
        row("nogroup", 65534, "_apt:nobody:sync"),
        row("alice", 1000, "alice"),
        row("systemd-timesync", 998, "systemd-timesync"),
    ];
    for want in expected {
        let name = want["group_name"].as_str().unwrap();
        assert_eq!(rows[name], want, "{name}");
    }
}

#[test]
fn broken_group_file_keeps_good_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    let mut group = b"root:x:0:\n\x00\x01\x02garbage\nhalf:x\nbad:x:-4:\n".to_vec();
    group.extend(b"wheel:x:10:alice,,bob ,\nwheel:x:11:dup\nsame:x:10:\n\xff:x:12:\nlast:x:13:z");
    std::fs::write(dir.path().join("etc/group"), group).unwrap();
    std::fs::write(
        dir.path().join("etc/passwd"),
        b"root:x:0:0::/root:/bin/sh\n\x00\x00\nzed:x:5:13::/:/bin/sh\n",
    )
    .unwrap();
    let rows = LinuxSysInfo::with_root(dir.path(), null_logger())
        .groups()
        .unwrap();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["group_name"].as_str().unwrap().to_string(),
                r["group_users"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("root", "root"),
        ("wheel", "alice:bob"),
        ("\u{fffd}", " "),
        ("last", "z:zed"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn without_group_file_the_collection_fails() {
    let dir = tempfile::tempdir().unwrap();
    let err = LinuxSysInfo::with_root(dir.path(), null_logger())
        .groups()
        .unwrap_err();
    assert!(matches!(err, CollectError::Io { .. }), "{err}");
}

/// This machine's groups: names, gids, and members (the member list plus the users
/// whose primary group it is), as `getent` lists them.
#[test]
fn live_groups_match_getent() {
    let rows = groups(Path::new("/"));
    let passwd = getent("passwd");
    let group = getent("group");
    let mut seen = BTreeSet::new();
    for line in group.lines() {
        let f: Vec<&str> = line.splitn(4, ':').collect();
        let gid: u32 = f[2].parse().unwrap();
        if !seen.insert(gid) {
            continue;
        }
        let row = rows.get(f[0]).unwrap_or_else(|| panic!("{} missing", f[0]));
        assert_eq!(row["group_id"], gid, "{line}");
        assert_eq!(row["group_id_signed"], gid as i32, "{line}");
        let mut members: BTreeSet<&str> = f[3].split(',').filter(|m| !m.is_empty()).collect();
        for user in passwd.lines() {
            let u: Vec<&str> = user.split(':').collect();
            if u[3].parse::<u32>().unwrap() == gid {
                members.insert(u[0]);
            }
        }
        let want = if members.is_empty() {
            " ".to_string()
        } else {
            members.into_iter().collect::<Vec<_>>().join(":")
        };
        assert_eq!(row["group_users"], want.as_str(), "{line}");
    }
    assert_eq!(seen.len(), rows.len());
}
