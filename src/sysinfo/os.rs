//! The `dbsync_osinfo` row on Linux: which distribution and kernel the host runs.
//!
//! The distribution comes from release files below the provider's root: the
//! freedesktop `os-release` file when there is one (`/etc`, then `/usr/lib`), refined by
//! `/etc/centos-release`; otherwise the first legacy release file that parses, tried in
//! the order the Wazuh agent uses (CentOS, Fedora, Red Hat, Gentoo, SuSE, Arch, Debian,
//! Slackware, Ubuntu's `lsb-release`, Alpine). Each format keeps the agent's quirks, so
//! the row is the one the C++ agent reports: for example a key set from
//! `/etc/os-release` is never replaced by `/usr/lib/os-release`, and a version is split
//! into major, minor and patch only where it starts with digits.
//!
//! The kernel facts come from the provider's [`KernelSource`]: `uname(2)` (the default for
//! the running host), or the root's `proc/sys/kernel/*` files, each missing one from
//! `uname(2)` (the default for another root: a fixture tree, a container image, so the
//! row describes that tree rather than the machine running the tests).

use serde_json::Value;

use super::{CollectError, KernelSource, LinuxSysInfo};
use crate::Row;

/// What the agent writes when a value is unknown.
const UNKNOWN_VALUE: &str = " ";

/// Release files are a few hundred bytes; anything beyond this is not a release file.
const READ_LIMIT: u64 = 1 << 20;

/// The freedesktop files, most specific first.
const OS_RELEASE_FILES: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Read after an os-release file was found, to get CentOS's full point release.
const CENTOS_RELEASE_FILE: &str = "/etc/centos-release";

/// Tried in this order when there is no os-release file; the first that parses wins.
const LEGACY_RELEASE_FILES: [(ReleaseFile, &str); 10] = [
    (ReleaseFile::Centos, CENTOS_RELEASE_FILE),
    (ReleaseFile::Fedora, "/etc/fedora-release"),
    (ReleaseFile::RedHat, "/etc/redhat-release"),
    (ReleaseFile::Gentoo, "/etc/gentoo-release"),
    (ReleaseFile::Suse, "/etc/SuSE-release"),
    (ReleaseFile::Arch, "/etc/arch-release"),
    (ReleaseFile::Debian, "/etc/debian_version"),
    (ReleaseFile::Slackware, "/etc/slackware-version"),
    (ReleaseFile::LsbRelease, "/etc/lsb-release"),
    (ReleaseFile::Alpine, "/etc/alpine-release"),
];

/// The formats of release file [`parse_release`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseFile {
    /// freedesktop `os-release` (`KEY=value` lines).
    OsRelease,
    /// `/etc/centos-release`: `CentOS Linux release 7.9.2009 (Core)`.
    Centos,
    /// `/etc/fedora-release`: `Fedora release 40 (Forty)`.
    Fedora,
    /// `/etc/redhat-release`: `NAME release VERSION (CODENAME)`.
    RedHat,
    /// `/etc/gentoo-release`: `Gentoo Base System release 2.14`.
    Gentoo,
    /// `/etc/SuSE-release`: a title line, then `VERSION = …` and `CODENAME = …`.
    Suse,
    /// `/etc/arch-release` (usually empty).
    Arch,
    /// `/etc/debian_version`: `12.5`, or `bookworm/sid` on testing.
    Debian,
    /// `/etc/slackware-version`: `Slackware 14.2`.
    Slackware,
    /// Ubuntu's `/etc/lsb-release` (`DISTRIB_*=` lines).
    LsbRelease,
    /// `/etc/alpine-release`: `3.19.1`.
    Alpine,
}

