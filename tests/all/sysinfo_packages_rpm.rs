//! The rpm readers on real databases made here with Debian's rpm 4.18 (three tiny
//! packages built by rpmbuild from `tests/fixtures/pkg-rpm-sqlite/SOURCE/*.spec`,
//! installed with `rpm -i --justdb`, plus an imported gpg key): the SQLite rpmdb as rpm
//! wrote it (page size lowered and vacuumed by sqlite3 to keep it small), and the same
//! headers in Berkeley DB hash files written by db5.3_load (little-endian with 4 KiB pages,
//! so every header is on overflow pages, and big-endian with 16 KiB pages, so headers are
//! on the hash pages), which rpm's own `bdb_ro` backend reads. Debian's rpm cannot write a
//! Berkeley database any more; `db5.3_load` writes the same file format rpm < 4.16 used.
//! Rows are compared with `rpm -qa` on the same files.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::helpers::{capture_logger, fixture};
use syscollector::sysinfo::packages::rpm_bdb::HashDb;
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Logger, Row};

/// A private copy of a fixture tree (SQLite creates its -shm/-wal files next to the
/// database even for reading).
fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture(name).display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

fn rows_of(root: &Path, log: Logger) -> Vec<Row> {
    let mut rows = Vec::new();
    LinuxSysInfo::with_root(root, log)
        .packages(&mut |r| rows.push(r))
        .unwrap();
    rows
}

fn by_name(rows: &[Row], ty: &str) -> BTreeMap<String, Row> {
    rows.iter()
        .filter(|r| r["type"] == ty)
        .map(|r| (r["name"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn iso(secs: &str) -> String {
    let secs: u64 = secs.parse().unwrap();
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

/// `rpm -qa` on the database below `root`, one field list per package.
fn rpm_qa(root: &Path, backend: &str) -> BTreeMap<String, Vec<String>> {
    let out = Command::new("rpm")
        .arg("--dbpath")
        .arg(root.join("var/lib/rpm"))
        .args(["--define", &format!("_db_backend {backend}")])
        .args([
            "-qa",
            "--qf",
            "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SIZE}\\t%{INSTALLTIME}\\t\
             %{VENDOR}\\t%{GROUP}\\t%{SUMMARY}\\t%{DESCRIPTION}@@END@@\\n",
        ])
        .output()
        .expect("rpm runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split("@@END@@\n")
        .filter(|r| !r.is_empty())
        .map(|r| {
            let f: Vec<String> = r.split('\t').map(str::to_string).collect();
            (f[0].clone(), f)
        })
        .filter(|(name, _)| name != "gpg-pubkey")
        .collect()
}

fn none_to(s: &str, default: &str) -> String {
    if s == "(none)" {
        default.to_string()
    } else {
        s.to_string()
    }
}

#[test]
fn sqlite_rows_equal_rpm_qa() {
    let dir = copy("pkg-rpm-sqlite");
    let rows = rows_of(dir.path(), null_logger());
    let got = by_name(&rows, "rpm");
    let expected = rpm_qa(dir.path(), "sqlite");
    assert_eq!(got.len(), 3);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, f) in &expected {
        let r = &got[name];
        // librpm's view: a zero or absent epoch is left out.
        let epoch = none_to(&f[1], "0");
        let mut version = f[2].clone();
        if epoch != "0" {
            version = format!("{epoch}:{version}");
        }
        version = format!("{version}-{}", f[3]);
        assert_eq!(r["version_"], version, "{name}");
        assert_eq!(r["architecture"], f[4], "{name}");
        assert_eq!(r["size"], f[5].parse::<u64>().unwrap(), "{name}");
        assert_eq!(r["installed"], iso(&f[6]), "{name}");
        assert_eq!(r["vendor"], none_to(&f[7], " "), "{name}");
        assert_eq!(r["category"], f[8], "{name}");
        assert_eq!(r["description"], f[10], "{name}");
        assert_eq!(r["path"], " ");
        assert_eq!(r["source"], " ");
        assert_eq!(r["priority"], " ");
        assert!(!r.contains_key("multiarch"));
    }
    assert_eq!(got["hello-wazuh"]["version_"], "1:2.10-3.fc40");
    assert_eq!(got["python3-demo"]["version_"], "1.0-7.el9");
    assert_eq!(got["noepoch"]["category"], "Unspecified");
}

fn check_bdb(name: &str) {
    let dir = copy(name);
    let rows = rows_of(dir.path(), null_logger());
    let got = by_name(&rows, "rpm");
    let expected = rpm_qa(dir.path(), "bdb_ro");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, f) in &expected {
        let r = &got[name];
        // The agent's Berkeley reader: an epoch tag, even 0, is printed; the summary is
        // the description.
        let mut version = f[2].clone();
        if f[1] != "(none)" {
            version = format!("{}:{version}", f[1]);
        }
        version = format!("{version}-{}", f[3]);
        assert_eq!(r["version_"], version, "{name}");
        assert_eq!(r["architecture"], f[4], "{name}");
        assert_eq!(r["size"], f[5].parse::<i64>().unwrap(), "{name}");
        assert_eq!(r["installed"], iso(&f[6]), "{name}");
        assert_eq!(r["vendor"], none_to(&f[7], " "), "{name}");
        assert_eq!(r["category"], f[8], "{name}");
        assert_eq!(r["description"], f[9], "{name}");
    }
    assert_eq!(got["python3-demo"]["version_"], "0:1.0-7.el9");
}

#[test]
fn berkeley_little_endian_overflow_pages_equal_rpm_qa() {
    check_bdb("pkg-rpm-bdb");
}

#[test]
fn berkeley_big_endian_on_page_items_equal_rpm_qa() {
    check_bdb("pkg-rpm-bdb-be");
}

#[test]
fn python_files_of_rpm_packages_are_not_python_rows() {
    for name in ["pkg-rpm-sqlite", "pkg-rpm-bdb"] {
        let dir = copy(name);
        let rows = rows_of(dir.path(), null_logger());
        let pypi = by_name(&rows, "pypi");
        // demo and legacy belong to python3-demo; six was installed by pip.
        assert_eq!(pypi.keys().collect::<Vec<_>>(), ["six"], "{name}");
        assert_eq!(
            pypi["six"]["path"],
            "/usr/lib/python3.9/site-packages/six-1.16.0.dist-info/METADATA"
        );
    }
}

#[test]
fn a_truncated_header_drops_that_package_only() {
    let dir = copy("pkg-rpm-sqlite");
    let db = dir.path().join("var/lib/rpm/rpmdb.sqlite");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let hnum: i64 = conn
            .query_row(
                "SELECT hnum FROM Packages WHERE instr(blob, 'hello-wazuh') > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute(
            "UPDATE Packages SET blob = substr(blob, 1, 200) WHERE hnum = ?1",
            [hnum],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO Packages(blob) VALUES (x'00'), (x'FFFFFFFF00000001'), (x'0000000100000000')",
            [],
        )
        .unwrap();
    }
    let (log, lines) = capture_logger();
    let rows = rows_of(dir.path(), log);
    let got = by_name(&rows, "rpm");
    assert_eq!(got.keys().collect::<Vec<_>>(), ["noepoch", "python3-demo"]);
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("skipping header"))
            .count()
            >= 4,
        "{lines:?}"
    );
}

#[test]
fn damaged_berkeley_pages_drop_records_not_the_database() {
    let dir = copy("pkg-rpm-bdb");
    let path = dir.path().join("var/lib/rpm/Packages");
    let mut bytes = std::fs::read(&path).unwrap();
    let page_size = 4096;
    // Break one overflow page (its type byte): the record it carries is lost.
    let overflow = (1..bytes.len() / page_size)
        .find(|p| bytes[p * page_size + 25] == 7)
        .unwrap();
    bytes[overflow * page_size + 25] = 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let (log, lines) = capture_logger();
    let rows = rows_of(dir.path(), log);
    assert_eq!(by_name(&rows, "rpm").len(), 2, "{rows:#?}");
    assert!(lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("not an overflow page")));
}

