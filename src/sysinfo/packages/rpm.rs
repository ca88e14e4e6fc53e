//! RPM packages: the header blobs of the rpm database, parsed here.
//!
//! rpm ≥ 4.16 keeps its database in `<root>/var/lib/rpm/rpmdb.sqlite` (table
//! `Packages(hnum, blob)`); older rpm in the Berkeley DB hash file `<root>/var/lib/rpm/
//! Packages` (see [`super::rpm_bdb`]). As the agent, the Berkeley file is used when it
//! exists, else the SQLite one. Either way each value is one package header as rpm
//! exports it: a big-endian index count and data size, the index entries (tag, type,
//! offset, count) and the data store. [`Header::parse`] checks every count, offset and
//! terminator against the blob, so a truncated or corrupt header is one skipped package.
//!
//! Rows follow the agent, which reads SQLite databases through librpm and Berkeley ones
//! with its own reader, with small differences kept here: through librpm the version is
//! `[epoch:]version[-release]` with a zero epoch left out, the description is the long
//! `%description` and a missing install time is the epoch; through the Berkeley reader an
//! explicit zero epoch is kept (`0:1.0-1`), the description is the summary and absent
//! values are `" "`. `gpg-pubkey` entries are not packages.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{iso8601, or_unknown, Ctx, UNKNOWN};
use crate::sysinfo::CollectError;
use crate::Row;

pub const TAG_NAME: u32 = 1000;
pub const TAG_VERSION: u32 = 1001;
pub const TAG_RELEASE: u32 = 1002;
pub const TAG_EPOCH: u32 = 1003;
pub const TAG_SUMMARY: u32 = 1004;
pub const TAG_DESCRIPTION: u32 = 1005;
pub const TAG_INSTALLTIME: u32 = 1008;
pub const TAG_SIZE: u32 = 1009;
pub const TAG_VENDOR: u32 = 1011;
pub const TAG_GROUP: u32 = 1016;
pub const TAG_ARCH: u32 = 1022;
pub const TAG_DIRINDEXES: u32 = 1116;
pub const TAG_BASENAMES: u32 = 1117;
pub const TAG_DIRNAMES: u32 = 1118;

const TYPE_CHAR: u32 = 1;
const TYPE_INT8: u32 = 2;
const TYPE_INT16: u32 = 3;
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits on a header (`hdrblob` checks).
const MAX_TAGS: u32 = 0xffff;
const MAX_DATA: u32 = 256 << 20;

const SQLITE_DB: &str = "/var/lib/rpm/rpmdb.sqlite";
pub(crate) const BDB_DB: &str = "/var/lib/rpm/Packages";

/// One index entry of a header.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: u32,
    count: u32,
}

