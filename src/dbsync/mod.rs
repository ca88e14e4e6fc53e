//! The SQLite diff engine: keeps the last known inventory and says what changed.
//!
//! A scan hands the complete current rows of one table to a [`TableSync`]; it compares them
//! with what the database holds and reports every row as inserted, modified (with the old
//! values of the columns that changed) or, when the scan is finished, deleted. All of it
//! happens in one SQLite transaction with prepared statements, so a crash mid-scan leaves the
//! previous state intact and the next scan reports the same differences again.
//!
//! Rows carry a `checksum` column computed over the whole collector row, so an unchanged
//! row is recognised by comparing one string; only rows whose checksum differs are read back
//! column by column.
//!
//! On a beta host the tables also carry the document-limit flag `sync`
//! ([`schema::SYNC`]), added in place by [`DbSync::migrate_to_beta`]. It is never compared:
//! a row whose only difference would be its flag is unchanged. A table sync reports each
//! changed or deleted row with the flag it had before the change (as beta4's engine hands
//! it to its callback) and sets it as its [`SyncFlag`] says.

pub mod checksum;
// The beta host's markers in `table_metadata` (issue 12, H1's hook).
mod markers;
pub mod schema;
// Stamps of a table's sources in `table_metadata` (skipping unchanged tables).
mod sources;
mod sqlvalue;

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use rusqlite::{params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::storage;
use crate::{LogLevel, Row};
pub use schema::{table, table_for_index, ColumnType, TableDef, TABLES};
use schema::{CHECKSUM, SYNC, VERSION};
use sqlvalue::{from_sql, key_part, key_part_json, to_sql};

/// What can go wrong in the diff engine.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("table {table} has columns [{found}], expected [{expected}]")]
    Schema {
        table: &'static str,
        found: String,
        expected: String,
    },
    #[error("row of {table} has no value for primary key column {column}")]
    MissingKey {
        table: &'static str,
        column: &'static str,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One difference found by a [`TableSync`].
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A row that was not in the database; carries the row plus its `version` (1).
    Inserted(Row),
    /// A row whose checksum changed. `new` is the complete new row with its raised
    /// `version`; `old` holds the primary key, the previous values of the changed columns
    /// and the previous `version`.
    Modified { new: Row, old: Row },
    /// A row that the scan no longer reported; the row as it was stored.
    Deleted(Row),
}

/// How many rows of each kind a table sync saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncStats {
    pub rows: usize,
    pub inserted: usize,
    pub modified: usize,
    pub deleted: usize,
}

/// Which stored rows a read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every row.
    All,
    /// Only the rows whose `sync` flag is 1 (document limits); on a database without the
    /// column (not migrated to beta) every row.
    Synced,
    /// Only the rows whose `sync` flag is 0 (waiting for room under a limit); on a
    /// database without the column none.
    Unsynced,
}

/// What a table sync does with the `sync` flag of the rows it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncFlag {
    /// The table has no flag to keep (alpha0 database).
    Untracked,
    /// The table has a document limit: new rows get the column's default (0, waiting for
    /// room), changed rows keep theirs.
    Keep,
    /// The table has no limit: every inserted or modified row becomes 1 (its document
    /// goes to the manager); unchanged rows keep theirs.
    MarkChanged,
}

/// The local inventory database.
pub struct DbSync {
    conn: Connection,
    path: Option<PathBuf>,
    /// Every table has the `sync` column and this database serves a beta host
    /// ([`migrate_to_beta`](Self::migrate_to_beta) ran).
    beta: bool,
}

impl DbSync {
    /// Opens (or creates) the database at `path` in WAL mode with every inventory table.
    ///
    /// A file that is not a readable SQLite database, or whose tables do not have the
    /// expected columns, is logged, renamed aside with its `-wal`/`-shm`
    /// (`<path>.corrupt-<unix time>`, see [`storage::move_aside`]) and recreated empty. If
    /// even that fails the engine runs on an in-memory database so that the module keeps
    /// working, and says so in the log. A database another connection holds locked is
    /// fine: that is an error to retry later, and the file is left alone.
    pub fn open(path: &Path, log: &dyn Fn(LogLevel, &str)) -> Result<DbSync, DbError> {
        match Self::try_open(path) {
            Ok(db) => return Ok(db),
            Err(DbError::Sqlite(e)) if storage::is_busy(&e) => {
                log(
                    LogLevel::Error,
                    &format!(
                        "Inventory database '{}' is locked by another process ({e}); leaving it as it is",
                        path.display()
                    ),
                );
                return Err(DbError::Sqlite(e));
            }
            Err(e) => {
                let aside = storage::aside_path(path);
                // Its rows are the manager's view of this host: without them the next
                // scan reports everything it finds as new.
                let counted = storage::count_rows(path, "dbsync_%");
                let (level, line) = storage::aside_report(
                    "Inventory database",
                    path,
                    &aside,
                    &e,
                    "inventory rows",
                    &counted,
                );
                log(level, &line);
                if let Err(e) = storage::move_aside(path, &aside) {
                    log(
                        LogLevel::Error,
                        &format!("Cannot move '{}' aside: {e}", path.display()),
                    );
                }
            }
        }
        match Self::try_open(path) {
            Ok(db) => Ok(db),
            Err(e) => {
                log(
                    LogLevel::Error,
                    &format!(
                        "Cannot create inventory database '{}' ({e}); keeping the inventory in memory until restart",
                        path.display()
                    ),
                );
                Self::in_memory()
            }
        }
    }

