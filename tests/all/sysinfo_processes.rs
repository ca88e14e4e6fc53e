//! The `dbsync_processes` collector on a `/proc` tree captured from this machine, on
//! broken process directories, and live: against `ps`, and with processes this test
//! starts and stops.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::helpers::{capture_logger, fixture};
use serde_json::{json, Value};
use syscollector::sysinfo::processes::{parse_btime, parse_cmdline, parse_stat};
use syscollector::sysinfo::{CollectError, LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

/// Rows by pid.
fn collect(provider: &LinuxSysInfo) -> BTreeMap<i64, Row> {
    let mut rows = BTreeMap::new();
    provider
        .processes(&mut |row| {
            let pid = row["pid"].as_str().unwrap().parse().unwrap();
            assert!(rows.insert(pid, row).is_none(), "pid reported twice");
        })
        .unwrap();
    rows
}

fn collect_root(root: &Path) -> BTreeMap<i64, Row> {
    collect(&LinuxSysInfo::with_root(root, null_logger()))
}

/// An expected row from its ten columns, in the schema's order.
fn row(columns: [Value; 10]) -> Row {
    let keys = [
        "pid",
        "name",
        "state",
        "parent_pid",
        "utime",
        "stime",
        "command_line",
        "args",
        "args_count",
        "start",
    ];
    keys.iter().map(|k| k.to_string()).zip(columns).collect()
}

fn write(root: &Path, file: &str, content: impl AsRef<[u8]>) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn copy_pid(from: &Path, to: &Path, pid: &str) {
    for file in ["stat", "cmdline"] {
        let content = std::fs::read(from.join("proc").join(pid).join(file)).unwrap();
        write(to, &format!("proc/{pid}/{file}"), content);
    }
}

#[test]
fn captured_proc_tree() {
    // The captured start ticks are in USER_HZ units of this machine (100 per second).
    assert_eq!(procfs::ticks_per_second(), 100);
    let rows = collect_root(&fixture("debian12"));
    let expected: BTreeMap<i64, Row> = [
        row([
            json!("1"),
            json!("tail"),
            json!("S"),
            json!(0),
            json!(0),
            json!(0),
            json!("tail"),
            json!("-f /dev/null"),
            json!(2),
            json!("2026-11-26T04:09:14.000Z"),
        ]),
        row([
            json!("2"),
            json!("kthreadd"),
            json!("S"),
            json!(0),
            json!(0),
            json!(0),
            json!(""),
            json!(""),
            json!(0),
            json!("2026-11-26T04:02:05.000Z"),
        ]),
        row([
            json!("10"),
            json!("sh"),
            json!("S"),
            json!(0),
            json!(0),
            json!(0),
            json!("sh"),
            json!("-c sleep 600; : sh last"),
            json!(4),
            json!("2026-11-26T04:09:15.000Z"),
        ]),
        row([
            json!("11"),
            json!("sleep"),
            json!("S"),
            json!(10),
            json!(0),
            json!(0),
            json!("sleep"),
            json!("600"),
            json!(1),
            json!("2026-11-26T04:09:15.000Z"),
        ]),
        row([
            json!("12"),
            json!("a (b) c"),
            json!("S"),
            json!(0),
            json!(0),
            json!(0),
            json!("/tmp/cap/a (b) c"),
            json!("600"),
            json!(1),
            json!("2026-11-26T04:09:15.000Z"),
        ]),
        row([
            json!("26"),
            json!("sleep"),
            json!("S"),
            json!(0),
            json!(27),
            json!(0),
            json!("sleep"),
            json!("600"),
            json!(1),
            json!("2026-11-26T04:09:20.000Z"),
        ]),
    ]
    .into_iter()
    .map(|r| (r["pid"].as_str().unwrap().parse().unwrap(), r))
    .collect();
    assert_eq!(rows, expected);
}

#[test]
fn parsers_on_the_captured_files() {
    let proc = fixture("debian12/proc");
    let stat = parse_stat(std::fs::read_to_string(proc.join("1/stat")).unwrap()).unwrap();
    assert_eq!(
        (stat.pid, stat.comm.as_str(), stat.state, stat.ppid),
        (1, "tail", 'S', 0)
    );
    assert_eq!(stat.starttime, 42949);
    let cmd = parse_cmdline(std::fs::read_to_string(proc.join("12/cmdline")).unwrap());
    assert_eq!(cmd.command_line, "/tmp/cap/a (b) c");
    assert_eq!((cmd.args.as_str(), cmd.args_count), ("600", 1));
    let kthread = parse_cmdline(std::fs::read_to_string(proc.join("2/cmdline")).unwrap());
    assert_eq!(kthread.command_line, "");
    assert_eq!(kthread.args_count, 0);
    assert_eq!(
        parse_btime(&std::fs::read_to_string(proc.join("stat")).unwrap()),
        Some(1795665725)
    );
}

#[test]
fn broken_process_directories_are_skipped() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let captured = fixture("debian12");
    copy_pid(&captured, r, "1");
    write(
        r,
        "proc/stat",
        std::fs::read(captured.join("proc/stat")).unwrap(),
    );
    // Binary garbage, truncated, empty and a vanished (empty) directory.
    let garbage: Vec<u8> = (0..=255u8).cycle().take(8192).collect();
    write(r, "proc/100/stat", &garbage);
    write(r, "proc/100/cmdline", &garbage);
    write(
        r,
        "proc/101/stat",
        "101 (trunc) S 1 101 101 0 -1 4194560 95 0",
    );
    write(r, "proc/101/cmdline", "trunc\0");
    write(r, "proc/102/stat", "");
    std::fs::create_dir_all(r.join("proc/103")).unwrap();
    // stat fine but cmdline gone (exited between the two reads).
    let stat1 = std::fs::read_to_string(captured.join("proc/1/stat")).unwrap();
    write(
        r,
        "proc/104/stat",
        stat1.replacen("1 (tail)", "104 (tail)", 1),
    );
    // A plain file named like a pid, and directories that are not pids.
    write(r, "proc/105", "not a directory");
    write(r, "proc/self/stat", &stat1);
    write(r, "proc/1x/stat", &stat1);

    let (log, lines) = capture_logger();
    let rows = collect(&LinuxSysInfo::with_root(r, log));
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(rows[&1]["name"], "tail");
    let lines = lines.lock().unwrap();
    for pid in ["100", "101", "102", "103", "104", "105"] {
        assert!(
            lines.iter().any(|l| l.contains(pid)),
            "no debug line about {pid}: {lines:?}"
        );
    }
}

