//! Synthetic package rows for the diff-engine benchmark and the memory probe example.

use serde_json::json;
use syscollector::inventory::events::prepare_row;
use syscollector::Row;

/// Row `i` of a synthetic package inventory, checksummed as a scan would.
pub fn package(i: usize, revision: usize) -> Row {
    let v = json!({
        "name": format!("package-{i:06}"),
        "version_": format!("1.{}.{}", i % 97, i % 7),
        "architecture": if i.is_multiple_of(3) { "all" } else { "amd64" },
        "type": "deb",
        "path": " ",
        "vendor": format!("Maintainer {} <m{}@example.org>", i % 500, i % 500),
        "installed": " ",
        "category": "utils",
        "description": format!("synthetic package number {i} revision {revision}"),
        "size": (i * 37 % 100_000 + revision) as i64,
        "priority": "optional",
        "multiarch": "same",
        "source": format!("source-{}", i / 4),
    });
    prepare_row(v.as_object().cloned().unwrap_or_default())
}

/// The first scan's rows.
#[allow(dead_code)] // Used by the benchmark, not by the probe example that includes this file.
pub fn inventory(n: usize) -> Vec<Row> {
    (0..n).map(|i| package(i, 0)).collect()
}

/// The rows of a rescan where 1% were modified, 1% deleted and 1% are new.
#[allow(dead_code)] // Used by the benchmark, not by the probe example that includes this file.
pub fn churned(n: usize) -> Vec<Row> {
    churned_iter(n).collect()
}

/// [`churned`], made one row at a time.
pub fn churned_iter(n: usize) -> impl Iterator<Item = Row> {
    (0..n + n / 100).filter_map(move |i| match i {
        i if i >= n => Some(package(i, 0)),       // new
        i if i % 100 == 0 => None,                // deleted
        i if i % 100 == 1 => Some(package(i, 1)), // modified: size and description differ
        i => Some(package(i, 0)),
    })
}

/// A dpkg status file of `n` installed packages, about 250 bytes a stanza (the 100,000
/// package fixture of the first-sync and memory benchmarks, and of `examples/dpkg_fixture`).
#[allow(dead_code)] // Not every file that includes this one writes fixtures.
pub fn dpkg_status(n: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(n * 300);
    for i in 0..n {
        let _ = write!(
            s,
            "Package: pkg{i:06}\nStatus: install ok installed\nPriority: optional\nSection: utils\n\
             Installed-Size: {}\nMaintainer: Someone <m{}@example.org>\nArchitecture: amd64\n\
             Version: 1.{}.{}-1\nDescription: synthetic package {i}\n A longer line.\n\n",
            i % 5000 + 1,
            i % 100,
            i % 50,
            i % 7
        );
    }
    s
}

/// Writes a system tree at `root` whose only package database is a dpkg status file of
/// `n` packages ([`dpkg_status`]).
#[allow(dead_code)] // Not every file that includes this one writes fixtures.
pub fn dpkg_root(root: &std::path::Path, n: usize) -> std::io::Result<()> {
    let dir = root.join("var/lib/dpkg");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("status"), dpkg_status(n))
}