/// A parsed rpm header: its index and data store, borrowed from the blob.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<Entry>,
    store: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Parses a header blob as stored in the rpm database (no magic/reserved prefix).
    pub fn parse(blob: &'a [u8]) -> Result<Header<'a>, String> {
        let il = be32(blob, 0).ok_or("header shorter than 8 bytes")?;
        let dl = be32(blob, 4).ok_or("header shorter than 8 bytes")?;
        if il == 0 || il >= MAX_TAGS {
            return Err(format!("implausible index count {il}"));
        }
        if dl > MAX_DATA {
            return Err(format!("implausible data size {dl}"));
        }
        let index_len = il as usize * 16;
        let store_start = 8 + index_len;
        let store_end = store_start + dl as usize;
        if store_end > blob.len() {
            return Err(format!(
                "truncated header: {} bytes, {} needed",
                blob.len(),
                store_end
            ));
        }
        let mut entries = Vec::with_capacity(il as usize);
        for i in 0..il as usize {
            let at = 8 + i * 16;
            let e = Entry {
                tag: be32(blob, at).ok_or("truncated index")?,
                ty: be32(blob, at + 4).ok_or("truncated index")?,
                offset: be32(blob, at + 8).ok_or("truncated index")?,
                count: be32(blob, at + 12).ok_or("truncated index")?,
            };
            if e.ty > TYPE_I18NSTRING {
                return Err(format!("tag {} has unknown type {}", e.tag, e.ty));
            }
            entries.push(e);
        }
        Ok(Header {
            entries,
            store: &blob[store_start..store_end],
        })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// The raw type of `tag`, if present.
    pub fn tag_type(&self, tag: u32) -> Option<u32> {
        self.entry(tag).map(|e| e.ty)
    }

    /// The string at `offset` of the store, up to its NUL.
    fn cstr(&self, offset: usize) -> Result<(&'a [u8], usize), String> {
        let rest = self
            .store
            .get(offset..)
            .ok_or_else(|| format!("string offset {offset} outside the data"))?;
        let len = memchr::memchr(0, rest).ok_or("unterminated string")?;
        Ok((&rest[..len], offset + len + 1))
    }

    /// The first string of a string, string-array or i18n-string tag (librpm gives the
    /// first, the "C" locale, of an i18n table). `Ok(None)` when absent or of another type.
    pub fn string(&self, tag: u32) -> Result<Option<String>, String> {
        match self.entry(tag) {
            Some(e)
                if matches!(e.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING)
                    && e.count > 0 =>
            {
                let (s, _) = self.cstr(e.offset as usize)?;
                Ok(Some(String::from_utf8_lossy(s).into_owned()))
            }
            _ => Ok(None),
        }
    }

    /// Every string of a string-array tag (bounded by the data store).
    pub fn strings(&self, tag: u32) -> Result<Vec<String>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if !matches!(e.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Ok(Vec::new());
        }
        let count = if e.ty == TYPE_STRING { 1 } else { e.count };
        // Each string takes at least its NUL, so the count is bounded by the store.
        if count as usize > self.store.len() {
            return Err(format!("tag {tag}: {count} strings cannot fit"));
        }
        let mut out = Vec::with_capacity(count as usize);
        let mut at = e.offset as usize;
        for _ in 0..count {
            let (s, next) = self.cstr(at)?;
            out.push(String::from_utf8_lossy(s).into_owned());
            at = next;
        }
        Ok(out)
    }

    /// The first value of an integer tag, unsigned as librpm's `rpmtdGetNumber`.
    pub fn number(&self, tag: u32) -> Result<Option<u64>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.count == 0 {
            return Ok(None);
        }
        let o = e.offset as usize;
        let bytes = |n: usize| {
            self.store
                .get(o..o + n)
                .ok_or_else(|| format!("tag {tag}: value outside the data"))
        };
        Ok(match e.ty {
            TYPE_CHAR | TYPE_INT8 => Some(u64::from(bytes(1)?[0])),
            TYPE_INT16 => {
                let b = bytes(2)?;
                Some(u64::from(u16::from_be_bytes([b[0], b[1]])))
            }
            TYPE_INT32 => {
                let b = bytes(4)?;
                Some(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            }
            TYPE_INT64 => {
                let b = bytes(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Some(u64::from_be_bytes(a))
            }
            _ => None,
        })
    }

    /// Every value of an INT32 tag.
    pub fn int32s(&self, tag: u32) -> Result<Vec<u32>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if e.ty != TYPE_INT32 {
            return Ok(Vec::new());
        }
        let start = e.offset as usize;
        let len = (e.count as usize)
            .checked_mul(4)
            .ok_or("int32 array too long")?;
        let b = self
            .store
            .get(start..start.checked_add(len).ok_or("int32 array too long")?)
            .ok_or_else(|| format!("tag {tag}: values outside the data"))?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// A tag as the agent's Berkeley reader prints it: strings and i18n strings as their
    /// first string, INT32 as a signed decimal, anything else (and absence) as "".
    pub fn legacy_text(&self, tag: u32) -> Result<String, String> {
        match self.entry(tag) {
            Some(e) if e.ty == TYPE_STRING || e.ty == TYPE_I18NSTRING => {
                let (s, _) = self.cstr(e.offset as usize)?;
                Ok(String::from_utf8_lossy(s).into_owned())
            }
            Some(e) if e.ty == TYPE_INT32 => {
                let o = e.offset as usize;
                let b = self
                    .store
                    .get(o..o + 4)
                    .ok_or_else(|| format!("tag {tag}: value outside the data"))?;
                Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]).to_string())
            }
            _ => Ok(String::new()),
        }
    }

    /// The installed files (`dirnames[dirindexes[i]] + basenames[i]`).
    pub fn files(&self) -> Result<Vec<String>, String> {
        let dirs = self.strings(TAG_DIRNAMES)?;
        let bases = self.strings(TAG_BASENAMES)?;
        let idx = self.int32s(TAG_DIRINDEXES)?;
        Ok(idx
            .iter()
            .zip(bases.iter())
            .filter_map(|(&i, base)| dirs.get(i as usize).map(|d| format!("{d}{base}")))
            .collect())
    }
}

