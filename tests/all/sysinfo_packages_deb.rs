//! The packages collector on a Debian tree (`tests/fixtures/pkg-debian`: 30 stanzas of a
//! real Debian 12 dpkg status plus packages that dpkg itself left held, removed with
//! config files, unpacked only and without Installed-Size; real dist-info / egg-info
//! metadata; global npm packages installed by npm into the tree), checked against
//! `dpkg-query`, `pip list --path` and `npm ls -g` on the same tree, then on this machine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::helpers::{capture_logger, fixture};
use serde_json::Value;
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Logger, Row};

fn rows_of(root: &Path, log: Logger) -> Vec<Row> {
    let mut rows = Vec::new();
    LinuxSysInfo::with_root(root, log)
        .packages(&mut |r| rows.push(r))
        .unwrap();
    rows
}

fn s<'a>(row: &'a Row, key: &str) -> &'a str {
    row[key].as_str().unwrap()
}

fn of_type<'a>(rows: &'a [Row], ty: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r["type"] == ty).collect()
}

/// (package, version, architecture) → row of dpkg-query for the packages whose status
/// says "ok installed", with the fields the row takes from it.
fn dpkg_query(admindir: &Path) -> BTreeMap<(String, String, String), Vec<String>> {
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args([
            "-W",
            "-f",
            "${Package}\\t${Version}\\t${Architecture}\\t${Status}\\t${Installed-Size}\\t\
             ${Maintainer}\\t${Section}\\t${Priority}\\t${Multi-Arch}\\t${Source}\\t${binary:Summary}\\n",
        ])
        .output()
        .expect("dpkg-query runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[3].contains("ok installed"))
        .map(|f| ((f[0].clone(), f[1].clone(), f[2].clone()), f[4..].to_vec()))
        .collect()
}

fn unknown_if_empty(s: &str) -> &str {
    if s.is_empty() {
        " "
    } else {
        s
    }
}

fn check_against_dpkg_query(rows: &[Row], admindir: &Path) {
    let expected = dpkg_query(admindir);
    let deb = of_type(rows, "deb");
    let mut got = BTreeMap::new();
    for r in &deb {
        let key = (
            s(r, "name").to_string(),
            s(r, "version_").to_string(),
            s(r, "architecture").to_string(),
        );
        assert!(got.insert(key, *r).is_none(), "duplicate row {r:?}");
    }
    assert_eq!(
        got.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>(),
        "deb rows differ from dpkg-query"
    );
    for (key, f) in &expected {
        let r = got[key];
        let size: i64 = f[0].parse().map(|k: i64| k * 1024).unwrap_or(0);
        assert_eq!(r["size"], size, "{key:?}");
        assert_eq!(s(r, "vendor"), unknown_if_empty(&f[1]), "{key:?}");
        assert_eq!(s(r, "category"), unknown_if_empty(&f[2]), "{key:?}");
        assert_eq!(s(r, "priority"), unknown_if_empty(&f[3]), "{key:?}");
        // dpkg-query prints "no" for an absent Multi-Arch; the agent has "".
        let multiarch = if f[4] == "no" && s(r, "multiarch").is_empty() {
            ""
        } else {
            &f[4]
        };
        assert_eq!(s(r, "multiarch"), multiarch, "{key:?}");
        // dpkg-query reports the package name as the source of a package without one;
        // the agent reports what the status file says.
        if s(r, "source") != " " {
            assert!(f[5].starts_with(s(r, "source")), "{key:?}");
        }
        assert_eq!(s(r, "description"), unknown_if_empty(&f[6]), "{key:?}");
        assert_eq!(r["path"], " ");
        assert_eq!(r["installed"], " ");
        assert_eq!(r.len(), 13, "{key:?}");
    }
}

#[test]
fn dpkg_rows_equal_dpkg_query_on_the_fixture() {
    let root = fixture("pkg-debian");
    let rows = rows_of(&root, null_logger());
    check_against_dpkg_query(&rows, &root.join("var/lib/dpkg"));
    let deb = of_type(&rows, "deb");
    // 30 real packages + held + no size; not the config-files and unpacked ones.
    assert_eq!(deb.len(), 32);
    let by_name: BTreeMap<&str, &Row> = deb.iter().map(|r| (s(r, "name"), *r)).collect();
    assert!(!by_name.contains_key("fx-removed"));
    assert!(!by_name.contains_key("fx-unpacked"));
    assert_eq!(by_name["fx-nosize"]["size"], 0);
    assert_eq!(by_name["fx-held"]["description"], "fixture package fx-held");
    assert_eq!(by_name["fx-held"]["multiarch"], "foreign");
    assert_eq!(by_name["zlib1g"]["version_"], "1:1.2.13.dfsg-1");
    assert_eq!(by_name["python3-yaml"]["source"], "pyyaml (6.0-3)");
    assert_eq!(by_name["adduser"]["source"], " ");
    assert_eq!(by_name["adduser"]["multiarch"], "foreign");
}

/// The Python rows of a site directory (host path) of a tree: name → version.
fn pypi_in(rows: &[Row], dir: &str) -> BTreeMap<String, String> {
    of_type(rows, "pypi")
        .into_iter()
        .filter(|r| {
            let rest = s(r, "path").strip_prefix(dir).unwrap_or("");
            rest.starts_with('/') && rest[1..].split('/').count() <= 2
        })
        .map(|r| (s(r, "name").to_string(), s(r, "version_").to_string()))
        .collect()
}

/// `pip list --path dir` as name → version.
fn pip_list(dir: &Path) -> BTreeMap<String, String> {
    let out = Command::new("python3")
        .args([
            "-m",
            "pip",
            "list",
            "--disable-pip-version-check",
            "--format=json",
            "--path",
        ])
        .arg(dir)
        .output()
        .expect("python3 -m pip runs");
    assert!(
        out.status.success(),
        "pip list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Compares names case- and separator-insensitively, as pip normalizes them.
fn normalized(m: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    m.iter()
        .map(|(k, v)| (k.to_lowercase().replace(['_', '.'], "-"), v.clone()))
        .collect()
}

#[test]
fn python_rows_equal_pip_list_on_the_fixture() {
    let root = fixture("pkg-debian");
    let rows = rows_of(&root, null_logger());
    let dirs = [
        "/usr/lib/python3/dist-packages",
        "/usr/local/lib/python3.11/dist-packages",
        "/home/alice/.local/lib/python3.11/site-packages",
        "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages",
    ];
    for dir in dirs {
        let mut expected = pip_list(&root.join(&dir[1..]));
        if dir == "/usr/local/lib/python3.11/dist-packages" {
            // pip list hides "wsgiref" (with "python" and "argparse": its list of standard
            // library names); the agent reports the egg-info file.
            expected.insert("wsgiref".into(), "0.1.2".into());
        }
        if dir == "/usr/lib/python3/dist-packages" {
            // dpkg owns these (var/lib/dpkg/info/python3-{yaml,six}.list): not Python rows.
            // yq and perf are owned by packages whose names do not start with "python",
            // so the agent reports them.
            assert!(expected.remove("PyYAML").is_some());
            assert!(expected.remove("six").is_some());
        }
        assert_eq!(
            normalized(&pypi_in(&rows, dir)),
            normalized(&expected),
            "{dir}"
        );
    }
    let pypi = of_type(&rows, "pypi");
    assert_eq!(pypi.len(), 7, "{pypi:#?}");
    let yq = pypi.iter().find(|r| r["name"] == "yq").unwrap();
    assert_eq!(
        yq["path"],
        "/usr/lib/python3/dist-packages/yq-3.1.0.egg-info/PKG-INFO"
    );
    assert_eq!(yq["vendor"], "Andrey Kislyuk");
    assert_eq!(yq["source"], "https://github.com/kislyuk/yq");
    assert_eq!(
        yq["description"],
        "Command-line YAML/XML processor - jq wrapper for YAML/XML documents"
    );
    let wsgiref = pypi.iter().find(|r| r["name"] == "wsgiref").unwrap();
    assert_eq!(
        wsgiref["path"],
        "/usr/local/lib/python3.11/dist-packages/wsgiref-0.1.2-py2.7.egg-info"
    );
    assert_eq!(wsgiref["version_"], "0.1.2");
    let idna = pypi.iter().find(|r| r["name"] == "idna").unwrap();
    // idna's METADATA has no Home-page line.
    assert_eq!(idna["source"], " ");
    assert_eq!(idna["size"], 0);
    assert!(!idna.contains_key("multiarch"));
}

#[test]
fn npm_rows_equal_npm_ls_on_the_fixture() {
    let root = fixture("pkg-debian");
    let rows = rows_of(&root, null_logger());
    let npm = of_type(&rows, "npm");
    let prefix = root.join("usr/local");
    let out = Command::new("npm")
        .args(["ls", "-g", "--depth=0", "--json", "--prefix"])
        .arg(&prefix)
        .output()
        .expect("npm runs");
    let ls: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut expected: BTreeMap<String, String> = ls["dependencies"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["version"].as_str().unwrap().to_string()))
        .collect();
    // The agent reads one level of node_modules: a scope directory is not a package.
    assert!(expected.remove("@fixture/scoped").is_some());
    let got: BTreeMap<String, String> = npm
        .iter()
        .filter(|r| s(r, "path").starts_with("/usr/local/lib/node_modules/"))
        .map(|r| (s(r, "name").to_string(), s(r, "version_").to_string()))
        .collect();
    assert_eq!(got, expected);
    let hello = npm.iter().find(|r| r["name"] == "hello-fixture").unwrap();
    assert_eq!(
        hello["path"],
        "/usr/local/lib/node_modules/hello-fixture/package.json"
    );
    assert_eq!(hello["source"], "https://example.invalid/hello");
    assert_eq!(hello["description"], "A global npm fixture package");
    // /usr/lib/node_modules: npm and corepack; "broken" is not JSON, "not-a-package" has
    // no package.json.
    let usr_lib: BTreeSet<&str> = npm
        .iter()
        .filter(|r| s(r, "path").starts_with("/usr/lib/node_modules/"))
        .map(|r| s(r, "name"))
        .collect();
    assert_eq!(usr_lib, BTreeSet::from(["corepack", "npm"]));
}

#[test]
fn damaged_dpkg_entries_are_skipped_alone() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("var/lib/dpkg");
    std::fs::create_dir_all(&admin).unwrap();
    let real = std::fs::read(fixture("pkg-debian/var/lib/dpkg/status")).unwrap();
    let mut text = b"Package: no-status\nVersion: 1\n\n\
        Status: install ok installed\nVersion: 2\nDescription: no package name\n\n\
        Package: bad-size\nStatus: install ok installed\nInstalled-Size: many\n\n\
        Package: latin1\nStatus: install ok installed\nMaintainer: J\xe9r\xf4me\n\n"
        .to_vec();
    text.extend_from_slice(&real);
    // The last stanza cut in the middle of its description.
    text.extend_from_slice(
        b"\nPackage: truncated\nStatus: install ok installed\nVersion: 9\nDescr",
    );
    std::fs::write(admin.join("status"), &text).unwrap();
    let (log, lines) = capture_logger();
    let rows = rows_of(dir.path(), log);
    let names: BTreeSet<&str> = of_type(&rows, "deb").iter().map(|r| s(r, "name")).collect();
    assert_eq!(names.len(), 32 + 2, "{names:?}");
    assert!(names.contains("latin1") && names.contains("truncated"));
    assert!(!names.contains("bad-size") && !names.contains("no-status"));
    let latin1 = rows.iter().find(|r| r["name"] == "latin1").unwrap();
    assert_eq!(latin1["vendor"], "J\u{fffd}r\u{fffd}me");
    let lines = lines.lock().unwrap();
    assert!(lines.iter().any(|l| l.contains("bad-size")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("without Status")),
        "{lines:?}"
    );
}

#[test]
fn unreadable_status_fails_the_collection() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("var/lib/dpkg");
    // A directory where the file should be: reading it is an I/O error, not "absent".
    std::fs::create_dir_all(admin.join("status")).unwrap();
    let err = LinuxSysInfo::with_root(dir.path(), null_logger())
        .packages(&mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("status"), "{err}");
}

