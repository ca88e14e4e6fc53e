//! The ECS shape of each table's documents.
//!
//! The manager indexes inventory documents in `wazuh-states-inventory-*` under Elastic
//! Common Schema field names (`package.name`, `process.parent.pid`, …). Which column
//! becomes which document field, and how (copied, read as a boolean, or split on commas
//! into an array), is declared with each column in [`crate::catalog`]; this file builds
//! the documents from it.
//!
//! A beta host's module (v5.0.0-beta4, rc1) shapes some fields differently, so that every
//! document matches its index template (see [`super::validate`]): [`document_for`] with
//! [`Generation::Beta`] applies those conversions ([`beta_rule`]); with
//! [`Generation::Alpha0`] it is [`document`], unchanged.

use serde_json::{Number, Value};

pub use crate::catalog::Kind;
use crate::catalog::TableDef;
use crate::generation::Generation;
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
    let mut cur = doc;
    let mut rest = path;
    while let Some((part, tail)) = rest.split_once('.') {
        // An object already on the way is reused without making its key again.
        if !matches!(cur.get(part), Some(Value::Object(_))) {
            cur.insert(part.to_string(), Value::Object(Row::new()));
        }
        match cur.get_mut(part) {
            Some(Value::Object(m)) => cur = m,
            _ => return,
        }
        rest = tail;
    }
    cur.insert(rest.to_string(), value);
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

/// The ECS document of a row as the host's generation shapes it (see [`document`] for
/// `all_fields`).
pub fn document_for(table: &TableDef, row: &Row, all_fields: bool, generation: Generation) -> Row {
    if !generation.is_beta() {
        return document(table, row, all_fields);
    }
    let mut doc = Row::new();
    for c in table.columns {
        let value = match row.get(c.name) {
            Some(v) => match beta_rule(table.name, c.name) {
                Some(rule) => beta_convert(rule, v),
                None => beta_kind(c.kind, v),
            },
            None if all_fields => Value::Null,
            None => continue,
        };
        set_path(&mut doc, c.ecs, value);
    }
    doc
}

/// A beta host's conversion of one column, where it differs from the column's [`Kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetaRule {
    /// `cpu_speed`: a non-zero number becomes an integer (truncated); anything else `null`.
    WholeNonZero,
    /// `pid` of processes: a string read as a decimal integer (`strtoll` rules: leading
    /// white space, a sign, the digits up to the first other character); `""`, `" "`, a
    /// string without digits, an out-of-range one and any non-string become `null`.
    StringToInteger,
    /// `file_inode` of ports, `network_type` of addresses: a number becomes its decimal
    /// string (as a 64-bit integer), a string stays as it is (even empty), anything else
    /// `null`.
    NumberToString,
    /// `user_id` of users, `service_target_ephemeral_id` of services: a number becomes the
    /// decimal string of its 32-bit integer value; anything else (`""`, `" "` and `null`
    /// included) stays as it is.
    Int32ToString,
    /// `interface_mtu`: a number other than 0 and 4294967295 (the "not available" values of
    /// UNIX and Windows) stays; anything else becomes `null`.
    ValidMtu,
    /// `network_metric` of protocols: a string read as a decimal integer (as
    /// [`BetaRule::StringToInteger`]), a number as a 64-bit integer; `""`, `" "` and
    /// anything else `null`.
    Metric,
    /// An address field that becomes an array (split on commas, like [`Kind::Array`]):
    /// `source_ip` / `destination_ip` of ports, `network_gateway` of protocols,
    /// `network_ip` / `network_netmask` / `network_broadcast` of addresses.
    Array,
}

/// The beta conversion of column `column` of table `table`, where it has one.
pub fn beta_rule(table: &str, column: &str) -> Option<BetaRule> {
    use BetaRule::*;
    Some(match (table, column) {
        ("dbsync_hwinfo", "cpu_speed") => WholeNonZero,
        ("dbsync_processes", "pid") => StringToInteger,
        ("dbsync_ports", "file_inode") => NumberToString,
        ("dbsync_ports", "source_ip" | "destination_ip") => Array,
        ("dbsync_network_iface", "interface_mtu") => ValidMtu,
        ("dbsync_network_protocol", "network_gateway") => Array,
        ("dbsync_network_protocol", "network_metric") => Metric,
        ("dbsync_network_address", "network_ip" | "network_netmask" | "network_broadcast") => Array,
        ("dbsync_network_address", "network_type") => NumberToString,
        ("dbsync_users", "user_id") => Int32ToString,
        ("dbsync_services", "service_target_ephemeral_id") => Int32ToString,
        _ => return None,
    })
}

/// A number as the reference's JSON library reads it as a 64-bit signed integer
/// (an unsigned one wraps, a float is truncated).
fn as_i64(n: &Number) -> i64 {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i,
        (None, Some(u)) => u as i64,
        _ => n.as_f64().unwrap_or(0.0) as i64,
    }
}

/// A number as the reference reads it as a C `int` (32 bits, wrapping).
fn as_i32(n: &Number) -> i32 {
    match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => i as i32,
        (None, Some(u)) => u as i32,
        _ => n.as_f64().unwrap_or(0.0) as i32,
    }
}

/// `std::stoll` of a string: optional leading white space, an optional sign, then decimal
/// digits up to the first other character; `None` without digits or out of range.
pub fn parse_leading_i64(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let magnitude: i128 = digits[..end].parse().ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.is_empty() || s == " ")
}

fn beta_convert(rule: BetaRule, v: &Value) -> Value {
    match rule {
        BetaRule::WholeNonZero => match v {
            Value::Number(n) if n.as_f64().unwrap_or(0.0) != 0.0 => Value::from(as_i64(n)),
            _ => Value::Null,
        },
        BetaRule::StringToInteger => match v {
            Value::String(s) if !is_unknown(v) => {
                parse_leading_i64(s).map_or(Value::Null, Value::from)
            }
            _ => Value::Null,
        },
        BetaRule::NumberToString => match v {
            Value::Number(n) => Value::String(as_i64(n).to_string()),
            Value::String(s) => Value::String(s.clone()),
            _ => Value::Null,
        },
        BetaRule::Int32ToString => match v {
            Value::Number(n) => Value::String(as_i32(n).to_string()),
            other => other.clone(),
        },
        BetaRule::ValidMtu => match v {
            Value::Number(n) if !matches!(as_i64(n), 0 | 4_294_967_295) => v.clone(),
            _ => Value::Null,
        },
        BetaRule::Metric => match v {
            Value::String(s) if !is_unknown(v) => {
                parse_leading_i64(s).map_or(Value::Null, Value::from)
            }
            Value::Number(n) => Value::from(as_i64(n)),
            _ => Value::Null,
        },
        BetaRule::Array => beta_kind(Kind::Array, v),
    }
}

/// A column's [`Kind`] as the beta module applies it: as alpha0's, except that a boolean
/// reads a number as a C `int` and an array's items are trimmed of spaces only.
fn beta_kind(kind: Kind, v: &Value) -> Value {
    if v.is_null() || is_unknown(v) {
        return Value::Null;
    }
    match kind {
        Kind::Plain => v.clone(),
        Kind::Bool => match v {
            Value::Number(n) => Value::Bool(as_i32(n) != 0),
            Value::String(s) => Value::Bool(s != "0"),
            other => other.clone(),
        },
        Kind::Array => match v {
            Value::String(s) => Value::Array(
                s.split(',')
                    .map(|item| item.trim_matches(' '))
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::String(item.to_string()))
                    .collect(),
            ),
            other => Value::Array(vec![other.clone()]),
        },
    }
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
