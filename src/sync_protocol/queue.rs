//! The persistent queue: every stateful difference waits here (SQLite, WAL) until a
//! session carrying it was acknowledged by the manager.
//!
//! One row per document id. A newer difference for an id replaces the older one with the
//! reference's merge rules: a create followed by a delete before anything was sent cancels
//! out; a difference arriving while its id is in flight is kept for the next session
//! (`SYNCING_UPDATED`); a failed session puts everything back to pending. Rows are only
//! removed after an EndAck, so a crash at any point loses nothing that was committed.
//!
//! Writes can be grouped: between [`PersistentQueue::begin_batch`] and
//! [`PersistentQueue::flush`] submissions are staged in a temporary table of the queue's
//! connection (SQLite's temporary storage, not the queue file, and not the process's
//! memory: a batch of any size costs bounded memory) and nothing of them is visible in the
//! queue. `flush` applies the whole batch with the merge rules in one transaction;
//! [`PersistentQueue::discard_batch`] drops it. A batch is therefore all or nothing
//! whatever its size. The inventory flushes before it commits the scan that produced it and
//! discards it when the scan fails, so a crash in between makes the next scan find and
//! submit the same differences again, and a failed scan leaves nothing queued.

use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::storage;
use crate::LogLevel;

const PENDING: i64 = 0;
const SYNCING: i64 = 1;
const SYNCING_UPDATED: i64 = 2;

const EXISTING: i64 = 0;
const NEW: i64 = 1;
const NEW_DELETED: i64 = 2;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS persistent_queue (
    id TEXT PRIMARY KEY NOT NULL,
    idx TEXT NOT NULL,
    data TEXT NOT NULL,
    operation INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    sync_status INTEGER NOT NULL DEFAULT 0,
    create_status INTEGER NOT NULL DEFAULT 0,
    operation_syncing INTEGER NOT NULL DEFAULT 3,
    is_data_context INTEGER NOT NULL DEFAULT 0);";

/// The staging table of an open batch: in the connection's temporary database, so the
/// queue file keeps exactly the reference's schema and a crash leaves no staged rows.
const STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS batch_staging (
    id TEXT NOT NULL,
    idx TEXT NOT NULL,
    data TEXT NOT NULL,
    operation INTEGER NOT NULL,
    version INTEGER NOT NULL,
    is_data_context INTEGER NOT NULL);";

/// The items of the session in progress, copied when it began (see
/// [`PersistentQueue::snapshot_for_sync`]); in the connection's temporary database, created
/// when first needed.
const SESSION_SNAPSHOT: &str = "CREATE TEMP TABLE IF NOT EXISTS session_snapshot (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    idx TEXT NOT NULL,
    data TEXT NOT NULL,
    operation INTEGER NOT NULL,
    version INTEGER NOT NULL,
    is_data_context INTEGER NOT NULL);";

/// The documents kept for the next FULL session (a recovery's whole table, see
/// [`PersistentQueue::keep_for_full`]): in the connection's temporary database, like the
/// session snapshot, so a table of any size costs SQLite's page cache, not the process's
/// memory, and nothing of it outlives the connection.
const KEPT_FOR_FULL: &str = "CREATE TEMP TABLE IF NOT EXISTS kept_for_full (
    id TEXT NOT NULL,
    idx TEXT NOT NULL,
    data TEXT NOT NULL,
    operation INTEGER NOT NULL,
    version INTEGER NOT NULL,
    is_data_context INTEGER NOT NULL);";

/// What [`PersistentQueue::snapshot_for_sync`] put in the session snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Items in the snapshot.
    pub total: usize,
    /// How many of them are DataValues (the others are DataContexts).
    pub values: usize,
    /// The distinct indices of the DataValues, sorted.
    pub indices: Vec<String>,
}

/// What a queued difference does to its document. The values are the ones stored in the
/// queue file (and the agent's `Operation_t`), so a queue written before stays readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemOperation {
    Create = 0,
    Modify = 1,
    Delete = 2,
    /// Nothing (also the "no operation in flight" marker of the queue).
    NoOp = 3,
}

impl ItemOperation {
    /// The operation stored as `v`; `NoOp` for a value outside the enum.
    fn from_stored(v: i64) -> ItemOperation {
        match v {
            0 => ItemOperation::Create,
            1 => ItemOperation::Modify,
            2 => ItemOperation::Delete,
            _ => ItemOperation::NoOp,
        }
    }
}

/// One queued difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Sequence number within a session (assigned when a session is built).
    pub seq: u64,
    pub id: String,
    pub index: String,
    pub data: String,
    pub operation: ItemOperation,
    pub version: u64,
    pub is_data_context: bool,
}

impl Item {
    /// A difference to submit.
    pub fn new(
        id: impl Into<String>,
        operation: ItemOperation,
        index: impl Into<String>,
        data: impl Into<String>,
        version: u64,
    ) -> Item {
        Item {
            seq: 0,
            id: id.into(),
            index: index.into(),
            data: data.into(),
            operation,
            version,
            is_data_context: false,
        }
    }
}

