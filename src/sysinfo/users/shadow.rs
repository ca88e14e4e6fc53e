//! `/etc/shadow`: password aging and the state of each account's password.
//!
//! Only root can read it; without it the password columns of every user stay unknown.
//! The values follow the Wazuh agent's shadow source: the status is `empty`, `not_set`
//! (`!!`), `locked` (`!…`, `*…`, `x…`) or `active`, and the hash algorithm is the id
//! between the first two `$` of a crypt(3) hash (`6`, `y`, `2b`, …), empty otherwise.

use crate::sysinfo::groups::{account_lines, Parsed};

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
    let mut parsed = Parsed {
        entries: Vec::new(),
        skipped: 0,
    };
    for line in account_lines(text) {
        match parse_shadow_line(line) {
            Some(entry) => parsed.entries.push(entry),
            None => parsed.skipped += 1,
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_glibc_reads_them() {
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
