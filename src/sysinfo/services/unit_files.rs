//! Service units from the unit files on disk, for when systemd cannot be asked.
//!
//! The unit directories are searched in systemd's order of precedence (`/etc`, `/run`,
//! `/usr/local/lib`, `/usr/lib`, `/lib`; the first file of a name wins, drop-ins
//! `<unit>.d/*.conf` apply on top). The unit file state is worked out as
//! `systemctl is-enabled` does from the same files:
//! - `masked`: the unit file is a link to `/dev/null`, or empty;
//! - `enabled` / `enabled-runtime`: a link to the unit in a `*.wants/`, `*.requires/`
//!   or `*.upholds/` directory of `/etc/systemd/system` / `/run/systemd/system`, or an
//!   alias link to it there;
//! - otherwise from its `[Install]` section: `disabled` (it has `WantedBy=`,
//!   `RequiredBy=`, `UpheldBy=` or `Alias=`), `indirect` (only `Also=`), `static` (none).
//!
//! Templates (`getty@.service`) are not units; their instances linked in a `.wants/`
//! directory (`getty@tty1.service`) are, with the template's file. Alias names are not
//! units of their own. The runtime columns (state, sub-state, job) stay unknown; the
//! description falls back to the unit name, as systemd's does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{object_path, Unit};
use crate::sysinfo::LinuxSysInfo;

/// The unit directories, highest precedence first.
pub const UNIT_DIRS: [&str; 5] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
/// A unit file is a few kilobytes.
const READ_LIMIT: u64 = 1 << 20;
/// Links followed before giving up on a unit file.
const MAX_LINKS: usize = 8;

/// What the collector reads from a unit file and its drop-ins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitSettings {
    pub description: Option<String>,
    pub user: Option<String>,
    /// `[Install]` has `WantedBy=`, `RequiredBy=`, `UpheldBy=` or `Alias=`.
    pub installable: bool,
    /// `[Install]` has `Also=`.
    pub also: bool,
}

impl UnitSettings {
    /// Applies one unit file or drop-in (later assignments win; an empty assignment
    /// resets a setting).
    pub fn apply(&mut self, text: &str) {
        let mut section = String::new();
        for line in logical_lines(text) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                section = line.trim_matches(['[', ']']).to_string();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let value_or_reset = (!value.is_empty()).then(|| value.to_string());
            match (section.as_str(), key) {
                ("Unit", "Description") => self.description = value_or_reset,
                ("Service", "User") => self.user = value_or_reset,
                ("Install", "WantedBy" | "RequiredBy" | "UpheldBy" | "Alias")
                    if !value.is_empty() =>
                {
                    self.installable = true;
                }
                ("Install", "Also") if !value.is_empty() => self.also = true,
                _ => {}
            }
        }
    }
}

/// The lines of a unit file with `\`-continued lines joined (the backslash becomes a
/// space, as systemd reads them); comment lines inside a continuation are dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let raw = raw.trim_end_matches('\r');
        if let Some(cur) = current.as_mut() {
            let t = raw.trim_start();
            if t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            match raw.strip_suffix('\\') {
                Some(part) => {
                    cur.push_str(part);
                    cur.push(' ');
                }
                None => {
                    cur.push_str(raw);
                    out.extend(current.take());
                }
            }
            continue;
        }
        match raw.strip_suffix('\\') {
            Some(part) if !raw.trim_start().starts_with(['#', ';']) => {
                current = Some(format!("{part} "));
            }
            _ => out.push(raw.to_string()),
        }
    }
    out.extend(current);
    out
}

/// `%` specifiers of a unit name that need no host lookup: `%n` `%N` `%p` `%P` `%i` `%I`
/// `%%`; others are left as written.
pub fn expand_specifiers(value: &str, unit: &str) -> String {
    let stem = unit.strip_suffix(".service").unwrap_or(unit);
    let (prefix, instance) = match stem.split_once('@') {
        Some((p, i)) => (p, i),
        None => (stem, ""),
    };
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push_str(unit),
            Some('N') => out.push_str(stem),
            Some('p') => out.push_str(prefix),
            Some('P') => out.push_str(&unescape(prefix)),
            Some('i') => out.push_str(instance),
            Some('I') => out.push_str(&unescape(instance)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// systemd's unit-name unescaping: `-` is `/`, `\xNN` a byte.
fn unescape(s: &str) -> String {
    let mut bytes = Vec::with_capacity(s.len());
    let raw = s.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let b = raw.get(i).copied().unwrap_or(0);
        if b == b'-' {
            bytes.push(b'/');
            i += 1;
            continue;
        }
        if b == b'\\' && raw.get(i + 1) == Some(&b'x') {
            let hex = raw
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                bytes.push(v);
                i += 4;
                continue;
            }
        }
        bytes.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A file of a unit directory, as found.
#[derive(Debug, Clone)]
struct Found {
    /// The directory (host path) it is in.
    dir: &'static str,
    /// Where a link points (as written), `None` for a regular file.
    link: Option<PathBuf>,
    /// A regular file of size 0, which systemd treats as masked.
    empty: bool,
}

/// The template name of an instance (`getty@tty1.service` → `getty@.service`).
fn template_of(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".service")?;
    let (prefix, instance) = stem.split_once('@')?;
    (!instance.is_empty()).then(|| format!("{prefix}@.service"))
}

fn is_template(name: &str) -> bool {
    name.strip_suffix(".service")
        .is_some_and(|stem| stem.ends_with('@'))
}

/// The entries of a directory below the root, sorted by name; empty when unreadable.
fn list_dir(p: &LinuxSysInfo, dir: &str) -> Vec<(String, std::fs::FileType)> {
    let Ok(listing) = std::fs::read_dir(p.path(dir)) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = listing
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some((name, e.file_type().ok()?))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// Reads the unit file at host path `file` below the root, following links (absolute
/// targets are taken below the root too).
fn read_unit_file(p: &LinuxSysInfo, file: &Path) -> Option<String> {
    let mut current = file.to_path_buf();
    for _ in 0..MAX_LINKS {
        let below = p.path(&current.to_string_lossy());
        match std::fs::symlink_metadata(&below) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&below).ok()?;
                current = if target.is_absolute() {
                    target
                } else {
                    current.parent().unwrap_or(Path::new("/")).join(target)
                };
            }
            Ok(m) if m.is_file() => {
                return p.read_text(&current.to_string_lossy(), READ_LIMIT);
            }
            _ => return None,
        }
    }
    None
}