/// The row of a header read as librpm reads it (SQLite databases); `Ok(None)` for a
/// `gpg-pubkey` or nameless entry.
pub fn package_row(blob: &[u8]) -> Result<Option<Row>, String> {
    let h = Header::parse(blob)?;
    let name = h.string(TAG_NAME)?.unwrap_or_default();
    if name.is_empty() || name == "gpg-pubkey" {
        return Ok(None);
    }
    let mut version = h.string(TAG_VERSION)?.unwrap_or_default();
    let epoch = h.number(TAG_EPOCH)?.unwrap_or(0);
    if epoch != 0 {
        version = format!("{epoch}:{version}");
    }
    let release = h.string(TAG_RELEASE)?.unwrap_or_default();
    if !release.is_empty() {
        version.push('-');
        version.push_str(&release);
    }
    // librpm gives a number's low 32 bits here, as the agent's uint32 cast.
    let installed = h.number(TAG_INSTALLTIME)?.unwrap_or(0) as u32;
    let vendor = h.string(TAG_VENDOR)?.unwrap_or_default();
    let mut row = Row::new();
    row.insert("name".into(), Value::from(name));
    row.insert("size".into(), Value::from(h.number(TAG_SIZE)?.unwrap_or(0)));
    row.insert("installed".into(), Value::from(iso8601(installed)));
    row.insert("path".into(), Value::from(UNKNOWN));
    row.insert(
        "category".into(),
        Value::from(h.string(TAG_GROUP)?.unwrap_or_default()),
    );
    row.insert("version_".into(), Value::from(version));
    row.insert("priority".into(), Value::from(UNKNOWN));
    row.insert(
        "architecture".into(),
        Value::from(h.string(TAG_ARCH)?.unwrap_or_default()),
    );
    row.insert("source".into(), Value::from(UNKNOWN));
    row.insert("type".into(), Value::from("rpm"));
    row.insert("vendor".into(), or_unknown(&vendor));
    row.insert(
        "description".into(),
        Value::from(h.string(TAG_DESCRIPTION)?.unwrap_or_default()),
    );
    Ok(Some(row))
}

