//! Row checksums, document ids and the two events every change produces.
//!
//! * The **checksum** is the SHA-1 of the collector's row as compact JSON with sorted keys;
//!   any change of any column changes it.
//! * The **document id** is the SHA-1 of `"<table>:<pk1>:<pk2>…"`, the same on the agent and
//!   the manager for the life of the item.
//! * The **stateful document** (ECS fields + `checksum.hash.sha1` + `state`) goes to the sync
//!   protocol; the **stateless event** (ECS fields + `event.*`, with `<top>.previous` on a
//!   modification) goes to the host at once.
//!
//! Both take the host's [`Generation`] in their `_for` forms ([`stateful_for`],
//! [`events_for`], [`scan_change`]): a beta host gets beta4's field conversions
//! ([`ecs::document_for`]) and, in [`scan_change`], the validation of the stateful document
//! before it is queued ([`validate::admit`]). The forms without it are the alpha0 shape.

use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::Value;

use super::ecs;
use super::validate::{self, Purpose};
use crate::dbsync::checksum::{self, sha1_hex};
use crate::dbsync::schema::{ColumnType, TableDef, CHECKSUM, VERSION};
use crate::dbsync::Change;
use crate::generation::Generation;
use crate::{LogLevel, Row};

/// Operation codes of the stateful channel (`Operation_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
pub enum Operation {
    Create = 0,
    Modify = 1,
    Delete = 2,
    NoOp = 3,
}

impl Operation {
    /// Upper-case name (`CREATE`, …) as the command line prints it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Modify => "MODIFY",
            Operation::Delete => "DELETE",
            Operation::NoOp => "NO_OP",
        }
    }

    /// The operation for a raw C value; `None` for values outside the enum.
    pub fn from_raw(v: i32) -> Option<Operation> {
        match v {
            0 => Some(Operation::Create),
            1 => Some(Operation::Modify),
            2 => Some(Operation::Delete),
            3 => Some(Operation::NoOp),
            _ => None,
        }
    }
}

/// Compact JSON with object keys in byte order at every level, as the reference's JSON
/// library writes it (see [`crate::dbsync::checksum`]).
pub fn canonical_json(v: &Value) -> String {
    checksum::canonical_json(v)
}

/// Trims spaces around every string of a row (recursively), except the unknown marker
/// `" "`, which the ECS mapping turns into `null`.
pub fn sanitize(v: &mut Value) {
    match v {
        Value::Object(m) => m.values_mut().for_each(sanitize),
        Value::Array(a) => a.iter_mut().for_each(sanitize),
        Value::String(s) if s != " " => {
            let t = s.trim_matches(' ');
            if t.len() != s.len() {
                *s = t.to_string();
            }
        }
        _ => {}
    }
}

/// Trims the row's strings and adds its `checksum` column.
pub fn prepare_row(mut row: Row) -> Row {
    row.remove(CHECKSUM);
    row.remove(VERSION);
    row.values_mut().for_each(sanitize);
    let checksum = checksum::row_checksum(&row);
    row.insert(CHECKSUM.to_string(), Value::String(checksum));
    row
}

/// The sync document id of a row: SHA-1 of `"<table>:" + primary key values joined by ":"`.
pub fn document_id(table: &TableDef, row: &Row) -> String {
    let mut key = String::from(table.name);
    for pk in table.primary_key {
        key.push(':');
        let numeric = table.column(pk).is_some_and(|c| c.ty != ColumnType::Text);
        match row.get(*pk) {
            Some(Value::String(s)) => key.push_str(s),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => {
                    let _ = write!(key, "{i}");
                }
                (None, Some(u)) => {
                    let _ = write!(key, "{u}");
                }
                _ => {
                    let _ = write!(key, "{}", n.as_f64().unwrap_or(0.0) as i64);
                }
            },
            Some(Value::Bool(b)) => key.push_str(if *b { "1" } else { "0" }),
            _ if numeric => key.push('0'),
            _ => {}
        }
    }
    sha1_hex(key.as_bytes())
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_iso8601() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// A stateful document ready for the sync protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Stateful {
    pub id: String,
    pub operation: Operation,
    pub index: &'static str,
    pub version: u64,
    pub document: Row,
}

