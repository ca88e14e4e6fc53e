//! The local database's side of the catalog: table names, columns, types and keys.
//!
//! The C daemon, the manager and older agents all agree on these table names, column names,
//! column types and primary keys. They are declared once, in [`crate::catalog`]; this file
//! derives the CREATE statements from them and adds the two bookkeeping columns every table
//! has. The diff engine reads only the storage part of a declaration (name, columns with
//! their types, primary key).
//!
//! A beta host's tables have a third bookkeeping column, [`SYNC`] (document limits). The
//! CREATE statements stay alpha0's, byte for byte: a database gets the column from
//! [`TableDef::add_sync_sql`] when the host turns out to be a beta one, appended after the
//! others (beta4's own CREATE puts it before `checksum`; both layouts are accepted, every
//! row being read and written by column name).

use std::fmt::Write as _;

pub use crate::catalog::{
    table, table_for_index, Column, ColumnType, TableDef, BROWSER_EXTENSIONS, GROUPS, HARDWARE,
    HOTFIXES, NETWORK_ADDRESS, NETWORK_IFACE, NETWORK_PROTOCOL, OS, PACKAGES, PORTS, PROCESSES,
    SERVICES, SYNC, SYNC_DEFAULT, TABLES, USERS,
};

impl ColumnType {
    fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::Integer => "INTEGER",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Double => "DOUBLE",
        }
    }
}

/// Name of the per-row checksum column.
pub const CHECKSUM: &str = "checksum";
/// Name of the per-row document version column.
pub const VERSION: &str = "version";
/// The bookkeeping column the reference's diff engine adds (`ALTER TABLE … ADD COLUMN
/// db_status_field_dm INTEGER DEFAULT 1`) to a table it has scanned. Tables that have it
/// are accepted as they are; rows are always read and written by column name, and new
/// rows get its default.
pub const STATUS_FIELD: &str = "db_status_field_dm";
/// `PRAGMA user_version` of the database: the reference's engine deletes and recreates a
/// database whose version is 0, and writes 1 (no upgrade statements) into the ones it
/// creates.
pub const USER_VERSION: i64 = 1;
/// Name of the table that records the last integrity check per table.
pub const METADATA_TABLE: &str = "table_metadata";

const CHECKSUM_COLUMN: Column = crate::catalog::text(CHECKSUM, "");
const VERSION_COLUMN: Column = crate::catalog::int(VERSION, "");

impl TableDef {
    /// The column definition of `name`, `checksum` and `version` included.
    pub fn column(&self, name: &str) -> Option<Column> {
        match name {
            CHECKSUM => Some(CHECKSUM_COLUMN),
            VERSION => Some(VERSION_COLUMN),
            n if n == SYNC.name => Some(SYNC),
            _ => self.columns.iter().copied().find(|c| c.name == name),
        }
    }

    /// The stored columns of a database with (`beta`) or without the [`SYNC`] column:
    /// [`stored_columns`](Self::stored_columns), then `sync` when `beta`.
    pub fn columns_for(&self, beta: bool) -> impl Iterator<Item = Column> + '_ {
        self.stored_columns().chain(beta.then_some(SYNC))
    }

    /// The statement that adds the [`SYNC`] column to an alpha0 table, as beta4 declares it
    /// (`sync INTEGER DEFAULT 0`).
    pub fn add_sync_sql(&self) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {} INTEGER DEFAULT {SYNC_DEFAULT};",
            self.name, SYNC.name
        )
    }

    /// Data columns followed by `checksum` and `version`: the stored columns, in order.
    pub fn stored_columns(&self) -> impl Iterator<Item = Column> + '_ {
        self.columns
            .iter()
            .copied()
            .chain([CHECKSUM_COLUMN, VERSION_COLUMN])
    }

    /// The CREATE TABLE statement for this table.
    pub fn create_sql(&self) -> String {
        let mut sql = format!("CREATE TABLE IF NOT EXISTS {} (", self.name);
        for c in self.columns {
            let _ = write!(sql, "{} {}, ", c.name, c.ty.sql());
        }
        let _ = write!(
            sql,
            "{CHECKSUM} TEXT, {VERSION} INTEGER NOT NULL DEFAULT 1, PRIMARY KEY ({})) WITHOUT ROWID;",
            self.primary_key.join(", ")
        );
        sql
    }
}

/// The CREATE TABLE statement of `table_metadata`.
pub fn metadata_create_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {METADATA_TABLE} (table_name TEXT PRIMARY KEY, last_sync_time INTEGER NOT NULL);"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_sql_is_valid_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for t in TABLES {
            conn.execute_batch(&t.create_sql()).unwrap();
            let n: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM pragma_table_info('{}')", t.name),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n as usize, t.columns.len() + 2);
        }
        conn.execute_batch(&metadata_create_sql()).unwrap();
    }

    #[test]
    fn the_sync_column_is_added_as_beta4_declares_it() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for t in TABLES {
            assert!(!t.create_sql().contains(" sync "), "{}", t.name);
            conn.execute_batch(&t.create_sql()).unwrap();
            conn.execute_batch(&t.add_sync_sql()).unwrap();
            let (ty, default): (String, String) = conn
                .query_row(
                    &format!(
                        "SELECT type, dflt_value FROM pragma_table_info('{}') WHERE name = 'sync'",
                        t.name
                    ),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!((ty.as_str(), default.as_str()), ("INTEGER", "0"));
            assert_eq!(t.columns_for(true).count(), t.columns.len() + 3);
            assert_eq!(t.columns_for(false).count(), t.columns.len() + 2);
        }
    }
}
