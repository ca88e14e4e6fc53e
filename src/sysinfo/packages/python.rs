//! Python distributions: the `*.dist-info/METADATA` and `*.egg-info` (`PKG-INFO` inside,
//! or the file itself) entries of the site directories the agent scans, per interpreter:
//! `/usr/lib/python*/*-packages`, `/usr/lib64/...`, `/usr/local/lib/...`, every user's
//! `~/.local/lib/...`, root's, and pyenv installs (`~/.pyenv/versions/*/lib/...`).
//!
//! Metadata files installed by dpkg or rpm are skipped (those packages are already rows
//! of their package manager), as the agent does. Each row's `path` is the metadata file;
//! `Name`, `Version`, `Summary`, `Home-page` and `Author` header lines fill name,
//! version, description, source and vendor (the first occurrence wins, read over the whole
//! file as the agent does). Entries without a name or a version make no row.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::Value;

use super::{expand, read_bytes, Ctx, UNKNOWN};
use crate::sysinfo::LinuxSysInfo;
use crate::Row;

/// The agent's Python search patterns.
pub const BASE_DIRS: &[&str] = &[
    "/Library/Frameworks/Python.framework/Versions/*/lib/python*/*-packages",
    "/home/*/.local/lib/python*/*-packages",
    "/home/*/.pyenv/versions/*/lib/python*/*-packages",
    "/opt/homebrew/lib",
    "/root/.local/lib/python*/*-packages",
    "/root/.pyenv/versions/*/lib/python*/*-packages",
    "/usr/lib/python*/*-packages",
    "/usr/lib64/python*/*-packages",
    "/usr/local/lib/python*/*-packages",
];

const METADATA_LIMIT: u64 = 16 << 20;

/// The columns a metadata file fills, as the agent's prefixes.
const FIELDS: &[(&str, &str)] = &[
    ("Author: ", "vendor"),
    ("Home-page: ", "source"),
    ("Name: ", "name"),
    ("Summary: ", "description"),
    ("Version: ", "version_"),
];

/// A package row of `path` before its metadata is read: every column the agent fills
/// with its unknown marker, type `pypi`, size 0.
fn default_row(path: &str) -> Row {
    let mut row = Row::new();
    for (k, v) in [
        ("category", UNKNOWN),
        ("description", UNKNOWN),
        ("architecture", UNKNOWN),
        ("type", "pypi"),
        ("source", UNKNOWN),
        ("path", path),
        ("priority", UNKNOWN),
        ("vendor", UNKNOWN),
        ("installed", UNKNOWN),
    ] {
        row.insert(k.into(), Value::from(v));
    }
    row.insert("size".into(), Value::from(0));
    row
}

/// The row of a metadata file's bytes found at `path` (a host path), `None` without a
/// name or a version. Lines are split on `\n` and only the values taken are decoded
/// (invalid UTF-8 replaced), which gives the text a whole-file decoding would give; the
/// walk stops once every column holds a known value, as no later line can change it.
pub fn metadata_row(text: impl AsRef<[u8]>, path: &str) -> Option<Row> {
    let text = text.as_ref();
    let mut row = default_row(path);
    // Which of FIELDS hold a value other than the unknown marker.
    let mut known = [false; FIELDS.len()];
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        // Every prefix starts with an upper-case letter; most lines of a long description
        // are rejected by their first byte.
        if !line.first().is_some_and(u8::is_ascii_uppercase) {
            continue;
        }
        let Some(i) = FIELDS
            .iter()
            .position(|(p, _)| line.starts_with(p.as_bytes()))
        else {
            continue;
        };
        if known[i] {
            continue;
        }
        let (prefix, column) = FIELDS[i];
        let value = trim_cr(&line[prefix.len()..]);
        let value = String::from_utf8_lossy(value);
        known[i] = value != UNKNOWN;
        row.insert(column.into(), Value::from(value.into_owned()));
        if known.iter().all(|k| *k) {
            break;
        }
    }
    (row.contains_key("name") && row.contains_key("version_")).then_some(row)
}

/// `bytes` without the carriage returns at either end.
fn trim_cr(mut bytes: &[u8]) -> &[u8] {
    while let [b'\r', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b'\r'] = bytes {
        bytes = rest;
    }
    bytes
}

/// The metadata file of one directory entry (host path), as the agent picks it: the entry
/// itself when it is a file, else `METADATA` / `PKG-INFO` inside it.
fn metadata_paths(p: &LinuxSysInfo, entry: &str, file_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (key, inner) in [("dist-info", "METADATA"), ("egg-info", "PKG-INFO")] {
        if !file_name.contains(key) {
            continue;
        }
        let real = p.path(entry);
        if real.is_file() {
            out.push(entry.to_string());
        } else if real.is_dir() {
            out.push(format!("{entry}/{inner}"));
        }
    }
    out
}