/// The stateful document of one stored row (used for changes, recovery and data context),
/// as an alpha0 host's module makes it.
pub fn stateful(table: &'static TableDef, row: &Row, operation: Operation) -> Stateful {
    stateful_for(table, row, operation, Generation::Alpha0)
}

/// The stateful document of one stored row as the host's generation shapes it: the ECS
/// fields ([`ecs::document_for`]), `checksum.hash.sha1` and `state` (`modified_at`, and
/// `document_version` when the row has a version), the same on both generations.
pub fn stateful_for(
    table: &'static TableDef,
    row: &Row,
    operation: Operation,
    generation: Generation,
) -> Stateful {
    let mut document = ecs::document_for(table, row, true, generation);
    let checksum = row
        .get(CHECKSUM)
        .filter(|v| !v.is_null() && !ecs::is_empty_value(v))
        .cloned()
        .unwrap_or(Value::Null);
    ecs::set_path(&mut document, "checksum.hash.sha1", checksum);
    let mut state = Row::new();
    state.insert("modified_at".into(), Value::String(now_iso8601()));
    let mut version = 0u64;
    if let Some(v) = row.get(VERSION).and_then(Value::as_u64) {
        version = v;
        state.insert("document_version".into(), Value::from(v));
    }
    document.insert("state".into(), Value::Object(state));
    Stateful {
        id: document_id(table, row),
        operation,
        index: table.index,
        version,
        document,
    }
}

/// Both events of one change: the stateful document and the stateless event (alpha0).
pub fn events(table: &'static TableDef, change: &Change) -> (Stateful, Row) {
    events_for(table, change, Generation::Alpha0)
}

/// Both events of one change as the host's generation shapes them (the old values of a
/// modification go through the same conversions as the new ones).
pub fn events_for(
    table: &'static TableDef,
    change: &Change,
    generation: Generation,
) -> (Stateful, Row) {
    let (row, operation, _) = parts(change);
    let st = stateful_for(table, row, operation, generation);
    let stateless = stateless_of(table, change, &st, generation);
    (st, stateless)
}

fn parts(change: &Change) -> (&Row, Operation, Option<&Row>) {
    match change {
        Change::Inserted(r) => (r, Operation::Create, None),
        Change::Modified { new, old } => (new, Operation::Modify, Some(old)),
        Change::Deleted(r) => (r, Operation::Delete, None),
    }
}

fn stateless_of(
    table: &'static TableDef,
    change: &Change,
    st: &Stateful,
    generation: Generation,
) -> Row {
    let (_, _, old) = parts(change);
    let kind = match change {
        Change::Inserted(_) => "created",
        Change::Modified { .. } => "modified",
        Change::Deleted(_) => "deleted",
    };
    let mut data = st.document.clone();
    data.remove("checksum");
    data.remove("state");
    let changed = match old {
        Some(old) => add_previous(&mut data, &ecs::document_for(table, old, false, generation)),
        None => Vec::new(),
    };
    let mut event = Row::new();
    event.insert(
        "changed_fields".into(),
        Value::Array(changed.into_iter().map(Value::String).collect()),
    );
    event.insert("created".into(), Value::String(now_iso8601()));
    event.insert("type".into(), Value::String(kind.into()));
    data.insert("event".into(), Value::Object(event));

    let mut stateless = Row::new();
    stateless.insert("collector".into(), Value::String(table.name.into()));
    stateless.insert("module".into(), Value::String("inventory".into()));
    stateless.insert("data".into(), Value::Object(data));
    stateless
}

