//! Arch Linux packages: the local database `<root>/var/lib/pacman/local/<name>-<version>/
//! desc`, read as libalpm (which the agent uses) reads it.
//!
//! libalpm takes a package's name and version from its directory name (the two last `-`
//! separate name, version and release) and the rest from `desc`, a list of `%FIELD%` lines
//! each followed by value lines up to an empty line. A directory whose name does not split
//! or whose `desc` cannot be read is not a package. Rows as the agent: groups joined with
//! `-`, the install date as ISO 8601 (the epoch when absent), vendor "Arch Linux".

use serde_json::Value;

use super::{iso8601, or_unknown, read_bytes, stoll, Ctx, UNKNOWN};
use crate::sysinfo::CollectError;
use crate::Row;

const LOCAL: &str = "/var/lib/pacman/local";
const DESC_LIMIT: u64 = 16 << 20;

/// The fields of a `desc` file a row needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Desc {
    pub description: String,
    pub arch: String,
    pub size: i64,
    pub install_date: i64,
    pub groups: Vec<String>,
}

/// Parses a `desc` file (unknown fields ignored; numbers as libalpm parses them).
pub fn parse_desc(text: &str) -> Desc {
    let mut d = Desc::default();
    let mut lines = text.split('\n').map(|l| l.trim_end_matches(['\r', '\n']));
    while let Some(line) = lines.next() {
        let mut values = Vec::new();
        if line.starts_with('%') && line.ends_with('%') && line.len() > 1 {
            for v in lines.by_ref() {
                if v.is_empty() {
                    break;
                }
                values.push(v);
            }
        } else {
            continue;
        }
        let first = values.first().copied().unwrap_or("");
        match line {
            "%DESC%" => d.description = first.to_string(),
            "%ARCH%" => d.arch = first.to_string(),
            "%SIZE%" => d.size = stoll(first).unwrap_or(0),
            "%INSTALLDATE%" => d.install_date = stoll(first).unwrap_or(0),
            "%GROUPS%" => d.groups = values.iter().map(|s| s.to_string()).collect(),
            _ => {}
        }
    }
    d
}

/// Splits a local database directory name into name and version (`version-release`).
pub fn split_name(dir: &str) -> Option<(&str, &str)> {
    let rel = dir.rfind('-')?;
    let ver = dir[..rel].rfind('-')?;
    if ver == 0 {
        return None;
    }
    Some((&dir[..ver], &dir[ver + 1..]))
}

/// The row of one package.
pub fn package_row(name: &str, version: &str, d: &Desc) -> Row {
    let mut row = Row::new();
    row.insert("name".into(), Value::from(name));
    row.insert("size".into(), Value::from(d.size));
    row.insert(
        "installed".into(),
        Value::from(iso8601(d.install_date as u32)),
    );
    let groups = d.groups.join("-");
    row.insert("category".into(), or_unknown(&groups));
    row.insert("version_".into(), or_unknown(version));
    row.insert("path".into(), Value::from(UNKNOWN));
    row.insert("architecture".into(), or_unknown(&d.arch));
    row.insert("priority".into(), Value::from(UNKNOWN));
    row.insert("type".into(), Value::from("pacman"));
    row.insert("vendor".into(), Value::from("Arch Linux"));
    row.insert("source".into(), Value::from(UNKNOWN));
    row.insert("description".into(), or_unknown(&d.description));
    row
}

/// Rows of the pacman local database below the root.
pub fn collect(ctx: &mut Ctx<'_, '_>, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    let p = ctx.p;
    let local = p.path(LOCAL);
    ctx.source("pacman", std::slice::from_ref(&local), each, &mut |each| {
        let entries = match std::fs::read_dir(&local) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectError::io(local.display(), e)),
        };
        let mut dirs: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        dirs.sort();
        let mut names = std::collections::HashSet::new();
        for dir in dirs {
            let Some((name, version)) = split_name(&dir) else {
                p.debug(&format!("pacman: invalid database entry name {dir:?}"));
                continue;
            };
            if !names.insert(name.to_string()) {
                p.debug(&format!("pacman: duplicated database entry {name}"));
                continue;
            }
            let desc = local.join(&dir).join("desc");
            match read_bytes(&desc, DESC_LIMIT) {
                Ok(bytes) => {
                    let d = parse_desc(&String::from_utf8_lossy(&bytes));
                    each(package_row(name, version, &d));
                }
                Err(e) => p.debug(&format!("pacman: cannot read {}: {e}", desc.display())),
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_like_libalpm() {
        assert_eq!(
            split_name("wazuh-fixture-1:1.2.3-2"),
            Some(("wazuh-fixture", "1:1.2.3-2"))
        );
        assert_eq!(split_name("a-1-1"), Some(("a", "1-1")));
        assert_eq!(split_name("a-1"), None);
        assert_eq!(split_name("-1-1"), None);
        assert_eq!(split_name("nodash"), None);
    }

    #[test]
    fn desc_fields() {
        let d = parse_desc(
            "%NAME%\nx\n\n%DESC%\nA thing\n\n%ARCH%\nx86_64\n\n%SIZE%\n6\n\n\
             %INSTALLDATE%\n1795666958\n\n%GROUPS%\nbase-devel\nfixtures\n\n",
        );
        assert_eq!(d.description, "A thing");
        assert_eq!(d.size, 6);
        assert_eq!(d.groups, ["base-devel", "fixtures"]);
        let row = package_row("x", "1-1", &d);
        assert_eq!(row["category"], "base-devel-fixtures");
        assert_eq!(row["installed"], "2026-11-26T04:22:38.000Z");
        let row = package_row("x", "1-1", &parse_desc(""));
        assert_eq!(row["installed"], "1970-01-01T00:00:00.000Z");
        assert_eq!(row["category"], " ");
        assert_eq!(row["description"], " ");
    }
}
