//! `/etc/passwd`: the local accounts, read as glibc's `fgetpwent` reads them.
//!
//! Shared by the users collector (one row per account), the groups collector (users
//! whose primary group a group is) and the browser-extensions collector (home
//! directories and their owners).

use crate::sysinfo::groups::{account_lines, parse_id, Parsed, READ_LIMIT};
use crate::sysinfo::LinuxSysInfo;

/// One `/etc/passwd` account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The GECOS field (full name and contact details).
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

/// One `name:password:uid:gid:gecos:home:shell` line. As glibc: uid and gid must be
/// decimal numbers; missing trailing fields are empty; the shell is the rest of the line.
/// `None` for a malformed line, an empty name, and NIS compat lines (`+`/`-`).
pub fn parse_passwd_line(line: &str) -> Option<PasswdEntry> {
    let mut fields = line.splitn(7, ':');
    let name = fields.next()?;
    let _password = fields.next()?;
    let uid = parse_id(fields.next()?)?;
    let gid = parse_id(fields.next()?)?;
    if name.is_empty() || name.starts_with('+') || name.starts_with('-') {
        return None;
    }
    let mut rest = || fields.next().unwrap_or("").to_string();
    Some(PasswdEntry {
        name: name.to_string(),
        uid,
        gid,
        gecos: rest(),
        home: rest(),
        shell: rest(),
    })
}

/// Every account of a passwd text, malformed lines skipped.
pub fn parse_passwd(text: &str) -> Parsed<PasswdEntry> {
    let mut parsed = Parsed {
        entries: Vec::new(),
        skipped: 0,
    };
    for line in account_lines(text) {
        match parse_passwd_line(line) {
            Some(entry) => parsed.entries.push(entry),
            None => parsed.skipped += 1,
        }
    }
    parsed
}

/// Reads and parses `<root>/etc/passwd`; an unreadable file is an empty database.
pub fn read_passwd(p: &LinuxSysInfo) -> Vec<PasswdEntry> {
    match p.read_text("/etc/passwd", READ_LIMIT) {
        Some(text) => parse_checked(p, &text),
        None => Vec::new(),
    }
}

/// Parses a passwd text, logging how many lines were skipped.
pub(crate) fn parse_checked(p: &LinuxSysInfo, text: &str) -> Vec<PasswdEntry> {
    let parsed = parse_passwd(text);
    if parsed.skipped > 0 {
        p.debug(&format!(
            "/etc/passwd: {} malformed line(s) skipped",
            parsed.skipped
        ));
    }
    parsed.entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_glibc_reads_them() {
        // The same lines fgetpwent was run on: it keeps root, few, six, extra, lead,
        // last (and an empty name, which no row can use).
        let text = "root:x:0:0:root:/root:/bin/bash\n# comment\n\n  \nshort:x:5\n\
                    nogid:x:7::g:/h:/s\nfew:x:8:8:gecos\nsix:x:9:9:g:/h\n\
                    extra:x:10:10:g:/h:/bin/sh:more\nneg:x:-1:3:g:/h:/s\n\
                    big:x:4294967296:3:g:/h:/s\n:x:12:12:g:/h:/s\nhex:x:0x10:1:g:/h:/s\n\
                    lead: x:13: 13:g:/h:/s\nlast:x:14:14:g:/h:/s\r\n";
        let parsed = parse_passwd(text);
        let names: Vec<_> = parsed.entries.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["root", "few", "six", "extra", "lead", "last"]);
        assert_eq!(parsed.skipped, 6);
        let few = &parsed.entries[1];
        assert_eq!((few.uid, few.gid), (8, 8));
        assert_eq!((few.gecos.as_str(), few.home.as_str()), ("gecos", ""));
        assert_eq!(parsed.entries[3].shell, "/bin/sh:more");
        assert_eq!((parsed.entries[4].uid, parsed.entries[4].gid), (13, 13));
        assert_eq!(parsed.entries[5].shell, "/s");
    }

    #[test]
    fn garbage_is_skipped() {
        let parsed = parse_passwd("\u{0}\u{1}::::\n\u{fffd}\u{fffd}:x:1:1:a:/b:/c\n:::\n");
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.skipped, 2);
    }
}
