//! The `dbsync_packages` rows on Linux: every package database the agent knows, read
//! below the provider's root, in the agent's order (dpkg, pacman, rpm, apk, snap, then
//! Python distributions and npm packages found in the usual install directories).
//!
//! Each format lives in its own file with one pure parser over bytes or text (unit-tested
//! on real data) and a reader that finds the database below the root. Row values follow
//! the Wazuh agent format by format (its `packageLinux*` parsers): `" "` for unknown, the
//! keys it sets and no others (some formats have no `multiarch` key, as in the agent), the
//! same units (dpkg sizes in bytes from KiB) and version compositions.
//!
//! A damaged entry (a truncated rpm header, a stanza without `Package`, an unreadable
//! `METADATA`) is skipped with a debug line; the other entries and formats still come out.
//! A package database that exists but cannot be read at all (I/O error, not a database)
//! fails the whole collection, so the module keeps the table as it was instead of
//! reporting every package of that database deleted.
//!
//! [`PackageCache`] makes a rescan of unchanged databases cheap: it remembers, per
//! source, the file identity (device, inode, size, mtime, ctime) and the rows it produced
//! (in a temporary file, not in memory), and replays them when nothing changed.
//!
//! [`fingerprint`] goes further, across processes: a planning pass finds every source as a
//! collection would (the same directory walks) but reads none, and returns the identities
//! of all their files. When it equals the one stored with the table after the previous
//! scan, no package can have changed and the scan skips the table (see
//! `crate::inventory::scan`).

pub mod apk;
pub mod dpkg;
pub mod npm;
pub mod pacman;
pub mod python;
pub mod rpm;
pub mod rpm_bdb;
pub mod snap;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use serde_json::Value;

use super::{CollectError, LinuxSysInfo};
use crate::Row;

/// The agent's value for "unknown".
pub const UNKNOWN: &str = " ";

/// Every installed package, one row at a time (no cache: every database is read).
pub fn collect(p: &LinuxSysInfo, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    collect_with(p, None, each)
}

/// Every installed package, one row at a time, replaying the rows of databases that did
/// not change since the previous call with the same `cache`.
pub fn collect_cached(
    p: &LinuxSysInfo,
    cache: &PackageCache,
    each: &mut dyn FnMut(Row),
) -> Result<(), CollectError> {
    collect_with(p, Some(cache), each)
}

/// The identities of every file every package source of the host would be read from, in
/// the order a collection visits them (keys and paths included): equal fingerprints mean
/// equal rows. `None` when that cannot be told: a file changed too recently to be sure a
/// further change would show (see [`Stamp::settled`]), a file cannot be examined, or a
/// source answers over a socket (snapd).
pub fn fingerprint(p: &LinuxSysInfo) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut plan = Plan {
        manifest: Vec::new(),
        complete: true,
    };
    let ctx = Ctx {
        p,
        cache: None,
        seen: &mut seen,
        plan: Some(&mut plan),
    };
    run_all(ctx, &mut |_| {}).ok()?;
    plan.complete.then_some(plan.manifest)
}

/// What a planning pass ([`fingerprint`]) found.
struct Plan {
    /// Every source's key, file paths and their [`Stamp`], in visiting order.
    manifest: Vec<u8>,
    /// False once a source could not be stamped.
    complete: bool,
}