/// Collects the `dbsync_osinfo` row. Never fails: unknown facts are left out or take
/// the agent's defaults (`os_name` "Linux", `os_platform` "linux", `os_version` " ").
pub fn collect(p: &LinuxSysInfo) -> Result<Row, CollectError> {
    let mut row = Row::new();
    if !release_info(p, &mut row) {
        set(&mut row, "os_name", "Linux");
        set(&mut row, "os_platform", "linux");
        set(&mut row, "os_version", UNKNOWN_VALUE);
    }
    // Name and version are the table's primary key: a release file without one of them
    // (Arch Linux has no VERSION) still yields a row, with the unknown marker.
    for key in ["os_name", "os_version"] {
        if !row.contains_key(key) {
            set(&mut row, key, UNKNOWN_VALUE);
        }
    }
    kernel_info(p, &mut row);
    set(&mut row, "os_type", "linux");
    Ok(row)
}

/// Parses one release file of format `kind` into `info`, the way the agent does: fields
/// found are written into `info` (some formats also write their fixed name and platform
/// even when they find no version). Returns whether the file described the system.
pub fn parse_release(kind: ReleaseFile, text: &str, info: &mut Row) -> bool {
    match kind {
        ReleaseFile::OsRelease => {
            let found = fill_from_key_values(
                text,
                &[
                    ("NAME", "os_name"),
                    ("VERSION", "os_version"),
                    ("VERSION_ID", "os_version"),
                    ("ID", "os_platform"),
                    ("BUILD_ID", "os_build"),
                    ("VERSION_CODENAME", "os_codename"),
                ],
                info,
            );
            if found {
                split_version_of(info);
            }
            found
        }
        ReleaseFile::Centos => {
            if !info.contains_key("os_name") {
                set(info, "os_name", "Centos Linux");
            }
            if !info.contains_key("os_platform") {
                set(info, "os_platform", "centos");
            }
            version_from_lines(text, info, match_dotted_version)
        }
        ReleaseFile::Fedora => {
            set(info, "os_name", "Fedora");
            set(info, "os_platform", "fedora");
            version_from_lines(text, info, match_leading_number)
        }
        ReleaseFile::RedHat => parse_redhat(text, info),
        ReleaseFile::Gentoo => named_version(text, info, "Gentoo", "gentoo"),
        ReleaseFile::Suse => {
            set(info, "os_name", "SuSE Linux");
            set(info, "os_platform", "suse");
            let found = fill_from_key_values(
                text,
                &[("VERSION", "os_version"), ("CODENAME", "os_codename")],
                info,
            );
            if found {
                split_version_of(info);
            }
            found
        }
        ReleaseFile::Arch => named_version(text, info, "Arch Linux", "arch"),
        ReleaseFile::Debian => named_version(text, info, "Debian GNU/Linux", "debian"),
        ReleaseFile::Slackware => named_version(text, info, "Slackware", "slackware"),
        ReleaseFile::LsbRelease => parse_lsb_release(text, info),
        ReleaseFile::Alpine => {
            set(info, "os_name", "Alpine Linux");
            set(info, "os_platform", "alpine");
            version_from_lines(text, info, match_alpine_version)
        }
    }
}

/// The distribution part of the row; false when no release file described the system.
fn release_info(p: &LinuxSysInfo, info: &mut Row) -> bool {
    let mut found = false;
    for file in OS_RELEASE_FILES {
        if let Some(text) = read_text(p, file) {
            found |= parse_release(ReleaseFile::OsRelease, &text, info);
        }
    }
    if found {
        if let Some(text) = read_text(p, CENTOS_RELEASE_FILE) {
            parse_release(ReleaseFile::Centos, &text, info);
        }
        return true;
    }
    LEGACY_RELEASE_FILES.iter().any(|&(kind, file)| {
        read_text(p, file).is_some_and(|text| parse_release(kind, &text, info))
    })
}

