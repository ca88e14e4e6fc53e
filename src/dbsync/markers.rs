//! Named markers in `table_metadata`, the rows a beta host's module keeps there besides the
//! per-table integrity times: `first_scan_completed`, `first_sync_completed` and
//! `vd_first_sync_completed`, each the unix time (seconds) it was reached, absent or 0 until
//! then. beta4's syscollector stores them as `table_metadata` rows whose `table_name` is the
//! marker's name and whose `last_sync_time` is the time, so a database either module wrote
//! reads the same in the other.

use rusqlite::OptionalExtension;

use super::{schema, DbError, DbSync};

impl DbSync {
    /// The value of marker `key` (0 when absent).
    pub fn metadata_value(&self, key: &str) -> Result<i64, DbError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT last_sync_time FROM {} WHERE table_name = ?1",
                    schema::METADATA_TABLE
                ),
                [key],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Sets marker `key` to `value` (inserted or replaced).
    pub fn set_metadata_value(&mut self, key: &str, value: i64) -> Result<(), DbError> {
        self.conn.execute(
            &format!(
                "INSERT INTO {} (table_name, last_sync_time) VALUES (?1, ?2) \
                 ON CONFLICT(table_name) DO UPDATE SET last_sync_time = excluded.last_sync_time",
                schema::METADATA_TABLE
            ),
            rusqlite::params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_0_until_set_and_then_keeps_its_last_value() -> Result<(), DbError> {
        let mut db = DbSync::in_memory()?;
        assert_eq!(db.metadata_value("first_scan_completed")?, 0);
        db.set_metadata_value("first_scan_completed", 17)?;
        db.set_metadata_value("first_scan_completed", 42)?;
        assert_eq!(db.metadata_value("first_scan_completed")?, 42);
        assert_eq!(db.metadata_value("first_sync_completed")?, 0);
        Ok(())
    }
}
