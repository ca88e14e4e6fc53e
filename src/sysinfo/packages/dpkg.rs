//! Debian packages: the stanzas of `<root>/var/lib/dpkg/status`.
//!
//! The parser streams over the file's bytes: each stanza is scanned line by line, only the
//! byte ranges of the dozen fields a row needs are remembered, and the row is built when
//! the stanza ends, so memory stays flat however many packages there are. As the agent,
//! a package is reported when its `Status` holds "ok installed" (any selection state); a
//! field's value is the text after the first `:` with its continuation lines, trimmed of
//! spaces and newlines (`Description` keeps its first line); `Installed-Size` (KiB) becomes
//! bytes; `multiarch` is "" when the field is absent, other absent fields are `" "`.
//!
//! Python distributions that dpkg installed are listed in `<root>/var/lib/dpkg/info/
//! python*.list`; [`python_files`] collects their metadata paths so the Python scan skips
//! them, as the agent does.

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;

use serde_json::Value;

use super::{read_bytes, stoll, Ctx, UNKNOWN};
use crate::sysinfo::CollectError;
use crate::Row;

/// Bigger than any real status file (50,000 packages take about 60 MiB).
const STATUS_LIMIT: u64 = 1 << 30;
const LIST_LIMIT: u64 = 64 << 20;

const STATUS: &str = "/var/lib/dpkg/status";
const INFO_DIR: &str = "/var/lib/dpkg/info/";

/// Rows of the installed packages of `<root>/var/lib/dpkg/status`.
pub fn collect(ctx: &mut Ctx<'_, '_>, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    let path = ctx.p.path(STATUS);
    let p = ctx.p;
    ctx.source("dpkg", std::slice::from_ref(&path), each, &mut |each| {
        let file = match crate::sysinfo::read::open(&path) {
            Ok(f) => f,
            // The agent reads nothing when the file is absent.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectError::io(path.display(), e)),
        };
        parse_status_stream(file.take(STATUS_LIMIT), each, &mut |msg| {
            p.debug(&format!("{}: {msg}", path.display()))
        })
        .map_err(|e| CollectError::io(path.display(), e))
    })
}

/// How much of the status file is read at a time.
const CHUNK: usize = 256 << 10;

