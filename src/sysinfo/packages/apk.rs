//! Alpine packages: `<root>/lib/apk/db/installed`, one block of `X:value` lines per
//! package, blocks separated by an empty line.
//!
//! As the agent, a row takes `P` (name), `V` (version), `A` (architecture), `I`
//! (installed size in bytes) and `T` (description); a later line of the same key wins, an
//! empty value is ignored, a size that is not a number is 0; a block without a name or a
//! version is skipped. The vendor is always "Alpine Linux". (The agent drops a last block
//! that no empty line closes; apk always writes one, and this reader keeps such a block.)

use serde_json::Value;

use super::{read_bytes, stoll, Ctx, UNKNOWN};
use crate::sysinfo::CollectError;
use crate::Row;

const DB: &str = "/lib/apk/db/installed";
const LIMIT: u64 = 1 << 30;

/// Rows of `<root>/lib/apk/db/installed`.
pub fn collect(ctx: &mut Ctx<'_, '_>, each: &mut dyn FnMut(Row)) -> Result<(), CollectError> {
    let path = ctx.p.path(DB);
    let p = ctx.p;
    ctx.source("apk", std::slice::from_ref(&path), each, &mut |each| {
        let bytes = match read_bytes(&path, LIMIT) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectError::io(path.display(), e)),
        };
        parse_installed(&String::from_utf8_lossy(&bytes), each, &mut |m| {
            p.debug(&format!("{}: {m}", path.display()))
        });
        Ok(())
    })
}

#[derive(Default)]
struct Block<'a> {
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    size: Option<&'a str>,
    description: Option<&'a str>,
    lines: usize,
}

/// Calls `each` with the row of every complete package block of an apk `installed`
/// database, `skip` for blocks without a name or a version.
pub fn parse_installed(text: &str, each: &mut dyn FnMut(Row), skip: &mut dyn FnMut(String)) {
    let mut block = Block::default();
    for line in text.split('\n') {
        if line.is_empty() {
            finish(&block, each, skip);
            block = Block::default();
            continue;
        }
        block.lines += 1;
        let value = match line.find(':') {
            Some(i) => &line[i + 1..],
            None => line,
        };
        if value.is_empty() {
            continue;
        }
        let slot = match line.as_bytes()[0] {
            b'P' => &mut block.name,
            b'V' => &mut block.version,
            b'A' => &mut block.arch,
            b'I' => &mut block.size,
            b'T' => &mut block.description,
            _ => continue,
        };
        *slot = Some(value);
    }
    finish(&block, each, skip);
}

fn finish(b: &Block<'_>, each: &mut dyn FnMut(Row), skip: &mut dyn FnMut(String)) {
    if b.lines == 0 {
        return;
    }
    let (Some(name), Some(version)) = (b.name, b.version) else {
        skip(format!(
            "skipping a block without {}",
            if b.name.is_none() { "P:" } else { "V:" }
        ));
        return;
    };
    let size = b.size.map_or(0, |s| stoll(s).unwrap_or(0));
    let mut row = Row::new();
    row.insert("name".into(), Value::from(name));
    row.insert("version_".into(), Value::from(version));
    row.insert(
        "architecture".into(),
        Value::from(b.arch.unwrap_or(UNKNOWN)),
    );
    row.insert("size".into(), Value::from(size));
    row.insert("type".into(), Value::from("apk"));
    row.insert("vendor".into(), Value::from("Alpine Linux"));
    row.insert("installed".into(), Value::from(UNKNOWN));
    row.insert("path".into(), Value::from(UNKNOWN));
    row.insert("category".into(), Value::from(UNKNOWN));
    row.insert("priority".into(), Value::from(UNKNOWN));
    row.insert("source".into(), Value::from(UNKNOWN));
    if let Some(d) = b.description {
        row.insert("description".into(), Value::from(d));
    }
    each(row);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Row>, usize) {
        let mut rows = Vec::new();
        let mut skipped = 0;
        parse_installed(text, &mut |r| rows.push(r), &mut |_| skipped += 1);
        (rows, skipped)
    }

    #[test]
    fn blocks_and_defaults() {
        let (rows, skipped) = parse(
            "C:Q1x=\nP:musl\nV:1.2.4-r4\nA:x86_64\nI:667648\nT:the musl c library\nt:1699271358\n\n\
             P:nover\nA:x86\n\n\
             P:bad\nV:1\nI:lots\nA:\n\n\n",
        );
        assert_eq!(skipped, 1);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["name"], "musl");
        assert_eq!(rows[0]["size"], 667648);
        assert_eq!(rows[0]["description"], "the musl c library");
        assert_eq!(rows[1]["size"], 0);
        assert_eq!(rows[1]["architecture"], " ");
        // The agent sets no description when there is no T: line.
        assert!(!rows[1].contains_key("description"));
        assert!(!rows[1].contains_key("multiarch"));
    }

    #[test]
    fn last_block_without_empty_line() {
        let (rows, _) = parse("P:a\nV:1");
        assert_eq!(rows.len(), 1);
    }
}
