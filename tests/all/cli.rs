//! The command-line tools as a user meets them: `syscollector scan` on this machine must
//! agree with the system's own sources and tools, and a second run on the same database
//! must report only what really changed; help, versions, exit codes, `show`, `export`
//! (validated by the CycloneDX project's own validator), `run`'s report lines, man pages,
//! completions, and `syscollector-manager`'s reading commands.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::helpers::{copy_tree, fixtures};
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown table 'nonsense'"), "{err}");
    // The valid names are listed.
    for name in [
        "packages",
        "processes",
        "osinfo",
        "network",
        "browser_extensions",
    ] {
        assert!(err.contains(name), "{name} not listed: {err}");
    }
    assert!(out.stdout.is_empty());
}

const SYSCOLLECTOR: &str = env!("CARGO_BIN_EXE_syscollector");
const MANAGER: &str = env!("CARGO_BIN_EXE_syscollector-manager");

fn tool(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the tool")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A system tree made of fixture trees laid over each other.
fn tree(dir: &Path, parts: &[&str]) -> PathBuf {
    let root = dir.join("root");
    for p in parts {
        copy_tree(&fixtures().join(p), &root);
    }
    root
}

#[test]
fn help_is_on_stdout_and_per_command() {
    let top = tool(SYSCOLLECTOR, &["--help"]);
    assert_eq!(top.status.code(), Some(0));
    let text = stdout(&top);
    for cmd in [
        "scan",
        "show",
        "export",
        "run",
        "tables",
        "man",
        "completions",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
    for code in ["0  success", "1  the job failed", "2  bad usage"] {
        assert!(
            text.contains(code),
            "exit code '{code}' not documented:\n{text}"
        );
    }
    assert!(stderr(&top).is_empty());

    let scan = stdout(&tool(SYSCOLLECTOR, &["scan", "--help"]));
    let run = stdout(&tool(SYSCOLLECTOR, &["run", "--help"]));
    assert_ne!(scan, run);
    assert!(
        scan.contains("--jsonl") && !scan.contains("--interval"),
        "{scan}"
    );
    assert!(run.contains("--interval") && run.contains("--once") && !run.contains("--jsonl"));
    assert!(run.contains("XDG_STATE_HOME"), "{run}");
    assert!(scan.contains("Exit status"));

    let manager = tool(MANAGER, &["--help"]);
    assert_eq!(manager.status.code(), Some(0));
    for cmd in ["serve", "indices", "show", "dump", "ids"] {
        assert!(stdout(&manager).contains(cmd));
    }
    assert!(stdout(&tool(MANAGER, &["show", "--help"])).contains("--where"));
    // Nothing at all is a usage error, with the usage on stderr.
    let none = tool(SYSCOLLECTOR, &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("Usage"));
}

#[test]
fn version_is_printed() {
    let want = format!("syscollector {}\n", env!("CARGO_PKG_VERSION"));
    let v = tool(SYSCOLLECTOR, &["--version"]);
    assert_eq!((v.status.code(), stdout(&v)), (Some(0), want));
    let m = tool(MANAGER, &["--version"]);
    assert_eq!(
        stdout(&m),
        format!("syscollector-manager {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn flags_of_another_command_are_rejected() {
    for args in [
        &["scan", "--interval", "5"][..],
        &["run", "--db", "/tmp/x.db"],
        &["show", "packages", "--jsonl"],
        &["export", "--format", "spdx"],
        &["show", "network"],
        &["show", "packages", "--db", "/tmp/x.db", "--root", "/"],
    ] {
        let o = tool(SYSCOLLECTOR, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(stderr(&o).contains("error"), "{args:?}: {}", stderr(&o));
    }
    let o = tool(SYSCOLLECTOR, &["show", "network"]);
    assert!(stderr(&o).contains("network_iface"), "{}", stderr(&o));
}

#[test]
fn tables_lists_the_names() {
    let o = tool(SYSCOLLECTOR, &["tables"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let line = |w: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(w))
            .unwrap_or_else(|| panic!("{w} not listed:\n{text}"))
            .to_string()
    };
    assert!(line("packages").ends_with("dbsync_packages"));
    assert!(line("network").contains("dbsync_network_address"));
    assert!(line("os").ends_with("dbsync_osinfo"));
    for t in syscollector::dbsync::schema::TABLES {
        assert!(text.contains(t.name), "{} missing", t.name);
    }
}

#[test]
fn a_root_or_database_that_cannot_be_used_is_an_error() {
    let o = tool(SYSCOLLECTOR, &["scan", "--root", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("'/nonexistent' is not a directory"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing/dir/x.db");
    let o = tool(SYSCOLLECTOR, &["scan", "--db", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot use"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no scan ran in memory instead");

    // A file that is not a database is refused and left alone (not moved aside).
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, not even close to one").unwrap();
    let o = tool(
        SYSCOLLECTOR,
        &["scan", "--db", junk.to_str().unwrap(), "--only", "os"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing moved or made"
    );
    assert!(std::fs::read(&junk).unwrap().starts_with(b"this is not"));

    let o = tool(
        SYSCOLLECTOR,
        &["show", "packages", "--db", missing.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!missing.exists(), "show must not create a database");

    let o = tool(
        SYSCOLLECTOR,
        &["run", "--dir", junk.to_str().unwrap(), "--once"],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "a --dir that is a file: {}",
        stderr(&o)
    );
}

#[test]
fn a_failed_collector_fails_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    // A tree without /etc/passwd: the users collector fails; os still works.
    let o = tool(
        SYSCOLLECTOR,
        &[
            "scan",
            "--root",
            dir.path().to_str().unwrap(),
            "--only",
            "os,users",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("dbsync_users"), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("dbsync_osinfo"),
        "the summary is still printed"
    );
    let root = tree(dir.path(), &["debian12", "users-debian12"]);
    let o = tool(
        SYSCOLLECTOR,
        &[
            "scan",
            "--root",
            root.to_str().unwrap(),
            "--only",
            "os,users",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `show` output of the Debian package fixture, in `format`.
fn show_packages(root: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["show", "packages", "--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    tool(SYSCOLLECTOR, &args)
}

#[test]
fn show_prints_a_table_as_json_csv_and_aligned_columns() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(dir.path(), &["pkg-debian"]);
    let json = show_packages(&root, &["--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let rows: Vec<Value> = serde_json::from_slice(&json.stdout).expect("one JSON array");
    let debs: Vec<&Value> = rows.iter().filter(|r| r["type"] == "deb").collect();
    let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    let installed = status
        .split("\n\n")
        .filter(|p| {
            p.lines()
                .any(|l| l.starts_with("Status: ") && l.ends_with(" ok installed"))
        })
        .count();
    assert_eq!(debs.len(), installed, "one row per installed dpkg package");
    assert!(rows.iter().any(|r| r["type"] == "pypi"));
    assert!(rows.iter().any(|r| r["type"] == "npm"));
    let name = debs[0]["name"].as_str().unwrap().to_string();

    // --where keeps the matching rows only.
    let one = show_packages(
        &root,
        &["--format", "json", "--where", &format!("name={name}")],
    );
    let one: Vec<Value> = serde_json::from_slice(&one.stdout).unwrap();
    assert!(!one.is_empty() && one.iter().all(|r| r["name"] == name.as_str()));
    let typed = show_packages(&root, &["--format", "csv", "--where", "type=deb"]);
    let csv = stdout(&typed);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "name");
    assert!(header.contains(&"version_") && header.contains(&"type"));
    assert_eq!(lines.count(), installed, "{csv}");

    // A field that is not a column: bad usage, the columns listed.
    let bad = show_packages(&root, &["--where", "colour=red"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("no field 'colour'") && stderr(&bad).contains("version_"));

    // The table: a header, every row's second column starting where the header's does.
    let table = show_packages(
        &root,
        &["--where", "type=deb", "--columns", "name,version_"],
    );
    assert_eq!(table.status.code(), Some(0));
    let text = stdout(&table);
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    assert!(head.contains("NAME") && head.contains("VERSION_"), "{text}");
    let col = head.find("VERSION_").unwrap();
    let body: Vec<&str> = lines.clone().filter(|l| !l.starts_with('(')).collect();
    assert_eq!(body.len(), installed);
    for l in &body {
        assert_ne!(l.as_bytes()[col], b' ', "{l:?} not aligned at {col}");
        assert_eq!(l.as_bytes()[col - 1], b' ', "{l:?}");
    }
    assert!(text.ends_with(&format!("({installed} rows)\n")), "{text}");
}

#[test]
fn show_reads_a_database_as_the_scan_left_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(dir.path(), &["debian12", "pkg-debian"]);
    let db = dir.path().join("inv.db");
    let o = tool(
        SYSCOLLECTOR,
        &[
            "scan",
            "--root",
            root.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--only",
            "packages,os",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let live = show_packages(&root, &["--format", "csv"]);
    let stored = tool(
        SYSCOLLECTOR,
        &[
            "show",
            "packages",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "csv",
        ],
    );
    assert_eq!(stored.status.code(), Some(0));
    assert_eq!(stdout(&stored), stdout(&live));
    let os = tool(
        SYSCOLLECTOR,
        &[
            "show",
            "os",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let os: Vec<Value> = serde_json::from_slice(&os.stdout).unwrap();
    assert_eq!(os.len(), 1);
    assert_eq!(os[0]["os_platform"], "debian");
}

/// Serves the snapd fixture's answer on `<root>/run/snapd.socket` until the test ends.
fn fake_snapd(root: &Path) {
    std::fs::create_dir_all(root.join("var/lib/snapd")).unwrap();
    std::fs::create_dir_all(root.join("run")).unwrap();
    let body = std::fs::read(fixtures().join("pkg-snap/v2-snaps.json")).unwrap();
    let listener = UnixListener::bind(root.join("run/snapd.socket")).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut req = [0u8; 1024];
            let _ = conn.read(&mut req);
            let _ = write!(
                conn,
                "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
}

/// A virtual environment with the CycloneDX project's Python library, under the target
/// directory (made once; pip fetches from PyPI).
fn cyclonedx_validator() -> PathBuf {
    let target = Path::new(env!("CARGO_BIN_EXE_syscollector"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    let venv = target.join("cyclonedx-venv");
    let python = venv.join("bin/python");
    let ready = venv.join("ready");
    if !ready.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "python3 -m venv failed (Debian: apt-get install python3-venv)"
        );
        let ok = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "cyclonedx-python-lib[json-validation]>=8",
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "pip could not install cyclonedx-python-lib");
        std::fs::write(&ready, b"").unwrap();
    }
    python
}

/// The CycloneDX library's strict JSON-schema validation of `bom` (1.6); its error text.
fn validate(python: &Path, bom: &Path) -> Result<(), String> {
    let script = "import sys\n\
from cyclonedx.schema import SchemaVersion\n\
from cyclonedx.validation.json import JsonStrictValidator\n\
err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
print(repr(err) if err else 'valid')\n\
sys.exit(1 if err else 0)\n";
    let o = Command::new(python)
        .args(["-c", script])
        .arg(bom)
        .output()
        .unwrap();
    let out = stdout(&o) + &stderr(&o);
    match o.status.code() {
        Some(0) if out.trim() == "valid" => Ok(()),
        _ => Err(out),
    }
}

#[test]
fn export_is_a_valid_cyclonedx_sbom_with_a_purl_per_package_type() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(
        dir.path(),
        &[
            "debian12",
            "pkg-debian",
            "pkg-rpm-sqlite",
            "pkg-alpine",
            "pkg-pacman",
        ],
    );
    fake_snapd(&root);
    let bom_path = dir.path().join("bom.json");
    let o = tool(
        SYSCOLLECTOR,
        &[
            "export",
            "--format",
            "cyclonedx",
            "--root",
            root.to_str().unwrap(),
            "--output",
            bom_path.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bom: Value = serde_json::from_slice(&std::fs::read(&bom_path).unwrap()).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    let os = &bom["metadata"]["component"];
    assert_eq!(os["type"], "operating-system");
    assert_eq!(os["name"], "debian");
    assert_eq!(os["version"], "12 (bookworm)");
    let components = bom["components"].as_array().unwrap();
    let purls: Vec<&str> = components
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    for prefix in [
        "pkg:deb/debian/",
        "pkg:rpm/debian/",
        "pkg:apk/debian/",
        "pkg:alpm/debian/",
        "pkg:pypi/",
        "pkg:npm/",
        "pkg:snap/",
    ] {
        assert!(
            purls.iter().any(|p| p.starts_with(prefix)),
            "no {prefix} purl in {purls:?}"
        );
    }
    assert!(purls.iter().any(|p| p.contains("distro=debian-12")));
    // Every package of the table is a component, each with its own bom-ref.
    let rows = show_packages(&root, &["--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&rows.stdout).unwrap();
    assert_eq!(components.len(), rows.len());
    let refs: HashSet<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), components.len());

    let python = cyclonedx_validator();
    validate(&python, &bom_path).unwrap_or_else(|e| panic!("invalid SBOM: {e}"));
    // The validator does reject what is not CycloneDX 1.6.
    let mut broken = bom.clone();
    broken["components"][0]["type"] = Value::from("not-a-component-type");
    let broken_path = dir.path().join("broken.json");
    std::fs::write(&broken_path, broken.to_string()).unwrap();
    assert!(validate(&python, &broken_path).is_err());
}

#[test]
fn man_pages_and_completions_are_generated() {
    let o = tool(SYSCOLLECTOR, &["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with(".ie"),
        "{}",
        &stdout(&o)[..100.min(o.stdout.len())]
    );
    assert!(stdout(&o).contains(".TH syscollector 1"), "roff title line");
    let dir = tempfile::tempdir().unwrap();
    let o = tool(
        SYSCOLLECTOR,
        &["man", "--out-dir", dir.path().to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0));
    for page in [
        "syscollector",
        "syscollector-show",
        "syscollector-export",
        "syscollector-run",
    ] {
        let text = std::fs::read_to_string(dir.path().join(format!("{page}.1"))).unwrap();
        assert!(text.contains(&format!(".TH {page} 1")), "{page}");
    }
    let show = std::fs::read_to_string(dir.path().join("syscollector-show.1")).unwrap();
    assert!(show.contains("where"));
    let o = tool(MANAGER, &["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(dir.path().join("syscollector-manager-indices.1").exists());

    let bash = tool(SYSCOLLECTOR, &["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("_syscollector()") && stdout(&bash).contains("--where"));
    let zsh = stdout(&tool(MANAGER, &["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef syscollector-manager"), "{zsh}");
    assert_eq!(
        tool(SYSCOLLECTOR, &["completions", "tcsh"]).status.code(),
        Some(2)
    );
}

/// `run --once` of the Debian fixture with `dir` as XDG_STATE_HOME and `cwd` as working dir.
fn run_once(root: &Path, state: &Path, cwd: &Path, extra: &[&str]) -> Output {
    Command::new(SYSCOLLECTOR)
        .args(["run", "--once", "--only", "os,packages", "--root"])
        .arg(root)
        .args(extra)
        .env("XDG_STATE_HOME", state)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn timestamped(line: &str) -> bool {
    let stamp = line.split(' ').next().unwrap_or("");
    stamp.len() == 20 && humantime::parse_rfc3339(stamp).is_ok()
}

#[test]
fn run_reports_each_scan_and_sync_in_the_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = tree(dir.path(), &["debian12", "pkg-debian"]);
    let state = dir.path().join("state");
    let cwd = dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let o = run_once(&root, &state, &cwd, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().all(|l| timestamped(l)), "{text}");
    let scan = lines
        .iter()
        .find(|l| l.contains(" scan: "))
        .expect("a scan line");
    assert!(scan.contains("2 of 2 tables changed"), "{scan}");
    let sync = lines
        .iter()
        .find(|l| l.contains(" sync: "))
        .expect("a sync line");
    let docs: usize =
        serde_json::from_slice::<Vec<Value>>(&show_packages(&root, &["--format", "json"]).stdout)
            .unwrap()
            .len()
            + 1;
    // Packages and the OS go to the vulnerability-detector instance: one session.
    assert!(
        sync.contains(&format!("sync: {docs} documents in 1 session(s)")),
        "{sync}"
    );
    assert!(sync.ends_with(", ok"), "{sync}");
    assert!(text.contains("delivered"), "{text}");
    // Not a terminal: no progress line.
    assert!(!o.stderr.contains(&b'\r'));
    // Everything lives in the per-user state directory, nothing in the working directory.
    let home = state.join("syscollector");
    for f in ["local.db", "syscollector_sync.db", "manager.db"] {
        assert!(home.join(f).exists(), "{f} not in {}", home.display());
    }
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);

    // The manager holds what was delivered.
    let store = home.join("manager.db");
    let o = tool(MANAGER, &["indices", "--db", store.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let indices = stdout(&o);
    assert!(indices.contains(&format!("wazuh-states-inventory-packages {}", docs - 1)));
    assert!(
        indices.contains("wazuh-states-inventory-system 1"),
        "{indices}"
    );
    let o = tool(
        MANAGER,
        &[
            "show",
            "--db",
            store.to_str().unwrap(),
            "--index",
            "wazuh-states-inventory-system",
            "--format",
            "csv",
            "--columns",
            "host.os.platform,host.os.name",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "host.os.platform,host.os.name\ndebian,Debian GNU/Linux\n"
    );

    // A second run finds nothing new.
    let o = run_once(&root, &state, &cwd, &[]);
    assert!(
        stdout(&o).contains("scan: 0 of 2 tables changed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn run_shows_progress_on_a_terminal() {
    // `script` gives the tool a terminal; a 100k-package tree makes the work long enough.
    if Command::new("script").arg("--version").output().is_err() {
        panic!("script(1) from util-linux is needed");
    }
    let dir = tempfile::tempdir().unwrap();
    let root = tree(dir.path(), &["debian12"]);
    let dpkg = root.join("var/lib/dpkg");
    std::fs::create_dir_all(&dpkg).unwrap();
    let mut s = String::new();
    for i in 0..100_000 {
        s.push_str(&format!(
            "Package: p{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}\n\n"
        ));
    }
    std::fs::write(dpkg.join("status"), s).unwrap();
    let cmd = format!(
        "{SYSCOLLECTOR} run --once --only packages --root {} --dir {}",
        root.display(),
        dir.path().join("state").display()
    );
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("\r\x1b[2Kscan: "),
        "a scan progress line: {text:?}"
    );
    assert!(text.contains("documents queued"), "a sync progress line");
    assert!(text.contains("sync: 100000 documents"), "{text}");
}

#[test]
fn manager_reading_commands_are_safe() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.db");
    for args in [
        &[
            "dump",
            "--db",
            typo.to_str().unwrap(),
            "--index",
            "wazuh-states-inventory-packages",
        ][..],
        &["indices", "--db", typo.to_str().unwrap()],
        &["ids", "--db", typo.to_str().unwrap()],
    ] {
        let o = tool(MANAGER, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("no store at"), "{}", stderr(&o));
        assert!(!typo.exists(), "{args:?} created a store");
    }

    // A store of this host's packages, large enough to outlast a pipe's buffer.
    let o = tool(
        SYSCOLLECTOR,
        &[
            "run",
            "--once",
            "--only",
            "os,packages",
            "--dir",
            dir.path().join("a").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let store = dir.path().join("a/manager.db");
    let o = tool(
        MANAGER,
        &["dump", "--db", store.to_str().unwrap(), "--index", "nope"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown index 'nope'"));
    assert!(
        stderr(&o).contains("wazuh-states-inventory-packages"),
        "{}",
        stderr(&o)
    );

    // `dump | head -1`: the reader goes away, the manager ends quietly with success.
    for cmd in ["dump", "show"] {
        let mut child = Command::new(MANAGER)
            .args([
                cmd,
                "--db",
                store.to_str().unwrap(),
                "--index",
                "wazuh-states-inventory-packages",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 64];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}

#[test]
fn the_library_does_not_link_the_command_line_crates() {
    let lib = Path::new(SYSCOLLECTOR)
        .parent()
        .unwrap()
        .join("libsyscollector.so");
    let bytes = std::fs::read(&lib).expect("libsyscollector.so next to the tools");
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"syscollector_start"), "the check reads the library");
    for krate in [
        &b"clap_builder"[..],
        b"clap_lex",
        b"comfy_table",
        b"packageurl",
    ] {
        assert!(
            !has(krate),
            "{} is in the library",
            String::from_utf8_lossy(krate)
        );
    }
    let tool_bytes = std::fs::read(SYSCOLLECTOR).unwrap();
    assert!(
        tool_bytes.windows(12).any(|w| w == b"clap_builder"),
        "but in the tool"
    );
}