    /// Opens `path` and fails on any problem instead of repairing it.
    pub fn try_open(path: &Path) -> Result<DbSync, DbError> {
        let conn = Connection::open(path)?;
        let mut db = DbSync {
            conn,
            path: Some(path.to_path_buf()),
            beta: false,
        };
        db.configure()?;
        Ok(db)
    }

    /// A database that lives only in memory (tests, benchmarks, last-resort fallback).
    pub fn in_memory() -> Result<DbSync, DbError> {
        let mut db = DbSync {
            conn: Connection::open_in_memory()?,
            path: None,
            beta: false,
        };
        db.configure()?;
        Ok(db)
    }

    fn configure(&mut self) -> Result<(), DbError> {
        storage::configure_wal(&self.conn)?;
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(DbError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            )));
        }
        let tx = self.conn.transaction()?;
        for t in TABLES {
            tx.execute_batch(&t.create_sql())?;
            check_columns(&tx, t)?;
        }
        tx.execute_batch(&schema::metadata_create_sql())?;
        // The reference's engine recreates a database whose user_version is 0 (it takes
        // it for one it did not write); its schema version is 1.
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version == 0 {
            tx.execute_batch(&format!("PRAGMA user_version = {};", schema::USER_VERSION))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Where the database lives, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// True once [`migrate_to_beta`](Self::migrate_to_beta) made this a beta host's
    /// database (every table has the `sync` column, and reads return it).
    pub fn is_beta(&self) -> bool {
        self.beta
    }

    /// Makes this a beta host's database, in place: every table that lacks the `sync`
    /// column gets it (`ALTER TABLE … ADD COLUMN sync INTEGER DEFAULT 0`) and every row
    /// already stored in such a table is marked 1. Those rows were written by an alpha0
    /// module, ours or the C++ one, which sends every row's document to the manager, and 1
    /// is what beta4 gives a row whose document it sent; nothing is reported again. A
    /// table that has the column already (a beta4 module's database, or one migrated
    /// before) is left as it is. One transaction: on an error nothing changes and the
    /// database stays alpha0. Returns how many tables got the column.
    pub fn migrate_to_beta(&mut self) -> Result<usize, DbError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut added = 0;
        for t in TABLES {
            if has_column(&tx, t, SYNC.name)? {
                continue;
            }
            tx.execute_batch(&t.add_sync_sql())?;
            tx.execute(&format!("UPDATE {} SET {} = 1", t.name, SYNC.name), [])?;
            added += 1;
        }
        tx.commit()?;
        self.beta = true;
        Ok(added)
    }

    /// The columns this database reads and writes for `table`.
    fn stored(&self, table: &'static TableDef) -> Vec<schema::Column> {
        table.columns_for(self.beta).collect()
    }

    /// The WHERE clause of `selection` (none for every row).
    fn selection_filter(&self, selection: Selection) -> &'static str {
        match selection {
            Selection::All => "",
            Selection::Synced if self.beta => " WHERE sync = 1",
            Selection::Synced => "",
            Selection::Unsynced if self.beta => " WHERE sync = 0",
            Selection::Unsynced => " WHERE 0",
        }
    }

    /// Starts the synchronisation of one table: one transaction until [`TableSync::finish`].
    /// On a beta database, rows it inserts or modifies are marked synced
    /// ([`SyncFlag::MarkChanged`]: a table without a document limit).
    pub fn begin(&mut self, table: &'static TableDef) -> Result<TableSync<'_>, DbError> {
        self.begin_with(table, SyncFlag::MarkChanged)
    }

    /// [`begin`](Self::begin) with what to do with the `sync` flag of the rows written
    /// (ignored, as [`SyncFlag::Untracked`], on an alpha0 database).
    pub fn begin_with(
        &mut self,
        table: &'static TableDef,
        flag: SyncFlag,
    ) -> Result<TableSync<'_>, DbError> {
        let flag = if self.beta { flag } else { SyncFlag::Untracked };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known = Known::load(&tx, table)?;
        let pk_types = pk_types(table);
        Ok(TableSync {
            tx,
            table,
            flag,
            pk_types,
            known,
            stats: SyncStats::default(),
            insert_sql: String::new(),
            insert_mask: None,
            update_sql: String::new(),
            sources: None,
        })
    }

    /// Synchronises a whole table from a list of rows.
    pub fn sync_table(
        &mut self,
        table: &'static TableDef,
        rows: impl IntoIterator<Item = Row>,
        on_change: &mut dyn FnMut(Change),
    ) -> Result<SyncStats, DbError> {
        let mut txn = self.begin(table)?;
        for row in rows {
            txn.push(row, on_change)?;
        }
        txn.finish(on_change)
    }

    /// Every stored row of `table`, with `checksum` and `version` (and `sync` on a beta
    /// database).
    pub fn select_all(&self, table: &'static TableDef) -> Result<Vec<Row>, DbError> {
        self.select(table, Selection::All)
    }

    /// The stored rows of `table` that `selection` takes, as
    /// [`select_all`](Self::select_all) returns them.
    pub fn select(
        &self,
        table: &'static TableDef,
        selection: Selection,
    ) -> Result<Vec<Row>, DbError> {
        let mut out = Vec::new();
        self.for_each_selected(table, selection, &mut |row| out.push(row))?;
        Ok(out)
    }

    /// Calls `f` with every stored row of `table` (with `checksum` and `version`), one at
    /// a time: what [`select_all`](Self::select_all) returns, without holding them all.
    pub fn for_each_row(
        &self,
        table: &'static TableDef,
        f: &mut dyn FnMut(Row),
    ) -> Result<(), DbError> {
        self.for_each_selected(table, Selection::All, f)
    }

    /// [`for_each_row`](Self::for_each_row) over the rows `selection` takes.
    pub fn for_each_selected(
        &self,
        table: &'static TableDef,
        selection: Selection,
        f: &mut dyn FnMut(Row),
    ) -> Result<(), DbError> {
        let cols = self.stored(table);
        let names: Vec<_> = cols.iter().map(|c| c.name).collect();
        let sql = format!(
            "SELECT {} FROM {}{}",
            names.join(", "),
            table.name,
            self.selection_filter(selection)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let mut row = Row::new();
            for (i, c) in cols.iter().enumerate() {
                row.insert(c.name.to_string(), from_sql(r.get_ref(i)?));
            }
            f(row);
        }
        Ok(())
    }

    /// Number of rows stored in `table`.
    pub fn count(&self, table: &'static TableDef) -> Result<i64, DbError> {
        self.count_selected(table, Selection::All)
    }

    /// Number of rows of `table` that `selection` takes.
    pub fn count_selected(
        &self,
        table: &'static TableDef,
        selection: Selection,
    ) -> Result<i64, DbError> {
        Ok(self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM {}{}",
                table.name,
                self.selection_filter(selection)
            ),
            [],
            |r| r.get(0),
        )?)
    }

    /// Up to `limit` rows of `table` whose `sync` flag is `synced`, in the order of the
    /// table's [`limit_order`](TableDef::limit_order) columns compared case-insensitively
    /// (`COLLATE NOCASE`, as beta4 orders them), ascending or `descending`; rows equal on
    /// those columns follow their primary key in the same direction, so that the choice
    /// is the same every time. Empty on a database that is not beta.
    pub fn rows_by_sync(
        &self,
        table: &'static TableDef,
        synced: bool,
        descending: bool,
        limit: usize,
    ) -> Result<Vec<Row>, DbError> {
        if !self.beta || limit == 0 {
            return Ok(Vec::new());
        }
        let cols = self.stored(table);
        let names: Vec<_> = cols.iter().map(|c| c.name).collect();
        let dir = if descending { "DESC" } else { "ASC" };
        let order: Vec<String> = table
            .limit_order
            .iter()
            .map(|c| format!("{c} COLLATE NOCASE {dir}"))
            .chain(table.primary_key.iter().map(|c| format!("{c} {dir}")))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = ?1 ORDER BY {} LIMIT ?2",
            names.join(", "),
            table.name,
            SYNC.name,
            order.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query(rusqlite::params![i64::from(synced), limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Row::new();
            for (i, c) in cols.iter().enumerate() {
                row.insert(c.name.to_string(), from_sql(r.get_ref(i)?));
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Sets the `sync` flag of the stored rows with the primary keys of `rows` (in one
    /// transaction); returns how many were updated. Nothing on a database that is not beta.
    pub fn set_synced(
        &mut self,
        table: &'static TableDef,
        rows: &[Row],
        synced: bool,
    ) -> Result<usize, DbError> {
        if !self.beta || rows.is_empty() {
            return Ok(0);
        }
        let pk_types = pk_types(table);
        let sql = format!(
            "UPDATE {} SET {} = ? WHERE {}",
            table.name,
            SYNC.name,
            where_pk(table)
        );
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(&sql)?;
            for row in rows {
                let values = std::iter::once(rusqlite::types::Value::Integer(i64::from(synced)))
                    .chain(
                        table
                            .primary_key
                            .iter()
                            .zip(&pk_types)
                            .map(|(pk, ty)| to_sql(*ty, row.get(*pk).unwrap_or(&Value::Null))),
                    );
                n += stmt.execute(params_from_iter(values))?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Deletes the stored rows with the primary keys of `rows` (in one transaction),
    /// without reporting them; returns how many went. A beta host's scan drops this way the
    /// rows whose documents failed validation, so that the next scan finds them new again.
    pub fn delete_rows(
        &mut self,
        table: &'static TableDef,
        rows: &[Row],
    ) -> Result<usize, DbError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let pk_types = pk_types(table);
        let sql = format!("DELETE FROM {} WHERE {}", table.name, where_pk(table));
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(&sql)?;
            for row in rows {
                let values = table
                    .primary_key
                    .iter()
                    .zip(&pk_types)
                    .map(|(pk, ty)| to_sql(*ty, row.get(*pk).unwrap_or(&Value::Null)));
                n += stmt.execute(params_from_iter(values))?;
            }
        }
        // The table no longer holds what its sources' stamp stands for.
        sources::write(&tx, table, None)?;
        tx.commit()?;
        Ok(n)
    }

    /// The highest `version` over all tables (0 when they are all empty).
    pub fn max_version(&self) -> Result<i64, DbError> {
        let mut max = 0i64;
        for t in TABLES {
            let v: Option<i64> = self.conn.query_row(
                &format!("SELECT MAX({VERSION}) FROM {}", t.name),
                [],
                |r| r.get(0),
            )?;
            max = max.max(v.unwrap_or(0));
        }
        Ok(max)
    }

    /// Sets `version` of every row of every table; returns how many rows were updated.
    pub fn set_version_all(&mut self, version: i64) -> Result<usize, DbError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for t in TABLES {
            n += tx.execute(&format!("UPDATE {} SET {VERSION} = ?1", t.name), [version])?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// SHA-1 of the concatenated row checksums of `table` in ascending order: the table
    /// checksum an integrity check compares with the manager's.
    pub fn table_checksum(&self, table: &'static TableDef) -> Result<String, DbError> {
        self.table_checksum_of(table, Selection::All)
    }

    /// [`table_checksum`](Self::table_checksum) over the rows `selection` takes (beta4
    /// checks a limited table's synced rows only: the ones the manager holds).
    pub fn table_checksum_of(
        &self,
        table: &'static TableDef,
        selection: Selection,
    ) -> Result<String, DbError> {
        use sha1::Digest as _;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {CHECKSUM} FROM {}{} ORDER BY {CHECKSUM}",
            table.name,
            self.selection_filter(selection)
        ))?;
        let mut rows = stmt.query([])?;
        let mut hash = sha1::Sha1::new();
        while let Some(r) = rows.next()? {
            if let rusqlite::types::ValueRef::Text(t) = r.get_ref(0)? {
                hash.update(t);
            }
        }
        Ok(hex::encode(hash.finalize()))
    }

    /// Raises the `version` of every row of `table` by one.
    pub fn increase_versions(&mut self, table: &'static TableDef) -> Result<usize, DbError> {
        Ok(self.conn.execute(
            &format!("UPDATE {} SET {VERSION} = {VERSION} + 1", table.name),
            [],
        )?)
    }

    /// When `table` was last checked for integrity (unix seconds; 0 = never).
    pub fn last_sync_time(&self, table: &'static TableDef) -> Result<i64, DbError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT last_sync_time FROM {} WHERE table_name = ?1",
                    schema::METADATA_TABLE
                ),
                [table.name],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Records when `table` was last checked for integrity.
    pub fn set_last_sync_time(
        &mut self,
        table: &'static TableDef,
        secs: i64,
    ) -> Result<(), DbError> {
        self.conn.execute(
            &format!(
                "INSERT INTO {} (table_name, last_sync_time) VALUES (?1, ?2) \
                 ON CONFLICT(table_name) DO UPDATE SET last_sync_time = excluded.last_sync_time",
                schema::METADATA_TABLE
            ),
            rusqlite::params![table.name, secs],
        )?;
        Ok(())
    }

    /// Removes every row of `table` without reporting them (and its sources' stamp).
    pub fn clear_table(&mut self, table: &'static TableDef) -> Result<usize, DbError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(&format!("DELETE FROM {}", table.name), [])?;
        sources::write(&tx, table, None)?;
        tx.commit()?;
        Ok(n)
    }
}

/// The SQL types of `table`'s primary-key columns, in key order (text for a key column the
/// table does not declare).
fn pk_types(table: &TableDef) -> Vec<ColumnType> {
    table
        .primary_key
        .iter()
        .map(|pk| table.column(pk).map(|c| c.ty).unwrap_or(ColumnType::Text))
        .collect()
}

/// The stored rows of a table when its sync began, as compact fingerprints: for each row
/// a 128-bit hash of its primary key and a 64-bit hash of its checksum, sorted by key, and
/// whether the scan pushed it. 33 bytes a row whatever the row's size (3.3 MB for 100,000
/// packages), against several hundred for the keys and checksums themselves.
///
/// A row pushed that is not here is inserted (`INSERT .. ON CONFLICT DO NOTHING`); when it
/// was already inserted by this scan (the same key twice) the stored row is compared
/// instead, so nothing of the rows this scan adds is kept in memory.
struct Known {
    /// (key hash, checksum hash), sorted by key hash.
    rows: Vec<(u128, u64)>,
    seen: Vec<bool>,
}

/// Hash of a checksum column (`None`: NULL or not text, which never equals a pushed one).
fn checksum_hash(checksum: Option<&str>) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    checksum.hash(&mut h);
    h.finish()
}

/// 128-bit hash of a key string (two independent SipHash runs); two keys of one table
/// collide with a probability of about n²/2¹²⁹.
fn key_hash(key: &str) -> u128 {
    let half = |seed: u8| {
        let mut h = std::hash::DefaultHasher::new();
        h.write_u8(seed);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl Known {
    fn load(tx: &rusqlite::Transaction<'_>, table: &'static TableDef) -> Result<Known, DbError> {
        let sql = format!(
            "SELECT {}, {CHECKSUM} FROM {}",
            table.primary_key.join(", "),
            table.name
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        let npk = table.primary_key.len();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        let mut key = String::new();
        while let Some(r) = rows.next()? {
            key.clear();
            for i in 0..npk {
                key_part(&mut key, r.get_ref(i)?);
            }
            let checksum = match r.get_ref(npk)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok(),
                _ => None,
            };
            out.push((key_hash(&key), checksum_hash(checksum)));
        }
        out.sort_unstable_by_key(|a| a.0);
        out.shrink_to_fit();
        let seen = vec![false; out.len()];
        Ok(Known { rows: out, seen })
    }

    fn position(&self, key: &u128) -> Option<usize> {
        self.rows.binary_search_by(|(k, _)| k.cmp(key)).ok()
    }

    fn any_unseen(&self) -> bool {
        self.seen.iter().any(|s| !s)
    }

    fn is_unseen(&self, key: &str) -> bool {
        self.position(&key_hash(key)).is_some_and(|i| !self.seen[i])
    }
}

/// How many deleted rows [`TableSync::finish_pending`] reads, deletes and reports at a time.
const DELETE_PAGE: usize = 256;

/// One table's synchronisation in progress; see [`DbSync::begin`].
///
/// Dropping it without [`finish`](TableSync::finish) rolls every change back.
pub struct TableSync<'c> {
    tx: rusqlite::Transaction<'c>,
    table: &'static TableDef,
    flag: SyncFlag,
    pk_types: Vec<ColumnType>,
    known: Known,
    stats: SyncStats,
    insert_sql: String,
    /// Which stored columns (bit `i`: the `i`-th, `version` left out) `insert_sql` names.
    insert_mask: Option<u128>,
    update_sql: String,
    /// The fingerprint of the sources the pushed rows come from, stored with the table at
    /// the commit (see [`DbSync::unchanged_rows`]).
    sources: Option<Vec<u8>>,
}

impl<'c> TableSync<'c> {
    /// Says that the rows this sync gets are every row of sources whose fingerprint is
    /// `fingerprint` (taken before the first row was read); `None`, the default, that the
    /// rows' sources cannot be told. The commit stores it with the table, or removes the
    /// table's previous one.
    pub fn set_sources(&mut self, fingerprint: Option<Vec<u8>>) {
        self.sources = fingerprint;
    }

    /// Compares one current row with the stored one and reports the difference, if any.
    ///
    /// On a beta database a [`Change::Modified`]'s `new` row and a [`Change::Deleted`] row
    /// carry the `sync` flag the stored row had before the change; an inserted row has none.
    pub fn push(&mut self, mut row: Row, on_change: &mut dyn FnMut(Change)) -> Result<(), DbError> {
        row.remove(VERSION);
        row.remove(SYNC.name);
        let table = self.table;
        let mut key = String::with_capacity(64);
        for (pk, ty) in table.primary_key.iter().zip(&self.pk_types) {
            let v = row.get(*pk).ok_or(DbError::MissingKey {
                table: table.name,
                column: pk,
            })?;
            key_part_json(&mut key, *ty, v);
        }
        self.stats.rows += 1;
        let checksum = row.get(CHECKSUM).and_then(Value::as_str);

        let hashed = key_hash(&key);
        let previous = self.known.position(&hashed).map(|i| {
            self.known.seen[i] = true;
            let pushed = checksum_hash(checksum);
            let same = checksum.is_some() && self.known.rows[i].1 == pushed;
            // A second push of the key in this scan compares with this one.
            self.known.rows[i].1 = pushed;
            same
        });
        if previous == Some(true) {
            // Unchanged: the common case of a rescan, with no copy and no write.
            return Ok(());
        }
        let pk_values: Vec<rusqlite::types::Value> = table
            .primary_key
            .iter()
            .zip(&self.pk_types)
            .map(|(pk, ty)| to_sql(*ty, row.get(*pk).unwrap_or(&Value::Null)))
            .collect();
        if previous.is_none() {
            if self.insert(&row)? {
                self.stats.inserted += 1;
                row.insert(VERSION.to_string(), Value::from(1));
                on_change(Change::Inserted(row));
                return Ok(());
            }
            // Inserted earlier by this same scan (a key reported twice): compare with it.
            let stored: Option<Option<String>> = self
                .tx
                .prepare_cached(&format!(
                    "SELECT {CHECKSUM} FROM {} WHERE {}",
                    table.name,
                    where_pk(table)
                ))?
                .query_row(params_from_iter(pk_values.iter()), |r| r.get(0))
                .optional()?;
            if let Some(stored) = stored {
                if checksum.is_some() && stored.as_deref() == checksum {
                    return Ok(());
                }
            }
        }
        if let Some((new, old)) = self.update(row, &pk_values)? {
            self.stats.modified += 1;
            on_change(Change::Modified { new, old });
        }
        Ok(())
    }

    /// Inserts `row`; false when a row with its key is already stored.
    ///
    /// The statement names the columns the row has; rows of one collector mostly have the
    /// same ones, so it is made again only when they differ from the previous row's.
    fn insert(&mut self, row: &Row) -> Result<bool, DbError> {
        let mut mask = 0u128;
        let mut values = Vec::with_capacity(self.table.columns.len() + 1);
        for (i, c) in self
            .table
            .stored_columns()
            .filter(|c| c.name != VERSION)
            .enumerate()
        {
            if let Some(v) = row.get(c.name) {
                // A table of more than 128 columns would only share the bit of column
                // 127 on; the statement is then made for every row.
                mask |= 1u128 << i.min(127);
                values.push(to_sql(c.ty, v));
            }
        }
        let reusable = self.table.columns.len() < 127 && self.insert_mask == Some(mask);
        if !reusable {
            let cols: Vec<_> = self
                .table
                .stored_columns()
                .filter(|c| c.name != VERSION && row.contains_key(c.name))
                .map(|c| c.name)
                .collect();
            let mark = self.flag == SyncFlag::MarkChanged;
            self.insert_sql.clear();
            self.insert_sql.push_str(&format!(
                "INSERT INTO {} ({}{}) VALUES ({}{}) ON CONFLICT DO NOTHING",
                self.table.name,
                cols.join(", "),
                if mark { ", sync" } else { "" },
                vec!["?"; cols.len()].join(", "),
                if mark { ", 1" } else { "" }
            ));
            self.insert_mask = Some(mask);
        }
        let mut stmt = self.tx.prepare_cached(&self.insert_sql)?;
        Ok(stmt.execute(params_from_iter(values))? == 1)
    }

    /// Reads the stored row, writes the new one and returns (new, old) when any column
    /// differs.
    fn update(
        &mut self,
        mut row: Row,
        pk_values: &[rusqlite::types::Value],
    ) -> Result<Option<(Row, Row)>, DbError> {
        let table = self.table;
        let cols: Vec<_> = table
            .columns_for(self.flag != SyncFlag::Untracked)
            .collect();
        let where_pk = where_pk(table);
        let select = format!(
            "SELECT {} FROM {} WHERE {where_pk}",
            cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
            table.name
        );
        let stored: Option<Vec<rusqlite::types::Value>> = self
            .tx
            .prepare_cached(&select)?
            .query_row(params_from_iter(pk_values.iter()), |r| {
                (0..cols.len()).map(|i| r.get(i)).collect()
            })
            .optional()?;
        let Some(stored) = stored else {
            return Ok(None);
        };

        let mut old = Row::new();
        let mut old_version = 1i64;
        let mut stored_sync: Option<Value> = None;
        let mut changed = Vec::new();
        for (c, stored_value) in cols.iter().zip(&stored) {
            if c.name == VERSION {
                if let rusqlite::types::Value::Integer(v) = stored_value {
                    old_version = *v;
                }
                continue;
            }
            if c.name == SYNC.name {
                stored_sync = Some(from_sql(stored_value.into()));
                continue;
            }
            let Some(new_value) = row.get(c.name) else {
                continue;
            };
            if to_sql(c.ty, new_value) != *stored_value {
                old.insert(c.name.to_string(), from_sql(stored_value.into()));
                changed.push(*c);
            }
        }
        if changed.is_empty() {
            return Ok(None);
        }

        let set_cols: Vec<_> = cols
            .iter()
            .filter(|c| {
                c.name != VERSION
                    && c.name != SYNC.name
                    && !table.primary_key.contains(&c.name)
                    && row.contains_key(c.name)
            })
            .collect();
        self.update_sql.clear();
        self.update_sql.push_str(&format!(
            "UPDATE {} SET {}{}{VERSION} = {VERSION} + 1 WHERE {where_pk}",
            table.name,
            set_cols
                .iter()
                .map(|c| format!("{} = ?, ", c.name))
                .collect::<String>(),
            if self.flag == SyncFlag::MarkChanged {
                "sync = 1, "
            } else {
                ""
            }
        ));
        let values: Vec<_> = set_cols
            .iter()
            .map(|c| to_sql(c.ty, row.get(c.name).unwrap_or(&Value::Null)))
            .chain(pk_values.iter().cloned())
            .collect();
        self.tx
            .prepare_cached(&self.update_sql)?
            .execute(params_from_iter(values))?;

        for pk in table.primary_key {
            if let Some(v) = row.get(*pk) {
                old.insert(pk.to_string(), v.clone());
            }
        }
        old.insert(VERSION.to_string(), Value::from(old_version));
        row.insert(VERSION.to_string(), Value::from(old_version + 1));
        if let Some(flag) = stored_sync {
            row.insert(SYNC.name.to_string(), flag);
        }
        Ok(Some((row, old)))
    }

    /// Deletes and reports every stored row the scan did not push, then commits.
    pub fn finish(self, on_change: &mut dyn FnMut(Change)) -> Result<SyncStats, DbError> {
        self.finish_pending(on_change)?.commit()
    }

    /// Deletes and reports every stored row the scan did not push, without committing:
    /// the caller does what must precede the commit (e.g. storing the reported changes
    /// elsewhere) and then calls [`Finished::commit`]; dropping the [`Finished`] instead
    /// rolls everything back, so that the next scan reports the same changes again.
    pub fn finish_pending(
        mut self,
        on_change: &mut dyn FnMut(Change),
    ) -> Result<Finished<'c>, DbError> {
        let table = self.table;
        if self.known.any_unseen() {
            let cols: Vec<_> = table
                .columns_for(self.flag != SyncFlag::Untracked)
                .collect();
            let npk = table.primary_key.len();
            let pk_list = table.primary_key.join(", ");
            // Primary key columns first (to rebuild the key), then the whole row, in key
            // order, a page at a time from where the previous page stopped: the rows of a
            // page are deleted and reported before the next one is read, so the deleted
            // rows are never all in memory.
            let select = |after: bool| {
                format!(
                    "SELECT {pk_list}, {} FROM {}{} ORDER BY {pk_list}",
                    cols.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
                    table.name,
                    if after {
                        format!(" WHERE ({pk_list}) > ({})", vec!["?"; npk].join(", "))
                    } else {
                        String::new()
                    }
                )
            };
            let delete = format!("DELETE FROM {} WHERE {}", table.name, where_pk(table));
            let mut cursor: Option<Vec<rusqlite::types::Value>> = None;
            let mut key = String::new();
            loop {
                let mut gone = Vec::new();
                let mut next_cursor = None;
                {
                    let mut stmt = self.tx.prepare_cached(&select(cursor.is_some()))?;
                    let mut rows = match &cursor {
                        Some(c) => stmt.query(params_from_iter(c.iter()))?,
                        None => stmt.query([])?,
                    };
                    while let Some(r) = rows.next()? {
                        key.clear();
                        for i in 0..npk {
                            key_part(&mut key, r.get_ref(i)?);
                        }
                        if !self.known.is_unseen(&key) {
                            continue;
                        }
                        let mut pk = Vec::with_capacity(npk);
                        for i in 0..npk {
                            pk.push(r.get::<_, rusqlite::types::Value>(i)?);
                        }
                        let mut row = Row::new();
                        for (i, c) in cols.iter().enumerate() {
                            row.insert(c.name.to_string(), from_sql(r.get_ref(npk + i)?));
                        }
                        gone.push((pk, row));
                        if gone.len() == DELETE_PAGE {
                            next_cursor = gone.last().map(|(pk, _)| pk.clone());
                            break;
                        }
                    }
                }
                {
                    let mut stmt = self.tx.prepare_cached(&delete)?;
                    for (pk, _) in &gone {
                        stmt.execute(params_from_iter(pk.iter()))?;
                    }
                }
                self.stats.deleted += gone.len();
                for (_, row) in gone {
                    on_change(Change::Deleted(row));
                }
                match next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(Finished {
            tx: self.tx,
            table,
            stats: self.stats,
            sources: self.sources,
        })
    }
}

/// A table's synchronisation whose changes were all reported but not yet committed; see
/// [`TableSync::finish_pending`]. Dropping it rolls every change back.
pub struct Finished<'c> {
    tx: rusqlite::Transaction<'c>,
    table: &'static TableDef,
    stats: SyncStats,
    sources: Option<Vec<u8>>,
}

impl Finished<'_> {
    /// Commits the table's changes, with its sources' stamp when it has one.
    pub fn commit(self) -> Result<SyncStats, DbError> {
        if self.sources.is_some() || self.table.hooks.sources.is_some() {
            sources::write(&self.tx, self.table, self.sources.as_deref())?;
        }
        self.tx.commit()?;
        Ok(self.stats)
    }
}

/// `pk1 IS ? AND pk2 IS ? ...` of `table`'s primary key.
fn where_pk(table: &'static TableDef) -> String {
    table
        .primary_key
        .iter()
        .map(|c| format!("{c} IS ?"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Whether `table` has a column named `column`.
fn has_column(conn: &Connection, table: &'static TableDef, column: &str) -> Result<bool, DbError> {
    Ok(conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM pragma_table_info('{}') WHERE name = ?1",
            table.name
        ),
        [column],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

fn check_columns(conn: &Connection, table: &'static TableDef) -> Result<(), DbError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
        table.name
    ))?;
    let found: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let expected: Vec<&str> = table.stored_columns().map(|c| c.name).collect();
    // A beta host's table has the document-limit flag: where beta4 declares it (before
    // `checksum`) or where migrate_to_beta appends it; every row is read by name.
    let found_own: Vec<String> = found.iter().filter(|c| *c != SYNC.name).cloned().collect();
    // The reference's engine adds its bookkeeping column to a table the first time it
    // scans it in full; such a table is the same table.
    let own = match found_own.split_last() {
        Some((last, rest)) if last == schema::STATUS_FIELD => rest,
        _ => &found_own[..],
    };
    if own != expected {
        return Err(DbError::Schema {
            table: table.name,
            found: found.join(","),
            expected: expected.join(","),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corrupt_files(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
                    .count()
            })
            .unwrap_or(0)
    }

    #[test]
    fn a_locked_database_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.db");
        // Another process holds the database exclusively (rollback journal, as a file not
        // yet switched to WAL is): even reading its header is refused with SQLITE_BUSY.
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE keep (x); INSERT INTO keep VALUES (7); BEGIN EXCLUSIVE;")
            .unwrap();
        let said = std::cell::RefCell::new(Vec::new());
        let opened = DbSync::open(&path, &|l, m| said.borrow_mut().push((l, m.to_string())));
        assert!(
            matches!(&opened, Err(DbError::Sqlite(e)) if storage::is_busy(e)),
            "{:?}",
            opened.err()
        );
        assert_eq!(
            corrupt_files(dir.path()),
            0,
            "a busy database was moved aside"
        );
        assert!(said.borrow().iter().any(|(_, m)| m.contains("locked")));
        holder.execute_batch("COMMIT;").unwrap();
        drop(holder);
        // Once the lock is gone the same file opens, its data intact.
        let db = DbSync::open(&path, &|_, _| {}).unwrap();
        let x: i64 = db
            .conn
            .query_row("SELECT x FROM keep", [], |r| r.get(0))
            .unwrap();
        assert_eq!(x, 7);
    }

    #[test]
    fn an_unusable_database_goes_aside_with_its_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.db");
        // A WAL database whose table has other columns, its last write still in the WAL
        // (the writer is still open, so nothing was checkpointed).
        let writer = storage::open_wal(&path).unwrap();
        writer
            .execute_batch(&format!(
                "CREATE TABLE {} (x); INSERT INTO {} VALUES (7);",
                TABLES[0].name, TABLES[0].name
            ))
            .unwrap();
        let db = DbSync::open(&path, &|_, _| {}).unwrap();
        assert_eq!(db.count(TABLES[0]).unwrap(), 0);
        drop(db);
        // The main file, its WAL and its index, all kept under the same new name.
        assert_eq!(corrupt_files(dir.path()), 3);
        drop(writer);
    }
}
