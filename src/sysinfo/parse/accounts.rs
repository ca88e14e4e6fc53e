//! The account databases: `/etc/passwd`, `/etc/group` and `/etc/shadow` lines as glibc's
//! `fgetpwent`, `fgetgrent` and `fgetspent` read them. Text in, entries out, no I/O.
//!
//! Shadow values follow the Wazuh agent's shadow source: the status is `empty`, `not_set`
//! (`!!`), `locked` (`!…`, `*…`, `x…`) or `active`, and the hash algorithm is the id
//! between the first two `$` of a crypt(3) hash (`6`, `y`, `2b`, …), empty otherwise.

/// How the agent joins the names of a list column (`group_users`, `user_groups`).
pub const LIST_SEPARATOR: &str = ":";

/// What a parse of an account file found: its entries and how many lines it skipped as
/// malformed (comments and blank lines are not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    pub entries: Vec<T>,
    pub skipped: usize,
}

/// Every entry of an account file's text, `parse` applied to each entry line.
fn parse_lines<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Parsed<T> {
    let mut parsed = Parsed {
        entries: Vec::new(),
        skipped: 0,
    };
    for line in account_lines(text) {
        match parse(line) {
            Some(entry) => parsed.entries.push(entry),
            None => parsed.skipped += 1,
        }
    }
    parsed
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    /// The user names of the fourth field, in file order.
    pub members: Vec<String>,
}

/// One `/etc/group` line (`name:password:gid:member,member`), as glibc reads it: the
/// gid must be a decimal number, members are trimmed and empty ones dropped. `None` for
/// a malformed line, and for NIS compat lines (`+`/`-`), which name no local group.
pub fn parse_group_line(line: &str) -> Option<GroupEntry> {
    let mut fields = line.splitn(4, ':');
    let name = fields.next()?;
    let _password = fields.next()?;
    let gid = parse_id(fields.next()?)?;
    let members = fields.next().unwrap_or("");
    if name.is_empty() || name.starts_with('+') || name.starts_with('-') {
        return None;
    }
    let members = members
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    Some(GroupEntry {
        name: name.to_string(),
        gid,
        members,
    })
}

/// Every group of an `/etc/group` text, malformed lines skipped.
pub fn parse_group(text: &str) -> Parsed<GroupEntry> {
    parse_lines(text, parse_group_line)
}

/// The lines of an account file that hold an entry: blank lines and `#` comments, which
/// glibc passes over, are left out.
pub fn account_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| {
        let t = l.trim_start();
        !t.is_empty() && !t.starts_with('#')
    })
}

/// A uid or gid field as glibc's `strtoul` in base 10 reads it (leading blanks allowed,
/// nothing after the digits).
pub fn parse_id(field: &str) -> Option<u32> {
    let digits = field.trim_start();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

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
    parse_lines(text, parse_passwd_line)
}

/// One `/etc/shadow` entry. Numeric fields are days as in the file; an empty field is
/// -1, as glibc's `getspent` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    pub name: String,
    pub password: String,
    /// Days since the epoch of the last change (0: must change at next login).
    pub last_change: i64,
    pub min: i64,
    pub max: i64,
    pub warning: i64,
    pub inactive: i64,
    /// Days since the epoch when the account expires.
    pub expire: i64,
}

impl ShadowEntry {
    /// `empty`, `not_set`, `locked` or `active`, as the agent reports it.
    pub fn password_status(&self) -> &'static str {
        let p = self.password.as_str();
        if p.is_empty() {
            "empty"
        } else if p == "!!" {
            "not_set"
        } else if p.starts_with(['!', '*', 'x']) {
            "locked"
        } else {
            "active"
        }
    }

    /// The crypt(3) id of the hash (`$<id>$…`, id made of letters, digits and `_`), or ""
    /// when the field does not start with one (DES hashes, locked or empty passwords).
    pub fn hash_algorithm(&self) -> &str {
        let id = self
            .password
            .strip_prefix('$')
            .and_then(|rest| rest.split_once('$'))
            .map(|(id, _)| id)
            .unwrap_or("");
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            id
        } else {
            ""
        }
    }
}