/// The kernel part of the row: for each field the `proc/sys/kernel` file (with
/// [`KernelSource::Files`]), or else `uname(2)`.
fn kernel_info(p: &LinuxSysInfo, row: &mut Row) {
    let uts = uname();
    if uts.is_none() {
        p.debug("uname() failed; the kernel fields come from the root's files only");
    }
    let from_tree = p.sources().kernel == KernelSource::Files;
    let fields: [(&str, &str, UnameField); 5] = [
        ("os_kernel_name", "ostype", |u| &u.sysname),
        ("hostname", "hostname", |u| &u.nodename),
        ("os_kernel_version", "version", |u| &u.version),
        ("architecture", "arch", |u| &u.machine),
        ("os_kernel_release", "osrelease", |u| &u.release),
    ];
    for (key, file, field) in fields {
        let from_file = if from_tree {
            read_text(p, &format!("/proc/sys/kernel/{file}"))
                .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
                .filter(|value| !value.is_empty())
        } else {
            None
        };
        if let Some(value) = from_file.or_else(|| uts.as_ref().map(|u| field(u).to_string())) {
            set(row, key, &value);
        }
    }
}

/// Picks one string out of [`Uname`].
type UnameField = fn(&Uname) -> &str;

/// The `uname(2)` strings.
struct Uname {
    sysname: String,
    nodename: String,
    release: String,
    version: String,
    machine: String,
}

fn uname() -> Option<Uname> {
    let mut raw = std::mem::MaybeUninit::<libc::utsname>::zeroed();
    // SAFETY: `raw` is a properly aligned, writable utsname; uname() only writes into it.
    if unsafe { libc::uname(raw.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: the struct was zero-initialised (a valid utsname: arrays of c_char) and
    // uname() succeeded, filling every field with a NUL-terminated string.
    let raw = unsafe { raw.assume_init() };
    Some(Uname {
        sysname: c_chars(&raw.sysname),
        nodename: c_chars(&raw.nodename),
        release: c_chars(&raw.release),
        version: c_chars(&raw.version),
        machine: c_chars(&raw.machine),
    })
}

/// A NUL-terminated `c_char` array as a string (lossy: uname strings are bytes).
fn c_chars(field: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .map(|&c| u8::from_ne_bytes(c.to_ne_bytes()))
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn read_text(p: &LinuxSysInfo, file: &str) -> Option<String> {
    p.read_text(file, READ_LIMIT)
}

fn set(row: &mut Row, key: &str, value: &str) {
    row.insert(key.to_string(), Value::String(value.to_string()));
}

fn get<'a>(row: &'a Row, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

/// Strips any of `chars` from both ends.
fn trim<'a>(s: &'a str, chars: &[char]) -> &'a str {
    s.trim_matches(|c| chars.contains(&c))
}

/// `KEY=value` files (os-release, SuSE-release): for each (file key, row key) mapping
/// whose row key is still unset, copies the file's value. Within one file the first
/// occurrence of a key counts; keys and values lose surrounding blanks and quotes.
/// Returns whether any row key was set.
fn fill_from_key_values(text: &str, mapping: &[(&str, &str)], info: &mut Row) -> bool {
    let mut values: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once('=') {
            let blanks = [' ', '"', '\t'];
            values
                .entry(trim(key, &blanks))
                .or_insert(trim(value, &blanks));
        }
    }
    let mut found = false;
    for &(file_key, row_key) in mapping {
        if info.contains_key(row_key) {
            continue;
        }
        if let Some(value) = values.get(file_key) {
            set(info, row_key, value);
            found = true;
        }
    }
    found
}

/// Sets `os_major`, `os_minor` and `os_patch` from `os_version`, if there is one.
fn split_version_of(info: &mut Row) {
    if let Some(version) = get(info, "os_version").map(str::to_string) {
        split_version(&version, info);
    }
}

/// Sets `os_major` from a version's leading digits, `os_minor` when they are followed
/// by `.digits`, and `os_patch` by a further `.digits`. Parts not found are left as
/// they were.
fn split_version(version: &str, info: &mut Row) {
    let mut rest = version;
    let keys = ["os_major", "os_minor", "os_patch"];
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix('.') {
                Some(r) => rest = r,
                None => return,
            }
        }
        let digits = leading_digits(rest);
        if digits.is_empty() {
            return;
        }
        set(info, key, digits);
        rest = &rest[digits.len()..];
    }
}

fn leading_digits(s: &str) -> &str {
    let end = s.bytes().take_while(u8::is_ascii_digit).count();
    &s[..end]
}

