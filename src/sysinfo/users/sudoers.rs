//! sudoers(5): which users have a rule of their own, for the `user_roles` column.
//!
//! The agent reads `/etc/sudoers` and the files it includes (`@include`, `#include`,
//! `@includedir`, `#includedir`; at most 128 levels deep; in an included directory only
//! names without a `.` and not ending in `~`), takes the first word of every rule line
//! (its header: a user list, `%group`, `Defaults…`, an alias definition) and reports
//! `sudo` as the role of a user named in a header. Continuation lines (ending in `\`)
//! belong to the previous rule and have no header of their own.

use std::collections::HashSet;
use std::path::Path;

use crate::sysinfo::LinuxSysInfo;

/// sudoers(5): no more than 128 files may be nested.
const MAX_NESTING: usize = 128;
/// A sudoers file is a few kilobytes; nothing real is bigger.
const READ_LIMIT: u64 = 4 << 20;

/// One rule line of a sudoers file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SudoersRule {
    /// The first word of the line.
    pub header: String,
    /// The rest of the line, continuation lines appended.
    pub details: String,
}

/// What one sudoers file holds: its rules, and the files and directories it includes
/// (as written; relative ones are relative to the including file's directory).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SudoersFile {
    pub rules: Vec<SudoersRule>,
    pub includes: Vec<String>,
    pub include_dirs: Vec<String>,
}

/// Parses the text of one sudoers file.
pub fn parse_sudoers(text: &str) -> SudoersFile {
    let mut file = SudoersFile::default();
    let mut continues = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if continues {
            continues = line.ends_with('\\');
            let part = line.strip_suffix('\\').unwrap_or(line).trim();
            if let Some(last) = file.rules.last_mut() {
                last.details.push(' ');
                last.details.push_str(part);
            }
            continue;
        }
        let (header, details) = match line.split_once([' ', '\t', '\x0b']) {
            Some((header, rest)) => (header, rest.trim()),
            None => (line, ""),
        };
        let include = header == "#include" || header == "@include";
        let include_dir = header == "#includedir" || header == "@includedir";
        if line.starts_with('#') && !include && !include_dir {
            continue;
        }
        if details.is_empty() && (include || include_dir) {
            continue;
        }
        let mut details = details.to_string();
        if !include && !include_dir && line.ends_with('\\') {
            continues = true;
            if details.ends_with('\\') {
                details.pop();
                details = details.trim().to_string();
            }
        }
        if include {
            file.includes.push(details.clone());
        }
        if include_dir {
            file.include_dirs.push(details.clone());
        }
        file.rules.push(SudoersRule {
            header: header.to_string(),
            details,
        });
    }
    file
}

/// Whether `user` is named in a rule header. A header names users as a comma-separated
/// list (`alice,bob`); `%group`, `Defaults…`, aliases and negations name nobody here.
pub fn header_names_user(header: &str, user: &str) -> bool {
    !user.is_empty() && header.split(',').any(|item| item.trim() == user)
}

/// Every rule of `<root>/etc/sudoers` and the files it includes.
pub fn read_rules(p: &LinuxSysInfo) -> Vec<SudoersRule> {
    let mut rules = Vec::new();
    let mut visiting = HashSet::new();
    read_file(p, "/etc/sudoers", 1, &mut visiting, &mut rules);
    rules
}

/// `target` resolved against the directory of `from` when relative (host paths).
fn resolve(from: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_string();
    }
    let dir = Path::new(from).parent().unwrap_or(Path::new("/"));
    dir.join(target).to_string_lossy().into_owned()
}

fn read_file(
    p: &LinuxSysInfo,
    file: &str,
    level: usize,
    visiting: &mut HashSet<String>,
    rules: &mut Vec<SudoersRule>,
) {
    if level > MAX_NESTING || !visiting.insert(file.to_string()) {
        p.debug(&format!("sudoers: {file} included recursively; skipped"));
        return;
    }
    let path = p.path(file);
    if !path.is_file() {
        visiting.remove(file);
        return;
    }
    let Some(text) = p.read_text(file, READ_LIMIT) else {
        visiting.remove(file);
        return;
    };
    let parsed = parse_sudoers(&text);
    rules.extend(parsed.rules);
    for include in &parsed.includes {
        read_file(p, &resolve(file, include), level + 1, visiting, rules);
    }
    for dir in &parsed.include_dirs {
        let dir = resolve(file, dir);
        let Ok(listing) = std::fs::read_dir(p.path(&dir)) else {
            continue;
        };
        let mut names: Vec<String> = listing
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && !n.contains('.') && !n.ends_with('~'))
            .collect();
        names.sort();
        for name in names {
            let child = Path::new(&dir).join(name).to_string_lossy().into_owned();
            read_file(p, &child, level + 1, visiting, rules);
        }
    }
    visiting.remove(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_default_file() {
        // /etc/sudoers of Debian 12's sudo package (comments shortened).
        let text = "#\n# This file MUST be edited with the 'visudo' command as root.\n#\n\
            Defaults\tenv_reset\nDefaults\tmail_badpass\n\
            Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n\
            Defaults\tuse_pty\n\n# User privilege specification\nroot\tALL=(ALL:ALL) ALL\n\n\
            # Allow members of group sudo to execute any command\n%sudo\tALL=(ALL:ALL) ALL\n\n\
            # See sudoers(5) for more information on \"@include\" directives:\n\n\
            @includedir /etc/sudoers.d\n";
        let file = parse_sudoers(text);
        let headers: Vec<_> = file.rules.iter().map(|r| r.header.as_str()).collect();
        assert_eq!(
            headers,
            [
                "Defaults",
                "Defaults",
                "Defaults",
                "Defaults",
                "root",
                "%sudo",
                "@includedir"
            ]
        );
        assert_eq!(file.include_dirs, ["/etc/sudoers.d"]);
        assert_eq!(file.rules[4].details, "ALL=(ALL:ALL) ALL");
    }

    #[test]
    fn continuations_includes_and_comments() {
        let text = "alice,bob ALL = \\\n   /usr/bin/apt, \\\n  /usr/bin/systemctl\ncarol ALL=ALL\n\
                    #include extra\n#includedir\n# a comment\n";
        let file = parse_sudoers(text);
        assert_eq!(file.rules.len(), 3);
        assert_eq!(file.rules[0].header, "alice,bob");
        assert_eq!(
            file.rules[0].details,
            "ALL = /usr/bin/apt, /usr/bin/systemctl"
        );
        assert_eq!(file.rules[1].header, "carol");
        assert_eq!(file.includes, ["extra"]);
        assert!(file.include_dirs.is_empty());
    }

    #[test]
    fn header_matching() {
        assert!(header_names_user("root", "root"));
        assert!(header_names_user("alice,bob", "bob"));
        assert!(!header_names_user("root", "roo"));
        assert!(!header_names_user("%sudo", "sudo"));
        assert!(!header_names_user("Defaults:alice", "alice"));
        assert!(!header_names_user("root", ""));
    }

    #[test]
    fn relative_includes() {
        assert_eq!(resolve("/etc/sudoers", "sudoers.d"), "/etc/sudoers.d");
        assert_eq!(resolve("/etc/sudoers", "/x/y"), "/x/y");
    }
}