impl Plan {
    fn note(&mut self, key: &str, files: &[PathBuf]) {
        match Stamp::of(files) {
            Some(stamp) if stamp.settled() => {
                put_bytes(&mut self.manifest, key.as_bytes());
                for (file, id) in files.iter().zip(&stamp.0) {
                    put_bytes(&mut self.manifest, file.as_os_str().as_encoded_bytes());
                    let Some(id) = id else {
                        self.manifest.push(0);
                        continue;
                    };
                    self.manifest.push(1);
                    for v in [id.dev, id.ino, id.size] {
                        self.manifest.extend_from_slice(&v.to_le_bytes());
                    }
                    for v in [id.mtime, id.ctime] {
                        self.manifest.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            _ => self.complete = false,
        }
    }
}

/// `bytes` with its length in front, so that concatenations cannot be confused.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn collect_with(
    p: &LinuxSysInfo,
    cache: Option<&PackageCache>,
    each: &mut dyn FnMut(Row),
) -> Result<(), CollectError> {
    let mut seen = Vec::new();
    let ctx = Ctx {
        p,
        cache,
        seen: &mut seen,
        plan: None,
    };
    let result = run_all(ctx, each);
    if let Some(cache) = cache {
        // Forget sources that are gone, so the cache never outgrows the host.
        cache.retain(&seen);
    }
    result
}

fn run_all(mut ctx: Ctx<'_, '_>, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    let p = ctx.p;
    if p.path("/var/lib/dpkg/").is_dir() {
        dpkg::collect(&mut ctx, each)?;
    }
    if p.path("/var/lib/pacman").is_dir() {
        pacman::collect(&mut ctx, each)?;
    }
    if p.path("/var/lib/rpm/").is_dir() {
        rpm::collect(&mut ctx, each)?;
    }
    if p.path("/lib/apk/db").is_dir() {
        apk::collect(&mut ctx, each)?;
    }
    if p.path("/var/lib/snapd").is_dir() {
        match ctx.plan.as_deref_mut() {
            // snapd answers over its socket; no file says its answer is the same.
            Some(plan) => plan.complete = false,
            None => snap::collect(p, each),
        }
    }
    let mut exclude = HashSet::new();
    if p.path("/var/lib/dpkg/").is_dir() {
        dpkg::python_files(&mut ctx, &mut exclude);
    }
    if p.path("/var/lib/rpm/").is_dir() {
        rpm::python_files(&mut ctx, &mut exclude);
    }
    python::collect(&mut ctx, &exclude, each);
    npm::collect(&mut ctx, each);
    Ok(())
}

/// A format reader: calls its argument with every row of one source.
pub type Producer<'a> = dyn FnMut(&mut dyn FnMut(Row)) -> Result<(), CollectError> + 'a;

/// What every format reader gets: the provider and the optional cache, or the plan of a
/// [`fingerprint`] pass (which notes each source's files and reads none of them).
pub struct Ctx<'a, 'b> {
    pub p: &'a LinuxSysInfo,
    cache: Option<&'a PackageCache>,
    seen: &'b mut Vec<String>,
    plan: Option<&'b mut Plan>,
}

impl Ctx<'_, '_> {
    /// Runs `produce` for the source `key` whose files are `files` (host paths), or
    /// replays the rows it produced last time when none of the files changed since.
    pub fn source(
        &mut self,
        key: &str,
        files: &[PathBuf],
        each: &mut dyn FnMut(Row),
        produce: &mut Producer<'_>,
    ) -> Result<(), CollectError> {
        if let Some(plan) = self.plan.as_deref_mut() {
            plan.note(key, files);
            return Ok(());
        }
        let Some(cache) = self.cache else {
            return produce(each);
        };
        self.seen.push(key.to_string());
        let stamp = Stamp::of(files);
        if let Some(rows) = stamp.as_ref().and_then(|s| cache.rows(key, s)) {
            match rows.replay(each) {
                Ok(()) => return Ok(()),
                // The spill file cannot be read back: read the database again (rows
                // already replayed are pushed twice, which the diff engine takes as one).
                Err(_) => cache.forget(key),
            }
        }
        // Rows are kept as compact JSON lines, in an unnamed temporary file when one can be
        // made (memory stays flat however many packages there are), else in memory.
        let mut rows = RowStore::new();
        produce(&mut |row| {
            // Serializing a map of JSON values cannot fail.
            rows.push(&serde_json::to_string(&row).unwrap_or_default());
            each(row);
        })?;
        match (stamp, rows.finish()) {
            (Some(stamp), Some(rows)) if stamp.settled() => cache.store(key, stamp, rows),
            _ => cache.forget(key),
        }
        Ok(())
    }

    /// The cached value for `key` when `files` did not change, else `compute`'s (cached).
    /// A planning pass notes the files and returns the default without computing: a
    /// derived value shapes rows, never which sources there are.
    pub fn derived<T: Clone + Default + Send + 'static>(
        &mut self,
        key: &str,
        files: &[PathBuf],
        compute: &mut dyn FnMut() -> T,
    ) -> T {
        if let Some(plan) = self.plan.as_deref_mut() {
            plan.note(key, files);
            return T::default();
        }
        let Some(cache) = self.cache else {
            return compute();
        };
        self.seen.push(key.to_string());
        let stamp = Stamp::of(files);
        if let Some(value) = stamp.as_ref().and_then(|s| cache.value::<T>(key, s)) {
            return value;
        }
        let value = compute();
        match stamp {
            Some(stamp) if stamp.settled() => cache.store_value(key, stamp, value.clone()),
            _ => cache.forget(key),
        }
        value
    }
}

/// The identity of a set of files at one moment: any write, replacement, truncation or
/// metadata change of any of them changes it. A missing (or empty) file is part of the
/// identity too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(Vec<Option<FileId>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i128,
    ctime: i128,
}