/// Formats whose only content is a version somewhere in the text; the name and platform
/// are fixed.
fn named_version(text: &str, info: &mut Row, name: &str, platform: &str) -> bool {
    set(info, "os_name", name);
    set(info, "os_platform", platform);
    version_from_lines(text, info, match_dotted_version)
}

/// Scans every line (trimmed of spaces): the last line where `matcher` finds a version
/// sets `os_version` (and major/minor/patch), the last parenthesised text sets
/// `os_codename`. Returns whether a version was found.
fn version_from_lines(text: &str, info: &mut Row, matcher: fn(&str) -> Option<&str>) -> bool {
    let mut found = false;
    for line in text.lines() {
        let line = trim(line, &[' ']);
        if let Some(version) = matcher(line) {
            found = true;
            set(info, "os_version", version);
            split_version(version, info);
        }
        if let Some(codename) = codename_in(line) {
            set(info, "os_codename", codename);
        }
    }
    found
}

/// The text inside the last `(` … last `)` of a line, trimmed; when the last `)` comes
/// before the last `(`, everything after that `(` (the agent's reading).
fn codename_in(line: &str) -> Option<&str> {
    let close = line.rfind(')')?;
    let open = line.rfind('(')?;
    let inner = if close > open {
        &line[open + 1..close]
    } else {
        &line[open + 1..]
    };
    Some(trim(inner, &[' ']))
}

/// The agent's `[0-9].*\.[0-9]*`: from the first digit that has a `.` somewhere after it
/// (on the same line) through the last such `.` and the digits right after it.
///
/// Linear in the line: `.` in the pattern does not cross a line terminator, so within
/// each stretch between terminators the first digit matches when the stretch's last dot
/// comes after it, and no later digit of the stretch can match when it does not.
fn match_dotted_version(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while from < bytes.len() {
        let stretch_end = bytes[from..]
            .iter()
            .position(|&c| c == b'\n' || c == b'\r')
            .map_or(bytes.len(), |i| from + i);
        let stretch = &bytes[from..stretch_end];
        if let (Some(first), Some(dot)) = (
            stretch.iter().position(u8::is_ascii_digit),
            stretch.iter().rposition(|&c| c == b'.'),
        ) {
            if dot > first {
                let (start, dot) = (from + first, from + dot);
                let end = dot + 1 + leading_digits(&line[dot + 1..]).len();
                return Some(&line[start..end]);
            }
        }
        from = stretch_end + 1;
    }
    None
}

/// The agent's Fedora pattern `[0-9]+\.*`: the first run of digits and any dots right
/// after it.
fn match_leading_number(line: &str) -> Option<&str> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let digits = leading_digits(&line[start..]).len();
    let dots = line[start + digits..]
        .bytes()
        .take_while(|&b| b == b'.')
        .count();
    Some(&line[start..start + digits + dots])
}

/// The agent's Alpine pattern `(?:[0-9]+\.)?(?:[0-9]+\.)?(?:[0-9]+)`: up to three
/// dot-separated numbers starting at the first digit.
fn match_alpine_version(line: &str) -> Option<&str> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let rest = &line[start..];
    // `digits.` at `at`: the position after the dot.
    let number_dot = |at: usize| {
        let n = leading_digits(&rest[at..]).len();
        (n > 0 && rest[at + n..].starts_with('.')).then_some(at + n + 1)
    };
    let number = |at: usize| {
        let n = leading_digits(&rest[at..]).len();
        (n > 0).then_some(at + n)
    };
    let end = number_dot(0)
        .and_then(|first| number_dot(first).and_then(number).or_else(|| number(first)))
        .or_else(|| number(0))?;
    Some(&rest[..end])
}

