//! `syscollector show TABLE`: one inventory table as a person reads it (aligned columns) or
//! as a program does (JSON, CSV); and `syscollector tables`, the names it accepts.

use std::io::Write;

use serde_json::Value;
use syscollector::dbsync::schema;
use syscollector::{Logger, Row};

use crate::args::{table_names, ShowArgs};
use crate::view::{self, Records};
use crate::Failure;

/// The table's rows as records: its stored columns (not the checksum), in schema order.
fn records(table: &'static schema::TableDef, rows: Vec<Row>) -> Records {
    let columns: Vec<String> = table.columns.iter().map(|c| c.name.to_string()).collect();
    let mut out = Records {
        columns: columns.clone(),
        ..Records::default()
    };
    for row in rows {
        out.rows.push(
            columns
                .iter()
                .map(|c| row.get(c).cloned().unwrap_or(Value::Null))
                .collect(),
        );
        let mut obj = Row::new();
        for c in &columns {
            obj.insert(c.clone(), row.get(c).cloned().unwrap_or(Value::Null));
        }
        out.json.push(Value::Object(obj));
    }
    out
}

pub fn show(a: ShowArgs, log: Logger) -> Result<(), Failure> {
    let mut rows = match &a.db {
        Some(db) => crate::scan::read_db(db, &[a.table])?,
        None => crate::scan::scan_now(&a.root.root, &[a.table], log)?,
    };
    let records = records(a.table, rows.pop().unwrap_or_default())
        .filter(&a.wheres)
        .and_then(|r| r.select(&a.columns, a.format))
        .map_err(Failure::Usage)?;
    let mut out = std::io::stdout().lock();
    match records
        .write(&mut out, a.format, view::terminal_width())
        .and_then(|()| out.flush())
    {
        Err(e) if !view::reader_gone(&e) => Err(Failure::Job(format!("cannot write: {e}"))),
        _ => Ok(()),
    }
}

/// `syscollector tables`: each word, and the tables it names.
pub fn tables() -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    for (word, tables) in table_names() {
        if word.starts_with("dbsync_") {
            continue;
        }
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        if writeln!(out, "{word:<20} {}", names.join(", ")).is_err() {
            break;
        }
    }
    Ok(())
}