impl Stamp {
    /// `None` when a file exists but cannot be examined.
    fn of(files: &[PathBuf]) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt as _;
        let mut ids = Vec::with_capacity(files.len());
        for f in files {
            match std::fs::metadata(f) {
                // An empty file reads as nothing, as an absent one; SQLite creates and
                // removes an empty `-wal` file around every read of a WAL database.
                Ok(m) if m.is_file() && m.size() == 0 => ids.push(None),
                Ok(m) => ids.push(Some(FileId {
                    dev: m.dev(),
                    ino: m.ino(),
                    size: m.size(),
                    mtime: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
                    ctime: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
                })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => ids.push(None),
                Err(_) => return None,
            }
        }
        Some(Stamp(ids))
    }

    /// False when a file changed so recently that a further change within the same
    /// timestamp tick could go unnoticed (the "racy" case): such a result is not cached.
    fn settled(&self) -> bool {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos();
        let now = i128::try_from(now).unwrap_or(i128::MAX);
        self.0
            .iter()
            .flatten()
            .all(|id| now - id.mtime.max(id.ctime) > 2_000_000_000)
    }
}

/// Sources whose rows take more than this much JSON are only cached in a spill file.
const IN_MEMORY_LIMIT: usize = 1 << 20;

/// The rows of one source as JSON lines: in an unnamed temporary file (`O_TMPFILE` in the
/// system's temporary directory, gone when closed) or, when none can be made, in memory
/// up to [`IN_MEMORY_LIMIT`] (a bigger source is then not cached).
enum RowStore {
    File {
        writer: std::io::BufWriter<std::fs::File>,
        failed: bool,
    },
    Memory {
        rows: Vec<Box<str>>,
        bytes: usize,
    },
}

/// A finished [`RowStore`].
enum StoredRows {
    File(std::fs::File),
    Memory(Vec<Box<str>>),
}

fn spill_file() -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(std::env::temp_dir())
}

impl RowStore {
    fn new() -> RowStore {
        match spill_file() {
            Ok(f) => RowStore::File {
                writer: std::io::BufWriter::with_capacity(64 << 10, f),
                failed: false,
            },
            Err(_) => RowStore::Memory {
                rows: Vec::new(),
                bytes: 0,
            },
        }
    }

    fn push(&mut self, json: &str) {
        use std::io::Write as _;
        match self {
            RowStore::File { writer, failed } => {
                if !*failed && writeln!(writer, "{json}").is_err() {
                    *failed = true;
                }
            }
            RowStore::Memory { rows, bytes } => {
                if *bytes <= IN_MEMORY_LIMIT {
                    *bytes += json.len();
                    rows.push(json.into());
                }
            }
        }
    }

    /// The rows to cache; `None` when they could not all be kept.
    fn finish(self) -> Option<StoredRows> {
        match self {
            RowStore::File { writer, failed } => {
                if failed {
                    return None;
                }
                writer.into_inner().ok().map(StoredRows::File)
            }
            RowStore::Memory { rows, bytes } => {
                (bytes <= IN_MEMORY_LIMIT).then_some(StoredRows::Memory(rows))
            }
        }
    }
}

