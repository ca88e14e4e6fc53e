//! The `dbsync_users` collector: on a Debian 12 account tree made with Debian's own tools
//! (tests/fixtures/users-debian12: base-passwd's master files, then `useradd -R`,
//! `usermod -R`, `chpasswd -R -e`, `chage -R`, `gpasswd`; sudo's default sudoers; a utmp
//! written by `utmpdump -r`), on broken files, and live against `getent passwd`,
//! `id -Gn`, `passwd -S` and `who` on this machine.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::helpers::fixture;
use serde_json::{json, Value};
use syscollector::sysinfo::users::utmp::{parse_utmp, RECORD_SIZE};
use syscollector::sysinfo::{CollectError, LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

/// Rows by user name.
fn users(root: &Path) -> BTreeMap<String, Row> {
    let rows = LinuxSysInfo::with_root(root, null_logger())
        .users()
        .unwrap();
    let n = rows.len();
    let by_name: BTreeMap<String, Row> = rows
        .into_iter()
        .map(|r| (r["user_name"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(by_name.len(), n, "a user name reported twice");
    by_name
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The columns every Linux row has with the same value.
fn linux_constants() -> Value {
    json!({
        "user_type": " ", "user_uuid": " ", "user_is_hidden": 0, "user_created": " ",
        "user_auth_failed_count": 0, "user_auth_failed_timestamp": " ", "user_is_remote": 1,
    })
}

fn with_constants(v: Value) -> Row {
    let mut row = v.as_object().unwrap().clone();
    row.extend(linux_constants().as_object().unwrap().clone());
    row
}

#[test]
fn debian_fixture_rows() {
    let rows = users(&fixture("users-debian12"));
    let passwd = std::fs::read_to_string(fixture("users-debian12/etc/passwd")).unwrap();
    assert_eq!(rows.len(), passwd.lines().count());

    let expected = [
        with_constants(json!({
            "user_name": "root", "user_id": 0, "user_uid_signed": 0, "user_group_id": 0,
            "user_group_id_signed": 0, "user_full_name": "root", "user_home": "/root",
            "user_shell": "/bin/bash", "user_groups": "root", "user_roles": "sudo",
            "login_status": 1, "login_tty": "pts/1", "login_type": "user", "process_pid": 4300,
            "user_last_login": "2024-05-01T11:00:00.000Z", "host_ip": "2001:db8::5",
            "user_password_status": "locked", "user_password_hash_algorithm": "",
            "user_password_last_change": 19500 * 86400, "user_password_min_days_between_changes": 0,
            "user_password_max_days_between_changes": 99999,
            "user_password_warning_days_before_expiration": 7, "user_password_inactive_days": -1,
            "user_password_expiration_date": " ",
        })),
        with_constants(json!({
            "user_name": "alice", "user_id": 1000, "user_uid_signed": 1000, "user_group_id": 1000,
            "user_group_id_signed": 1000, "user_full_name": "Alice Admin,,,",
            "user_home": "/home/alice", "user_shell": "/bin/bash",
            "user_groups": "alice:adm:sudo", "user_roles": " ",
            "login_status": 1, "login_tty": "pts/0", "login_type": "user", "process_pid": 4242,
            "user_last_login": "2024-05-01T10:30:00.000Z", "host_ip": "0.0.0.0,192.168.1.20",
            "user_password_status": "active", "user_password_hash_algorithm": "y",
            "user_password_last_change": 19844 * 86400, "user_password_min_days_between_changes": 0,
            "user_password_max_days_between_changes": 99999,
            "user_password_warning_days_before_expiration": 7, "user_password_inactive_days": -1,
            "user_password_expiration_date": " ",
        })),
        with_constants(json!({
            "user_name": "bob", "user_id": 1001, "user_uid_signed": 1001, "user_group_id": 1001,
            "user_group_id_signed": 1001, "user_full_name": "Bob", "user_home": "/home/bob",
            "user_shell": "/bin/bash", "user_groups": "bob:audio:users", "user_roles": "sudo",
            "login_status": 0, "login_tty": " ", "login_type": " ", "process_pid": 0,
            "user_last_login": " ", "host_ip": " ",
            "user_password_status": "locked", "user_password_hash_algorithm": "",
            "user_password_last_change": 19884 * 86400, "user_password_min_days_between_changes": 1,
            "user_password_max_days_between_changes": 90,
            "user_password_warning_days_before_expiration": 14, "user_password_inactive_days": 30,
            "user_password_expiration_date": "2030-01-31T00:00:00.000Z",
        })),
        with_constants(json!({
            "user_name": "carol", "user_id": 1002, "user_uid_signed": 1002, "user_group_id": 100,
            "user_group_id_signed": 100, "user_full_name": "Carol", "user_home": "/home/carol",
            "user_shell": "/bin/sh", "user_groups": "users", "user_roles": " ",
            "login_status": 0, "login_tty": " ", "login_type": " ", "process_pid": 0,
            "user_last_login": " ", "host_ip": " ",
            "user_password_status": "empty", "user_password_hash_algorithm": "",
            "user_password_last_change": 19600 * 86400, "user_password_min_days_between_changes": 0,
            "user_password_max_days_between_changes": 99999,
            "user_password_warning_days_before_expiration": 7, "user_password_inactive_days": -1,
            "user_password_expiration_date": " ",
        })),
        with_constants(json!({
            "user_name": "systemd-timesync", "user_id": 998, "user_uid_signed": 998,
            "user_group_id": 998, "user_group_id_signed": 998,
            "user_full_name": "systemd Time Synchronization", "user_home": "/",
            "user_shell": "/usr/sbin/nologin", "user_groups": "systemd-timesync", "user_roles": " ",
            "login_status": 0, "login_tty": " ", "login_type": " ", "process_pid": 0,
            "user_last_login": " ", "host_ip": " ",
            "user_password_status": "locked", "user_password_hash_algorithm": "",
            "user_password_last_change": 20783i64 * 86400, "user_password_min_days_between_changes": -1,
            "user_password_max_days_between_changes": -1,
            "user_password_warning_days_before_expiration": -1, "user_password_inactive_days": -1,
            "user_password_expiration_date": " ",
        })),
    ];
    for want in expected {
        let name = want["user_name"].as_str().unwrap();
        assert_eq!(rows[name], want, "{name}");
    }
    // Every row has exactly the schema's columns.
    let columns: Vec<&str> = syscollector::dbsync::schema::USERS
        .columns
        .iter()
        .map(|c| c.name)
        .collect();
    for row in rows.values() {
        let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
        keys.sort();
        let mut want = columns.clone();
        want.sort();
        assert_eq!(keys, want);
    }
    assert_eq!(rows["nobody"]["user_groups"], "nogroup");
    assert_eq!(rows["nobody"]["user_id"], 65534);
    // The LOGIN record of tty2 names no account.
    assert!(rows.values().all(|r| r["login_tty"] != "tty2"));
}

/// Our utmp parser against util-linux's `utmpdump` on the same file.
#[test]
fn utmp_matches_utmpdump() {
    let file = fixture("users-debian12/run/utmp");
    let records = parse_utmp(&std::fs::read(&file).unwrap());
    let dump = run("utmpdump", &[file.to_str().unwrap()]);
    let lines: Vec<&str> = dump.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(records.len(), lines.len());
    for (rec, line) in records.iter().zip(lines) {
        let fields: Vec<&str> = line
            .split("] [")
            .map(|f| f.trim_matches(['[', ']']).trim())
            .collect();
        assert_eq!(fields[0].parse::<i16>().unwrap(), rec.kind, "{line}");
        assert_eq!(fields[1].parse::<i32>().unwrap(), rec.pid, "{line}");
        assert_eq!(fields[3], rec.user, "{line}");
        assert_eq!(fields[4], rec.line, "{line}");
        assert_eq!(fields[5], rec.host, "{line}");
        assert_eq!(fields[6], rec.address(), "{line}");
        let when = humantime::parse_rfc3339(&format!("{}Z", &fields[7][..19])).unwrap();
        let secs = when
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs as i64, i64::from(rec.time), "{line}");
    }
}

/// Writes a root with `files` (path below the root, contents).
fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }
    dir
}

/// Bytes that look like nothing (a fixed pseudo-random sequence).
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn broken_files_skip_entries_not_users() {
    let mut passwd = b"root:x:0:0:root:/root:/bin/bash\n".to_vec();
    passwd.extend(garbage(300));
    passwd.extend(b"\ntruncated:x:10\nbad:x:abc:1:x:/:/bin/sh\n\xff\xfe:x:5:5::/:\n");
    passwd.extend(
        b"alice:x:1000:1000:Alice:/home/alice:/bin/bash\nalice:x:1001:1001:dup:/:/bin/sh\n",
    );
    passwd.extend(b"cut:x:1002:1002:Cut Off:/ho");
    let mut shadow = b"root:$6$s$h:19000:0:99999:7:::\n".to_vec();
    shadow.extend(garbage(200));
    shadow.extend(b"\nalice:$y$a$b:zz:0:1:2:3:4:\n");
    let mut group = b"root:x:0:\n".to_vec();
    group.extend(garbage(100));
    group.extend(b"\nstaff:x:50:alice\n:x\n");
    let mut utmp = garbage(RECORD_SIZE * 3 + 17);
    // One real record among the garbage: alice on pts/3.
    let real = {
        let mut r = vec![0u8; RECORD_SIZE];
        r[0..2].copy_from_slice(&7i16.to_ne_bytes());
        r[4..8].copy_from_slice(&77i32.to_ne_bytes());
        r[8..13].copy_from_slice(b"pts/3");
        r[44..49].copy_from_slice(b"alice");
        r[340..344].copy_from_slice(&1_700_000_000i32.to_ne_bytes());
        r
    };
    utmp.splice(RECORD_SIZE..RECORD_SIZE, real);
    let root = tree(&[
        ("etc/passwd", &passwd),
        ("etc/shadow", &shadow),
        ("etc/group", &group),
        ("run/utmp", &utmp),
        // A sudoers that includes itself and a directory of garbage.
        (
            "etc/sudoers",
            b"@include /etc/sudoers\nalice ALL=(ALL) ALL\n@includedir /etc/sudoers.d\n",
        ),
        ("etc/sudoers.d/junk", &garbage(500)),
    ]);
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let logger: syscollector::Logger =
        std::sync::Arc::new(move |_, m: &str| sink.lock().unwrap().push(m.to_string()));
    let rows = LinuxSysInfo::with_root(root.path(), logger)
        .users()
        .unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["user_name"].as_str().unwrap())
        .collect();
    // The line with an invalid UTF-8 name is an account as glibc reads it.
    assert_eq!(
        names,
        ["root", "\u{fffd}\u{fffd}", "alice", "cut"],
        "{names:?}"
    );
    let alice = &rows[2];
    assert_eq!(alice["user_id"], 1000);
    assert_eq!(alice["user_groups"], "staff");
    assert_eq!(alice["user_roles"], "sudo");
    assert_eq!(alice["login_status"], 1);
    assert_eq!(alice["login_tty"], "pts/3");
    // Its shadow line is malformed: unknown password columns.
    assert_eq!(alice["user_password_status"], " ");
    assert_eq!(rows[0]["user_password_status"], "active");
    assert_eq!(rows[0]["user_password_hash_algorithm"], "6");
    assert_eq!(rows[3]["user_home"], "/ho");
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("malformed")));
}