/// A numeric shadow field as glibc reads it: empty is -1, otherwise a decimal number.
fn number(field: &str) -> Option<i64> {
    if field.is_empty() {
        return Some(-1);
    }
    let digits = field.trim_start();
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One `name:password:lastchg:min:max:warn:inactive:expire:flag` line; `None` when it is
/// malformed (fewer than eight fields, a non-numeric number).
pub fn parse_shadow_line(line: &str) -> Option<ShadowEntry> {
    let fields: Vec<&str> = line.splitn(9, ':').collect();
    if fields.len() < 8 {
        return None;
    }
    let name = fields.first()?;
    if name.is_empty() || name.starts_with('+') || name.starts_with('-') {
        return None;
    }
    let num = |i: usize| fields.get(i).and_then(|f| number(f));
    Some(ShadowEntry {
        name: name.to_string(),
        password: fields.get(1)?.to_string(),
        last_change: num(2)?,
        min: num(3)?,
        max: num(4)?,
        warning: num(5)?,
        inactive: num(6)?,
        expire: num(7)?,
    })
}

/// Every entry of a shadow text, malformed lines skipped.
pub fn parse_shadow(text: &str) -> Parsed<ShadowEntry> {
    parse_lines(text, parse_shadow_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_lines_as_glibc_reads_them() {
        let text = "root:x:0:\n# comment\n\nadm:x:4:syslog,alice\nsp:x:5: bob , carol ,\n\
                    bad:x:z:\nshort:x:6\n+nis\nlast:x:7:a,,b\n";
        let parsed = parse_group(text);
        let names: Vec<_> = parsed.entries.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["root", "adm", "sp", "short", "last"]);
        assert_eq!(parsed.skipped, 2);
        assert_eq!(parsed.entries[1].members, ["syslog", "alice"]);
        assert_eq!(parsed.entries[2].members, ["bob", "carol"]);
        assert!(parsed.entries[3].members.is_empty());
        assert_eq!(parsed.entries[4].members, ["a", "b"]);
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id("0"), Some(0));
        assert_eq!(parse_id(" 13"), Some(13));
        assert_eq!(parse_id("4294967295"), Some(u32::MAX));
        assert_eq!(parse_id("4294967296"), None);
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("0x10"), None);
        assert_eq!(parse_id(""), None);
    }

    #[test]
    fn passwd_lines_as_glibc_reads_them() {
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
    fn passwd_garbage_is_skipped() {
        let parsed = parse_passwd("\u{0}\u{1}::::\n\u{fffd}\u{fffd}:x:1:1:a:/b:/c\n:::\n");
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.skipped, 2);
    }

    #[test]
    fn shadow_lines_as_glibc_reads_them() {
        let text = "root:$y$j9T$abc:19000:0:99999:7:::\nbob:!:19001::::::\n\
                    bad:x:zz:0:1:2:3:4:\nshort:x\nlast:*:1:2:3:4:5:6:\n";
        let parsed = parse_shadow(text);
        assert_eq!(parsed.skipped, 2);
        let e = &parsed.entries;
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[0].last_change, e[0].min, e[0].max, e[0].warning),
            (19000, 0, 99999, 7)
        );
        assert_eq!((e[0].inactive, e[0].expire), (-1, -1));
        assert_eq!((e[1].last_change, e[1].min, e[1].expire), (19001, -1, -1));
        assert_eq!(
            (e[2].min, e[2].max, e[2].warning, e[2].inactive, e[2].expire),
            (2, 3, 4, 5, 6)
        );
    }

    #[test]
    fn status_and_algorithm() {
        let entry = |pw: &str| ShadowEntry {
            name: "u".into(),
            password: pw.into(),
            last_change: 0,
            min: 0,
            max: 0,
            warning: 0,
            inactive: 0,
            expire: 0,
        };
        let cases = [
            ("", "empty", ""),
            ("!!", "not_set", ""),
            ("!", "locked", ""),
            ("!$6$salt$hash", "locked", ""),
            ("*", "locked", ""),
            ("x", "locked", ""),
            ("$6$salt$hash", "active", "6"),
            ("$y$j9T$salt$hash", "active", "y"),
            ("$2b$10$hash", "active", "2b"),
            ("$argon2id$v=19$m", "active", "argon2id"),
            ("$$x", "active", ""),
            ("$6", "active", ""),
            ("abcDESxyz12", "active", ""),
        ];
        for (pw, status, alg) in cases {
            assert_eq!(entry(pw).password_status(), status, "{pw}");
            assert_eq!(entry(pw).hash_algorithm(), alg, "{pw}");
        }
    }
}