impl StoredRows {
    /// Calls `each` with every stored row, in order.
    fn replay(&self, each: &mut dyn FnMut(Row)) -> std::io::Result<()> {
        use std::io::BufRead as _;
        match self {
            StoredRows::Memory(rows) => {
                for text in rows {
                    if let Ok(row) = serde_json::from_str::<Row>(text) {
                        each(row);
                    }
                }
            }
            StoredRows::File(file) => {
                // Positional reads: two scans replaying at once do not share an offset.
                let mut reader =
                    std::io::BufReader::with_capacity(64 << 10, ReadAt { file, pos: 0 });
                let mut line = Vec::new();
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line)? == 0 {
                        break;
                    }
                    if let Ok(row) = serde_json::from_slice::<Row>(&line) {
                        each(row);
                    }
                }
            }
        }
        Ok(())
    }
}

/// A reader of a file from its start by positional reads.
struct ReadAt<'a> {
    file: &'a std::fs::File,
    pos: u64,
}

impl std::io::Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt as _;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

enum Cached {
    Rows(Arc<StoredRows>),
    Value(Box<dyn std::any::Any + Send>),
}

/// Rows of unchanged package databases, kept between scans: one copy of every row of every
/// source, in unnamed temporary files (see [`RowStore`]), so the process's memory does not
/// grow with the number of packages.
#[derive(Default)]
pub struct PackageCache {
    inner: Mutex<HashMap<String, (Stamp, Cached)>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl PackageCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sources are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many sources were replayed from the cache and how many were read, since the
    /// cache was made.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Forgets everything (the next scan reads every database).
    pub fn clear(&self) {
        self.inner.lock().clear();
    }

    fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn rows(&self, key: &str, stamp: &Stamp) -> Option<Arc<StoredRows>> {
        let found = match self.inner.lock().get(key) {
            Some((s, Cached::Rows(rows))) if s == stamp => Some(rows.clone()),
            _ => None,
        };
        self.count(found.is_some());
        found
    }

    fn value<T: Clone + 'static>(&self, key: &str, stamp: &Stamp) -> Option<T> {
        let found = match self.inner.lock().get(key) {
            Some((s, Cached::Value(v))) if s == stamp => v.downcast_ref::<T>().cloned(),
            _ => None,
        };
        self.count(found.is_some());
        found
    }

    fn store(&self, key: &str, stamp: Stamp, rows: StoredRows) {
        self.inner
            .lock()
            .insert(key.to_string(), (stamp, Cached::Rows(Arc::new(rows))));
    }

    fn store_value<T: Send + 'static>(&self, key: &str, stamp: Stamp, value: T) {
        self.inner
            .lock()
            .insert(key.to_string(), (stamp, Cached::Value(Box::new(value))));
    }

    fn forget(&self, key: &str) {
        self.inner.lock().remove(key);
    }

    fn retain(&self, seen: &[String]) {
        let seen: HashSet<&str> = seen.iter().map(String::as_str).collect();
        self.inner.lock().retain(|k, _| seen.contains(k.as_str()));
    }
}

/// `s`, or the unknown marker when it is empty.
pub(crate) fn or_unknown(s: &str) -> Value {
    if s.is_empty() {
        Value::from(UNKNOWN)
    } else {
        Value::from(s)
    }
}

/// Seconds since the epoch as the agent writes install times: `YYYY-MM-DDTHH:MM:SS.000Z`
/// of the value taken as a 32-bit unsigned count.
pub fn iso8601(secs: u32) -> String {
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(secs));
    humantime::format_rfc3339_millis(time).to_string()
}