/// What one change found by a scan produces, for the scanner to hand on.
#[derive(Debug, Clone)]
pub struct ScanEvents {
    /// The stateful document and its JSON, to queue; `None` when a beta host's validation
    /// refused it (it is not queued, and document limits are not consulted).
    pub stateful: Option<(Stateful, String)>,
    /// The stateless event, when the scan notifies (sent even when the stateful document
    /// was refused, as beta4 does).
    pub stateless: Option<String>,
    /// The stored row of a refused insertion or modification: the scan deletes it from the
    /// database once its transaction is over, so that the next scan finds it as new.
    pub rejected: Option<Row>,
}

/// The events of one change found by a scan, as `Scanner::emit` hands them on: the stateful
/// document (and, with `notify`, the stateless event) in the host's generation's shape.
/// On a beta host the stateful document is first validated against its index's template
/// ([`validate::admit`], with its log lines through `log`); an alpha0 host's documents are
/// never validated, and then this is exactly [`stateful`] / [`events`].
pub fn scan_change(
    table: &'static TableDef,
    change: &Change,
    generation: Generation,
    notify: bool,
    log: &dyn Fn(LogLevel, &str),
) -> ScanEvents {
    let (row, operation, _) = parts(change);
    let st = stateful_for(table, row, operation, generation);
    // Serializing a JSON map cannot fail; an empty string would only reach the log.
    let json = serde_json::to_string(&st.document).unwrap_or_default();
    let stateless = notify.then(|| {
        // Writing a map of JSON values cannot fail; to_string is the faster writer.
        serde_json::to_string(&stateless_of(table, change, &st, generation)).unwrap_or_default()
    });
    if generation.is_beta() {
        let deferred_delete = operation != Operation::Delete;
        let document = Value::Object(st.document.clone());
        let purpose = Purpose::Scan { deferred_delete };
        if !validate::admit(table.name, table.index, &document, &json, purpose, log) {
            return ScanEvents {
                stateful: None,
                stateless,
                rejected: deferred_delete.then(|| row.clone()),
            };
        }
    }
    ScanEvents {
        stateful: Some((st, json)),
        stateless,
        rejected: None,
    }
}

/// The stateful document of a stored row for a recovery (`Purpose::Recovery`) or the
/// vulnerability detector's DataContext (`Purpose::DataContext`), with its JSON; `None`
/// when a beta host's validation refused it (logged as beta4 does; the caller skips it).
/// On an alpha0 host this is [`stateful`] and never `None`.
pub fn stored_document(
    table: &'static TableDef,
    row: &Row,
    operation: Operation,
    generation: Generation,
    purpose: Purpose,
    log: &dyn Fn(LogLevel, &str),
) -> Option<(Stateful, String)> {
    let st = stateful_for(table, row, operation, generation);
    let json = serde_json::to_string(&st.document).unwrap_or_default();
    if generation.is_beta() {
        let document = Value::Object(st.document.clone());
        if !validate::admit(table.name, table.index, &document, &json, purpose, log) {
            return None;
        }
    }
    Some((st, json))
}

/// Compares the new document with the old values, records every differing leaf's dotted
/// path, and copies each old value under `<top-level key>.previous.<rest of the path>`.
/// The traversal order (depth-first, last pushed object first) is the reference's, so
/// `changed_fields` lists paths in the same order.
pub fn add_previous(current: &mut Row, previous: &Row) -> Vec<String> {
    let mut changed = Vec::new();
    let mut previous_values: Vec<(String, String, Value)> = Vec::new();
    let mut stack: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = stack.pop() {
        let (Some(cur), Some(prev)) = (lookup(current, &path), lookup(previous, &path)) else {
            continue;
        };
        let mut keys: Vec<&String> = prev.keys().collect();
        keys.sort();
        for key in keys {
            let Some(cur_value) = cur.get(key) else {
                continue;
            };
            let prev_value = &prev[key];
            let mut child = path.clone();
            child.push(key.clone());
            if cur_value.is_object() && prev_value.is_object() {
                stack.push(child);
            } else if cur_value != prev_value {
                changed.push(child.join("."));
                let top = child[0].clone();
                let rest = child[1..].join(".");
                previous_values.push((top, rest, prev_value.clone()));
            }
        }
    }
    for (top, rest, value) in previous_values {
        let slot = current
            .entry(top.clone())
            .or_insert_with(|| Value::Object(Row::new()));
        if let Value::Object(obj) = slot {
            let path = if rest.is_empty() {
                "previous".to_string()
            } else {
                format!("previous.{rest}")
            };
            ecs::set_path(obj, &path, value);
        }
    }
    changed
}

