//! Document limits: how many documents of each index a beta host lets the manager hold
//! (issue 12, point 3), as beta4's module keeps them.
//!
//! Agentd answers `getdoclimits syscollector` with one number per table, by the names of
//! [`TableDef::limit_name`] (`{"packages": 100, "processes": 0, …}`); 0 is unlimited, and a
//! table agentd does not name keeps its limit (every table starts unlimited).
//! [`Inventory::set_document_limits`] takes that JSON.
//!
//! Which rows the manager holds is the `sync` flag of each stored row
//! ([`crate::catalog::SYNC`]), which exists only on a beta host: an alpha0 host's database
//! keeps alpha0's schema, and [`Inventory::enter_beta`] adds the flag in place when the
//! host turns out to be a beta one ([`DbSync::migrate_to_beta`]). From then on, as beta4:
//!
//! * **scan** ([`persists`]): a change's stateful document goes out when the table has no
//!   limit (the row is marked synced), or when the row is synced already; a new row of a
//!   limited table waits (flag 0). A deleted row's DELETE goes out only if it was synced,
//!   whatever the limit. Stateless events ignore limits.
//! * **after each scan** ([`Scanner::promote_after_scan`]): each limited table's free room
//!   (limit − synced rows) is filled with waiting rows, in the order of the table's
//!   [`TableDef::limit_order`] columns (case-insensitive, ascending), each sent as CREATE.
//! * **a limit changes** ([`Inventory::set_document_limits`]): unlimited promotes every
//!   waiting row; a lower limit than the synced rows sends DELETE for the excess (the last
//!   ones in that order) and marks them waiting; a higher one promotes into the new room.
//! * **integrity checks and full resends** (recovery): a limited table's checksum and
//!   resend cover its synced rows only; an unlimited table's, every row.
//! * **vulnerability-detector context**: a limited table's synced rows only, except
//!   hotfixes, always every row (beta4's `forceAll`; hotfixes are context on Windows only).
//!
//! beta4 keeps a count of synced rows per index in memory (from the database at start,
//! minus the synced rows a scan deletes, plus the promoted ones); here the count is the
//! database's own (`COUNT(*) … WHERE sync = 1`), which is the same number at every point
//! beta4 reads it, and stays right when a scan is rolled back.

use std::collections::BTreeMap;

use serde_json::Value;

use super::events::{self, Operation};
use super::scan::Scanner;
use super::sync::InventorySync;
use super::Inventory;
use crate::catalog::{self, TableDef, HOTFIXES, TABLES};
use crate::dbsync::{Change, DbSync, Selection};
use crate::LogLevel;

/// The document limit of every table (by its sync index); 0, the default, is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocLimits {
    /// Index name → limit, for the tables whose limit is set (in index-name order, the
    /// order beta4's map walks them in).
    by_index: BTreeMap<&'static str, u64>,
}

impl DocLimits {
    /// The limit of `table` (0: unlimited).
    pub fn get(&self, table: &TableDef) -> u64 {
        self.by_index.get(table.index).copied().unwrap_or(0)
    }

    /// Sets the limit of `table` (0: unlimited).
    pub fn set(&mut self, table: &'static TableDef, limit: u64) {
        self.by_index.insert(table.index, limit);
    }

    /// The tables that have a limit (above 0), with it, in index-name order.
    pub fn limited(&self) -> Vec<(&'static TableDef, u64)> {
        self.by_index
            .iter()
            .filter(|(_, l)| **l > 0)
            .filter_map(|(index, l)| catalog::table_for_index(index).map(|t| (t, *l)))
            .collect()
    }

    /// Which of `table`'s rows the manager holds: the synced ones when it has a limit,
    /// every row when not.
    pub fn selection(&self, table: &TableDef) -> Selection {
        if self.get(table) > 0 {
            Selection::Synced
        } else {
            Selection::All
        }
    }