/// Every service unit found in the unit files below the root.
pub fn list_units(p: &LinuxSysInfo) -> Vec<Unit> {
    // The winning file of every unit name, and the names linked in dependency
    // directories (`*.wants/` …) with the directory they were found under.
    let mut files: BTreeMap<String, Found> = BTreeMap::new();
    let mut wanted: HashMap<String, &'static str> = HashMap::new();
    let mut aliased: HashMap<String, &'static str> = HashMap::new();
    let mut dropin_dirs: HashMap<String, Vec<&'static str>> = HashMap::new();
    let mut seen_dirs = HashSet::new();

    for dir in UNIT_DIRS {
        // /lib is /usr/lib on merged-/usr systems: read such a directory once.
        let canonical = std::fs::canonicalize(p.path(dir)).ok();
        if let Some(c) = canonical {
            if !seen_dirs.insert(c) {
                continue;
            }
        }
        for (name, ty) in list_dir(p, dir) {
            if ty.is_dir() {
                if let Some(unit) = name.strip_suffix(".d") {
                    if unit.ends_with(".service") {
                        dropin_dirs.entry(unit.to_string()).or_default().push(dir);
                    }
                } else if name.ends_with(".wants")
                    || name.ends_with(".requires")
                    || name.ends_with(".upholds")
                {
                    for (dep, _) in list_dir(p, &format!("{dir}/{name}")) {
                        if dep.ends_with(".service") {
                            let best = wanted.entry(dep).or_insert(dir);
                            if precedence(dir) < precedence(best) {
                                *best = dir;
                            }
                        }
                    }
                }
                continue;
            }
            if !name.ends_with(".service") || files.contains_key(&name) {
                continue;
            }
            let link = if ty.is_symlink() {
                std::fs::read_link(p.path(&format!("{dir}/{name}"))).ok()
            } else {
                None
            };
            // An alias: a link whose target has another name.
            if let Some(target) = &link {
                let target_name = target.file_name().map(|n| n.to_string_lossy().into_owned());
                if target.as_os_str() != "/dev/null" {
                    if let Some(target_name) = target_name.filter(|t| *t != name) {
                        aliased.entry(target_name).or_insert(dir);
                        continue;
                    }
                }
            }
            let empty = link.is_none()
                && std::fs::metadata(p.path(&format!("{dir}/{name}"))).is_ok_and(|m| m.len() == 0);
            files.insert(name, Found { dir, link, empty });
        }
    }

    // Instances linked in dependency directories whose template has a file.
    let mut names: Vec<String> = files.keys().filter(|n| !is_template(n)).cloned().collect();
    for dep in wanted.keys() {
        if files.contains_key(dep) {
            continue;
        }
        if let Some(t) = template_of(dep) {
            if files.contains_key(&t) {
                names.push(dep.clone());
            }
        }
    }
    names.sort();
    names.dedup();

    let mut units = Vec::with_capacity(names.len());
    for name in names {
        let template =
            template_of(&name).filter(|t| !files.contains_key(&name) && files.contains_key(t));
        let file_name = template.as_deref().unwrap_or(&name);
        let Some(found) = files.get(file_name) else {
            continue;
        };
        let fragment = format!("{}/{}", found.dir, file_name);
        let masked = found.empty
            || found
                .link
                .as_deref()
                .is_some_and(|l| l.as_os_str() == "/dev/null");

        let mut settings = UnitSettings::default();
        if !masked {
            match read_unit_file(p, Path::new(&fragment)) {
                Some(text) => settings.apply(&text),
                None => p.debug(&format!("cannot read unit file {fragment}")),
            }
            for conf in dropins(p, &name, template.as_deref(), &dropin_dirs) {
                if let Some(text) = p.read_text(&conf, READ_LIMIT) {
                    settings.apply(&text);
                }
            }
        }

        let linked = [wanted.get(&name), aliased.get(&name)]
            .into_iter()
            .flatten()
            .map(|d| precedence(d))
            .min();
        let state = if masked {
            "masked"
        } else if linked == Some(precedence("/etc/systemd/system")) {
            "enabled"
        } else if linked == Some(precedence("/run/systemd/system")) {
            "enabled-runtime"
        } else if template.is_some() {
            "static"
        } else if settings.installable {
            "disabled"
        } else if settings.also {
            "indirect"
        } else {
            "static"
        };

        let description = settings
            .description
            .map(|d| expand_specifiers(&d, &name))
            .unwrap_or_else(|| name.clone());
        let user = settings
            .user
            .map(|u| expand_specifiers(&u, &name))
            .unwrap_or_default();
        units.push(Unit {
            object_path: object_path(&name),
            id: name,
            description,
            load_state: if masked { "masked" } else { "loaded" }.to_string(),
            active_state: " ".into(),
            sub_state: " ".into(),
            following: " ".into(),
            job_id: 0,
            job_type: " ".into(),
            job_path: " ".into(),
            fragment_path: fragment,
            source_path: String::new(),
            user,
            unit_file_state: state.to_string(),
        });
    }
    units
}

