//! The agent's SQLite files (the inventory database and the sync queues): one way to open
//! them, and one rule for a file that cannot be used.
//!
//! * [`open_wal`] / [`configure_wal`]: WAL journal, `synchronous=NORMAL`, a busy timeout;
//! * [`classify`]: whether an error means "busy, try later" or "this file is unusable";
//! * [`aside_path`] / [`move_aside`]: an unusable file is renamed with its `-wal` and `-shm`
//!   (a corrupt file's WAL is evidence, and a stale WAL must never meet a new database);
//! * [`count_rows`] / [`aside_report`]: before a file goes aside, how many items it still
//!   holds (they are lost with it), so that the log says so at error level.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::LogLevel;

/// How long a statement waits for another connection's lock before it fails with busy.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The side files SQLite keeps next to a database in WAL mode.
const SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

/// Opens `path` (creating it) and configures it with [`configure_wal`].
pub fn open_wal(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure_wal(&conn)?;
    Ok(conn)
}

/// WAL journal, `synchronous=NORMAL` (a crash loses at most the last transactions, never
/// consistency) and [`BUSY_TIMEOUT`]. Reading the journal mode is what fails first on a
/// file that is not a database.
pub fn configure_wal(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let _: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous=NORMAL;")
}

/// What an error opening a database says about the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Another connection holds a lock (`SQLITE_BUSY`, `SQLITE_LOCKED`): the file is fine,
    /// try again later and never move it aside.
    Busy,
    /// The file is damaged or not a database (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
    Corrupt,
    /// Anything else (I/O, permissions, a schema that does not match, …).
    Other,
}

/// Classifies an SQLite error.
pub fn classify(e: &rusqlite::Error) -> Failure {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Failure::Busy,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Failure::Corrupt,
        _ => Failure::Other,
    }
}

/// True when the error only means that another connection holds the database.
pub fn is_busy(e: &rusqlite::Error) -> bool {
    classify(e) == Failure::Busy
}

/// Where an unusable `path` goes: `<path>.corrupt-<unix time>`.
pub fn aside_path(path: &Path) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    with_suffix(path, &format!(".corrupt-{secs}"))
}