/// This machine: every package dpkg-query lists as installed, with the same values.
#[test]
fn dpkg_rows_equal_dpkg_query_on_this_machine() {
    let rows = rows_of(Path::new("/"), null_logger());
    check_against_dpkg_query(&rows, Path::new("/var/lib/dpkg"));
}

/// This machine: the Python rows of every directory the agent scans are pip's list of
/// that directory, less the distributions dpkg installed (`dpkg -S` names their owner).
#[test]
fn python_rows_equal_pip_list_on_this_machine() {
    let p = LinuxSysInfo::new(null_logger());
    let rows = rows_of(Path::new("/"), null_logger());
    let mut dirs = Vec::new();
    for pattern in syscollector::sysinfo::packages::python::BASE_DIRS {
        for d in syscollector::sysinfo::packages::expand(&p, pattern) {
            if Path::new(&d).is_dir() {
                dirs.push(d);
            }
        }
    }
    for dir in dirs {
        let mut expected = pip_list(Path::new(&dir));
        let owned: Vec<String> = expected
            .keys()
            .filter(|name| {
                // Find the metadata entry pip read and ask dpkg who owns it.
                let entries = std::fs::read_dir(&dir).unwrap();
                entries.flatten().any(|e| {
                    let f = e.file_name().to_string_lossy().into_owned();
                    let stem = f.split('-').next().unwrap_or("").to_lowercase();
                    (f.ends_with(".dist-info") || f.ends_with(".egg-info"))
                        && stem.replace(['_', '.'], "-")
                            == name.to_lowercase().replace(['_', '.'], "-")
                        && dpkg_owner(&e.path()).is_some_and(|o| o.starts_with("python"))
                })
            })
            .cloned()
            .collect();
        for name in owned {
            expected.remove(&name);
        }
        assert_eq!(
            normalized(&pypi_in(&rows, &dir)),
            normalized(&expected),
            "{dir}"
        );
    }
}

