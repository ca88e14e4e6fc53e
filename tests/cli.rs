//! The `syscollector scan` command on this machine: its output must agree with the
//! system's own sources and tools, and a second run on the same database must report only
//! what really changed.

use std::collections::HashSet;
use std::process::Command;

use serde_json::Value;

fn scan(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_syscollector"))
        .arg("scan")
        .arg("--jsonl")
        .args(args)
        .output()
        .expect("run syscollector");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn stateful<'a>(lines: &'a [Value], index: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["type"] == "stateful" && l["index"] == index)
        .collect()
}

fn command(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().expect(cmd);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn os_release() -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

#[test]
fn os_and_hardware_agree_with_the_system() {
    let lines = scan(&["--only", "os,hardware"]);
    let os = stateful(&lines, "wazuh-states-inventory-system");
    assert_eq!(os.len(), 1);
    let host = &os[0]["document"]["host"];
    let rel = os_release();
    if let Some(name) = rel.get("NAME") {
        assert_eq!(host["os"]["name"], Value::from(name.as_str()));
    }
    if let Some(id) = rel.get("ID") {
        assert_eq!(host["os"]["platform"], Value::from(id.as_str()));
    }
    if let Some(v) = rel.get("VERSION").or(rel.get("VERSION_ID")) {
        assert_eq!(host["os"]["version"], Value::from(v.as_str()));
    }
    assert_eq!(
        host["os"]["kernel"]["name"],
        command("uname", &["-s"]).as_str()
    );
    assert_eq!(
        host["os"]["kernel"]["release"],
        command("uname", &["-r"]).as_str()
    );
    assert_eq!(
        host["os"]["kernel"]["version"],
        command("uname", &["-v"]).as_str()
    );
    assert_eq!(host["architecture"], command("uname", &["-m"]).as_str());
    assert_eq!(host["hostname"], command("uname", &["-n"]).as_str());
    assert_eq!(host["os"]["type"], "linux");
    assert_eq!(os[0]["operation"], "CREATE");
    assert_eq!(os[0]["version"], 1);

    let hw = stateful(&lines, "wazuh-states-inventory-hardware");
    assert_eq!(hw.len(), 1);
    let host = &hw[0]["document"]["host"];
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let processors = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    assert_eq!(host["cpu"]["cores"], Value::from(processors));
    if let Some(model) = cpuinfo
        .lines()
        .filter(|l| l.starts_with("model name"))
        .filter_map(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .next_back()
    {
        assert_eq!(host["cpu"]["name"], Value::from(model));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert_eq!(host["memory"]["total"], Value::from(total_kb * 1024));
    let free = host["memory"]["free"].as_u64().unwrap();
    let used = host["memory"]["used"].as_u64().unwrap();
    assert_eq!(free + used, total_kb * 1024);
}

#[test]
fn processes_agree_with_ps() {
    let lines = scan(&["--only", "processes"]);
    let ours: HashSet<String> = stateful(&lines, "wazuh-states-inventory-processes")
        .iter()
        .map(|l| {
            l["document"]["process"]["pid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let ps: HashSet<String> = command("ps", &["-e", "-o", "pid="])
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    let common = ours.intersection(&ps).count();
    // Up to churn between the two snapshots.
    assert!(
        common * 10 >= ps.len() * 9 && common * 10 >= ours.len() * 9,
        "ours {} ps {} common {common}",
        ours.len(),
        ps.len()
    );
    // Every stateful line has a stateless twin on the command line (one run = first scan
    // with notification).
    let stateless = lines.iter().filter(|l| l["type"] == "stateless").count();
    assert_eq!(stateless, ours.len());
}

#[test]
fn second_run_on_the_same_database_reports_only_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inventory.db");
    let db = db.to_str().unwrap();
    let first = scan(&["--db", db, "--only", "os,processes"]);
    assert_eq!(stateful(&first, "wazuh-states-inventory-system").len(), 1);

    let mut child = Command::new("sleep").arg("120").spawn().unwrap();
    let pid = child.id().to_string();
    let second = scan(&["--db", db, "--only", "os,processes"]);
    let _ = child.kill();
    let _ = child.wait();

    assert!(
        stateful(&second, "wazuh-states-inventory-system").is_empty(),
        "the OS did not change"
    );
    let procs = stateful(&second, "wazuh-states-inventory-processes");
    let created: Vec<_> = procs
        .iter()
        .filter(|l| l["operation"] == "CREATE")
        .map(|l| {
            l["document"]["process"]["pid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        created.contains(&pid),
        "the new sleep {pid} is reported: {created:?}"
    );
    let sleep = procs
        .iter()
        .find(|l| l["document"]["process"]["pid"] == pid.as_str())
        .unwrap();
    assert_eq!(sleep["document"]["process"]["name"], "sleep");
    assert_eq!(
        sleep["document"]["process"]["args"],
        serde_json::json!(["120"])
    );
    // Only processes that started, ended or changed are reported, not the whole list.
    let total = stateful(&first, "wazuh-states-inventory-processes").len();
    assert!(procs.len() < total, "{} of {total}", procs.len());
    for p in &procs {
        if p["operation"] == "MODIFY" {
            assert!(p["version"].as_u64().unwrap() >= 2);
        }
    }
}

#[test]
fn summary_lists_each_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_syscollector"))
        .args(["scan", "--only", "os,hardware,processes"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for t in ["dbsync_osinfo", "dbsync_hwinfo", "dbsync_processes"] {
        let line = text.lines().find(|l| l.starts_with(t)).unwrap_or_else(|| {
            panic!("{t} missing from summary:\n{text}");
        });
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[1], cols[2], "first scan: every row inserted: {line}");
    }
}

#[test]
fn bad_arguments_fail_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_syscollector"))
        .args(["scan", "--only", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown table 'nonsense'"));
}
