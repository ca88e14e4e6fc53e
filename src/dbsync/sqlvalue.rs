//! Conversions between the collectors' JSON values and SQLite values.
//!
//! A collector may report a number as a string or the other way round; the column type
//! decides what is stored, so that the same fact always compares equal to itself. JSON
//! `null` is stored as SQL NULL and read back as `null`.

use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

use super::ColumnType;

/// The value stored for JSON `v` in a column of type `ty`.
pub fn to_sql(ty: ColumnType, v: &Value) -> SqlValue {
    match ty {
        ColumnType::Text => match v {
            Value::Null => SqlValue::Null,
            Value::String(s) => SqlValue::Text(s.clone()),
            Value::Bool(b) => SqlValue::Text(if *b { "1" } else { "0" }.to_string()),
            Value::Number(n) => SqlValue::Text(n.to_string()),
            other => SqlValue::Text(other.to_string()),
        },
        ColumnType::Integer | ColumnType::BigInt => match v {
            Value::Number(n) => n
                .as_i64()
                // Values above i64::MAX keep their bits; SQLite has no unsigned type.
                .or_else(|| n.as_u64().map(|u| u as i64))
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map(SqlValue::Integer)
                .unwrap_or(SqlValue::Null),
            Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(SqlValue::Integer)
                .unwrap_or(SqlValue::Null),
            _ => SqlValue::Null,
        },
        ColumnType::Double => match v {
            Value::Number(n) => n.as_f64().map(SqlValue::Real).unwrap_or(SqlValue::Null),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(SqlValue::Real)
                .unwrap_or(SqlValue::Null),
            Value::Bool(b) => SqlValue::Real(if *b { 1.0 } else { 0.0 }),
            _ => SqlValue::Null,
        },
    }
}

/// The JSON value of a stored SQLite value.
pub fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null | ValueRef::Blob(_) => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
    }
}

/// Appends one primary key value to an in-memory lookup key. Each part is tagged with its
/// storage class and ends with a separator byte that cannot occur in SQLite text from our
/// collectors' trimmed strings in a way that makes two different keys equal: text is
/// length-prefixed.
pub fn key_part(key: &mut String, v: ValueRef<'_>) {
    use std::fmt::Write as _;
    match v {
        ValueRef::Null => key.push('N'),
        ValueRef::Integer(i) => {
            let _ = write!(key, "I{i}");
        }
        ValueRef::Real(f) => {
            let _ = write!(key, "R{}", f.to_bits());
        }
        ValueRef::Text(t) => text_part(key, &String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => {
            let _ = write!(key, "B{}", hex::encode(b));
        }
    }
    key.push('\u{1}');
}

fn text_part(key: &mut String, s: &str) {
    use std::fmt::Write as _;
    let _ = write!(key, "T{}:", s.len());
    key.push_str(s);
}

/// [`key_part`] of the value a JSON value is stored as, without building that value for
/// the common case of text in a text column.
pub fn key_part_json(key: &mut String, ty: ColumnType, v: &Value) {
    match (ty, v) {
        (ColumnType::Text, Value::String(s)) => {
            text_part(key, s);
            key.push('\u{1}');
        }
        _ => key_part(key, (&to_sql(ty, v)).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_strings_meet_in_the_column_type() {
        assert_eq!(
            to_sql(ColumnType::BigInt, &json!("42")),
            SqlValue::Integer(42)
        );
        assert_eq!(
            to_sql(ColumnType::BigInt, &json!(42)),
            SqlValue::Integer(42)
        );
        assert_eq!(
            to_sql(ColumnType::Text, &json!(42)),
            SqlValue::Text("42".into())
        );
        assert_eq!(to_sql(ColumnType::Double, &json!(2)), SqlValue::Real(2.0));
        assert_eq!(to_sql(ColumnType::Integer, &json!("x")), SqlValue::Null);
        assert_eq!(to_sql(ColumnType::Text, &Value::Null), SqlValue::Null);
    }

    #[test]
    fn keys_do_not_collide_across_parts() {
        let mut a = String::new();
        key_part(&mut a, ValueRef::Text(b"a\x01Tb"));
        let mut b = String::new();
        key_part(&mut b, ValueRef::Text(b"a"));
        key_part(&mut b, ValueRef::Text(b"b"));
        assert_ne!(a, b);
        let mut c = String::new();
        key_part(&mut c, ValueRef::Integer(1));
        let mut d = String::new();
        key_part(&mut d, ValueRef::Text(b"1"));
        assert_ne!(c, d);
    }

    #[test]
    fn json_keys_match_stored_keys() {
        for (ty, v) in [
            (ColumnType::Text, json!("abc")),
            (ColumnType::Text, json!(12)),
            (ColumnType::BigInt, json!("12")),
            (ColumnType::Integer, json!(7)),
            (ColumnType::Text, Value::Null),
        ] {
            let mut a = String::new();
            key_part_json(&mut a, ty, &v);
            let mut b = String::new();
            key_part(&mut b, (&to_sql(ty, &v)).into());
            assert_eq!(a, b, "{ty:?} {v}");
        }
    }

    #[test]
    fn round_trip() {
        for v in [json!(null), json!(7), json!("x"), json!(1.5)] {
            let ty = match &v {
                Value::String(_) | Value::Null => ColumnType::Text,
                Value::Number(n) if n.is_f64() => ColumnType::Double,
                _ => ColumnType::BigInt,
            };
            let s = to_sql(ty, &v);
            assert_eq!(from_sql((&s).into()), v);
        }
    }
}