    /// Reads agentd's answer as beta4's `setDocumentLimits` does: an object whose every
    /// member names a table ([`TableDef::limit_name`]) and holds a non-negative integer.
    /// Anything else is refused whole (nothing is applied); a bad value or an unknown name
    /// is logged as beta4 logs it. The limits come in index-name order, the order beta4
    /// applies them in.
    pub fn parse(
        answer: &Value,
        log: &dyn Fn(LogLevel, &str),
    ) -> Option<Vec<(&'static TableDef, u64)>> {
        let members = answer.as_object()?;
        let mut by_index: BTreeMap<&'static str, (&'static TableDef, u64)> = BTreeMap::new();
        // Members in name order, as beta4's JSON object walks them (the first bad one is
        // the one logged).
        let mut names: Vec<&String> = members.keys().collect();
        names.sort();
        for name in names {
            let Some(limit) = members.get(name).and_then(Value::as_u64) else {
                log(
                    LogLevel::Error,
                    &format!("Invalid limit value for index: {name}"),
                );
                return None;
            };
            let Some(table) = TABLES.iter().copied().find(|t| t.limit_name == name) else {
                log(
                    LogLevel::Error,
                    &format!("Unknown index from agentd: {name}"),
                );
                return None;
            };
            by_index.insert(table.index, (table, limit));
        }
        Some(by_index.into_values().collect())
    }
}

/// Whether a scan's change of `table` (whose limit is `limit`) sends its stateful document,
/// on a beta host (beta4's `checkDocumentLimit`; the change's row carries the `sync` flag
/// it had before, see [`crate::dbsync::TableSync::push`]). Logs what it holds back.
pub fn persists(
    table: &'static TableDef,
    change: &Change,
    limit: u64,
    log: &dyn Fn(LogLevel, &str),
) -> bool {
    let was_synced =
        |row: &crate::Row| row.get(catalog::SYNC.name).and_then(Value::as_i64) == Some(1);
    let send = match change {
        Change::Inserted(_) => limit == 0,
        Change::Modified { new, .. } => limit == 0 || was_synced(new),
        Change::Deleted(row) => {
            let synced = was_synced(row);
            if !synced {
                log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "Skipping DELETE event for non-synced record in table '{}' (sync=0).",
                        table.name
                    ),
                );
            }
            synced
        }
    };
    if !send {
        log(
            LogLevel::DebugVerbose,
            &format!(
                "Document limit reached for table {}, skipping persistence",
                table.name
            ),
        );
    }
    send
}

