//! The reference manager's document store on disk (SQLite, WAL): one table per index,
//! one row per document, as the indexer holds `wazuh-states-inventory-*`.

use std::path::Path;

use rusqlite::{params, Connection};

use super::sessions::{Manager, StoreOp};

/// The SQLite document store: one table per index (named like the index), one row per
/// document id, as the indexer holds `wazuh-states-inventory-*`. Each row also records the
/// module (sync instance) that last wrote it.
pub struct DocStore {
    conn: Connection,
}

/// An index name as a quoted SQL identifier.
fn table_of(index: &str) -> String {
    format!("\"{}\"", index.replace('"', "\"\""))
}

impl DocStore {
    /// Opens (or creates) the store.
    pub fn open(path: &Path) -> rusqlite::Result<DocStore> {
        Ok(DocStore {
            conn: crate::storage::open_wal(path)?,
        })
    }

    fn ensure_table(conn: &Connection, index: &str) -> rusqlite::Result<()> {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} (id TEXT PRIMARY KEY NOT NULL, module TEXT NOT NULL, \
             version INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;",
            table_of(index)
        ))
    }

    /// The indices that have a table.
    pub fn indices(&self) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    }

    /// Applies one completed session's changes in one transaction.
    pub fn apply(&mut self, module: &str, ops: &[StoreOp]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for op in ops {
            match op {
                StoreOp::Upsert {
                    index,
                    id,
                    version,
                    doc,
                } => {
                    Self::ensure_table(&tx, index)?;
                    tx.prepare_cached(&format!(
                        "INSERT OR REPLACE INTO {} (id, module, version, doc) VALUES (?1, ?2, ?3, ?4)",
                        table_of(index)
                    ))?
                    .execute(params![id, module, *version as i64, doc.to_string()])?;
                }
                StoreOp::Delete { index, id } => {
                    Self::ensure_table(&tx, index)?;
                    tx.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", table_of(index)))?
                        .execute(params![id])?;
                }
                StoreOp::ClearIndex { index } => {
                    Self::ensure_table(&tx, index)?;
                    tx.execute(&format!("DELETE FROM {}", table_of(index)), [])?;
                }
            }
        }
        tx.commit()
    }

    /// Loads everything into a manager's in-memory store.
    pub fn load_into(&self, manager: &mut Manager) -> rusqlite::Result<()> {
        for index in self.indices()? {
            for (_, id, version, doc) in self.dump(&index, None)? {
                let doc = serde_json::from_str(&doc).unwrap_or(serde_json::Value::Null);
                manager.store.apply(&StoreOp::Upsert {
                    index: index.clone(),
                    id,
                    version,
                    doc,
                });
            }
        }
        Ok(())
    }

    /// `(index, id)` of every document (written by `module` only, if given), ordered.
    pub fn ids(&self, module: Option<&str>) -> rusqlite::Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for index in self.indices()? {
            for (m, id, _, _) in self.dump(&index, None)? {
                if module.is_none_or(|want| want == m) {
                    out.push((index.clone(), id));
                }
            }
        }
        Ok(out)
    }

    /// `(module, id, version, document)` of `index` (written by `module` only, if given),
    /// ordered by id; empty for an index the manager never received.
    pub fn dump(
        &self,
        index: &str,
        module: Option<&str>,
    ) -> rusqlite::Result<Vec<(String, String, u64, String)>> {
        let exists: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [index],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT module, id, version, doc FROM {} WHERE (?1 IS NULL OR module = ?1) ORDER BY id",
            table_of(index)
        ))?;
        let rows = stmt.query_map(params![module], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.collect()
    }
}