/// Where the items of a queue file deleted or replaced while open are saved until the path
/// can be opened again: `<path>.rescue-<unix time>`.
pub fn rescue_path(path: &Path) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    with_suffix(path, &format!(".rescue-{secs}"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Renames only the `-wal`/`-shm` files of `path` (those that exist) to `to` plus the same
/// suffix: after the file at `path` was deleted or replaced under an open connection, they
/// are the old file's, and a database opened at `path` would read the old pages from them.
pub fn move_side_files(path: &Path, to: &Path) -> std::io::Result<usize> {
    let mut moved = 0;
    for suffix in SIDE_FILES {
        let side = with_suffix(path, suffix);
        if side.exists() {
            std::fs::rename(&side, with_suffix(to, suffix))?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Renames `path` and its `-wal`/`-shm` files (those that exist) to `aside` plus the same
/// suffix. The side files go first: a new database at `path` must never find an old WAL.
pub fn move_aside(path: &Path, aside: &Path) -> std::io::Result<()> {
    for suffix in SIDE_FILES {
        let side = with_suffix(path, suffix);
        if side.exists() {
            std::fs::rename(&side, with_suffix(aside, suffix))?;
        }
    }
    if path.exists() {
        std::fs::rename(path, aside)?;
    }
    Ok(())
}

/// How long [`count_rows`] waits for a lock: it only reports, it must not hold a start up.
const COUNT_BUSY_TIMEOUT: Duration = Duration::from_millis(200);

/// The number of rows in the tables of `path` whose names match the SQL `LIKE` pattern
/// `tables`, read through a read-only connection of its own (nothing is written, not even
/// a journal mode). Tables that do not exist count 0; an error means the file could not be
/// read far enough to count.
pub fn count_rows(path: &Path, tables: &str) -> rusqlite::Result<u64> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(COUNT_BUSY_TIMEOUT)?;
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?1")?
        .query_map([tables], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut total = 0u64;
    for name in names {
        let n: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM \"{}\"", name.replace('"', "\"\"")),
            [],
            |r| r.get(0),
        )?;
        total += u64::try_from(n).unwrap_or(0);
    }
    Ok(total)
}

/// The log line (and its level) of a file about to be moved aside: `what` names the file
/// ("Sync queue"), `items` what its rows are ("undelivered items"), `error` why it goes.
/// Rows that are lost with the file, or a count that could not be made, are an error; an
/// empty file only a warning.
pub fn aside_report(
    what: &str,
    path: &Path,
    aside: &Path,
    error: &dyn std::fmt::Display,
    items: &str,
    counted: &rusqlite::Result<u64>,
) -> (LogLevel, String) {
    let head = format!("{what} '{}' is unusable ({error})", path.display());
    let tail = format!("moving it to '{}' and starting a new one", aside.display());
    match counted {
        Ok(0) => (
            LogLevel::Warning,
            format!("{head}; it holds no {items}; {tail}"),
        ),
        Ok(n) => (
            LogLevel::Error,
            format!("{head}; {n} {items} in it are lost; {tail}"),
        ),
        Err(e) => (
            LogLevel::Error,
            format!("{head}; its {items} cannot be counted ({e}) and are lost; {tail}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_setup() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_wal(&dir.path().join("a.db")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 1, "NORMAL");
    }

    #[test]
    fn moves_the_file_with_its_wal_and_shm() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        for (s, content) in [("", "main"), ("-wal", "wal"), ("-shm", "shm")] {
            std::fs::write(with_suffix(&path, s), content).unwrap();
        }
        let aside = aside_path(&path);
        assert!(aside
            .to_string_lossy()
            .starts_with(&*path.to_string_lossy()));
        move_aside(&path, &aside).unwrap();
        for (s, content) in [("", "main"), ("-wal", "wal"), ("-shm", "shm")] {
            assert!(!with_suffix(&path, s).exists(), "{s} left behind");
            assert_eq!(
                std::fs::read_to_string(with_suffix(&aside, s)).unwrap(),
                content
            );
        }
        // A database opened at the old place starts empty, with no old WAL.
        let conn = open_wal(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn moves_a_lone_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        std::fs::write(&path, b"not a database").unwrap();
        let aside = aside_path(&path);
        move_aside(&path, &aside).unwrap();
        assert!(!path.exists());
        assert_eq!(std::fs::read(&aside).unwrap(), b"not a database");
        assert!(!with_suffix(&aside, "-wal").exists());
        // Nothing there at all is fine too.
        move_aside(&path, &aside_path(&path)).unwrap();
    }

    #[test]
    fn classifies_busy_and_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("g.db");
        std::fs::write(&garbage, vec![7u8; 10_000]).unwrap();
        let conn = Connection::open(&garbage).unwrap();
        let e = configure_wal(&conn).unwrap_err();
        assert_eq!(classify(&e), Failure::Corrupt, "{e}");

        let path = dir.path().join("locked.db");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::from_millis(50)).unwrap();
        let e = other
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert_eq!(classify(&e), Failure::Busy, "{e}");
        assert!(is_busy(&e));
        assert_eq!(
            classify(&rusqlite::Error::InvalidQuery),
            Failure::Other,
            "not an SQLite error code"
        );
    }

    #[test]
    fn counts_rows_of_matching_tables_or_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let conn = open_wal(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE dbsync_a (x); CREATE TABLE dbsync_b (x); CREATE TABLE other (x);
             INSERT INTO dbsync_a VALUES (1), (2); INSERT INTO dbsync_b VALUES (3);
             INSERT INTO other VALUES (4);",
        )
        .unwrap();
        assert_eq!(count_rows(&path, "dbsync_%").unwrap(), 3);
        assert_eq!(count_rows(&path, "missing").unwrap(), 0);
        let garbage = dir.path().join("g.db");
        std::fs::write(&garbage, vec![7u8; 10_000]).unwrap();
        let e = count_rows(&garbage, "x").unwrap_err();
        assert_eq!(classify(&e), Failure::Corrupt, "{e}");
        let (level, line) = aside_report("Q", &path, &aside_path(&path), &"bad", "items", &Ok(3));
        assert_eq!(level, LogLevel::Error);
        assert!(line.contains("3 items in it are lost"), "{line}");
        let (level, _) = aside_report("Q", &path, &aside_path(&path), &"bad", "items", &Ok(0));
        assert_eq!(level, LogLevel::Warning);
    }
}
