//! Records as a person or a program reads them, shared by both tools' `show`: aligned
//! columns (comfy-table), a JSON array, or CSV; `--where FIELD=VALUE` filters; and output
//! that ends quietly when the reader closes the pipe (`show ... | head`).

use std::io::{self, Write};

use serde_json::Value;

/// How `show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, wrapped to the terminal's width.
    Table,
    /// One JSON array of objects.
    Json,
    /// Comma-separated values with a header line.
    Csv,
}

/// Rows to show: named columns, each row's cells, and each row as JSON (what `--format json`
/// prints: the stored row, or the manager's nested document).
#[derive(Debug, Default)]
pub struct Records {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub json: Vec<Value>,
}

/// One `--where FIELD=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Where {
    pub field: String,
    pub value: String,
}

/// Parses `FIELD=VALUE` (clap value parser).
pub fn parse_where(s: &str) -> Result<Where, String> {
    match s.split_once('=') {
        Some((f, v)) if !f.trim().is_empty() => Ok(Where {
            field: f.trim().to_string(),
            value: v.to_string(),
        }),
        _ => Err(format!("'{s}' is not FIELD=VALUE")),
    }
}

/// A cell as text: strings as they are (trimmed), numbers and booleans printed, null empty,
/// arrays joined with ", ", objects as JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.trim().to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

impl Records {
    /// Keeps the rows whose every `--where` field equals its value (as [`cell`] prints it).
    /// A field that is not a column is an error naming the columns.
    pub fn filter(mut self, wheres: &[Where]) -> Result<Records, String> {
        let mut wanted = Vec::new();
        for w in wheres {
            let Some(i) = self.columns.iter().position(|c| *c == w.field) else {
                return Err(format!(
                    "no field '{}'; the fields are: {}",
                    w.field,
                    self.columns.join(", ")
                ));
            };
            wanted.push((i, w.value.as_str()));
        }
        if wanted.is_empty() {
            return Ok(self);
        }
        let keep: Vec<bool> = self
            .rows
            .iter()
            .map(|r| wanted.iter().all(|(i, v)| cell(&r[*i]) == *v))
            .collect();
        let mut k = keep.iter();
        self.rows.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        self.json.retain(|_| *k.next().unwrap_or(&false));
        Ok(self)
    }

    /// Keeps only `columns`, in that order (an unknown one is an error naming the columns);
    /// with none given, in a table, drops the columns that are empty in every row.
    pub fn select(mut self, columns: &[String], format: Format) -> Result<Records, String> {
        let keep: Vec<usize> = if columns.is_empty() {
            if format != Format::Table {
                return Ok(self);
            }
            (0..self.columns.len())
                .filter(|&i| self.rows.iter().any(|r| !cell(&r[i]).is_empty()))
                .collect()
        } else {
            let mut keep = Vec::new();
            for c in columns {
                match self.columns.iter().position(|x| x == c) {
                    Some(i) => keep.push(i),
                    None => {
                        return Err(format!(
                            "no field '{c}'; the fields are: {}",
                            self.columns.join(", ")
                        ))
                    }
                }
            }
            keep
        };
        if keep.is_empty() {
            return Ok(self);
        }
        self.columns = keep.iter().map(|&i| self.columns[i].clone()).collect();
        for r in &mut self.rows {
            *r = keep.iter().map(|&i| r[i].clone()).collect();
        }
        if !columns.is_empty() {
            // Chosen columns: each JSON object holds just them, by their (flat) names.
            self.json = self
                .rows
                .iter()
                .map(|r| {
                    Value::Object(
                        self.columns
                            .iter()
                            .cloned()
                            .zip(r.iter().cloned())
                            .collect(),
                    )
                })
                .collect();
        }
        Ok(self)
    }

    /// Writes the records; `width` is the terminal's width when stdout is one.
    pub fn write(&self, out: &mut dyn Write, format: Format, width: Option<u16>) -> io::Result<()> {
        match format {
            Format::Json => {
                serde_json::to_writer(&mut *out, &self.json)?;
                writeln!(out)
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.columns).map_err(csv_io)?;
                for r in &self.rows {
                    w.write_record(r.iter().map(cell)).map_err(csv_io)?;
                }
                w.flush()
            }
            Format::Table => {
                let mut t = comfy_table::Table::new();
                t.load_preset(comfy_table::presets::NOTHING);
                match width {
                    Some(w) => {
                        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                        t.set_width(w);
                    }
                    None => {
                        t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
                    }
                }
                t.set_header(self.columns.iter().map(|c| c.to_uppercase()));
                for r in &self.rows {
                    t.add_row(r.iter().map(cell));
                }
                for line in t.lines() {
                    writeln!(out, "{}", line.trim_end())?;
                }
                writeln!(out, "({} rows)", self.rows.len())
            }
        }
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// The terminal's width when stdout is a terminal.
pub fn terminal_width() -> Option<u16> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills a winsize for the terminal on fd 1; nothing else is touched.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above; a failure leaves `ws` zeroed.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    if rc == 0 && ws.ws_col > 0 {
        Some(ws.ws_col)
    } else {
        Some(100)
    }
}

/// An output error that only means the reader went away (`| head`), which is not a failure.
pub fn reader_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}