/// Queue errors.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the queue's connection is on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backing {
    /// The file at the queue's path, as it was when opened (device, inode).
    File((u64, u64)),
    /// A rescue file holding the items of a queue file that was deleted or replaced, until
    /// the path can be opened again.
    Rescue(PathBuf),
    /// Memory, after [`PersistentQueue::delete_database`].
    Memory,
}

/// Device and inode of the file at `path`.
fn file_id(path: &Path) -> Result<(u64, u64), QueueError> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

/// The queue's columns, in the order of [`SCHEMA`].
const COLUMNS: &str = "id, idx, data, operation, version, sync_status, create_status, \
                       operation_syncing, is_data_context";
/// The staging table's columns, in the order of [`STAGING`].
const STAGED_COLUMNS: &str = "id, idx, data, operation, version, is_data_context";

/// Copies the queue and the staged batch of `conn` (whose file may be gone: only reads)
/// to a new file `rescue`; returns how many items and staged rows were copied.
fn save_to(conn: &Connection, rescue: &Path) -> Result<(usize, usize), QueueError> {
    let _ = std::fs::remove_file(rescue);
    let create = format!(
        "BEGIN; {} {}",
        SCHEMA.replace("persistent_queue (", "rescue.persistent_queue ("),
        STAGING
            .replace("CREATE TEMP TABLE", "CREATE TABLE")
            .replace("batch_staging (", "rescue.batch_staging (")
    );
    copy_with_rescue(
        conn,
        rescue,
        &create,
        "INSERT INTO rescue.persistent_queue",
        "main.persistent_queue",
        "INSERT INTO rescue.batch_staging",
        "temp.batch_staging",
    )
}

/// Puts the items saved in `rescue` into the queue of `conn` as they were (a saved item
/// replaces one of the same id: it is the newer) and its staged rows into the open
/// batch's staging; returns how many of each.
fn restore_from(conn: &Connection, rescue: &Path) -> Result<(usize, usize), QueueError> {
    copy_with_rescue(
        conn,
        rescue,
        "BEGIN IMMEDIATE;",
        "INSERT OR REPLACE INTO main.persistent_queue",
        "rescue.persistent_queue",
        "INSERT INTO temp.batch_staging",
        "rescue.batch_staging",
    )
}

/// With `rescue` attached to `conn`, in one transaction opened by `begin`: copies the
/// queue items (`items_into ({COLUMNS}) SELECT … FROM items_from`) and the staged rows
/// likewise, in rowid order; rolls back on any failure and always detaches. Returns how
/// many items and staged rows were copied.
fn copy_with_rescue(
    conn: &Connection,
    rescue: &Path,
    begin: &str,
    items_into: &str,
    items_from: &str,
    staged_into: &str,
    staged_from: &str,
) -> Result<(usize, usize), QueueError> {
    conn.execute("ATTACH DATABASE ?1 AS rescue", [rescue.to_string_lossy()])?;
    let copied = (|| -> Result<(usize, usize), QueueError> {
        conn.execute_batch(begin)?;
        let items = conn.execute(
            &format!("{items_into} ({COLUMNS}) SELECT {COLUMNS} FROM {items_from} ORDER BY rowid"),
            [],
        )?;
        let staged = conn.execute(
            &format!(
                "{staged_into} ({STAGED_COLUMNS}) SELECT {STAGED_COLUMNS} FROM {staged_from} ORDER BY rowid"
            ),
            [],
        )?;
        conn.execute_batch("COMMIT;")?;
        Ok((items, staged))
    })();
    if copied.is_err() {
        let _ = conn.execute_batch("ROLLBACK;");
    }
    let detached = conn.execute_batch("DETACH DATABASE rescue;");
    let copied = copied?;
    detached?;
    Ok(copied)
}

/// On a connection to a rescue file, before it closes: the staged rows into the file.
fn stash_staging(conn: &Connection) -> Result<(), QueueError> {
    conn.execute_batch(&format!(
        "BEGIN; INSERT INTO main.batch_staging ({STAGED_COLUMNS}) SELECT {STAGED_COLUMNS} \
         FROM temp.batch_staging ORDER BY rowid; DELETE FROM temp.batch_staging; COMMIT;"
    ))?;
    Ok(())
}

/// On a connection to a rescue file: its saved staged rows back into the staging table.
fn restore_staging(conn: &Connection) -> Result<(), QueueError> {
    conn.execute_batch(&format!(
        "BEGIN; INSERT INTO temp.batch_staging ({STAGED_COLUMNS}) SELECT {STAGED_COLUMNS} \
         FROM main.batch_staging ORDER BY rowid; DELETE FROM main.batch_staging; COMMIT;"
    ))?;
    Ok(())
}

struct Inner {
    backing: Backing,
    conn: Option<Connection>,
    /// A batch is open: submissions go to the staging table.
    batching: bool,
}

/// The persistent queue of one sync protocol instance.
pub struct PersistentQueue {
    path: PathBuf,
    inner: Mutex<Inner>,
}