/// `strtoll`-like parse as the agent's `std::stoll`: optional leading whitespace and sign,
/// then at least one digit; what follows the digits is ignored. `None` where `stoll`
/// throws (no digits, out of range).
pub fn stoll(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits[..end].bytes() {
        let d = i64::from(b - b'0');
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

/// The agent's wildcard match of one path component (`*` and `?`, greedy, no
/// backtracking: `*` stops at the first character equal to the one after it).
pub fn pattern_match(name: &str, pattern: &str) -> bool {
    let name = name.as_bytes();
    let pat = pattern.as_bytes();
    let mut pp = 0usize;
    let mut i = 0usize;
    let mut matched = true;
    while i < name.len() {
        let Some(&pc) = pat.get(pp) else {
            matched = false;
            break;
        };
        let c = name[i];
        if c == pc {
            pp += 1;
        } else if pc == b'*' {
            if pat.get(pp + 1) == Some(&c) {
                // `*` matches nothing more: look at this character again.
                pp += 1;
                continue;
            } else if pp + 1 == pat.len() {
                break;
            }
        } else if pc == b'?' {
            pp += 1;
        } else {
            matched = false;
            break;
        }
        i += 1;
    }
    while matched && pp < pat.len() {
        if pat[pp] == b'*' {
            pp += 1;
        } else {
            matched = false;
        }
    }
    matched
}

/// Expands `pattern` (an absolute host path whose components may hold `*` and `?`) into
/// the host paths below the root it matches, as the agent does: each wildcard component
/// is matched against the entries of the directory before it; the last, wildcard-free
/// part is appended without checking that it exists.
pub fn expand(p: &LinuxSysInfo, pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(p, pattern, &mut out, 0);
    out
}

fn expand_into(p: &LinuxSysInfo, pattern: &str, out: &mut Vec<String>, depth: usize) {
    let Some(wild) = pattern.find(['*', '?']) else {
        out.push(pattern.to_string());
        return;
    };
    if depth > 32 {
        return;
    }
    let Some(parent_end) = pattern[..wild].rfind('/') else {
        return;
    };
    let base = &pattern[..parent_end];
    let next = pattern[wild..].find('/').map(|i| i + wild);
    let component = match next {
        Some(n) => &pattern[parent_end + 1..n],
        None => &pattern[parent_end + 1..],
    };
    let rest = next.map_or("", |n| &pattern[n..]);
    if base.is_empty() {
        // As the agent: a wildcard in the first component expands to nothing.
        return;
    }
    let Ok(entries) = std::fs::read_dir(p.path(base)) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| pattern_match(n, component))
        .collect();
    names.sort();
    for name in names {
        expand_into(p, &format!("{base}/{name}{rest}"), out, depth + 1);
    }
}

/// Reads at most `limit` bytes of `path`, refusing anything but a regular file without
/// blocking (see [`crate::sysinfo::read`]).
pub(crate) fn read_bytes(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    crate::sysinfo::read::bytes(path, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stoll_like_the_agent() {
        assert_eq!(stoll("123"), Some(123));
        assert_eq!(stoll("  42abc"), Some(42));
        assert_eq!(stoll("-7"), Some(-7));
        assert_eq!(stoll("+7"), Some(7));
        assert_eq!(stoll(""), None);
        assert_eq!(stoll("abc"), None);
        assert_eq!(stoll("-"), None);
        assert_eq!(stoll("99999999999999999999"), None);
        assert_eq!(stoll("-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn glob_component_like_the_agent() {
        assert!(pattern_match("python3.11", "python*"));
        assert!(pattern_match("python", "python*"));
        assert!(!pattern_match("pythoX", "python*"));
        assert!(pattern_match("dist-packages", "*-packages"));
        assert!(pattern_match("site-packages", "*-packages"));
        assert!(!pattern_match("lib-dynload", "*-packages"));
        // No backtracking: the first '-' ends the star.
        assert!(!pattern_match("foo-bar-packages", "*-packages"));
        assert!(pattern_match("v20.1.0", "v*"));
        assert!(pattern_match("ab", "a?"));
        assert!(!pattern_match("abc", "a?"));
        assert!(pattern_match("", "*"));
        assert!(!pattern_match("x", ""));
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_701_073_495), "2023-11-27T08:24:55.000Z");
        assert_eq!(iso8601(u32::MAX), "2106-02-07T06:28:15.000Z");
    }
}
