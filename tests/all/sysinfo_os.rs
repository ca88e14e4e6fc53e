//! The `dbsync_osinfo` collector on fixture trees of many distributions, on malformed
//! release files, and on this machine.

use std::path::Path;
use std::process::Command;

use crate::helpers::{capture_logger, fixture};
use serde_json::{json, Value};
use syscollector::sysinfo::os::{parse_release, ReleaseFile};
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

fn os_row(root: &Path) -> Row {
    LinuxSysInfo::with_root(root, null_logger()).os().unwrap()
}

fn uname(flag: &str) -> String {
    let out = Command::new("uname").arg(flag).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// The kernel part of a row as `uname` reports it for this machine.
fn host_kernel() -> Vec<(&'static str, String)> {
    vec![
        ("os_kernel_name", uname("-s")),
        ("hostname", uname("-n")),
        ("os_kernel_release", uname("-r")),
        ("os_kernel_version", uname("-v")),
        ("architecture", uname("-m")),
    ]
}

/// A full expected row: the given distribution fields, the kernel fields (this host's
/// unless overridden) and `os_type`.
fn expected(distribution: &[(&str, &str)], kernel_overrides: &[(&str, &str)]) -> Row {
    let mut row = Row::new();
    for (key, value) in distribution {
        row.insert(key.to_string(), json!(value));
    }
    for (key, value) in host_kernel() {
        row.insert(key.to_string(), json!(value));
    }
    for (key, value) in kernel_overrides {
        row.insert(key.to_string(), json!(value));
    }
    row.insert("os_type".into(), json!("linux"));
    row
}

fn write(root: &Path, file: &str, content: impl AsRef<[u8]>) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn debian12_with_its_own_kernel_files() {
    assert_eq!(
        os_row(&fixture("debian12")),
        expected(
            &[
                ("os_name", "Debian GNU/Linux"),
                ("os_version", "12 (bookworm)"),
                ("os_major", "12"),
                ("os_platform", "debian"),
                ("os_codename", "bookworm"),
            ],
            &[
                ("os_kernel_name", "Linux"),
                ("hostname", "vm"),
                ("os_kernel_release", "6.18.44-fc-v669"),
                ("os_kernel_version", "#1 SMP PREEMPT_DYNAMIC @0"),
                ("architecture", "x86_64"),
            ],
        )
    );
}

#[test]
fn ubuntu2204() {
    assert_eq!(
        os_row(&fixture("ubuntu2204")),
        expected(
            &[
                ("os_name", "Ubuntu"),
                ("os_version", "22.04.4 LTS (Jammy Jellyfish)"),
                ("os_major", "22"),
                ("os_minor", "04"),
                ("os_patch", "4"),
                ("os_platform", "ubuntu"),
                ("os_codename", "jammy"),
            ],
            &[],
        )
    );
}

#[test]
fn fedora40_from_usr_lib_with_some_kernel_files() {
    // Only /usr/lib/os-release; VERSION_CODENAME="" gives an empty codename; the tree has
    // ostype and osrelease but no hostname, version or arch files (those come from uname).
    assert_eq!(
        os_row(&fixture("fedora40")),
        expected(
            &[
                ("os_name", "Fedora Linux"),
                ("os_version", "40 (Workstation Edition)"),
                ("os_major", "40"),
                ("os_platform", "fedora"),
                ("os_codename", ""),
            ],
            &[
                ("os_kernel_name", "Linux"),
                ("os_kernel_release", "6.8.5-301.fc40.x86_64"),
            ],
        )
    );
}

#[test]
fn centos7_refined_by_centos_release() {
    assert_eq!(
        os_row(&fixture("centos7")),
        expected(
            &[
                ("os_name", "CentOS Linux"),
                ("os_version", "7.9.2009"),
                ("os_major", "7"),
                ("os_minor", "9"),
                ("os_patch", "2009"),
                ("os_platform", "centos"),
                ("os_codename", "Core"),
            ],
            &[],
        )
    );
}

#[test]
fn alpine319() {
    assert_eq!(
        os_row(&fixture("alpine319")),
        expected(
            &[
                ("os_name", "Alpine Linux"),
                ("os_version", "3.19.1"),
                ("os_major", "3"),
                ("os_minor", "19"),
                ("os_patch", "1"),
                ("os_platform", "alpine"),
            ],
            &[],
        )
    );
}

#[test]
fn arch_has_a_build_and_no_version() {
    // No VERSION in Arch's os-release: the primary-key column gets the unknown marker.
    assert_eq!(
        os_row(&fixture("arch")),
        expected(
            &[
                ("os_name", "Arch Linux"),
                ("os_version", " "),
                ("os_platform", "arch"),
                ("os_build", "rolling"),
            ],
            &[],
        )
    );
}

#[test]
fn legacy_release_files() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "legacy-rhel6",
            &[
                ("os_name", "Red Hat Enterprise Linux Server"),
                ("os_version", "6.10"),
                ("os_major", "6"),
                ("os_minor", "10"),
                ("os_codename", "Santiago"),
                ("os_platform", "rhel"),
            ],
        ),
        (
            // centos-release comes before redhat-release.
            "legacy-centos6",
            &[
                ("os_name", "Centos Linux"),
                ("os_version", "6.10"),
                ("os_major", "6"),
                ("os_minor", "10"),
                ("os_codename", "Final"),
                ("os_platform", "centos"),
            ],
        ),
        (
            "legacy-debian6",
            &[
                ("os_name", "Debian GNU/Linux"),
                ("os_version", "6.0.10"),
                ("os_major", "6"),
                ("os_minor", "0"),
                ("os_patch", "10"),
                ("os_platform", "debian"),
            ],
        ),
        (
            // debian_version "wheezy/sid" does not parse, lsb-release then does.
            "legacy-ubuntu1204",
            &[
                ("os_name", "Ubuntu"),
                ("os_version", "12.04.5"),
                ("os_major", "12"),
                ("os_minor", "04"),
                ("os_patch", "5"),
                ("os_codename", "precise"),
                ("os_platform", "ubuntu"),
            ],
        ),
        (
            "legacy-suse",
            &[
                ("os_name", "SuSE Linux"),
                ("os_version", "13.2"),
                ("os_major", "13"),
                ("os_minor", "2"),
                ("os_codename", "Harlequin"),
                ("os_platform", "suse"),
            ],
        ),
        (
            "legacy-gentoo",
            &[
                ("os_name", "Gentoo"),
                ("os_version", "2.14"),
                ("os_major", "2"),
                ("os_minor", "14"),
                ("os_platform", "gentoo"),
            ],
        ),
        (
            "legacy-slackware",
            &[
                ("os_name", "Slackware"),
                ("os_version", "14.2"),
                ("os_major", "14"),
                ("os_minor", "2"),
                ("os_platform", "slackware"),
            ],
        ),
        (
            "legacy-fedora8",
            &[
                ("os_name", "Fedora"),
                ("os_version", "8"),
                ("os_major", "8"),
                ("os_codename", "Werewolf"),
                ("os_platform", "fedora"),
            ],
        ),
    ];
    for (tree, distribution) in cases {
        assert_eq!(
            os_row(&fixture(tree)),
            expected(distribution, &[]),
            "tree {tree}"
        );
    }
}