/// Rows of every Python distribution in the scanned site directories whose metadata file
/// is not in `exclude`.
pub fn collect(ctx: &mut Ctx<'_, '_>, exclude: &HashSet<String>, each: &mut dyn FnMut(Row)) {
    let p = ctx.p;
    for pattern in BASE_DIRS {
        for dir in expand(p, pattern) {
            let real = p.path(&dir);
            if !real.is_dir() {
                continue;
            }
            // The exclusions are part of what this directory's rows depend on.
            let key = format!("pypi:{dir}");
            let stamp_files: Vec<PathBuf> = vec![real.clone()];
            let rows = ctx.derived(&key, &stamp_files, &mut || scan_dir(p, &dir));
            for (meta_path, row) in rows.iter() {
                if !exclude.contains(meta_path) {
                    each(row.clone());
                }
            }
        }
    }
}

/// Every (metadata path, row) of one site directory, in name order.
fn scan_dir(p: &LinuxSysInfo, dir: &str) -> std::sync::Arc<Vec<(String, Row)>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(p.path(dir)) else {
        return std::sync::Arc::new(out);
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let entry = format!("{dir}/{name}");
        for meta in metadata_paths(p, &entry, &name) {
            match read_bytes(&p.path(&meta), METADATA_LIMIT) {
                Ok(bytes) => match metadata_row(&bytes, &meta) {
                    Some(row) => out.push((meta, row)),
                    None => p.debug(&format!("pypi: {meta} has no name or version")),
                },
                Err(e) => p.debug(&format!("Error parsing PYPI package: {entry}, {e}")),
            }
        }
    }
    std::sync::Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_fields() {
        let text = "Metadata-Version: 2.1\r\nName: PyYAML\r\nVersion: 6.0.1\r\n\
                    Summary: YAML parser and emitter for Python\r\nHome-page: https://pyyaml.org/\r\n\
                    Author: Kirill Simonov\r\n\r\nName: not-this-one\r\n";
        let row = metadata_row(text, "/x/PyYAML-6.0.1.dist-info/METADATA").unwrap();
        assert_eq!(row["name"], "PyYAML");
        assert_eq!(row["version_"], "6.0.1");
        assert_eq!(row["description"], "YAML parser and emitter for Python");
        assert_eq!(row["source"], "https://pyyaml.org/");
        assert_eq!(row["vendor"], "Kirill Simonov");
        assert_eq!(row["type"], "pypi");
        assert_eq!(row["size"], 0);
        assert!(!row.contains_key("multiarch"));
    }

    #[test]
    fn no_name_or_version_no_row() {
        assert!(metadata_row("Name: x\n", "/p").is_none());
        assert!(metadata_row("Version: 1\n", "/p").is_none());
        assert!(metadata_row("", "/p").is_none());
        // "Name:" without the space is not the agent's prefix.
        assert!(metadata_row("Name:x\nVersion: 1\n", "/p").is_none());
    }

    /// The construction before: the whole file decoded, then every line tried.
    fn old_metadata_row(text: &str, path: &str) -> Option<Row> {
        let mut row = default_row(path);
        for line in text.split('\n') {
            let Some((prefix, column)) = FIELDS.iter().find(|(p, _)| line.starts_with(p)) else {
                continue;
            };
            if row.get(*column).is_none_or(|v| v == UNKNOWN) {
                let value = line[prefix.len()..].trim_matches('\r');
                row.insert((*column).into(), Value::from(value));
            }
        }
        (row.contains_key("name") && row.contains_key("version_")).then_some(row)
    }

    #[test]
    fn byte_walk_equals_the_whole_text_walk() {
        let cases: &[&[u8]] = &[
            b"Name: a\nVersion: 1\nSummary:  \nSummary: s\r\nAuthor: \xff\xfeme\r\n",
            b"Name:  \nName: b\nVersion: 2\r\r\nHome-page: \r\rh\r\n\nName: c\n",
            b"Version: 3\nName: \xe2\x82\nAuthor: x\nHome-page: y\nSummary: z\nName: late\n",
            b"\r\nName: caf\xc3\xa9\nVersion: 1\n body\nAuthor: \xf0\x9f\x98\n",
            b"Name: n\nVersion: v",
            b"",
        ];
        for case in cases {
            let text = String::from_utf8_lossy(case);
            assert_eq!(
                metadata_row(case, "/m"),
                old_metadata_row(&text, "/m"),
                "{text:?}"
            );
        }
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut files = 0;
        let mut stack = vec![fixture];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.ends_with("METADATA") || path.ends_with("PKG-INFO") {
                    let bytes = std::fs::read(&path).unwrap();
                    let text = String::from_utf8_lossy(&bytes);
                    assert_eq!(metadata_row(&bytes, "/m"), old_metadata_row(&text, "/m"));
                    files += 1;
                }
            }
        }
        assert!(files > 0);
    }

    #[test]
    fn a_later_line_fills_a_still_unknown_column() {
        let row = metadata_row("Name: a\nVersion: 1\n\nHome-page: late\n", "/p").unwrap();
        assert_eq!(row["source"], "late");
    }
}