#[test]
fn without_shadow_or_utmp_each_user_still_has_a_row() {
    let root = tree(&[(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    )]);
    let rows = LinuxSysInfo::with_root(root.path(), null_logger())
        .users()
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["user_password_status"], " ");
        assert_eq!(row["user_password_hash_algorithm"], " ");
        assert_eq!(row["user_password_last_change"], 0);
        assert_eq!(row["user_password_max_days_between_changes"], 0);
        assert_eq!(row["user_groups"], " ");
        assert_eq!(row["login_status"], 0);
        assert_eq!(row["user_roles"], " ");
    }
}

#[test]
fn without_passwd_the_collection_fails() {
    let root = tempfile::tempdir().unwrap();
    let err = LinuxSysInfo::with_root(root.path(), null_logger())
        .users()
        .unwrap_err();
    assert!(matches!(err, CollectError::Io { .. }), "{err}");
}

/// This machine's accounts, as `getent passwd` lists them.
#[test]
fn live_users_match_getent() {
    let rows = users(Path::new("/"));
    let getent = run("getent", &["passwd"]);
    let mut seen = 0;
    for line in getent.lines() {
        let f: Vec<&str> = line.splitn(7, ':').collect();
        let row = rows.get(f[0]).unwrap_or_else(|| panic!("{} missing", f[0]));
        seen += 1;
        assert_eq!(row["user_id"], f[2].parse::<u64>().unwrap(), "{line}");
        assert_eq!(row["user_group_id"], f[3].parse::<u64>().unwrap(), "{line}");
        assert_eq!(row["user_full_name"], f[4], "{line}");
        assert_eq!(row["user_home"], f[5], "{line}");
        assert_eq!(row["user_shell"], f[6], "{line}");
    }
    assert_eq!(seen, rows.len());
}

