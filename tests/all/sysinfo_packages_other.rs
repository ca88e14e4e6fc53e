//! pacman, apk and snap rows, and the rescan cache.
//!
//! - `pkg-pacman`: a local database written by Debian's pacman 6.0.2 (`pacman -U --root`)
//!   from two packages built by makepkg (`PKGBUILD.*` beside it); compared with `pacman -Q`.
//! - `pkg-alpine`: a real Alpine 3.19 `lib/apk/db/installed` (four packages, as captured in
//!   anchore/syft's test data; Debian 12 has no apk).
//! - `pkg-snap/v2-snaps.json`: a real snapd `GET /v2/snaps` answer (from Canonical's
//!   operator-libs-linux tests), served here on a Unix socket at `<root>/run/snapd.socket`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;

use crate::helpers::fixture;
use syscollector::sysinfo::packages::{self, PackageCache};
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

fn rows_of(root: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    LinuxSysInfo::with_root(root, null_logger())
        .packages(&mut |r| rows.push(r))
        .unwrap();
    rows
}

fn by_name(rows: &[Row]) -> BTreeMap<String, Row> {
    rows.iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn pacman_rows_equal_pacman_q() {
    let root = fixture("pkg-pacman");
    let rows = by_name(&rows_of(&root));
    let conf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(conf.path(), "[options]\nArchitecture = auto\n").unwrap();
    let out = Command::new("pacman")
        .args(["-Q", "--root"])
        .arg(&root)
        .arg("--dbpath")
        .arg(root.join("var/lib/pacman"))
        .arg("--config")
        .arg(conf.path())
        .output()
        .expect("pacman runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let got: BTreeMap<String, String> = rows
        .iter()
        .map(|(n, r)| (n.clone(), r["version_"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(got, expected);
    let w = &rows["wazuh-fixture"];
    assert_eq!(w["type"], "pacman");
    assert_eq!(w["version_"], "1:1.2.3-2");
    assert_eq!(w["category"], "base-devel-fixtures");
    assert_eq!(w["size"], 6);
    assert_eq!(w["architecture"], "x86_64");
    assert_eq!(w["vendor"], "Arch Linux");
    assert_eq!(w["installed"], "2026-11-26T04:22:38.000Z");
    assert_eq!(w["description"], "Tiny package for the pacman fixture");
    let t = &rows["tiny-any"];
    assert_eq!(t["category"], " ");
    assert_eq!(t["architecture"], "any");
    assert!(!t.contains_key("multiarch"));
}

#[test]
fn alpine_rows() {
    let rows = by_name(&rows_of(&fixture("pkg-alpine")));
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        ["bash", "busybox-binsh", "musl", "readline"]
    );
    let musl = &rows["musl"];
    assert_eq!(musl["version_"], "1.2.4_git20230717-r4");
    assert_eq!(musl["architecture"], "x86_64");
    assert_eq!(musl["size"], 667648);
    assert_eq!(
        musl["description"],
        "the musl c library (libc) implementation"
    );
    assert_eq!(musl["vendor"], "Alpine Linux");
    assert_eq!(musl["type"], "apk");
    assert_eq!(musl["installed"], " ");
    assert_eq!(musl.len(), 12);
}

/// Serves `body` as snapd would, once per connection, until the test ends.
fn fake_snapd(socket: &Path, status: &'static str, body: Vec<u8>) {
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut req = [0u8; 1024];
            let n = conn.read(&mut req).unwrap_or(0);
            assert!(String::from_utf8_lossy(&req[..n]).starts_with("GET /v2/snaps HTTP/1.0\r\n"));
            let _ = write!(
                conn,
                "HTTP/1.0 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
}

#[test]
fn snap_rows_from_snapd() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/snapd")).unwrap();
    let body = std::fs::read(fixture("pkg-snap/v2-snaps.json")).unwrap();
    fake_snapd(&dir.path().join("run/snapd.socket"), "200 OK", body);
    let rows = by_name(&rows_of(dir.path()));
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["charmcraft", "core"]);
    let c = &rows["charmcraft"];
    assert_eq!(c["version_"], "1.2.1");
    assert_eq!(c["vendor"], "Canonical");
    assert_eq!(c["installed"], "2021-08-20T00:10:20.000Z");
    assert_eq!(c["size"], 55361536);
    assert_eq!(c["description"], "The charming tool");
    assert_eq!(c["path"], "/snap/charmcraft");
    assert_eq!(c["source"], "snapcraft");
    assert_eq!(c["type"], "snap");
    assert_eq!(c["multiarch"], " ");
    assert_eq!(c.len(), 13);
}

#[test]
fn snapd_errors_mean_no_snap_rows() {
    // No socket at all, then an error status, then garbage.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/snapd")).unwrap();
    assert!(rows_of(dir.path()).is_empty());
    fake_snapd(
        &dir.path().join("run/snapd.socket"),
        "500 Internal Server Error",
        b"{}".to_vec(),
    );
    assert!(rows_of(dir.path()).is_empty());
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir2.path().join("var/lib/snapd")).unwrap();
    fake_snapd(
        &dir2.path().join("run/snapd.socket"),
        "200 OK",
        b"{\"result\": 3".to_vec(),
    );
    assert!(rows_of(dir2.path()).is_empty());
}

fn cached_rows(p: &LinuxSysInfo, cache: &PackageCache) -> Vec<Row> {
    let mut rows = Vec::new();
    packages::collect_cached(p, cache, &mut |r| rows.push(r)).unwrap();
    rows
}

#[test]
fn rescans_replay_unchanged_sources_and_see_changes() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture("pkg-debian").display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    // Files changed within the last 2 s are not cached (a change in the same timestamp
    // tick could go unseen).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let p = LinuxSysInfo::with_root(dir.path(), null_logger());
    let cache = PackageCache::new();
    let uncached = rows_of(dir.path());
    let first = cached_rows(&p, &cache);
    assert_eq!(first, uncached);
    let (hits, misses) = cache.stats();
    assert_eq!(hits, 0);
    assert!(misses > 0);
    let second = cached_rows(&p, &cache);
    assert_eq!(second, first);
    let (hits2, misses2) = cache.stats();
    assert_eq!(misses2, misses, "nothing read again");
    assert!(hits2 > 0);

    // A new package in the status file, a new Python distribution, a removed npm package.
    let status_path = dir.path().join("var/lib/dpkg/status");
    let mut text = std::fs::read(&status_path).unwrap();
    text.extend_from_slice(b"\nPackage: newcomer\nStatus: install ok installed\nVersion: 1\n");
    std::fs::write(&status_path, text).unwrap();
    let site = dir
        .path()
        .join("usr/local/lib/python3.11/dist-packages/newpy-2.0.dist-info");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("METADATA"), "Name: newpy\nVersion: 2.0\n").unwrap();
    std::fs::remove_dir_all(dir.path().join("usr/local/lib/node_modules/hello-fixture")).unwrap();
    let third = cached_rows(&p, &cache);
    assert_eq!(third, rows_of(dir.path()));
    let names: Vec<&str> = third.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"newcomer") && names.contains(&"newpy"));
    assert!(!names.contains(&"hello-fixture"));
    assert_eq!(third.len(), first.len() + 1);
}