impl PersistentQueue {
    /// Opens (or creates) the queue at `path`; items left `SYNCING` by a crash become
    /// pending again. A file that is not a usable database is moved aside with its
    /// `-wal`/`-shm` (`<path>.corrupt-<unix time>`, see [`storage::move_aside`]) and a new
    /// queue is started, which `log` is told about. A queue another connection holds locked
    /// is an error to retry later, and the file is left alone.
    pub fn open(path: &Path, log: &dyn Fn(&str)) -> Result<PersistentQueue, QueueError> {
        Self::open_logged(path, &|_, m| log(m))
    }

    /// [`open`](Self::open) with a level for each line: a queue moved aside with
    /// undelivered items in it (or whose items cannot be counted) is an error naming how
    /// many are lost, an empty one a warning.
    pub fn open_logged(
        path: &Path,
        log: &dyn Fn(LogLevel, &str),
    ) -> Result<PersistentQueue, QueueError> {
        let conn = Self::connect_or_replace(path, log)?;
        let q = PersistentQueue {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                backing: Backing::File(file_id(path)?),
                conn: Some(conn),
                batching: false,
            }),
        };
        q.reset_syncing()?;
        Ok(q)
    }

    /// A connection to the queue at `path`, moving an unusable file aside first (see
    /// [`open`](Self::open)); busy is an error and the file stays.
    fn connect_or_replace(
        path: &Path,
        log: &dyn Fn(LogLevel, &str),
    ) -> Result<Connection, QueueError> {
        match Self::connect(path) {
            Ok(c) => Ok(c),
            Err(QueueError::Sqlite(e)) if storage::is_busy(&e) => {
                log(
                    LogLevel::Warning,
                    &format!(
                        "Sync queue '{}' is locked by another process ({e}); leaving it as it is",
                        path.display()
                    ),
                );
                Err(QueueError::Sqlite(e))
            }
            Err(e) => {
                let aside = storage::aside_path(path);
                let counted = storage::count_rows(path, "persistent_queue");
                let (level, line) = storage::aside_report(
                    "Sync queue",
                    path,
                    &aside,
                    &e,
                    "undelivered items",
                    &counted,
                );
                log(level, &line);
                storage::move_aside(path, &aside)?;
                Self::connect(path)
            }
        }
    }

    /// Checks that the file at the queue's path is still the one the queue has open
    /// (device and inode). When it was deleted or replaced while open (writes to it would
    /// fail until a restart, and its items would be lost then), the items of the old file
    /// (and a batch being staged) are saved to a rescue file next to it, the old file is
    /// closed, the path is opened again (a new queue, or the replacement if it is one, or
    /// moved aside if it is not a database) and the saved items are put back in it, as
    /// they were. If the path cannot be opened now (locked), the queue runs on the rescue
    /// file and the next check tries again. Every step is logged; nothing queued is lost.
    pub fn check_file(&self, log: &dyn Fn(LogLevel, &str)) -> Result<(), QueueError> {
        let mut inner = self.inner.lock();
        let backing = inner.backing.clone();
        let rescue = match backing {
            Backing::Memory => return Ok(()),
            Backing::Rescue(r) => {
                if let Some(conn) = inner.conn.as_ref() {
                    stash_staging(conn)?;
                }
                r
            }
            Backing::File(id) => {
                let now = match file_id(&self.path) {
                    Ok(now) => Some(now),
                    Err(QueueError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                if now == Some(id) {
                    return Ok(());
                }
                let what = if now.is_some() { "replaced" } else { "deleted" };
                let rescue = storage::rescue_path(&self.path);
                let Some(conn) = inner.conn.as_ref() else {
                    return Err(QueueError::Sqlite(rusqlite::Error::InvalidQuery));
                };
                let (items, staged) = match save_to(conn, &rescue) {
                    Ok(n) => n,
                    Err(e) => {
                        log(
                            LogLevel::Error,
                            &format!(
                                "Sync queue '{}' was {what} while open, and its items cannot be saved to '{}' ({e}); trying again at the next check",
                                self.path.display(),
                                rescue.display()
                            ),
                        );
                        let _ = std::fs::remove_file(&rescue);
                        return Err(e);
                    }
                };
                log(
                    LogLevel::Error,
                    &format!(
                        "Sync queue '{}' was {what} while open; its {items} queued items ({staged} staged) were saved to '{}' and go into the file now at that path",
                        self.path.display(),
                        rescue.display()
                    ),
                );
                // Closed before the path is opened again, and the WAL and shared memory
                // left at the path (the old file's, whose items are saved now) moved out
                // of the way: a database opened at the path would read old pages from them.
                inner.conn = None;
                let mut stale = rescue.as_os_str().to_owned();
                stale.push(".stale");
                let stale = PathBuf::from(stale);
                match storage::move_side_files(&self.path, &stale) {
                    Ok(0) => {}
                    Ok(_) => log(
                        LogLevel::Warning,
                        &format!(
                            "Sync queue '{}': the old file's -wal/-shm moved to '{}-wal'/'-shm'",
                            self.path.display(),
                            stale.display()
                        ),
                    ),
                    Err(e) => {
                        log(
                            LogLevel::Error,
                            &format!(
                                "Sync queue '{}': cannot move the old file's -wal/-shm away ({e}); its items stay in '{}'",
                                self.path.display(),
                                rescue.display()
                            ),
                        );
                        inner.backing = Backing::Rescue(rescue.clone());
                        inner.conn = Some(Self::connect(&rescue)?);
                        if let Some(conn) = inner.conn.as_ref() {
                            restore_staging(conn)?;
                        }
                        return Err(e.into());
                    }
                }
                inner.backing = Backing::Rescue(rescue.clone());
                rescue
            }
        };
        inner.conn = None;
        let reopened = Self::connect_or_replace(&self.path, log).and_then(|c| {
            let n = restore_from(&c, &rescue)?;
            Ok((c, n))
        });
        match reopened {
            Ok((conn, (items, staged))) => {
                let id = file_id(&self.path)?;
                inner.conn = Some(conn);
                inner.backing = Backing::File(id);
                for s in ["-wal", "-shm", "-journal", ""] {
                    let mut p = rescue.as_os_str().to_owned();
                    p.push(s);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
                log(
                    LogLevel::Warning,
                    &format!(
                        "Sync queue '{}' reopened; {items} saved items ({staged} staged) are queued in it again",
                        self.path.display()
                    ),
                );
                Ok(())
            }
            Err(e) => {
                log(
                    LogLevel::Error,
                    &format!(
                        "Sync queue '{}' cannot be opened again ({e}); its items stay in '{}' and the queue runs on that file until the next check",
                        self.path.display(),
                        rescue.display()
                    ),
                );
                let conn = Self::connect(&rescue)?;
                restore_staging(&conn)?;
                inner.conn = Some(conn);
                Err(e)
            }
        }
    }

    fn connect(path: &Path) -> Result<Connection, QueueError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let conn = storage::open_wal(path)?;
        Self::prepare(conn)
    }

    fn prepare(conn: Connection) -> Result<Connection, QueueError> {
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(STAGING)?;
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('persistent_queue')",
            [],
            |r| r.get(0),
        )?;
        if n != 9 {
            return Err(QueueError::Sqlite(rusqlite::Error::InvalidQuery));
        }
        Ok(conn)
    }

    /// Where the queue lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, QueueError>,
    ) -> Result<T, QueueError> {
        let mut inner = self.inner.lock();
        match inner.conn.as_mut() {
            Some(c) => f(c),
            None => Err(QueueError::Sqlite(rusqlite::Error::InvalidQuery)),
        }
    }

    /// Queues one difference (committed at once unless a batch is open, in which case it
    /// is staged until [`flush`](Self::flush)).
    pub fn submit(&self, item: Item) -> Result<(), QueueError> {
        let mut inner = self.inner.lock();
        let batching = inner.batching;
        let conn = inner
            .conn
            .as_mut()
            .ok_or(QueueError::Sqlite(rusqlite::Error::InvalidQuery))?;
        if batching {
            return insert_into(conn, "temp.batch_staging", &item);
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        coalesce(&tx, &item)?;
        tx.commit()?;
        Ok(())
    }

    /// Queues many differences in one transaction.
    pub fn submit_all(&self, items: impl IntoIterator<Item = Item>) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for item in items {
                coalesce(&tx, &item)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// From now on submissions are staged until [`flush`](Self::flush) or
    /// [`discard_batch`](Self::discard_batch). Whatever an earlier batch left staged is
    /// dropped.
    pub fn begin_batch(&self) {
        let mut inner = self.inner.lock();
        inner.batching = true;
        if let Some(conn) = inner.conn.as_mut() {
            // A failure here shows again, and fails the scan, at the first submission.
            let _ = conn.execute("DELETE FROM temp.batch_staging", []);
        }
    }

    /// Applies the staged submissions in one transaction and ends the batch. When that
    /// fails nothing of the batch is queued, it stays staged and open (the caller fails its
    /// scan and discards it).
    pub fn flush(&self) -> Result<(), QueueError> {
        let mut inner = self.inner.lock();
        if !inner.batching {
            return Ok(());
        }
        let Some(conn) = inner.conn.as_mut() else {
            return Err(QueueError::Sqlite(rusqlite::Error::InvalidQuery));
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "SELECT id, idx, data, operation, version, is_data_context \
                 FROM temp.batch_staging ORDER BY rowid",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let item = Item {
                    seq: 0,
                    id: r.get(0)?,
                    index: r.get(1)?,
                    data: r.get(2)?,
                    operation: ItemOperation::from_stored(r.get(3)?),
                    version: r.get::<_, i64>(4)? as u64,
                    is_data_context: r.get::<_, i64>(5)? != 0,
                };
                coalesce(&tx, &item)?;
            }
        }
        tx.execute("DELETE FROM temp.batch_staging", [])?;
        tx.commit()?;
        inner.batching = false;
        Ok(())
    }

    /// Drops the staged submissions and ends the batch (the scan that produced them did
    /// not commit).
    pub fn discard_batch(&self) {
        let mut inner = self.inner.lock();
        inner.batching = false;
        if let Some(conn) = inner.conn.as_mut() {
            // Left over rows are dropped again by the next begin_batch.
            let _ = conn.execute("DELETE FROM temp.batch_staging", []);
        }
    }

    /// Number of submissions staged in the open batch (0 without one).
    pub fn staged(&self) -> Result<usize, QueueError> {
        self.with_conn(|conn| {
            let n: i64 =
                conn.query_row("SELECT COUNT(*) FROM temp.batch_staging", [], |r| r.get(0))?;
            Ok(n as usize)
        })
    }

    /// Marks every pending item as in flight and returns them in submission order.
    pub fn fetch_and_mark_for_sync(&self) -> Result<Vec<Item>, QueueError> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let items = select(&tx, false)?;
            tx.execute(
                "UPDATE persistent_queue SET sync_status = ?1 WHERE sync_status = ?2",
                params![SYNCING, PENDING],
            )?;
            tx.commit()?;
            Ok(items)
        })
    }

    /// Marks every pending item as in flight, as [`fetch_and_mark_for_sync`]
    /// (Self::fetch_and_mark_for_sync) does, but copies them into the session snapshot (a
    /// temporary table of the queue's connection: SQLite's temporary storage, not the
    /// process's memory) instead of returning them; the session reads them back a page at
    /// a time with [`session_page`](Self::session_page). The snapshot keeps each item as it
    /// was when the session began, whatever is submitted meanwhile. Item `n` (from 0, in
    /// submission order) has sequence number `n`.
    pub fn snapshot_for_sync(&self) -> Result<Snapshot, QueueError> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(SESSION_SNAPSHOT)?;
            tx.execute("DELETE FROM temp.session_snapshot", [])?;
            tx.execute(
                "INSERT INTO temp.session_snapshot (seq, id, idx, data, operation, version, \
                 is_data_context) SELECT row_number() OVER (ORDER BY rowid) - 1, id, idx, data, \
                 operation, version, is_data_context FROM persistent_queue WHERE sync_status = ?1",
                [PENDING],
            )?;
            let snapshot = snapshot_summary(&tx)?;
            tx.execute(
                "UPDATE persistent_queue SET sync_status = ?1 WHERE sync_status = ?2",
                params![SYNCING, PENDING],
            )?;
            tx.commit()?;
            Ok(snapshot)
        })
    }

    /// Keeps `item` for the next FULL session, after those kept before (see
    /// [`snapshot_kept`](Self::snapshot_kept)); never part of the persistent queue.
    pub fn keep_for_full(&self, item: &Item) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute_batch(KEPT_FOR_FULL)?;
            insert_into(conn, "temp.kept_for_full", item)
        })
    }

    /// Forgets the items kept for a FULL session.
    pub fn clear_kept(&self) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute_batch(KEPT_FOR_FULL)?;
            conn.execute("DELETE FROM temp.kept_for_full", [])?;
            Ok(())
        })
    }

    /// Moves the items kept for a FULL session into the session snapshot, in the order
    /// they were kept (item `n`, from 0, has sequence number `n`), for
    /// [`session_page`](Self::session_page) to read; none is kept afterwards.
    pub fn snapshot_kept(&self) -> Result<Snapshot, QueueError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            tx.execute_batch(SESSION_SNAPSHOT)?;
            tx.execute_batch(KEPT_FOR_FULL)?;
            tx.execute("DELETE FROM temp.session_snapshot", [])?;
            tx.execute(
                "INSERT INTO temp.session_snapshot (seq, id, idx, data, operation, version, \
                 is_data_context) SELECT row_number() OVER (ORDER BY rowid) - 1, id, idx, data, \
                 operation, version, is_data_context FROM temp.kept_for_full",
                [],
            )?;
            tx.execute("DELETE FROM temp.kept_for_full", [])?;
            let snapshot = snapshot_summary(&tx)?;
            tx.commit()?;
            Ok(snapshot)
        })
    }

    /// Up to `limit` items of the session snapshot, DataValues (`contexts` false) or
    /// DataContexts, whose sequence numbers follow `after` (from the first with `None`),
    /// in sequence order.
    pub fn session_page(
        &self,
        contexts: bool,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Item>, QueueError> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, id, idx, data, operation, version, is_data_context \
                 FROM temp.session_snapshot WHERE (is_data_context != 0) = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3",
            )?;
            let after = after.map_or(-1, |a| a as i64);
            let rows = stmt.query_map(params![contexts, after, limit as i64], |r| {
                Ok(Item {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: r.get(1)?,
                    index: r.get(2)?,
                    data: r.get(3)?,
                    operation: ItemOperation::from_stored(r.get(4)?),
                    version: r.get::<_, i64>(5)? as u64,
                    is_data_context: r.get::<_, i64>(6)? != 0,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Empties the session snapshot (the session ended, whatever its outcome).
    pub fn drop_snapshot(&self) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute_batch(SESSION_SNAPSHOT)?;
            conn.execute("DELETE FROM temp.session_snapshot", [])?;
            Ok(())
        })
    }

    /// The distinct indices of the pending DataValues that are not deletions, and how many
    /// DataValues are pending, without reading the items.
    pub fn pending_value_indices(&self) -> Result<(Vec<String>, usize), QueueError> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT idx FROM persistent_queue WHERE sync_status = 0 \
                 AND is_data_context = 0 AND operation != ?1 ORDER BY idx",
            )?;
            let rows = stmt.query_map([ItemOperation::Delete as i64], |r| r.get::<_, String>(0))?;
            let indices = rows.collect::<Result<Vec<_>, _>>()?;
            let n: i64 = conn.query_row(
                "SELECT COUNT(*) FROM persistent_queue WHERE sync_status = 0 \
                 AND is_data_context = 0",
                [],
                |r| r.get(0),
            )?;
            Ok((indices, n as usize))
        })
    }

    /// Whether a DataValue of `index` with document `id` is pending.
    pub fn is_pending_value(&self, index: &str, id: &str) -> Result<bool, QueueError> {
        self.with_conn(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT 1 FROM persistent_queue WHERE id = ?1 AND idx = ?2 \
                     AND sync_status = 0 AND is_data_context = 0",
                )?
                .query_row([id, index], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }

    /// The pending items (optionally only DataValues), without changing them.
    pub fn fetch_pending(&self, only_data_values: bool) -> Result<Vec<Item>, QueueError> {
        self.with_conn(|conn| select(conn, only_data_values))
    }

    /// After an acknowledged session: removes what was sent, keeps what changed meanwhile.
    pub fn clear_synced(&self) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM persistent_queue WHERE sync_status = ?1 OR \
                 (create_status = ?2 AND (operation_syncing = ?3 OR operation_syncing = ?4))",
                params![
                    SYNCING,
                    NEW_DELETED,
                    ItemOperation::NoOp as i64,
                    ItemOperation::Delete as i64
                ],
            )?;
            tx.execute(
                "UPDATE persistent_queue SET sync_status = ?1, create_status = ?2, \
                 operation_syncing = ?3 WHERE sync_status = ?4 OR sync_status = ?5",
                params![
                    PENDING,
                    EXISTING,
                    ItemOperation::NoOp as i64,
                    SYNCING,
                    SYNCING_UPDATED
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// After a failed session (or at start after a crash): everything in flight is pending
    /// again.
    pub fn reset_syncing(&self) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE persistent_queue SET sync_status = ?1, operation_syncing = ?2 \
                 WHERE sync_status IN (?3, ?4)",
                params![
                    PENDING,
                    ItemOperation::NoOp as i64,
                    SYNCING,
                    SYNCING_UPDATED
                ],
            )?;
            tx.execute(
                "DELETE FROM persistent_queue WHERE operation = ?1 AND create_status = ?2",
                params![ItemOperation::Delete as i64, NEW_DELETED],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Drops every item of `index` (after a DataClean was acknowledged).
    pub fn clear_index(&self, index: &str) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute("DELETE FROM persistent_queue WHERE idx = ?1", [index])?;
            Ok(())
        })
    }

    /// Drops every DataContext item.
    pub fn clear_data_context(&self) -> Result<(), QueueError> {
        self.with_conn(|conn| {
            conn.execute("DELETE FROM persistent_queue WHERE is_data_context = 1", [])?;
            Ok(())
        })
    }

    /// Number of rows in the queue, whatever their state.
    pub fn len(&self) -> Result<usize, QueueError> {
        self.with_conn(|conn| {
            let n: i64 =
                conn.query_row("SELECT COUNT(*) FROM persistent_queue", [], |r| r.get(0))?;
            Ok(n as usize)
        })
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> Result<bool, QueueError> {
        Ok(self.len()? == 0)
    }

    /// Closes the queue and deletes its files (with `-wal`, `-shm` and `-journal`), as the
    /// reference does, without recreating them: until the module is initialised again the
    /// queue lives in memory, so nothing re-creates the files a disabled module's host tests
    /// for.
    pub fn delete_database(&self) -> Result<(), QueueError> {
        let mut inner = self.inner.lock();
        inner.batching = false;
        // Closing first: the files go only once no connection holds them.
        inner.conn = Some(Self::prepare(Connection::open_in_memory()?)?);
        if let Backing::Rescue(r) = std::mem::replace(&mut inner.backing, Backing::Memory) {
            let _ = std::fs::remove_file(r);
        }
        for s in ["-wal", "-shm", "-journal", ""] {
            let mut p = self.path.as_os_str().to_owned();
            p.push(s);
            let p = PathBuf::from(p);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Adds `item` to `table`, one of the temporary tables with the item columns
/// (`batch_staging`, `kept_for_full`).
fn insert_into(conn: &Connection, table: &str, item: &Item) -> Result<(), QueueError> {
    conn.prepare_cached(&format!(
        "INSERT INTO {table} (id, idx, data, operation, version, is_data_context) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ))?
    .execute(params![
        item.id,
        item.index,
        item.data,
        item.operation as i64,
        item.version as i64,
        i64::from(item.is_data_context)
    ])?;
    Ok(())
}

/// How many items the session snapshot holds, how many are DataValues, and their indices.
fn snapshot_summary(conn: &Connection) -> Result<Snapshot, QueueError> {
    let (total, values): (i64, i64) = conn.query_row(
        "SELECT COUNT(*), COUNT(*) - COALESCE(SUM(is_data_context != 0), 0) \
         FROM temp.session_snapshot",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let indices = {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT idx FROM temp.session_snapshot WHERE is_data_context = 0 \
             ORDER BY idx",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    Ok(Snapshot {
        total: total as usize,
        values: values as usize,
        indices,
    })
}

fn select(conn: &Connection, only_data_values: bool) -> Result<Vec<Item>, QueueError> {
    let sql = if only_data_values {
        "SELECT rowid, id, idx, data, operation, version, is_data_context FROM persistent_queue \
         WHERE sync_status = 0 AND is_data_context = 0 ORDER BY rowid"
    } else {
        "SELECT rowid, id, idx, data, operation, version, is_data_context FROM persistent_queue \
         WHERE sync_status = 0 ORDER BY rowid"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(Item {
            seq: r.get::<_, i64>(0)? as u64,
            id: r.get(1)?,
            index: r.get(2)?,
            data: r.get(3)?,
            operation: ItemOperation::from_stored(r.get(4)?),
            version: r.get::<_, i64>(5)? as u64,
            is_data_context: r.get::<_, i64>(6)? != 0,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Applies one submission to the queue with the merge rules.
fn coalesce(tx: &Connection, item: &Item) -> Result<(), QueueError> {
    let old: Option<(i64, i64, i64, i64)> = tx
        .prepare_cached(
            "SELECT operation, sync_status, create_status, operation_syncing \
             FROM persistent_queue WHERE id = ?1",
        )?
        .query_row([&item.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let op = item.operation as i64;
    let ctx = i64::from(item.is_data_context);
    let Some((old_op, old_sync, old_create, old_op_syncing)) = old else {
        let create = if item.operation == ItemOperation::Create {
            NEW
        } else {
            EXISTING
        };
        tx.prepare_cached(
            "INSERT INTO persistent_queue (id, idx, data, operation, version, create_status, \
             is_data_context) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            item.id,
            item.index,
            item.data,
            op,
            item.version as i64,
            create,
            ctx
        ])?;
        return Ok(());
    };
    // While in flight, remember which operation the manager is receiving.
    let op_syncing = if old_sync != PENDING {
        if old_op_syncing == ItemOperation::NoOp as i64 {
            old_op
        } else {
            old_op_syncing
        }
    } else {
        ItemOperation::NoOp as i64
    };
    let sync = if old_sync == PENDING {
        PENDING
    } else {
        SYNCING_UPDATED
    };
    let create = if item.operation == ItemOperation::Delete {
        if old_create == NEW && old_sync == PENDING {
            // Created and deleted before the manager heard of it: nothing to tell.
            tx.prepare_cached("DELETE FROM persistent_queue WHERE id = ?1")?
                .execute([&item.id])?;
            return Ok(());
        }
        if old_create == NEW {
            NEW_DELETED
        } else {
            old_create
        }
    } else if old_create == NEW_DELETED {
        NEW
    } else {
        old_create
    };
    tx.prepare_cached(
        "UPDATE persistent_queue SET idx = ?1, data = ?2, operation = ?3, version = ?4, \
         sync_status = ?5, create_status = ?6, operation_syncing = ?7, is_data_context = ?8 \
         WHERE id = ?9",
    )?
    .execute(params![
        item.index,
        item.data,
        op,
        item.version as i64,
        sync,
        create,
        op_syncing,
        ctx,
        item.id
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> (tempfile::TempDir, PersistentQueue) {
        let dir = tempfile::tempdir().unwrap();
        let q = PersistentQueue::open(&dir.path().join("q.db"), &|_| {}).unwrap();
        (dir, q)
    }

    fn ids(items: &[Item]) -> Vec<(String, ItemOperation)> {
        items.iter().map(|i| (i.id.clone(), i.operation)).collect()
    }

    #[test]
    fn newer_difference_replaces_older() {
        let (_d, q) = q();
        q.submit(Item::new("a", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        q.submit(Item::new("a", ItemOperation::Modify, "i", "2", 2))
            .unwrap();
        let p = q.fetch_pending(false).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].data, "2");
        assert_eq!(p[0].operation, ItemOperation::Modify);
        assert_eq!(p[0].version, 2);
    }

    #[test]
    fn create_then_delete_cancels_out() {
        let (_d, q) = q();
        q.submit(Item::new("a", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        q.submit(Item::new("a", ItemOperation::Delete, "i", "1", 1))
            .unwrap();
        assert!(q.is_empty().unwrap());
        // But an existing item's delete is kept.
        q.submit(Item::new("b", ItemOperation::Modify, "i", "1", 2))
            .unwrap();
        q.submit(Item::new("b", ItemOperation::Delete, "i", "1", 2))
            .unwrap();
        assert_eq!(
            ids(&q.fetch_pending(false).unwrap()),
            [("b".to_string(), ItemOperation::Delete)]
        );
    }

    #[test]
    fn changes_during_a_session_wait_for_the_next() {
        let (_d, q) = q();
        q.submit(Item::new("a", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        q.submit(Item::new("b", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        let sent = q.fetch_and_mark_for_sync().unwrap();
        assert_eq!(sent.len(), 2);
        q.submit(Item::new("a", ItemOperation::Modify, "i", "2", 2))
            .unwrap();
        q.submit(Item::new("c", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        assert_eq!(
            q.fetch_pending(false).unwrap().len(),
            1,
            "only c is pending now"
        );
        q.clear_synced().unwrap();
        let left = q.fetch_pending(false).unwrap();
        let mut left = ids(&left);
        left.sort();
        assert_eq!(
            left,
            [
                ("a".to_string(), ItemOperation::Modify),
                ("c".to_string(), ItemOperation::Create)
            ]
        );
    }

    #[test]
    fn failed_session_leaves_everything_pending() {
        let (_d, q) = q();
        q.submit(Item::new("a", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        q.fetch_and_mark_for_sync().unwrap();
        assert!(q.fetch_pending(false).unwrap().is_empty());
        q.reset_syncing().unwrap();
        assert_eq!(q.fetch_pending(false).unwrap().len(), 1);
    }

    #[test]
    fn created_in_flight_then_deleted_is_dropped_after_ack() {
        let (_d, q) = q();
        q.submit(Item::new("a", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        q.fetch_and_mark_for_sync().unwrap();
        q.submit(Item::new("a", ItemOperation::Delete, "i", "1", 1))
            .unwrap();
        q.clear_synced().unwrap();
        // The manager got the create; the delete must still go.
        assert_eq!(
            ids(&q.fetch_pending(false).unwrap()),
            [("a".to_string(), ItemOperation::Delete)]
        );
    }

    #[test]
    fn batch_is_invisible_until_flushed_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        {
            let q = PersistentQueue::open(&path, &|_| {}).unwrap();
            q.begin_batch();
            for i in 0..100 {
                q.submit(Item::new(
                    format!("id{i}"),
                    ItemOperation::Create,
                    "i",
                    "d",
                    1,
                ))
                .unwrap();
            }
            q.flush().unwrap();
            q.fetch_and_mark_for_sync().unwrap();
            // Dropped mid-session, as in a crash.
        }
        let q = PersistentQueue::open(&path, &|_| {}).unwrap();
        assert_eq!(q.fetch_pending(false).unwrap().len(), 100);
    }

    #[test]
    fn corrupt_queue_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        std::fs::write(&path, vec![7u8; 10_000]).unwrap();
        let said = std::cell::RefCell::new(Vec::new());
        let q = PersistentQueue::open(&path, &|m| said.borrow_mut().push(m.to_string())).unwrap();
        assert!(q.is_empty().unwrap());
        assert!(said.borrow()[0].contains("moving it to"));
        q.submit(Item::new("a", ItemOperation::Create, "i", "1", 1))
            .unwrap();
        assert_eq!(q.len().unwrap(), 1);
    }

    #[test]
    fn locked_queue_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        // Another process holds the file exclusively (rollback journal): SQLITE_BUSY.
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE keep (x); INSERT INTO keep VALUES (7); BEGIN EXCLUSIVE;")
            .unwrap();
        let said = std::cell::RefCell::new(Vec::new());
        let opened = PersistentQueue::open(&path, &|m| said.borrow_mut().push(m.to_string()));
        assert!(
            matches!(&opened, Err(QueueError::Sqlite(e)) if storage::is_busy(e)),
            "{:?}",
            opened.err()
        );
        assert!(said.borrow()[0].contains("locked"), "{:?}", said.borrow());
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
            .count();
        assert_eq!(aside, 0, "a busy queue was moved aside");
        holder.execute_batch("COMMIT;").unwrap();
        drop(holder);
        let q = PersistentQueue::open(&path, &|_| {}).unwrap();
        assert!(q.is_empty().unwrap());
        let x: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT x FROM keep", [], |r| r.get(0))
            .unwrap();
        assert_eq!(x, 7, "the file is the same one");
    }

    #[test]
    fn unusable_queue_goes_aside_with_its_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        // A WAL database whose queue table has other columns, its last write still in the
        // WAL (the writer is still open, so nothing was checkpointed).
        let writer = storage::open_wal(&path).unwrap();
        writer
            .execute_batch(
                "CREATE TABLE persistent_queue (x); INSERT INTO persistent_queue VALUES (7);",
            )
            .unwrap();
        let q = PersistentQueue::open(&path, &|_| {}).unwrap();
        assert!(q.is_empty().unwrap());
        let mut aside: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".corrupt-"))
            .collect();
        aside.sort();
        assert_eq!(aside.len(), 3, "{aside:?}");
        assert!(aside[1].ends_with("-shm") && aside[2].ends_with("-wal"));
        drop(q);
        drop(writer);
        // The evidence reads back: the moved file with its WAL still holds the row.
        let old = Connection::open(dir.path().join(&aside[0])).unwrap();
        let x: i64 = old
            .query_row("SELECT x FROM persistent_queue", [], |r| r.get(0))
            .unwrap();
        assert_eq!(x, 7);
    }
}