impl Scanner {
    /// After a scan: fills each limited table's free room with waiting rows (beta4's
    /// `promoteItemsAfterScan`). Nothing on an alpha0 database.
    pub(super) fn promote_after_scan(&self, sync: Option<&InventorySync>) {
        let mut db = self.db.lock();
        if !db.is_beta() {
            return;
        }
        let limited = self.limits.lock().limited();
        for (table, limit) in limited {
            let current = match db.count_selected(table, Selection::Synced) {
                Ok(n) => u64::try_from(n).unwrap_or(0),
                Err(e) => {
                    self.log(
                        LogLevel::Error,
                        &format!("Cannot count the synced rows of {}: {e}", table.name),
                    );
                    continue;
                }
            };
            let room = limit.saturating_sub(current);
            if room == 0 {
                self.log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "Index '{}' is at limit ({limit}), no items to promote",
                        table.index
                    ),
                );
                continue;
            }
            self.log(
                LogLevel::DebugVerbose,
                &format!(
                    "Index '{}' has {room} available slots (current: {current}, limit: {limit}). Promoting items with deterministic ordering.",
                    table.index
                ),
            );
            let promoted = self.promote(&mut db, table, room, "Post-scan promotion", sync);
            if promoted > 0 {
                self.log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "Successfully promoted {promoted} items for index '{}' (new count: {})",
                        table.index,
                        current + promoted
                    ),
                );
            }
        }
    }

    /// Sends up to `max` waiting rows of `table` as CREATE, first in the table's order,
    /// and marks them synced (beta4's `promoteUnsyncedItems`); returns how many. The
    /// documents are queued in one batch: when it cannot be committed the rows stay
    /// waiting, to be promoted again next time.
    fn promote(
        &self,
        db: &mut DbSync,
        table: &'static TableDef,
        max: u64,
        reason: &str,
        sync: Option<&InventorySync>,
    ) -> u64 {
        if max == 0 {
            return 0;
        }
        let waiting = match db.count_selected(table, Selection::Unsynced) {
            Ok(n) => u64::try_from(n).unwrap_or(0),
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Cannot count the waiting rows of {}: {e}", table.name),
                );
                return 0;
            }
        };
        if waiting == 0 {
            self.log(
                LogLevel::DebugVerbose,
                &format!(
                    "{reason}: No unsynced items available to promote for index '{}'",
                    table.index
                ),
            );
            return 0;
        }
        let n = max.min(waiting);
        self.log(
            LogLevel::Debug,
            &format!(
                "{reason}: Promoting {n} unsynced items for index '{}'",
                table.index
            ),
        );
        let rows = match db.rows_by_sync(
            table,
            false,
            false,
            usize::try_from(n).unwrap_or(usize::MAX),
        ) {
            Ok(rows) => rows,
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Cannot read the rows to promote from {}: {e}", table.name),
                );
                return 0;
            }
        };
        if !self.send_rows(table, &rows, Operation::Create, sync) {
            return 0;
        }
        let marked = self.mark(db, table, &rows, true);
        if marked > 0 {
            self.log(
                LogLevel::Debug,
                &format!(
                    "{reason}: Successfully promoted {marked} records for index '{}'",
                    table.index
                ),
            );
        }
        marked as u64
    }

    /// Sends the DELETE of the `excess` last synced rows of `table` and marks them
    /// waiting (a lowered limit, beta4's `setDocumentLimits`).
    fn demote(
        &self,
        db: &mut DbSync,
        table: &'static TableDef,
        excess: u64,
        sync: Option<&InventorySync>,
    ) {
        let rows = match db.rows_by_sync(
            table,
            true,
            true,
            usize::try_from(excess).unwrap_or(usize::MAX),
        ) {
            Ok(rows) => rows,
            Err(e) => {
                self.log(
                    LogLevel::Error,
                    &format!("Cannot read the excess rows of {}: {e}", table.name),
                );
                return;
            }
        };
        if rows.is_empty() {
            return;
        }
        self.log(
            LogLevel::Debug,
            &format!(
                "Generating DELETE events for {} excess records from {}",
                rows.len(),
                table.name
            ),
        );
        if self.send_rows(table, &rows, Operation::Delete, sync) {
            self.mark(db, table, &rows, false);
        }
    }

    /// The stateful documents of `rows` with `operation`, to the sink, in one queue batch
    /// when the sync instances are open; false when the batch could not be committed.
    fn send_rows(
        &self,
        table: &'static TableDef,
        rows: &[crate::Row],
        operation: Operation,
        sync: Option<&InventorySync>,
    ) -> bool {
        let batch = sync.map(InventorySync::begin_batch);
        for row in rows {
            // Limits exist on beta hosts only: their documents have beta4's shape, and one
            // that fails validation is not sent.
            let beta = crate::generation::Generation::Beta;
            let doc = if operation == Operation::Delete {
                let st = events::stateful_for(table, row, operation, beta);
                let json = serde_json::to_string(&st.document).unwrap_or_default();
                Some((st, json))
            } else {
                events::stored_document(
                    table,
                    row,
                    operation,
                    beta,
                    super::validate::Purpose::Recovery,
                    &*self.log,
                )
            };
            let Some((st, json)) = doc else {
                continue;
            };
            self.sink.stateful(&st, &json);
            if operation == Operation::Delete {
                self.log(
                    LogLevel::Debug,
                    &format!(
                        "Generated DELETE event for excess record in {} (ID: {})",
                        table.name, st.id
                    ),
                );
            }
        }
        if let Some(batch) = batch {
            if let Err(e) = batch.flush() {
                self.log(
                    LogLevel::Error,
                    &format!(
                        "Document limit changes of {} not queued ({e}); the rows keep their state",
                        table.name
                    ),
                );
                return false;
            }
        }
        true
    }

    /// Sets the `sync` flag of `rows`; returns how many were set.
    fn mark(
        &self,
        db: &mut DbSync,
        table: &'static TableDef,
        rows: &[crate::Row],
        synced: bool,
    ) -> usize {
        match db.set_synced(table, rows, synced) {
            Ok(n) => {
                self.log(
                    LogLevel::DebugVerbose,
                    &format!(
                        "Updated sync={} for {n} item(s) in DBSync",
                        i32::from(synced)
                    ),
                );
                n
            }
            Err(e) => {
                self.log(LogLevel::Error, &format!("Failed to update sync flag: {e}"));
                0
            }
        }
    }
}