#[test]
fn odd_command_lines() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let captured = fixture("debian12");
    write(
        r,
        "proc/stat",
        std::fs::read(captured.join("proc/stat")).unwrap(),
    );
    let stat = std::fs::read_to_string(captured.join("proc/26/stat")).unwrap();
    let pid_stat = |pid: &str| stat.replacen("26 (sleep)", &format!("{pid} (sleep)"), 1);
    // Non-UTF-8 bytes, an empty argv[0], and a 4 MiB command line of 2^16 arguments.
    write(r, "proc/30/stat", pid_stat("30"));
    write(r, "proc/30/cmdline", b"sl\xffep\0a\xfe\0\0b\0");
    write(r, "proc/31/stat", pid_stat("31"));
    write(r, "proc/31/cmdline", b"\0x\0y\0");
    let big_arg = "z".repeat(63);
    let mut big = b"prog\0".to_vec();
    for _ in 0..65536 {
        big.extend_from_slice(big_arg.as_bytes());
        big.push(0);
    }
    write(r, "proc/32/stat", pid_stat("32"));
    write(r, "proc/32/cmdline", &big);
    let rows = collect_root(r);
    assert_eq!(rows[&30]["command_line"], "sl\u{fffd}ep");
    assert_eq!(rows[&30]["args"], "a\u{fffd} b");
    assert_eq!(rows[&30]["args_count"], json!(2));
    assert_eq!(rows[&31]["command_line"], "");
    assert_eq!(rows[&31]["args"], "x y");
    assert_eq!(rows[&32]["args_count"], json!(65536));
    assert_eq!(rows[&32]["args"].as_str().unwrap().len(), 65536 * 64 - 1);
}

