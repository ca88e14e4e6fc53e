//! The stamp of a table's sources: what lets a scan skip a table none of whose sources
//! changed (the catalog's `Hooks::sources`).
//!
//! A table scanned in full from sources with a fingerprint keeps, in the same transaction,
//! one `table_metadata` row named `<table>:sources` whose `last_sync_time` holds a 63-bit
//! digest (SHA-256) of that fingerprint and of the number of rows the table holds after
//! the scan. The next scan computes the fingerprint again; when the digest of it and of
//! the table's current row count is the stored one, the table is as that scan left it and
//! its sources are as they were, so scanning it again would change nothing.
//!
//! Kept in `table_metadata`, the stamp needs no table the reference's schema lacks; the
//! C++ module reads that table by name only. alpha0's module rewrites it without our row
//! (which only makes our next scan a full one); beta4's keeps the row, and the row count
//! in the digest then still tells when the C++ module added or removed rows. Every write
//! of ours that changes a table's rows other than its scan (deleting refused rows,
//! clearing a table) removes the table's stamp, and so does a full scan without a
//! fingerprint.

use rusqlite::OptionalExtension as _;
use sha2::Digest as _;

use super::{schema, DbError, DbSync, TableDef};

/// The `table_metadata` name of `table`'s stamp.
fn stamp_name(table: &TableDef) -> String {
    format!("{}:sources", table.name)
}

/// The digest stored for `fingerprint` when the table holds `rows` rows.
fn digest(fingerprint: &[u8], rows: i64) -> i64 {
    let mut h = sha2::Sha256::new();
    h.update((fingerprint.len() as u64).to_le_bytes());
    h.update(fingerprint);
    h.update(rows.to_le_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    // 63 bits, so that the value is never negative.
    (u64::from_le_bytes(first) >> 1) as i64
}

fn count(conn: &rusqlite::Connection, table: &TableDef) -> Result<i64, DbError> {
    Ok(
        conn.query_row(&format!("SELECT COUNT(*) FROM {}", table.name), [], |r| {
            r.get(0)
        })?,
    )
}

/// Writes (`Some`) or removes (`None`) `table`'s stamp through `conn` (a transaction's).
pub(super) fn write(
    conn: &rusqlite::Connection,
    table: &TableDef,
    fingerprint: Option<&[u8]>,
) -> Result<(), DbError> {
    let name = stamp_name(table);
    match fingerprint {
        Some(fp) => {
            let value = digest(fp, count(conn, table)?);
            conn.prepare_cached(&format!(
                "INSERT INTO {} (table_name, last_sync_time) VALUES (?1, ?2) \
                 ON CONFLICT(table_name) DO UPDATE SET last_sync_time = excluded.last_sync_time",
                schema::METADATA_TABLE
            ))?
            .execute(rusqlite::params![name, value])?;
        }
        None => {
            conn.prepare_cached(&format!(
                "DELETE FROM {} WHERE table_name = ?1",
                schema::METADATA_TABLE
            ))?
            .execute([name])?;
        }
    }
    Ok(())
}

impl DbSync {
    /// The number of rows of `table` when it was last scanned in full from sources whose
    /// fingerprint was `fingerprint` and still holds the rows that scan left; `None` when
    /// it must be scanned.
    pub fn unchanged_rows(
        &self,
        table: &'static TableDef,
        fingerprint: &[u8],
    ) -> Result<Option<usize>, DbError> {
        let stored: Option<i64> = self
            .conn
            .prepare_cached(&format!(
                "SELECT last_sync_time FROM {} WHERE table_name = ?1",
                schema::METADATA_TABLE
            ))?
            .query_row([stamp_name(table)], |r| r.get(0))
            .optional()?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let rows = self.count(table)?;
        Ok((stored == digest(fingerprint, rows)).then(|| usize::try_from(rows).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::PACKAGES;
    use crate::Row;
    use serde_json::json;

    fn package(name: &str) -> Row {
        let v = json!({"name": name, "version_": "1", "architecture": "amd64", "type": "deb",
            "path": " ", "checksum": format!("sum-{name}")});
        v.as_object().cloned().unwrap_or_default()
    }

    fn scan(db: &mut DbSync, names: &[&str], fingerprint: Option<&[u8]>) -> Result<(), DbError> {
        let mut txn = db.begin(&PACKAGES)?;
        txn.set_sources(fingerprint.map(<[u8]>::to_vec));
        for n in names {
            txn.push(package(n), &mut |_| {})?;
        }
        txn.finish(&mut |_| {})?;
        Ok(())
    }

    #[test]
    fn a_stamp_holds_for_the_same_sources_and_rows_only() -> Result<(), DbError> {
        let mut db = DbSync::in_memory()?;
        assert!(
            db.unchanged_rows(&PACKAGES, b"fp1")?.is_none(),
            "no stamp yet"
        );
        scan(&mut db, &["a", "b"], Some(b"fp1"))?;
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_some());
        assert!(
            db.unchanged_rows(&PACKAGES, b"fp2")?.is_none(),
            "other sources"
        );

        // Another writer removes a row: the count no longer matches.
        db.conn
            .execute("DELETE FROM dbsync_packages WHERE name = 'a'", [])?;
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_none());

        // A full scan without a fingerprint removes the stamp.
        scan(&mut db, &["a", "b"], Some(b"fp1"))?;
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_some());
        scan(&mut db, &["a", "b"], None)?;
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_none());

        // Our own writes outside a scan remove it too.
        scan(&mut db, &["a", "b"], Some(b"fp1"))?;
        let rows = db.select_all(&PACKAGES)?;
        db.delete_rows(&PACKAGES, &rows[..1])?;
        scan(&mut db, &["a"], Some(b"fp1"))?;
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_some());
        db.clear_table(&PACKAGES)?;
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_none());
        Ok(())
    }

    #[test]
    fn a_scan_rolled_back_leaves_the_stamp_as_it_was() -> Result<(), DbError> {
        let mut db = DbSync::in_memory()?;
        scan(&mut db, &["a"], Some(b"fp1"))?;
        {
            let mut txn = db.begin(&PACKAGES)?;
            txn.set_sources(Some(b"fp2".to_vec()));
            txn.push(package("b"), &mut |_| {})?;
            // Dropped before its commit.
            let _finished = txn.finish_pending(&mut |_| {})?;
        }
        assert!(db.unchanged_rows(&PACKAGES, b"fp1")?.is_some());
        assert!(db.unchanged_rows(&PACKAGES, b"fp2")?.is_none());
        Ok(())
    }

    #[test]
    fn digests_differ_with_rows_and_fingerprints() {
        assert_ne!(digest(b"x", 1), digest(b"x", 2));
        assert_ne!(digest(b"x", 1), digest(b"y", 1));
        assert!(digest(b"x", 1) >= 0);
    }
}