impl Inventory {
    /// The host is a beta one (its generation just froze as beta): the inventory database
    /// gets the `sync` column of every table, in place, its rows marked synced, nothing
    /// reported ([`DbSync::migrate_to_beta`]). Does nothing when the host is alpha0 or the
    /// database is migrated already; when the migration fails the database stays alpha0
    /// and limits stay off (logged).
    pub fn enter_beta(&self) {
        if !self.generation().is_beta() {
            return;
        }
        let result = self.with_db(|db| {
            if db.is_beta() {
                Ok(None)
            } else {
                db.migrate_to_beta().map(Some)
            }
        });
        match result {
            Ok(Some(added)) => self.log(
                LogLevel::Debug,
                &format!(
                    "Inventory database ready for document limits: sync column added to {added} tables"
                ),
            ),
            Ok(None) => {}
            Err(e) => self.log(
                LogLevel::Error,
                &format!(
                    "Cannot add the document-limit column to the inventory database ({e}); document limits are off"
                ),
            ),
        }
    }

    /// Applies agentd's answer to `getdoclimits syscollector` (its JSON, without the
    /// leading `ok `), as beta4's `setDocumentLimits`: every named table takes its new
    /// limit, and its rows follow at once (unlimited or a raised limit: waiting rows are
    /// promoted, sent as CREATE; a lowered one: the excess synced rows are sent as DELETE
    /// and wait). False, with nothing applied, when the answer is not an object of known
    /// names with non-negative integers, when the host is alpha0, or when the database
    /// cannot be read.
    pub fn set_document_limits(&self, limits: &Value) -> bool {
        if !self.generation().is_beta() {
            self.log(
                LogLevel::Debug,
                "Document limits are for a beta host; ignored",
            );
            return false;
        }
        let Some(parsed) = DocLimits::parse(limits, &|l, m| self.log(l, m)) else {
            return false;
        };
        self.enter_beta();
        let sync = self.sync();
        let scanner = &self.scanner;
        let mut db = scanner.db.lock();
        if !db.is_beta() {
            self.log(
                LogLevel::Error,
                "Document limits not applied: the inventory database has no sync column",
            );
            return false;
        }
        for (table, limit) in parsed {
            let current = match db.count_selected(table, Selection::Synced) {
                Ok(n) => u64::try_from(n).unwrap_or(0),
                Err(e) => {
                    self.log(
                        LogLevel::Error,
                        &format!("Exception setting document limits: {e}"),
                    );
                    return false;
                }
            };
            scanner.limits.lock().set(table, limit);
            let index = table.index;
            if limit == 0 {
                let promoted = scanner.promote(
                    &mut db,
                    table,
                    u64::MAX,
                    "Document limit changed to unlimited",
                    sync.as_deref(),
                );
                self.log(
                    LogLevel::Debug,
                    &format!(
                        "Document limit set to unlimited for index '{index}' (promoted {promoted} unsynced items, total synced: {})",
                        current + promoted
                    ),
                );
            } else if limit < current {
                let excess = current - limit;
                self.log(
                    LogLevel::Debug,
                    &format!(
                        "Document limit reduced for index '{index}' from {current} to {limit}. Resetting {excess} excess records to sync=0."
                    ),
                );
                scanner.demote(&mut db, table, excess, sync.as_deref());
            } else if limit > current {
                scanner.promote(
                    &mut db,
                    table,
                    limit - current,
                    &format!("Document limit increased from {current} to {limit}"),
                    sync.as_deref(),
                );
            } else {
                self.log(
                    LogLevel::Debug,
                    &format!(
                        "Document limit set for index '{index}': {limit} (current synced count: {current})"
                    ),
                );
            }
        }
        true
    }

    /// The document limits in force now (all 0 until agentd's arrive, and on an alpha0
    /// host).
    pub fn document_limits(&self) -> DocLimits {
        self.scanner.limits.lock().clone()
    }

