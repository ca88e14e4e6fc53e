//! The ECS shape of each table's documents.
//!
//! The manager indexes inventory documents in `wazuh-states-inventory-*` under Elastic
//! Common Schema field names (`package.name`, `process.parent.pid`, …). Which column
//! becomes which document field, and how (copied, read as a boolean, or split on commas
//! into an array), is declared with each column in [`crate::catalog`]; this file builds
//! the documents from it.

use serde_json::Value;

pub use crate::catalog::Kind;
use crate::catalog::TableDef;
use crate::Row;

/// True for the values the reference treats as "no value": the empty string and the
/// collectors' unknown marker, a single space.
pub fn is_empty_value(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.is_empty() || s == " ")
}

fn convert(kind: Kind, v: &Value) -> Value {
    if v.is_null() || is_empty_value(v) {
        return Value::Null;
    }
    match kind {
        Kind::Plain => v.clone(),
        Kind::Bool => match v {
            Value::Number(n) => Value::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
            Value::String(s) => Value::Bool(s != "0"),
            other => other.clone(),
        },
        Kind::Array => match v {
            Value::String(s) => Value::Array(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            other => Value::Array(vec![other.clone()]),
        },
    }
}

/// Sets `value` at the dot-separated `path` of `doc`, creating objects on the way.
pub fn set_path(doc: &mut Row, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut cur = doc;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part.to_string(), value);
            return;
        }
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Row::new()));
        if !entry.is_object() {
            *entry = Value::Object(Row::new());
        }
        match entry {
            Value::Object(m) => cur = m,
            _ => return,
        }
    }
}

/// The ECS document of a row. With `all_fields`, every field of the table is present
/// (`null` when the row has no value); without, only the fields whose column the row has
/// (used for the old values of a modification).
pub fn document(table: &TableDef, row: &Row, all_fields: bool) -> Row {
    let mut doc = Row::new();
    for c in table.columns {
        match row.get(c.name) {
            Some(v) => set_path(&mut doc, c.ecs, convert(c.kind, v)),
            None if all_fields => set_path(&mut doc, c.ecs, Value::Null),
            None => {}
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog as schema;
    use serde_json::json;

    #[test]
    fn empty_and_unknown_become_null() {
        let row = json!({"name": "", "pid": " ", "args": "a, b,,c", "state": "S"});
        let doc = document(&schema::PROCESSES, row.as_object().unwrap(), true);
        let doc = Value::Object(doc);
        assert_eq!(doc["process"]["name"], Value::Null);
        assert_eq!(doc["process"]["pid"], Value::Null);
        assert_eq!(doc["process"]["args"], json!(["a", "b", "c"]));
        assert_eq!(doc["process"]["state"], json!("S"));
        assert_eq!(doc["process"]["parent"]["pid"], Value::Null);
    }

    #[test]
    fn booleans() {
        let row = json!({"group_is_hidden": 0, "group_name": "x"});
        let doc = Value::Object(document(&schema::GROUPS, row.as_object().unwrap(), false));
        assert_eq!(doc, json!({"group": {"is_hidden": false, "name": "x"}}));
        let row = json!({"group_is_hidden": "1"});
        let doc = Value::Object(document(&schema::GROUPS, row.as_object().unwrap(), false));
        assert_eq!(doc["group"]["is_hidden"], json!(true));
    }
}