/// A fixture file, its format, whether it parses, and fields it must set.
type ParseCase = (
    &'static str,
    ReleaseFile,
    bool,
    &'static [(&'static str, &'static str)],
);

#[test]
fn parse_release_on_every_fixture_file() {
    // The public parser, straight on the files (no collector logic around it).
    let cases: &[ParseCase] = &[
        (
            "ubuntu2204/etc/lsb-release",
            ReleaseFile::LsbRelease,
            true,
            &[("os_version", "22.04.4"), ("os_codename", "jammy")],
        ),
        (
            "ubuntu2204/etc/debian_version",
            ReleaseFile::Debian,
            false,
            &[("os_platform", "debian")],
        ),
        (
            "fedora40/etc/fedora-release",
            ReleaseFile::Fedora,
            true,
            &[("os_version", "40"), ("os_codename", "Forty")],
        ),
        (
            "fedora40/etc/redhat-release",
            ReleaseFile::RedHat,
            true,
            &[
                ("os_name", "Fedora"),
                ("os_version", "40"),
                ("os_major", "40"),
            ],
        ),
        (
            "alpine319/etc/alpine-release",
            ReleaseFile::Alpine,
            true,
            &[("os_version", "3.19.1"), ("os_patch", "1")],
        ),
        ("arch/etc/arch-release", ReleaseFile::Arch, false, &[]),
        (
            "debian12/etc/debian_version",
            ReleaseFile::Debian,
            true,
            &[
                ("os_version", "12.11"),
                ("os_major", "12"),
                ("os_minor", "11"),
            ],
        ),
        (
            "centos7/etc/redhat-release",
            ReleaseFile::RedHat,
            true,
            &[
                ("os_name", "CentOS Linux"),
                ("os_version", "7.9.2009"),
                ("os_minor", "9"),
            ],
        ),
        (
            "arch/usr/lib/os-release",
            ReleaseFile::OsRelease,
            true,
            &[("os_name", "Arch Linux"), ("os_build", "rolling")],
        ),
    ];
    for (file, kind, found, fields) in cases {
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        let mut row = Row::new();
        assert_eq!(parse_release(*kind, &text, &mut row), *found, "{file}");
        for (key, value) in *fields {
            assert_eq!(row.get(*key), Some(&json!(value)), "{file}: {key}");
        }
    }
}

