//! The `dbsync_browser_extensions` rows on Linux: the extensions of every user's
//! Chromium-family browsers ([`chrome`]) and Firefox profiles ([`firefox`]).
//!
//! The homes searched are those of the accounts of `<root>/etc/passwd` (so `/root` too)
//! and every directory of `/home`, as the agent searches them; a home's `user_id` is the
//! uid of its account (for a `/home` directory, of the account named like it), `" "` when
//! none. Paths in rows are as seen from the root (`/home/alice/...`).
//!
//! `package_installed` is, as the agent's collector gives it, the install time in seconds
//! since the epoch as a string (`"1717159065"`), `""` when unknown (Chromium extensions
//! not referenced by the profile's preferences) and `" "` for Firefox. The agent's module
//! turns it into a number before computing the checksum; [`installed_as_number`] does
//! that conversion.

pub mod chrome;
pub mod firefox;

use std::io::Read as _;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use super::accounts::{homes, Home};
use super::{read, CollectError, LinuxSysInfo};
use crate::Row;

/// A JSON file of a profile (preferences, extension lists) can be a few MiB.
const JSON_READ_LIMIT: u64 = 32 << 20;
/// Manifests and message catalogs are small.
const MANIFEST_READ_LIMIT: u64 = 4 << 20;

/// `path` joined to a host path (`/home/alice` + `.config/x` → `/home/alice/.config/x`).
pub(crate) fn join(base: &str, rel: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

/// The names of the subdirectories of host directory `dir` below the root, sorted.
pub(crate) fn subdirs(p: &LinuxSysInfo, dir: &str) -> Vec<String> {
    let Ok(listing) = std::fs::read_dir(p.path(dir)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = listing
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Reads and parses a JSON file (host path) below the root; `None` (logged) when it
/// cannot be read or is not JSON.
pub(crate) fn read_json(p: &LinuxSysInfo, file: &str, limit: u64) -> Option<Value> {
    let text = p.read_text(file, limit)?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            p.debug(&format!("{file}: not valid JSON ({e}); skipped"));
            None
        }
    }
}

/// SHA-256 (lowercase hex) of a file (host path) below the root, "" when it cannot be
/// read or is larger than any manifest.
pub(crate) fn sha256_file(p: &LinuxSysInfo, file: &str) -> String {
    let path = p.path(file);
    let hash = read::open(&path).and_then(|f| {
        let mut hasher = Sha256::new();
        let mut reader = f.take(MANIFEST_READ_LIMIT + 1);
        let n = std::io::copy(&mut reader, &mut hasher)?;
        Ok((n, hasher.finalize()))
    });
    match hash {
        Ok((n, digest)) if n <= MANIFEST_READ_LIMIT => hex::encode(digest),
        Ok(_) => {
            p.debug(&format!("{file}: too large to be a manifest; not hashed"));
            String::new()
        }
        Err(e) => {
            p.debug(&format!("cannot hash {}: {e}", path.display()));
            String::new()
        }
    }
}

/// `s`, or the unknown marker `" "` when it is empty.
pub(crate) fn or_unknown(s: &str) -> Value {
    if s.is_empty() {
        " ".into()
    } else {
        s.into()
    }
}

/// A string member of a JSON object, "" when absent or not a string.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The conversion the agent's module applies to `package_installed` before the row's
/// checksum: a number of seconds becomes a JSON integer (read as `std::stoll` reads it:
/// leading blanks, a sign, the digits up to the first other character); empty, `" "`,
/// `"0"` and text that does not start with a number become `null`.
pub fn installed_as_number(row: &mut Row) {
    let Some(Value::String(s)) = row.get("package_installed") else {
        return;
    };
    let t = s.trim();
    let v = if t.is_empty() || t == "0" {
        Value::Null
    } else {
        leading_integer(t).map_or(Value::Null, Value::from)
    };
    row.insert("package_installed".into(), v);
}

/// The integer at the start of `s` (optional sign, then digits), as `strtoll` reads it.
fn leading_integer(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let sign_len = s.len() - unsigned.len();
    s.get(..sign_len + digits)?.parse().ok()
}

/// Whether `dir` (host path) is a directory below the root.
pub(crate) fn is_dir(p: &LinuxSysInfo, dir: &str) -> bool {
    p.path(dir).is_dir()
}

/// Whether `file` (host path) is a regular file below the root.
pub(crate) fn is_file(p: &LinuxSysInfo, file: &str) -> bool {
    p.path(file).is_file()
}

/// Rows of `dbsync_browser_extensions`.
pub fn collect(p: &LinuxSysInfo) -> Result<Vec<Row>, CollectError> {
    let mut rows = Vec::new();
    let homes = homes(p);
    for home in &homes {
        chrome::collect_home(p, home, &mut rows);
    }
    for home in &homes {
        firefox::collect_home(p, home, &mut rows);
    }
    Ok(rows)
}

/// Whether a host path has no parent-directory component (profile data must not send
/// the collector elsewhere).
pub(crate) fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 4096
        && !path.contains("//")
        && Path::new(path)
            .components()
            .all(|c| !matches!(c, std::path::Component::ParentDir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn installed_conversion() {
        let mut row = json!({"package_installed": "1717159065"})
            .as_object()
            .unwrap()
            .clone();
        installed_as_number(&mut row);
        assert_eq!(row["package_installed"], json!(1717159065i64));
        let mut row = json!({"package_installed": "12abc"})
            .as_object()
            .unwrap()
            .clone();
        installed_as_number(&mut row);
        assert_eq!(row["package_installed"], json!(12));
        for s in ["", " ", "0", "abc", "-", "99999999999999999999"] {
            let mut row = json!({ "package_installed": s })
                .as_object()
                .unwrap()
                .clone();
            installed_as_number(&mut row);
            assert_eq!(row["package_installed"], Value::Null, "{s:?}");
        }
    }

    #[test]
    fn relative_paths() {
        assert!(safe_relative("abc/1.0_0"));
        assert!(!safe_relative("../../etc"));
        assert!(!safe_relative("a//b"));
        assert!(!safe_relative(""));
        assert_eq!(join("/", ".config"), "/.config");
        assert_eq!(join("/home/a", ".config"), "/home/a/.config");
    }
}