/// The row of a header read as the agent's Berkeley DB reader reads it.
pub fn legacy_package_row(blob: &[u8]) -> Result<Option<Row>, String> {
    let h = Header::parse(blob)?;
    // The agent's reader prints "(none)" nowhere, but its parser treats it as absent.
    let field = |tag| -> Result<String, String> {
        let s = h.legacy_text(tag)?;
        Ok(if s == "(none)" { String::new() } else { s })
    };
    let name = field(TAG_NAME)?;
    if name.is_empty() || name == "gpg-pubkey" {
        return Ok(None);
    }
    let mut version = field(TAG_VERSION)?;
    let epoch = field(TAG_EPOCH)?;
    if !epoch.is_empty() {
        version = format!("{epoch}:{version}");
    }
    let release = field(TAG_RELEASE)?;
    if !release.is_empty() {
        version.push('-');
        version.push_str(&release);
    }
    let size = match field(TAG_SIZE)? {
        s if s.is_empty() => 0,
        s => super::stoll(&s).ok_or_else(|| format!("size {s:?} is not a number"))?,
    };
    let installed = match field(TAG_INSTALLTIME)? {
        s if s.is_empty() => Value::from(UNKNOWN),
        s => {
            let t = super::stoll(&s).ok_or_else(|| format!("install time {s:?}"))?;
            Value::from(iso8601(t as u32))
        }
    };
    let mut row = Row::new();
    row.insert("name".into(), Value::from(name));
    row.insert("size".into(), Value::from(size));
    row.insert("installed".into(), installed);
    row.insert("path".into(), Value::from(UNKNOWN));
    row.insert("category".into(), or_unknown(&field(TAG_GROUP)?));
    row.insert("version_".into(), or_unknown(&version));
    row.insert("priority".into(), Value::from(UNKNOWN));
    row.insert("architecture".into(), or_unknown(&field(TAG_ARCH)?));
    row.insert("source".into(), Value::from(UNKNOWN));
    row.insert("type".into(), Value::from("rpm"));
    row.insert("vendor".into(), or_unknown(&field(TAG_VENDOR)?));
    row.insert("description".into(), or_unknown(&field(TAG_SUMMARY)?));
    Ok(Some(row))
}

/// The `.egg-info` / `.dist-info` paths among the files of a package whose name starts
/// with one of `prefixes`.
pub fn python_paths(blob: &[u8], prefixes: &[&str]) -> Result<Vec<String>, String> {
    let h = Header::parse(blob)?;
    let name = h.string(TAG_NAME)?.unwrap_or_default();
    if !prefixes.iter().any(|p| name.starts_with(p)) {
        return Ok(Vec::new());
    }
    Ok(h.files()?
        .into_iter()
        .filter(|f| f.ends_with(".egg-info") || f.ends_with(".dist-info"))
        .collect())
}

/// Opens the rpm SQLite database for reading. A database in WAL mode needs its `-shm`
/// file; where that cannot be created (read-only media) it is opened as immutable.
pub fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    // SQLite opens the file by name and would wait for a writer on a FIFO.
    crate::sysinfo::read::check_regular(path).map_err(|e| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("{}: {e}", path.display())),
        )
    })?;
    let probe = |conn: rusqlite::Connection| {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.query_row("SELECT count(*) FROM Packages", [], |_| Ok(()))?;
        Ok::<_, rusqlite::Error>(conn)
    };
    match rusqlite::Connection::open_with_flags(path, flags).and_then(probe) {
        Ok(c) => Ok(c),
        Err(first) => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            rusqlite::Connection::open_with_flags(uri, flags)
                .and_then(probe)
                .map_err(|_| first)
        }
    }
}

fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(*b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Calls `each` with every header blob of an rpm SQLite database, in `hnum` order.
pub fn sqlite_blobs(path: &Path, each: &mut dyn FnMut(i64, &[u8])) -> Result<(), rusqlite::Error> {
    let conn = open_sqlite(path)?;
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let hnum: i64 = r.get(0).unwrap_or(-1);
        match r.get_ref(1)? {
            rusqlite::types::ValueRef::Blob(b) => each(hnum, b),
            rusqlite::types::ValueRef::Text(b) => each(hnum, b),
            _ => each(hnum, &[]),
        }
    }
    Ok(())
}

fn db_files(p: &crate::sysinfo::LinuxSysInfo) -> (bool, Vec<PathBuf>) {
    let bdb = p.path(BDB_DB);
    if bdb.is_file() {
        (true, vec![bdb])
    } else {
        let db = p.path(SQLITE_DB);
        let wal = p.path(&format!("{SQLITE_DB}-wal"));
        (false, vec![db, wal])
    }
}