#[test]
fn nothing_found_gives_the_generic_linux_row() {
    let root = tempfile::tempdir().unwrap();
    assert_eq!(
        os_row(root.path()),
        expected(
            &[
                ("os_name", "Linux"),
                ("os_platform", "linux"),
                ("os_version", " ")
            ],
            &[]
        )
    );
    // A debian_version without a number does not count either, and leaves nothing behind.
    write(root.path(), "etc/debian_version", "trixie/sid\n");
    assert_eq!(
        os_row(root.path()),
        expected(
            &[
                ("os_name", "Linux"),
                ("os_platform", "linux"),
                ("os_version", " ")
            ],
            &[]
        )
    );
}

#[test]
fn etc_beats_usr_lib_but_usr_lib_fills_the_gaps() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "etc/os-release",
        "NAME=\"From Etc\"\nVERSION_ID=1.2\n",
    );
    write(
        root.path(),
        "usr/lib/os-release",
        "NAME=\"From Lib\"\nVERSION=\"9\"\nID=lib\nBUILD_ID=b7\n",
    );
    let row = os_row(root.path());
    assert_eq!(row["os_name"], "From Etc");
    assert_eq!(row["os_version"], "1.2");
    assert_eq!(row["os_major"], "1");
    assert_eq!(row["os_minor"], "2");
    assert_eq!(row["os_platform"], "lib");
    assert_eq!(row["os_build"], "b7");
}

#[test]
fn empty_os_release_falls_back_to_legacy_files() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "etc/os-release", "");
    write(root.path(), "etc/alpine-release", "3.20.0\n");
    let row = os_row(root.path());
    assert_eq!(row["os_name"], "Alpine Linux");
    assert_eq!(row["os_version"], "3.20.0");
    assert_eq!(row["os_type"], "linux");
}

#[test]
fn truncated_os_release() {
    let root = tempfile::tempdir().unwrap();
    let real = std::fs::read(fixture("ubuntu2204/etc/os-release")).unwrap();
    // Cut inside the value of VERSION: `VERSION="22.04.4 LT`.
    let cut = real.windows(10).position(|w| w == b"VERSION=\"2").unwrap() + 19;
    write(root.path(), "etc/os-release", &real[..cut]);
    let row = os_row(root.path());
    assert_eq!(row["os_name"], "Ubuntu");
    assert_eq!(row["os_version"], "22.04.4 LT");
    assert_eq!(row["os_patch"], "4");
    // Lines after the cut are gone.
    assert!(!row.contains_key("os_platform"));
    assert!(!row.contains_key("os_codename"));
    assert_eq!(row["hostname"], uname("-n"));
}