#[test]
fn missing_btime_counts_from_the_epoch() {
    let root = tempfile::tempdir().unwrap();
    copy_pid(&fixture("debian12"), root.path(), "26");
    write(root.path(), "proc/stat", "cpu  1 2 3\nbtime garbage\n");
    let rows = collect_root(root.path());
    // starttime 43519 ticks = 435 s.
    assert_eq!(rows[&26]["start"], "1970-01-01T00:07:15.000Z");
}

#[test]
fn unreadable_proc_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let provider = LinuxSysInfo::with_root(root.path(), null_logger());
    let result = provider.processes(&mut |_| panic!("no rows expected"));
    assert!(matches!(result, Err(CollectError::Io { .. })), "{result:?}");
}

fn ps_pids() -> BTreeSet<i64> {
    let out = Command::new("ps")
        .args(["-e", "-o", "pid="])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

#[test]
fn this_machine_agrees_with_ps() {
    let before = ps_pids();
    let rows = collect(&LinuxSysInfo::default());
    let after = ps_pids();
    let ours: BTreeSet<i64> = rows.keys().copied().collect();
    let ps: BTreeSet<i64> = before.union(&after).copied().collect();
    let common = ours.intersection(&ps).count();
    assert!(
        common * 10 >= ours.len() * 9 && common * 10 >= before.len() * 9,
        "ours {ours:?} ps {ps:?}"
    );

    let me = &rows[&i64::from(std::process::id())];
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    assert_eq!(me["name"], comm.trim_end_matches('\n'));
    let argv0 = std::env::args().next().unwrap();
    assert_eq!(me["command_line"], argv0.as_str());
    assert_eq!(me["parent_pid"], json!(std::os::unix::process::parent_id()));
    assert_eq!(me["state"].as_str().unwrap().len(), 1);
    for row in rows.values() {
        assert_eq!(row.len(), 10);
        let start = humantime::parse_rfc3339(row["start"].as_str().unwrap()).unwrap();
        assert!(start <= SystemTime::now() + Duration::from_secs(2));
    }
}

fn assert_started_recently(row: &Row) {
    let start = humantime::parse_rfc3339(row["start"].as_str().unwrap()).unwrap();
    let now = SystemTime::now();
    assert!(start <= now + Duration::from_secs(2), "{row:?}");
    assert!(start + Duration::from_secs(30) >= now, "{row:?}");
}

/// Waits (at most 10 s) until the child's exec has finished: `spawn` returns once the new
/// program's memory is in place, a moment before the kernel sets its name and arguments.
fn wait_for_exec(pid: i64, name: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let comm = format!("/proc/{pid}/comm");
    while std::fs::read_to_string(&comm)
        .ok()
        .as_deref()
        .map(str::trim)
        != Some(name)
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn spawned_process_is_found_and_then_gone() {
    let mut child = Command::new("sleep").args(["30", "1"]).spawn().unwrap();
    let pid = i64::from(child.id());
    wait_for_exec(pid, "sleep");
    let provider = LinuxSysInfo::default();
    let rows = collect(&provider);
    let row = &rows[&pid];
    assert_eq!(row["pid"], pid.to_string());
    assert_eq!(row["name"], "sleep");
    assert_eq!(row["command_line"], "sleep");
    assert_eq!(row["args"], "30 1");
    assert_eq!(row["args_count"], json!(2));
    assert_eq!(row["parent_pid"], json!(std::process::id()));
    assert!(row["utime"].is_u64() && row["stime"].is_u64());
    assert_started_recently(row);

    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!collect(&provider).contains_key(&pid));
}

#[test]
fn spawned_process_with_an_empty_argument() {
    // `read` is a shell builtin: the shell itself waits, with no child of its own.
    let mut child = Command::new("sh")
        .args(["-c", "read line", "sh", "", "last"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = i64::from(child.id());
    wait_for_exec(pid, "sh");
    let provider = LinuxSysInfo::default();
    let rows = collect(&provider);
    let row = &rows[&pid];
    assert_eq!(row["name"], "sh");
    assert_eq!(row["command_line"], "sh");
    assert_eq!(row["args"], "-c read line sh last");
    assert_eq!(row["args_count"], json!(4));
    assert_eq!(row["state"].as_str().map(str::len), Some(1));
    assert_started_recently(row);

    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"done\n").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(!collect(&provider).contains_key(&pid));
}