    /// Which rows of `table` the manager is meant to hold, for an integrity check, a full
    /// resend or the vulnerability detector's context: the synced ones of a limited table
    /// on a beta host, every row otherwise. Hotfixes always give every row to the context
    /// (`for_context`: beta4's `forceAll`).
    pub(crate) fn held_rows(&self, table: &'static TableDef, for_context: bool) -> Selection {
        if for_context && std::ptr::eq(table, &HOTFIXES) {
            if self.with_db(|db| db.is_beta()) {
                self.log(
                    LogLevel::Debug,
                    &format!("Fetching ALL records from {} (forceAll=true)", table.name),
                );
            }
            return Selection::All;
        }
        self.scanner.limits.lock().selection(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{OS, PACKAGES, PROCESSES};
    use serde_json::json;

    /// The limits read (by table name), and the lines logged.
    type Parsed = (Option<Vec<(&'static str, u64)>>, Vec<String>);

    fn parse(v: Value) -> Parsed {
        let said = std::cell::RefCell::new(Vec::new());
        let out = DocLimits::parse(&v, &|_, m| said.borrow_mut().push(m.to_string()));
        (
            out.map(|v| v.into_iter().map(|(t, l)| (t.name, l)).collect()),
            said.into_inner(),
        )
    }

    #[test]
    fn agentd_names_map_to_tables_in_index_order() {
        let (out, said) = parse(json!({"packages": 5, "os_info": 0, "hardware": 1}));
        assert!(said.is_empty());
        // hardware < packages < system, by index name.
        assert_eq!(
            out.unwrap(),
            [
                ("dbsync_hwinfo", 1),
                ("dbsync_packages", 5),
                ("dbsync_osinfo", 0)
            ]
        );
        assert_eq!(parse(json!({})).0.unwrap(), []);
    }

    #[test]
    fn bad_answers_are_refused_whole_and_logged_as_beta4() {
        for (v, line) in [
            (
                json!({"packages": -1}),
                "Invalid limit value for index: packages",
            ),
            (
                json!({"packages": 1.5}),
                "Invalid limit value for index: packages",
            ),
            (
                json!({"packages": "3"}),
                "Invalid limit value for index: packages",
            ),
            (json!({"os": 3}), "Unknown index from agentd: os"),
            (
                json!({"zzz": 1, "hotfixes": null}),
                "Invalid limit value for index: hotfixes",
            ),
        ] {
            let (out, said) = parse(v.clone());
            assert!(out.is_none(), "{v}");
            assert_eq!(said, [line.to_string()], "{v}");
        }
        let (out, said) = parse(json!([1, 2]));
        assert!(out.is_none() && said.is_empty());
    }

    #[test]
    fn limits_default_to_unlimited() {
        let mut l = DocLimits::default();
        assert_eq!(l.get(&PACKAGES), 0);
        assert_eq!(l.selection(&PACKAGES), Selection::All);
        l.set(&PACKAGES, 2);
        l.set(&OS, 0);
        l.set(&PROCESSES, 7);
        assert_eq!(l.selection(&PACKAGES), Selection::Synced);
        let limited: Vec<_> = l.limited().into_iter().map(|(t, n)| (t.name, n)).collect();
        assert_eq!(limited, [("dbsync_packages", 2), ("dbsync_processes", 7)]);
    }

    #[test]
    fn what_a_scan_change_sends() {
        let row = |sync: Option<i64>| {
            let mut r = crate::Row::new();
            r.insert("name".into(), json!("a"));
            if let Some(s) = sync {
                r.insert("sync".into(), json!(s));
            }
            r
        };
        let quiet = |_: LogLevel, _: &str| {};
        let t = &PACKAGES;
        let ins = Change::Inserted(row(None));
        let modified = |s| Change::Modified {
            new: row(Some(s)),
            old: row(None),
        };
        assert!(persists(t, &ins, 0, &quiet));
        assert!(!persists(t, &ins, 1, &quiet));
        assert!(persists(t, &modified(0), 0, &quiet));
        assert!(!persists(t, &modified(0), 1, &quiet));
        assert!(persists(t, &modified(1), 1, &quiet));
        assert!(persists(t, &Change::Deleted(row(Some(1))), 1, &quiet));
        assert!(persists(t, &Change::Deleted(row(Some(1))), 0, &quiet));
        let said = std::cell::RefCell::new(Vec::new());
        assert!(!persists(t, &Change::Deleted(row(Some(0))), 0, &|_, m| {
            said.borrow_mut().push(m.to_string())
        }));
        assert_eq!(
            said.into_inner(),
            [
                "Skipping DELETE event for non-synced record in table 'dbsync_packages' (sync=0).",
                "Document limit reached for table dbsync_packages, skipping persistence"
            ]
        );
    }
}