/// Rows of the rpm database below the root.
pub fn collect(ctx: &mut Ctx<'_, '_>, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    let p = ctx.p;
    let (legacy, files) = db_files(p);
    let main = files[0].clone();
    if legacy {
        return ctx.source("rpm-bdb", &files, each, &mut |each| {
            let skip = |e: String| p.debug(&format!("{}: skipping a record: {e}", main.display()));
            super::rpm_bdb::for_each_header(
                &main,
                &mut |blob| match legacy_package_row(blob) {
                    Ok(Some(row)) => each(row),
                    Ok(None) => {}
                    Err(e) => skip(e),
                },
                &mut |e| skip(e),
            )
            .map_err(|e| CollectError::Other(format!("{}: {e}", main.display())))
        });
    }
    if !main.is_file() {
        // No database the agent could open: nothing to report.
        return Ok(());
    }
    ctx.source("rpm-sqlite", &files, each, &mut |each| {
        sqlite_blobs(&main, &mut |hnum, blob| match package_row(blob) {
            Ok(Some(row)) => each(row),
            Ok(None) => {}
            Err(e) => p.debug(&format!("{}: skipping header {hnum}: {e}", main.display())),
        })
        .map_err(|e| CollectError::Other(format!("{}: {e}", main.display())))
    })
}

