//! The local database's side of the catalog: table names, columns, types and keys.
//!
//! The C daemon, the manager and older agents all agree on these table names, column names,
//! column types and primary keys. They are declared once, in [`crate::catalog`]; this file
//! derives the CREATE statements from them and adds the two bookkeeping columns every table
//! has. The diff engine reads only the storage part of a declaration (name, columns with
//! their types, primary key).

use std::fmt::Write as _;

pub use crate::catalog::{
    table, table_for_index, Column, ColumnType, TableDef, BROWSER_EXTENSIONS, GROUPS, HARDWARE,
    HOTFIXES, NETWORK_ADDRESS, NETWORK_IFACE, NETWORK_PROTOCOL, OS, PACKAGES, PORTS, PROCESSES,
    SERVICES, TABLES, USERS,
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
            _ => self.columns.iter().copied().find(|c| c.name == name),
        }
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
}