#[test]
fn binary_garbage_release_files() {
    let root = tempfile::tempdir().unwrap();
    let mut garbage: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    // Some bytes that look like structure, then a real line at the end.
    garbage.extend_from_slice(b"\xff=\xfe\n(\x00)\n=\n\nID=debian\n");
    write(root.path(), "etc/os-release", &garbage);
    let row = os_row(root.path());
    assert_eq!(row["os_platform"], "debian");
    assert_eq!(row["os_type"], "linux");
    assert_eq!(row["os_kernel_release"], uname("-r"));

    // Garbage in every legacy file: nothing matches a known version, no panic.
    let root = tempfile::tempdir().unwrap();
    for file in [
        "etc/centos-release",
        "etc/fedora-release",
        "etc/redhat-release",
        "etc/gentoo-release",
        "etc/SuSE-release",
        "etc/arch-release",
        "etc/debian_version",
        "etc/slackware-version",
        "etc/lsb-release",
        "etc/alpine-release",
    ] {
        write(root.path(), file, b"\x00\xff\xfe(\x01)\x80release\x00\x00(");
    }
    let row = os_row(root.path());
    assert_eq!(row["os_type"], "linux");
    assert!(row["os_name"].is_string());
}

#[test]
fn very_large_os_release() {
    let root = tempfile::tempdir().unwrap();
    let mut text = std::fs::read(fixture("debian12/etc/os-release")).unwrap();
    let padding = "X_PADDING=0123456789012345678901234567890123456789\n";
    while text.len() < 32 << 20 {
        text.extend_from_slice(padding.as_bytes());
    }
    write(root.path(), "etc/os-release", &text);
    let started = std::time::Instant::now();
    let row = os_row(root.path());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(row["os_name"], "Debian GNU/Linux");
    assert_eq!(row["os_version"], "12 (bookworm)");
    assert_eq!(row["os_codename"], "bookworm");
}

#[test]
fn kernel_files_empty_or_garbage() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "proc/sys/kernel/hostname", "");
    write(root.path(), "proc/sys/kernel/osrelease", b"6.1\xff-x\n");
    write(root.path(), "proc/sys/kernel/ostype", "Linux\n\n");
    let row = os_row(root.path());
    assert_eq!(row["hostname"], uname("-n"));
    assert_eq!(row["os_kernel_release"], "6.1\u{fffd}-x");
    assert_eq!(row["os_kernel_name"], "Linux");
}

#[test]
fn unreadable_os_release_is_logged_and_skipped() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/os-release")).unwrap();
    write(root.path(), "usr/lib/os-release", "NAME=Lib\nID=lib\n");
    let (log, lines) = capture_logger();
    let row = LinuxSysInfo::with_root(root.path(), log).os().unwrap();
    assert_eq!(row["os_name"], "Lib");
    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("etc/os-release")),
        "{lines:?}"
    );
}

/// A minimal independent reading of os-release for the host test.
fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

#[test]
fn this_machine() {
    let row = LinuxSysInfo::default().os().unwrap();
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap();
    assert_eq!(
        row.get("os_name"),
        os_release_field(&text, "NAME").map(Value::from).as_ref()
    );
    assert_eq!(
        row.get("os_platform"),
        os_release_field(&text, "ID").map(Value::from).as_ref()
    );
    let version =
        os_release_field(&text, "VERSION").or_else(|| os_release_field(&text, "VERSION_ID"));
    if !Path::new("/etc/centos-release").exists() {
        assert_eq!(row.get("os_version"), version.map(Value::from).as_ref());
    }
    for (key, value) in host_kernel() {
        assert_eq!(row[key], value, "{key}");
    }
    assert_eq!(row["os_type"], "linux");
    assert!(!row.contains_key("os_full"));
    assert!(!row.contains_key("os_distribution_release"));
}

/// Issue 13.4: a centos-release of one line of digits as long as the read limit (1 MiB)
/// is parsed (it took minutes when the pattern was matched in quadratic time).
#[test]
fn centos_release_of_a_megabyte_of_digits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    let digits = "7".repeat((1 << 20) - 2);
    // No dot: no version, so the legacy files after it are tried, none describes the
    // system, and the row has the agent's defaults.
    std::fs::write(dir.path().join("etc/centos-release"), &digits).unwrap();
    let row = LinuxSysInfo::with_root(dir.path(), syscollector::null_logger())
        .os()
        .unwrap();
    assert_eq!(row["os_name"], "Linux");
    assert_eq!(row["os_version"], " ");
    // A dot at the very end: the whole line is the version.
    std::fs::write(dir.path().join("etc/centos-release"), format!("{digits}.5")).unwrap();
    let row = LinuxSysInfo::with_root(dir.path(), syscollector::null_logger())
        .os()
        .unwrap();
    assert_eq!(row["os_version"], format!("{digits}.5"));
    assert_eq!(row["os_minor"], "5");
}