/// Index of a unit directory in [`UNIT_DIRS`] (lower wins).
fn precedence(dir: &str) -> usize {
    UNIT_DIRS
        .iter()
        .position(|d| *d == dir)
        .unwrap_or(UNIT_DIRS.len())
}

/// The drop-in files of a unit (host paths), in the order they apply: by file name, the
/// template's first, a name in a higher-precedence directory hiding the same name below.
fn dropins(
    p: &LinuxSysInfo,
    name: &str,
    template: Option<&str>,
    dirs: &HashMap<String, Vec<&'static str>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for level in template.into_iter().chain(std::iter::once(name)) {
        let mut confs: BTreeMap<String, String> = BTreeMap::new();
        for dir in dirs.get(level).into_iter().flatten() {
            let d = format!("{dir}/{level}.d");
            for (file, _) in list_dir(p, &d) {
                if file.ends_with(".conf") {
                    confs.entry(file.clone()).or_insert(format!("{d}/{file}"));
                }
            }
        }
        out.extend(confs.into_values());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_ssh_unit() {
        // /lib/systemd/system/ssh.service of Debian 12's openssh-server.
        let text = "[Unit]\nDescription=OpenBSD Secure Shell server\nDocumentation=man:sshd(8) man:sshd_config(5)\n\
            After=network.target auditd.service\nConditionPathExists=!/etc/ssh/sshd_not_to_be_run\n\n\
            [Service]\nEnvironmentFile=-/etc/default/ssh\nExecStartPre=/usr/sbin/sshd -t\n\
            ExecStart=/usr/sbin/sshd -D $SSHD_OPTS\nExecReload=/usr/sbin/sshd -t\n\
            ExecReload=/bin/kill -HUP $MAINPID\nKillMode=process\nRestart=on-failure\n\
            RestartPreventExitStatus=255\nType=notify\nRuntimeDirectory=sshd\nRuntimeDirectoryMode=0755\n\n\
            [Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n";
        let mut s = UnitSettings::default();
        s.apply(text);
        assert_eq!(
            s.description.as_deref(),
            Some("OpenBSD Secure Shell server")
        );
        assert_eq!(s.user, None);
        assert!(s.installable);
        assert!(!s.also);
    }

    #[test]
    fn continuations_comments_resets_and_dropins() {
        let mut s = UnitSettings::default();
        s.apply("[Unit]\nDescription=first \\\n  # a comment\n  second\n[Service]\nUser=www-data\n[Install]\nAlso=x.socket\n");
        assert_eq!(s.description.as_deref(), Some("first    second"));
        assert_eq!(s.user.as_deref(), Some("www-data"));
        assert!(!s.installable);
        assert!(s.also);
        s.apply("[Service]\nUser=\n[Unit]\nDescription=override\n");
        assert_eq!(s.user, None);
        assert_eq!(s.description.as_deref(), Some("override"));
    }

    #[test]
    fn specifiers() {
        assert_eq!(
            expand_specifiers("Getty on %I", "getty@tty1.service"),
            "Getty on tty1"
        );
        assert_eq!(
            expand_specifiers("%p %i %I %n %N 100%% %x", "systemd-fsck@dev-sda1.service"),
            "systemd-fsck dev-sda1 dev/sda1 systemd-fsck@dev-sda1.service systemd-fsck@dev-sda1 100% %x"
        );
        assert_eq!(expand_specifiers("end %", "a.service"), "end %");
    }

    #[test]
    fn templates() {
        assert_eq!(
            template_of("getty@tty1.service").as_deref(),
            Some("getty@.service")
        );
        assert_eq!(template_of("getty@.service"), None);
        assert_eq!(template_of("ssh.service"), None);
        assert!(is_template("getty@.service"));
        assert!(!is_template("getty@tty1.service"));
    }
}