/// Adds the metadata files (host paths) of the Python distributions rpm installed.
pub fn python_files(ctx: &mut Ctx<'_, '_>, out: &mut HashSet<String>) {
    let p = ctx.p;
    let (legacy, files) = db_files(p);
    let main = files[0].clone();
    let found = ctx.derived("rpm-python", &files, &mut || {
        let mut paths = Vec::new();
        let result = if legacy {
            super::rpm_bdb::for_each_header(
                &main,
                &mut |blob| {
                    if let Ok(v) = python_paths(blob, &["python", "platform-python"]) {
                        paths.extend(v);
                    }
                },
                &mut |_| {},
            )
            .map_err(|e| e.to_string())
        } else if main.is_file() {
            sqlite_blobs(&main, &mut |_, blob| {
                if let Ok(v) = python_paths(blob, &["python"]) {
                    paths.extend(v);
                }
            })
            .map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        if let Err(e) = result {
            p.debug(&format!("{}: {e}", main.display()));
        }
        let mut found = HashSet::new();
        for path in paths {
            super::dpkg::python_lines(p, &path, &mut found);
        }
        found
    });
    out.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with the given (tag, type, data) entries, as rpm lays it out.
    pub(crate) fn build(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store = Vec::new();
        for (tag, ty, count, data) in entries {
            if *ty == TYPE_INT32 {
                while store.len() % 4 != 0 {
                    store.push(0);
                }
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(store.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            store.extend_from_slice(data);
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(store.len() as u32).to_be_bytes());
        blob.extend_from_slice(&index);
        blob.extend_from_slice(&store);
        blob
    }

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    fn sample() -> Vec<u8> {
        build(&[
            (TAG_NAME, TYPE_STRING, 1, s("bash")),
            (TAG_VERSION, TYPE_STRING, 1, s("5.1.8")),
            (TAG_RELEASE, TYPE_STRING, 1, s("9.el9")),
            (TAG_EPOCH, TYPE_INT32, 1, 2u32.to_be_bytes().to_vec()),
            (
                TAG_SUMMARY,
                TYPE_I18NSTRING,
                1,
                s("The GNU Bourne Again shell"),
            ),
            (TAG_DESCRIPTION, TYPE_I18NSTRING, 1, s("Long text.\nMore.")),
            (
                TAG_SIZE,
                TYPE_INT32,
                1,
                0xC000_0000u32.to_be_bytes().to_vec(),
            ),
            (
                TAG_INSTALLTIME,
                TYPE_INT32,
                1,
                1_700_000_000u32.to_be_bytes().to_vec(),
            ),
            (TAG_ARCH, TYPE_STRING, 1, s("x86_64")),
            (
                TAG_GROUP,
                TYPE_I18NSTRING,
                1,
                s("System Environment/Shells"),
            ),
        ])
    }

    #[test]
    fn librpm_view_of_a_header() {
        let row = package_row(&sample()).unwrap().unwrap();
        assert_eq!(row["name"], "bash");
        assert_eq!(row["version_"], "2:5.1.8-9.el9");
        assert_eq!(row["size"], 0xC000_0000u64);
        assert_eq!(row["installed"], "2023-11-14T22:13:20.000Z");
        assert_eq!(row["vendor"], " ");
        assert_eq!(row["category"], "System Environment/Shells");
        assert_eq!(row["description"], "Long text.\nMore.");
        assert_eq!(row["architecture"], "x86_64");
        assert!(!row.contains_key("multiarch"));
    }

    #[test]
    fn berkeley_reader_view_of_a_header() {
        let row = legacy_package_row(&sample()).unwrap().unwrap();
        assert_eq!(row["version_"], "2:5.1.8-9.el9");
        // The agent prints INT32 values signed.
        assert_eq!(row["size"], -1_073_741_824i64);
        assert_eq!(row["description"], "The GNU Bourne Again shell");
        assert_eq!(row["vendor"], " ");
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let blob = sample();
        for len in 0..blob.len() {
            let cut = &blob[..len];
            assert!(package_row(cut).is_err() || len >= blob.len());
            let _ = legacy_package_row(cut);
            let _ = python_paths(cut, &["python"]);
        }
    }

    #[test]
    fn bad_offsets_and_types_are_errors() {
        let mut blob = sample();
        // Offset of the first entry far outside the store.
        blob[16..20].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        assert!(package_row(&blob).is_err());
        let mut blob = sample();
        blob[12..16].copy_from_slice(&77u32.to_be_bytes());
        assert!(Header::parse(&blob).is_err());
        // An unterminated name.
        let blob = build(&[(TAG_NAME, TYPE_STRING, 1, b"abc".to_vec())]);
        assert!(package_row(&blob).is_err());
        // Huge counts.
        let blob = build(&[(TAG_BASENAMES, TYPE_STRING_ARRAY, u32::MAX, s("a"))]);
        assert!(Header::parse(&blob)
            .unwrap()
            .strings(TAG_BASENAMES)
            .is_err());
        let blob = build(&[(TAG_DIRINDEXES, TYPE_INT32, u32::MAX, vec![0; 4])]);
        assert!(Header::parse(&blob)
            .unwrap()
            .int32s(TAG_DIRINDEXES)
            .is_err());
    }

    #[test]
    fn gpg_pubkey_is_not_a_package() {
        let blob = build(&[(TAG_NAME, TYPE_STRING, 1, s("gpg-pubkey"))]);
        assert!(package_row(&blob).unwrap().is_none());
        assert!(legacy_package_row(&blob).unwrap().is_none());
    }

    #[test]
    fn python_files_of_python_packages_only() {
        let mut dirs = s("/usr/lib/python3.9/site-packages/");
        dirs.extend(s("/usr/share/doc/"));
        let mut bases = s("demo-1.0.dist-info");
        bases.extend(s("README"));
        bases.extend(s("x.egg-info"));
        let mut idx = 0u32.to_be_bytes().to_vec();
        idx.extend(1u32.to_be_bytes());
        idx.extend(0u32.to_be_bytes());
        let entries = |name: &str| {
            vec![
                (TAG_NAME, TYPE_STRING, 1, s(name)),
                (TAG_DIRINDEXES, TYPE_INT32, 3, idx.clone()),
                (TAG_BASENAMES, TYPE_STRING_ARRAY, 3, bases.clone()),
                (TAG_DIRNAMES, TYPE_STRING_ARRAY, 2, dirs.clone()),
            ]
        };
        let blob = build(&entries("python3-demo"));
        assert_eq!(
            python_paths(&blob, &["python"]).unwrap(),
            vec![
                "/usr/lib/python3.9/site-packages/demo-1.0.dist-info",
                "/usr/lib/python3.9/site-packages/x.egg-info"
            ]
        );
        let blob = build(&entries("platform-python"));
        assert!(python_paths(&blob, &["python"]).unwrap().is_empty());
        assert_eq!(
            python_paths(&blob, &["python", "platform-python"])
                .unwrap()
                .len(),
            2
        );
    }
}