/// [`parse_status`] over a reader, a chunk at a time: only the stanzas not yet complete
/// are kept between reads, so memory stays at a chunk (plus the longest stanza) however
/// big the file is. The rows are the same as [`parse_status`] of the whole file.
pub fn parse_status_stream(
    mut reader: impl Read,
    each: &mut dyn FnMut(Row),
    skip: &mut dyn FnMut(String),
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    // Where the search for a stanza end resumes (what is before has none).
    let mut searched = 0usize;
    loop {
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let n = loop {
            match reader.read(&mut buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            parse_status(&buf, each, skip);
            return Ok(());
        }
        // The last blank line ends the last complete stanza of the buffer.
        let from = searched.saturating_sub(1);
        match memchr::memmem::rfind(&buf[from..], b"\n\n") {
            Some(i) => {
                let cut = from + i + 2;
                parse_status(&buf[..cut], each, skip);
                buf.drain(..cut);
                searched = 0;
            }
            None => searched = buf.len(),
        }
        buf.shrink_to(CHUNK * 2);
    }
}

/// The fields of one stanza a row needs, as byte ranges of the file.
#[derive(Default)]
struct Stanza {
    ranges: [Option<(usize, usize)>; 11],
    lines: usize,
}

const PACKAGE: usize = 0;
const STATUS_F: usize = 1;
const PRIORITY: usize = 2;
const SECTION: usize = 3;
const INSTALLED_SIZE: usize = 4;
const MULTI_ARCH: usize = 5;
const ARCHITECTURE: usize = 6;
const SOURCE: usize = 7;
const VERSION: usize = 8;
const MAINTAINER: usize = 9;
const DESCRIPTION: usize = 10;

fn field_index(key: &[u8]) -> Option<usize> {
    Some(match key {
        b"Package" => PACKAGE,
        b"Status" => STATUS_F,
        b"Priority" => PRIORITY,
        b"Section" => SECTION,
        b"Installed-Size" => INSTALLED_SIZE,
        b"Multi-Arch" => MULTI_ARCH,
        b"Architecture" => ARCHITECTURE,
        b"Source" => SOURCE,
        b"Version" => VERSION,
        b"Maintainer" => MAINTAINER,
        b"Description" => DESCRIPTION,
        _ => return None,
    })
}

/// Calls `each` with the row of every installed package of a dpkg status file, and
/// `skip` with the reason for every stanza that cannot make a row (no `Status`, no
/// `Package`, no digits in `Installed-Size`).
pub fn parse_status(buf: &[u8], each: &mut dyn FnMut(Row), skip: &mut dyn FnMut(String)) {
    let mut st = Stanza::default();
    // The field the continuation lines that follow belong to.
    let mut current: Option<usize> = None;
    let mut pos = 0usize;
    while pos < buf.len() {
        let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let line = &buf[pos..end];
        if line.is_empty() {
            finish(buf, &st, each, skip);
            st = Stanza::default();
            current = None;
        } else if line[0] == b' ' {
            if let Some(range) = current
                .and_then(|i| st.ranges.get_mut(i))
                .and_then(|r| r.as_mut())
            {
                range.1 = end;
            }
        } else {
            st.lines += 1;
            current = memchr::memchr(b':', line).and_then(|colon| {
                let i = field_index(trim_bytes(&line[..colon], b" "))?;
                if let Some(slot) = st.ranges.get_mut(i) {
                    *slot = Some((pos + colon + 1, end));
                }
                Some(i)
            });
        }
        pos = end + 1;
    }
    finish(buf, &st, each, skip);
}

fn trim_bytes<'a>(mut b: &'a [u8], chars: &[u8]) -> &'a [u8] {
    while let [first, rest @ ..] = b {
        if chars.contains(first) {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if chars.contains(last) {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn value(buf: &[u8], st: &Stanza, field: usize) -> Option<String> {
    value_bytes(buf, st, field).map(text)
}

/// A field's bytes, spaces and newlines trimmed at both ends.
fn value_bytes<'a>(buf: &'a [u8], st: &Stanza, field: usize) -> Option<&'a [u8]> {
    let (start, end) = (*st.ranges.get(field)?)?;
    Some(trim_bytes(buf.get(start..end)?, b" \n"))
}

/// `bytes` as text, invalid UTF-8 replaced (valid text, the usual case, is copied as is).
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn finish(buf: &[u8], st: &Stanza, each: &mut dyn FnMut(Row), skip: &mut dyn FnMut(String)) {
    if st.lines == 0 {
        return;
    }
    let Some(status) = value(buf, st, STATUS_F) else {
        skip("a stanza without Status".into());
        return;
    };
    if !status.contains("ok installed") {
        return;
    }
    let Some(name) = value(buf, st, PACKAGE) else {
        skip("an installed stanza without Package".into());
        return;
    };
    let size = match value(buf, st, INSTALLED_SIZE) {
        None => 0,
        Some(text) => match stoll(&text).and_then(|kib| kib.checked_mul(1024)) {
            Some(bytes) => bytes,
            None => {
                skip(format!("{name}: Installed-Size {text:?} is not a number"));
                return;
            }
        },
    };
    let text_or_unknown = |f| value(buf, st, f).unwrap_or_else(|| UNKNOWN.to_string());
    // The synopsis: the first line only (the long description is never decoded).
    let description = match value_bytes(buf, st, DESCRIPTION) {
        Some(d) => text(memchr::memchr(b'\n', d).map_or(d, |i| &d[..i])),
        None => UNKNOWN.to_string(),
    };
    let mut row = Row::new();
    row.insert("name".into(), Value::from(name));
    row.insert("priority".into(), Value::from(text_or_unknown(PRIORITY)));
    row.insert("category".into(), Value::from(text_or_unknown(SECTION)));
    row.insert("size".into(), Value::from(size));
    row.insert(
        "multiarch".into(),
        Value::from(value(buf, st, MULTI_ARCH).unwrap_or_default()),
    );
    row.insert(
        "architecture".into(),
        Value::from(text_or_unknown(ARCHITECTURE)),
    );
    row.insert("source".into(), Value::from(text_or_unknown(SOURCE)));
    row.insert("version_".into(), Value::from(text_or_unknown(VERSION)));
    row.insert("type".into(), Value::from("deb"));
    row.insert("path".into(), Value::from(UNKNOWN));
    row.insert("vendor".into(), Value::from(text_or_unknown(MAINTAINER)));
    row.insert("installed".into(), Value::from(UNKNOWN));
    row.insert("description".into(), Value::from(description));
    each(row);
}

/// Adds to `out` the metadata files (host paths) of the Python distributions dpkg
/// installed: the `*.egg-info` / `*.dist-info` lines of `info/python*.list` whose file
/// (an `.egg-info` file) or `PKG-INFO` / `METADATA` inside exists.
pub fn python_files(ctx: &mut Ctx<'_, '_>, out: &mut HashSet<String>) {
    let p = ctx.p;
    let dir = p.path(INFO_DIR);
    let found = ctx.derived("dpkg-python", std::slice::from_ref(&dir), &mut || {
        let mut found = HashSet::new();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return found;
        };
        let mut lists: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("python") && name.ends_with(".list")
            })
            .map(|e| e.path())
            .filter(|path| path.is_file())
            .collect();
        lists.sort();
        for list in lists {
            match read_bytes(&list, LIST_LIMIT) {
                Ok(bytes) => match std::str::from_utf8(&bytes) {
                    Ok(text) => python_lines(p, text, &mut found),
                    Err(_) => python_lines(p, &String::from_utf8_lossy(&bytes), &mut found),
                },
                Err(e) => p.debug(&format!("cannot read {}: {e}", list.display())),
            }
        }
        found
    });
    out.extend(found);
}