/// Groups as `id -Gn` (getgrouplist) gives them, password state and aging as
/// `passwd -S` reports them, logins as `who` lists them.
#[test]
fn live_groups_passwords_and_logins() {
    let rows = users(Path::new("/"));
    // Accounts with a shadow entry (all of them on a sane system), when it can be read.
    let shadow = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
    let in_shadow = |name: &str| shadow.lines().any(|l| l.split(':').next() == Some(name));
    for (name, row) in &rows {
        // `id` prints the number of a gid without a group entry; rows leave such gids out.
        let ids = run("id", &["-Gn", name]);
        let named: Vec<&str> = ids
            .split_whitespace()
            .filter(|g| !g.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        let ours = row["user_groups"].as_str().unwrap();
        let ours: Vec<&str> = if ours == " " {
            Vec::new()
        } else {
            ours.split(':').collect()
        };
        assert_eq!(ours, named, "{name}");
        if in_shadow(name) {
            let status = run("passwd", &["-S", name]);
            let f: Vec<&str> = status.split_whitespace().collect();
            let want = match f[1] {
                "L" => "locked",
                "NP" => "empty",
                "P" => "active",
                other => panic!("passwd -S status {other}"),
            };
            assert_eq!(row["user_password_status"], want, "{name}: {status}");
            assert_eq!(
                row["user_password_min_days_between_changes"],
                f[3].parse::<i64>().unwrap()
            );
            assert_eq!(
                row["user_password_max_days_between_changes"],
                f[4].parse::<i64>().unwrap()
            );
            assert_eq!(
                row["user_password_warning_days_before_expiration"],
                f[5].parse::<i64>().unwrap()
            );
            assert_eq!(
                row["user_password_inactive_days"],
                f[6].parse::<i64>().unwrap()
            );
        }
    }
    let who = run("who", &[]);
    for (name, row) in &rows {
        let logged_in = who
            .lines()
            .any(|l| l.split_whitespace().next() == Some(name));
        assert_eq!(row["login_status"], i32::from(logged_in), "{name}");
    }
}