#[test]
fn garbage_berkeley_files_never_panic() {
    let good = std::fs::read(fixture("pkg-rpm-bdb-be/var/lib/rpm/Packages")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Packages");
    // Deterministic mutations: every 97th byte of every page set to a few values, and
    // truncations.
    let mut seed = 0x2545_f491_u64;
    for round in 0..200 {
        let mut b = good.clone();
        for _ in 0..(1 + round % 20) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % b.len();
            b[at] = (seed >> 32) as u8;
        }
        if round % 5 == 0 {
            b.truncate((seed as usize) % good.len());
        }
        std::fs::write(&path, &b).unwrap();
        if let Ok(db) = HashDb::open(&path) {
            let _ = db.for_each(
                &mut |_, data| {
                    let _ = syscollector::sysinfo::packages::rpm::legacy_package_row(data);
                },
                &mut |_| {},
            );
        }
    }
}

#[test]
fn a_file_that_is_no_database_fails_the_collection() {
    for name in ["pkg-rpm-bdb", "pkg-rpm-sqlite"] {
        let dir = copy(name);
        let db = if name == "pkg-rpm-bdb" {
            dir.path().join("var/lib/rpm/Packages")
        } else {
            for extra in ["-shm", "-wal"] {
                let _ = std::fs::remove_file(
                    dir.path().join(format!("var/lib/rpm/rpmdb.sqlite{extra}")),
                );
            }
            dir.path().join("var/lib/rpm/rpmdb.sqlite")
        };
        std::fs::write(&db, vec![0x42u8; 10_000]).unwrap();
        let result = LinuxSysInfo::with_root(dir.path(), null_logger()).packages(&mut |_| {});
        assert!(result.is_err(), "{name}");
    }
}

/// Berkeley DB pages with checksums (a database flag rpm never sets, but db_load can): the
/// item index starts after the checksum area. Made with db5.3_dump / db5.3_load.
#[test]
fn berkeley_pages_with_checksums() {
    let dir = copy("pkg-rpm-bdb");
    let packages = dir.path().join("var/lib/rpm/Packages");
    let dump = Command::new("db5.3_dump")
        .arg(&packages)
        .output()
        .expect("db5.3_dump runs");
    assert!(dump.status.success());
    let text =
        String::from_utf8(dump.stdout)
            .unwrap()
            .replacen("HEADER=END", "chksum=1\nHEADER=END", 1);
    let input = dir.path().join("dump.txt");
    std::fs::write(&input, text).unwrap();
    std::fs::remove_file(&packages).unwrap();
    let status = Command::new("db5.3_load")
        .arg("-f")
        .arg(&input)
        .arg(&packages)
        .status()
        .expect("db5.3_load runs");
    assert!(status.success());
    let rows = rows_of(dir.path(), null_logger());
    assert_eq!(
        by_name(&rows, "rpm").keys().collect::<Vec<_>>(),
        ["hello-wazuh", "noepoch", "python3-demo"]
    );
}