/// `NAME release VERSION (CODENAME)` on the first line.
fn parse_redhat(text: &str, info: &mut Row) -> bool {
    let Some(line) = text.lines().next() else {
        return false;
    };
    let mut found = false;
    if let Some(pos) = line.find("release") {
        set(info, "os_name", trim(&line[..pos], &[' ']));
        let rest = &line[pos + "release".len()..];
        found = true;
        if let Some(paren) = rest.find('(') {
            let full = trim(&rest[..paren], &[' ']);
            set(info, "os_version", full);
            // Split like `getline` on '.': no token after a trailing dot.
            let mut parts: Vec<&str> = full.split('.').collect();
            if parts.last() == Some(&"") {
                parts.pop();
            }
            if let Some(major) = parts.first() {
                set(info, "os_major", major);
            }
            if let Some(minor) = parts.get(1) {
                set(info, "os_minor", minor);
            }
            set(info, "os_codename", trim(&rest[paren..], &[' ', '(', ')']));
        }
    }
    set(info, "os_platform", "rhel");
    found
}

/// Ubuntu's `/etc/lsb-release`.
fn parse_lsb_release(text: &str, info: &mut Row) -> bool {
    const DESCRIPTION: &str = "DISTRIB_DESCRIPTION";
    const CODENAME: &str = "DISTRIB_CODENAME";
    let mut found = false;
    for line in text.lines() {
        let line = trim(line, &[' ']);
        let version = if line.starts_with(DESCRIPTION) {
            match_dotted_version(line)
        } else {
            None
        };
        if let Some(version) = version {
            set(info, "os_version", version);
            split_version(version, info);
            found = true;
        } else if let Some(codename) = line.strip_prefix(CODENAME) {
            set(info, "os_codename", trim(codename, &[' ', '=']));
            found = true;
        }
    }
    set(info, "os_name", "Ubuntu");
    set(info, "os_platform", "ubuntu");
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(kind: ReleaseFile, text: &str) -> (bool, Row) {
        let mut row = Row::new();
        let found = parse_release(kind, text, &mut row);
        (found, row)
    }

    fn s<'a>(row: &'a Row, key: &str) -> Option<&'a str> {
        get(row, key)
    }

    #[test]
    fn os_release_of_debian_12() {
        let text = include_str!("../../tests/fixtures/debian12/etc/os-release");
        let (found, row) = parsed(ReleaseFile::OsRelease, text);
        assert!(found);
        assert_eq!(s(&row, "os_name"), Some("Debian GNU/Linux"));
        // VERSION comes before VERSION_ID in the mapping, so it wins.
        assert_eq!(s(&row, "os_version"), Some("12 (bookworm)"));
        assert_eq!(s(&row, "os_major"), Some("12"));
        assert_eq!(s(&row, "os_minor"), None);
        assert_eq!(s(&row, "os_platform"), Some("debian"));
        assert_eq!(s(&row, "os_codename"), Some("bookworm"));
        assert_eq!(s(&row, "os_build"), None);
    }

    #[test]
    fn os_release_keys_already_set_are_kept_and_first_occurrence_wins() {
        let mut row = Row::new();
        set(&mut row, "os_name", "Kept");
        let text = "NAME=First\nNAME=Second\nID=\"x\"\nVERSION_ID= '1.2' \n";
        assert!(parse_release(ReleaseFile::OsRelease, text, &mut row));
        assert_eq!(s(&row, "os_name"), Some("Kept"));
        assert_eq!(s(&row, "os_platform"), Some("x"));
        // Single quotes are not stripped (the agent does not either).
        assert_eq!(s(&row, "os_version"), Some("'1.2'"));
        assert_eq!(s(&row, "os_major"), None);
        // Nothing new to set: not found.
        assert!(!parse_release(
            ReleaseFile::OsRelease,
            "NAME=Other\n",
            &mut row
        ));
    }

    #[test]
    fn version_split() {
        let mut row = Row::new();
        split_version("22.04.4 LTS (Jammy Jellyfish)", &mut row);
        assert_eq!(s(&row, "os_major"), Some("22"));
        assert_eq!(s(&row, "os_minor"), Some("04"));
        assert_eq!(s(&row, "os_patch"), Some("4"));
        let mut row = Row::new();
        split_version("7.", &mut row);
        assert_eq!(s(&row, "os_major"), Some("7"));
        assert_eq!(s(&row, "os_minor"), None);
        let mut row = Row::new();
        split_version("v1.2", &mut row);
        assert!(row.is_empty());
    }

    /// The pattern as first written (quadratic): the oracle of the linear version.
    fn dotted_version_quadratic(line: &str) -> Option<&str> {
        let bytes = line.as_bytes();
        for (start, b) in bytes.iter().enumerate() {
            if !b.is_ascii_digit() {
                continue;
            }
            let after = &bytes[start + 1..];
            let reach = after
                .iter()
                .position(|&c| c == b'\n' || c == b'\r')
                .unwrap_or(after.len());
            if let Some(dot) = after[..reach].iter().rposition(|&c| c == b'.') {
                let dot = start + 1 + dot;
                let end = dot + 1 + leading_digits(&line[dot + 1..]).len();
                return Some(&line[start..end]);
            }
        }
        None
    }

    #[test]
    fn dotted_version_matches_its_quadratic_oracle() {
        // Every string of up to 6 symbols over an alphabet with the interesting bytes.
        let alphabet = ['1', '.', '\r', 'a', '7'];
        let mut lines = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = lines
                .iter()
                .filter(|l| l.len() == lines.last().map_or(0, String::len))
                .flat_map(|l| alphabet.iter().map(move |c| format!("{l}{c}")))
                .collect();
            lines.extend(longer);
        }
        assert!(lines.len() > 15_000);
        for line in &lines {
            assert_eq!(
                match_dotted_version(line),
                dotted_version_quadratic(line),
                "{line:?}"
            );
        }
    }

    #[test]
    fn dotted_version_pattern() {
        assert_eq!(
            match_dotted_version("CentOS Linux release 7.9.2009 (Core)"),
            Some("7.9.2009")
        );
        assert_eq!(match_dotted_version("12.11"), Some("12.11"));
        assert_eq!(match_dotted_version("bookworm/sid"), None);
        assert_eq!(match_dotted_version("release 7 only"), None);
        // Greedy: through the last dot after the first digit.
        assert_eq!(match_dotted_version("v1 a.b.7x"), Some("1 a.b.7"));
        assert_eq!(match_dotted_version("1.\r2.3"), Some("1."));
    }

    #[test]
    fn fedora_and_alpine_patterns() {
        assert_eq!(
            match_leading_number("Fedora release 40 (Forty)"),
            Some("40")
        );
        assert_eq!(match_leading_number("release 8.. x"), Some("8.."));
        assert_eq!(match_leading_number("none"), None);
        assert_eq!(match_alpine_version("3.19.1"), Some("3.19.1"));
        assert_eq!(match_alpine_version("3.19.1.5"), Some("3.19.1"));
        assert_eq!(match_alpine_version("3.19."), Some("3.19"));
        assert_eq!(match_alpine_version("v3.x"), Some("3"));
        assert_eq!(match_alpine_version("edge"), None);
    }

    #[test]
    fn centos_release_refines_os_release() {
        let mut row = Row::new();
        let os_release = include_str!("../../tests/fixtures/centos7/etc/os-release");
        assert!(parse_release(ReleaseFile::OsRelease, os_release, &mut row));
        assert_eq!(s(&row, "os_version"), Some("7 (Core)"));
        let centos = include_str!("../../tests/fixtures/centos7/etc/centos-release");
        assert!(parse_release(ReleaseFile::Centos, centos, &mut row));
        assert_eq!(s(&row, "os_name"), Some("CentOS Linux"));
        assert_eq!(s(&row, "os_platform"), Some("centos"));
        assert_eq!(s(&row, "os_version"), Some("7.9.2009"));
        assert_eq!(s(&row, "os_major"), Some("7"));
        assert_eq!(s(&row, "os_minor"), Some("9"));
        assert_eq!(s(&row, "os_patch"), Some("2009"));
        assert_eq!(s(&row, "os_codename"), Some("Core"));
    }

    #[test]
    fn redhat_release() {
        let text = include_str!("../../tests/fixtures/legacy-rhel6/etc/redhat-release");
        let (found, row) = parsed(ReleaseFile::RedHat, text);
        assert!(found);
        assert_eq!(s(&row, "os_name"), Some("Red Hat Enterprise Linux Server"));
        assert_eq!(s(&row, "os_version"), Some("6.10"));
        assert_eq!(s(&row, "os_major"), Some("6"));
        assert_eq!(s(&row, "os_minor"), Some("10"));
        assert_eq!(s(&row, "os_codename"), Some("Santiago"));
        assert_eq!(s(&row, "os_platform"), Some("rhel"));
        // Without "release": platform only, not found.
        let (found, row) = parsed(ReleaseFile::RedHat, "Something else\n");
        assert!(!found);
        assert_eq!(s(&row, "os_platform"), Some("rhel"));
        assert_eq!(s(&row, "os_name"), None);
        // Empty version before the parenthesis: no major.
        let (found, row) = parsed(ReleaseFile::RedHat, "X release (y)");
        assert!(found);
        assert_eq!(s(&row, "os_version"), Some(""));
        assert_eq!(s(&row, "os_major"), None);
        assert!(!parsed(ReleaseFile::RedHat, "").0);
    }

    #[test]
    fn lsb_release() {
        let text = include_str!("../../tests/fixtures/legacy-ubuntu1204/etc/lsb-release");
        let (found, row) = parsed(ReleaseFile::LsbRelease, text);
        assert!(found);
        assert_eq!(s(&row, "os_name"), Some("Ubuntu"));
        assert_eq!(s(&row, "os_platform"), Some("ubuntu"));
        assert_eq!(s(&row, "os_version"), Some("12.04.5"));
        assert_eq!(s(&row, "os_major"), Some("12"));
        assert_eq!(s(&row, "os_minor"), Some("04"));
        assert_eq!(s(&row, "os_patch"), Some("5"));
        assert_eq!(s(&row, "os_codename"), Some("precise"));
    }

    #[test]
    fn suse_release() {
        let text = include_str!("../../tests/fixtures/legacy-suse/etc/SuSE-release");
        let (found, row) = parsed(ReleaseFile::Suse, text);
        assert!(found);
        assert_eq!(s(&row, "os_name"), Some("SuSE Linux"));
        assert_eq!(s(&row, "os_version"), Some("13.2"));
        assert_eq!(s(&row, "os_major"), Some("13"));
        assert_eq!(s(&row, "os_minor"), Some("2"));
        assert_eq!(s(&row, "os_codename"), Some("Harlequin"));
        // A codename without a version must not invent one.
        let (found, row) = parsed(ReleaseFile::Suse, "CODENAME = X\n");
        assert!(found);
        assert_eq!(s(&row, "os_version"), None);
        assert_eq!(s(&row, "os_major"), None);
    }

    #[test]
    fn single_line_formats() {
        let (found, row) = parsed(ReleaseFile::Debian, "bookworm/sid\n");
        assert!(!found);
        assert_eq!(s(&row, "os_name"), Some("Debian GNU/Linux"));
        let (found, row) = parsed(ReleaseFile::Debian, "6.0.10\n");
        assert!(found);
        assert_eq!(s(&row, "os_patch"), Some("10"));
        let (found, row) = parsed(ReleaseFile::Fedora, "Fedora release 8 (Werewolf)\n");
        assert!(found);
        assert_eq!(s(&row, "os_version"), Some("8"));
        assert_eq!(s(&row, "os_codename"), Some("Werewolf"));
        let (found, row) = parsed(ReleaseFile::Arch, "");
        assert!(!found);
        assert_eq!(s(&row, "os_platform"), Some("arch"));
        let (found, row) = parsed(ReleaseFile::Alpine, "3.19.1\n");
        assert!(found);
        assert_eq!(s(&row, "os_minor"), Some("19"));
    }

    #[test]
    fn codename_reading() {
        assert_eq!(codename_in("x (Core)"), Some("Core"));
        assert_eq!(codename_in("x ( a b )"), Some("a b"));
        assert_eq!(codename_in("a) b (c d"), Some("c d"));
        assert_eq!(codename_in("no parens"), None);
    }
}