/// The dpkg package owning `path`, if any.
fn dpkg_owner(path: &Path) -> Option<String> {
    let out = Command::new("dpkg").arg("-S").arg(path).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.split(':').next()?.trim().to_string())
}

/// This machine: npm's global packages (one level, no scopes) are the npm rows below
/// npm's global prefix.
#[test]
fn npm_rows_equal_npm_ls_on_this_machine() {
    let prefix = Command::new("npm").args(["prefix", "-g"]).output().unwrap();
    let prefix = String::from_utf8_lossy(&prefix.stdout).trim().to_string();
    let out = Command::new("npm")
        .args(["ls", "-g", "--depth=0", "--json"])
        .output()
        .unwrap();
    let ls: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: BTreeMap<String, String> = ls["dependencies"]
        .as_object()
        .map(|deps| {
            deps.iter()
                .filter(|(k, _)| !k.starts_with('@'))
                .map(|(k, v)| (k.clone(), v["version"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let rows = rows_of(Path::new("/"), null_logger());
    let modules = format!("{prefix}/lib/node_modules/");
    let got: BTreeMap<String, String> = of_type(&rows, "npm")
        .iter()
        .filter(|r| s(r, "path").starts_with(&modules))
        .map(|r| (s(r, "name").to_string(), s(r, "version_").to_string()))
        .collect();
    assert_eq!(got, expected);
}