fn lookup<'a>(mut obj: &'a Row, path: &[String]) -> Option<&'a Row> {
    for p in path {
        obj = obj.get(p)?.as_object()?;
    }
    Some(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbsync::schema;
    use serde_json::json;

    fn obj(v: Value) -> Row {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn canonical_json_sorts_and_compacts() {
        let v = json!({"b": 1, "a": {"d": [1, "x"], "c": null}, "e": 1.5});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":null,"d":[1,"x"]},"b":1,"e":1.5}"#
        );
    }

    #[test]
    fn checksum_is_sha1_of_sorted_trimmed_row() {
        let row = prepare_row(obj(json!({"pid": " 1 ", "name": "init", "state": " "})));
        // sha1 of {"name":"init","pid":"1","state":" "}
        let expected = sha1_hex(br#"{"name":"init","pid":"1","state":" "}"#);
        assert_eq!(row["checksum"], json!(expected));
        assert_eq!(row["pid"], json!("1"));
        assert_eq!(row["state"], json!(" "));
    }

    #[test]
    fn sha1_known_vector() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn document_id_joins_primary_keys() {
        let row = obj(json!({"file_inode": 1234, "network_transport": "tcp",
                             "source_ip": "0.0.0.0", "source_port": 22}));
        assert_eq!(
            document_id(&schema::PORTS, &row),
            sha1_hex(b"dbsync_ports:1234:tcp:0.0.0.0:22")
        );
        let row = obj(json!({"pid": "42"}));
        assert_eq!(
            document_id(&schema::PROCESSES, &row),
            sha1_hex(b"dbsync_processes:42")
        );
    }

    #[test]
    fn modification_carries_previous_and_changed_fields() {
        let new = obj(json!({"pid": "7", "name": "b", "parent_pid": 2, "utime": 5,
                             "checksum": "n", "version": 3}));
        let old = obj(
            json!({"pid": "7", "name": "a", "parent_pid": 1, "checksum": "o",
                             "version": 2}),
        );
        let (st, sl) = events(&schema::PROCESSES, &Change::Modified { new, old });
        assert_eq!(st.operation, Operation::Modify);
        assert_eq!(st.version, 3);
        assert_eq!(st.document["state"]["document_version"], json!(3));
        assert_eq!(st.document["checksum"]["hash"]["sha1"], json!("n"));
        let data = &sl["data"];
        assert_eq!(data["event"]["type"], json!("modified"));
        assert_eq!(
            data["event"]["changed_fields"],
            json!(["process.name", "process.parent.pid"])
        );
        assert_eq!(data["process"]["previous"]["name"], json!("a"));
        assert_eq!(data["process"]["previous"]["parent"]["pid"], json!(1));
        assert_eq!(data["process"]["name"], json!("b"));
        assert!(data.get("checksum").is_none());
        assert!(data.get("state").is_none());
        assert_eq!(sl["collector"], json!("dbsync_processes"));
        assert_eq!(sl["module"], json!("inventory"));
    }

    #[test]
    fn created_event_has_empty_changed_fields() {
        let row = obj(json!({"pid": "7", "name": "b", "checksum": "c", "version": 1}));
        let (st, sl) = events(&schema::PROCESSES, &Change::Inserted(row));
        assert_eq!(st.operation, Operation::Create);
        assert_eq!(sl["data"]["event"]["changed_fields"], json!([]));
        assert_eq!(sl["data"]["event"]["type"], json!("created"));
        let created = sl["data"]["event"]["created"].as_str().unwrap();
        assert_eq!(created.len(), 24);
        assert!(created.ends_with('Z'));
    }
}