/// The metadata paths named by the lines of one `.list` file.
pub(crate) fn python_lines(
    p: &crate::sysinfo::LinuxSysInfo,
    text: &str,
    out: &mut HashSet<String>,
) {
    for line in text.split('\n') {
        if line.contains('\r') {
            continue;
        }
        let extra = if line.ends_with(".egg-info") {
            "/PKG-INFO"
        } else if line.ends_with(".dist-info") {
            "/METADATA"
        } else {
            continue;
        };
        if p.path(line).is_file() {
            out.insert(line.to_string());
        } else {
            let full = format!("{line}{extra}");
            if p.path(&full).exists() {
                out.insert(full);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Row>, Vec<String>) {
        let mut rows = Vec::new();
        let mut skipped = Vec::new();
        parse_status(text.as_bytes(), &mut |r| rows.push(r), &mut |m| {
            skipped.push(m)
        });
        (rows, skipped)
    }

    const ADDUSER: &str = "Package: adduser
Status: install ok installed
Priority: important
Section: admin
Installed-Size: 686
Maintainer: Debian Adduser Developers <adduser@packages.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 3.134
Depends: passwd
Conffiles:
 /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands for creating
 and removing users.
";

    #[test]
    fn one_package_as_the_agent_reports_it() {
        let (rows, skipped) = parse(ADDUSER);
        assert!(skipped.is_empty());
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r["name"], "adduser");
        assert_eq!(r["version_"], "3.134");
        assert_eq!(r["architecture"], "all");
        assert_eq!(r["multiarch"], "foreign");
        assert_eq!(r["priority"], "important");
        assert_eq!(r["category"], "admin");
        assert_eq!(r["size"], 686 * 1024);
        assert_eq!(
            r["vendor"],
            "Debian Adduser Developers <adduser@packages.debian.org>"
        );
        assert_eq!(r["description"], "add and remove users and groups");
        assert_eq!(r["source"], " ");
        assert_eq!(r["path"], " ");
        assert_eq!(r["installed"], " ");
        assert_eq!(r["type"], "deb");
        assert_eq!(r.len(), 13);
    }

    #[test]
    fn only_ok_installed_and_defaults() {
        let text = "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Package: b\nStatus: hold ok installed\n\n\
                    Package: c\nStatus: install reinstreq half-installed\n\n\n\
                    Package: d\nStatus: install ok unpacked\n";
        let (rows, skipped) = parse(text);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r["name"], "b");
        assert_eq!(r["version_"], " ");
        assert_eq!(r["multiarch"], "");
        assert_eq!(r["size"], 0);
        assert_eq!(r["description"], " ");
    }

    #[test]
    fn description_with_empty_first_line_takes_the_next() {
        let (rows, _) =
            parse("Package: x\nStatus: install ok installed\nDescription:\n long text\n more\n");
        assert_eq!(rows[0]["description"], "long text");
    }

    #[test]
    fn damaged_stanzas_are_skipped_alone() {
        let text = "Status: install ok installed\nVersion: 1\n\n\
                    Package: nostatus\nVersion: 1\n\n\
                    Package: badsize\nStatus: install ok installed\nInstalled-Size: lots\n\n\
                    Package: good\nStatus: install ok installed\nInstalled-Size: 3x\n";
        let (rows, skipped) = parse(text);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["name"], "good");
        assert_eq!(rows[0]["size"], 3072);
        assert_eq!(skipped.len(), 3, "{skipped:?}");
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            &b""[..],
            b"\n\n\n",
            b" continuation first\n",
            b"Package\xff: \xfe\nStatus: ok installed\n",
            b":::\n \n:",
            b"Package: p\nStatus: install ok installed\nInstalled-Size: 99999999999999999\n",
        ] {
            parse_status(text, &mut |_| {}, &mut |_| {});
        }
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (rows, _) = parse(&String::from_utf8_lossy(
            b"Package: p\nStatus: install ok installed\nMaintainer: J\xe9r\xf4me\n",
        ));
        assert_eq!(rows[0]["vendor"], "J\u{fffd}r\u{fffd}me");
    }
}
