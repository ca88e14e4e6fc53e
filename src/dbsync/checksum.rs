//! The row checksum: SHA-1 (lower-case hex) of the row's canonical JSON, that is compact
//! JSON with object keys in byte order at every level, strings escaped as `serde_json`
//! (and the reference's JSON library) escape them.
//!
//! Every row of every scan is hashed, unchanged rows included, so the canonical form is
//! written straight into one reused byte buffer per thread: no intermediate `String` per
//! key or value, no sorted key list for the (always sorted) maps of [`crate::Row`], one
//! SHA-1 pass over the buffer. [`canonical_json`] is the same text as a `String`, for
//! callers that want to see it.

use std::cell::RefCell;

use serde_json::Value;
use sha1::{Digest as _, Sha1};

use crate::Row;

/// Buffers bigger than this are not kept between rows (a huge row does not pin memory).
const KEEP_CAPACITY: usize = 64 << 10;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The checksum of `row` as it is (strings not trimmed; see `events::prepare_row`).
pub fn row_checksum(row: &Row) -> String {
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            write_object(&mut buf, row);
            let sum = sha1_hex(&buf);
            if buf.capacity() > KEEP_CAPACITY {
                *buf = Vec::new();
            }
            sum
        }
        // Only reachable if hashing re-entered itself; never shares the buffer.
        Err(_) => {
            let mut buf = Vec::new();
            write_object(&mut buf, row);
            sha1_hex(&buf)
        }
    })
}

/// The canonical JSON text of `v` (see the module documentation).
pub fn canonical_json(v: &Value) -> String {
    let mut buf = Vec::new();
    write_value(&mut buf, v);
    // Only valid UTF-8 goes in: the text of `String`s and ASCII.
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// SHA-1 of `data` as 40 lower-case hex digits.
pub fn sha1_hex(data: &[u8]) -> String {
    let digest = Sha1::digest(data);
    let mut text = [0u8; 40];
    // 20 bytes always fit 40 digits; `hex::encode` would build the text a char at a time.
    match hex::encode_to_slice(digest, &mut text) {
        Ok(()) => std::str::from_utf8(&text).map_or_else(|_| String::new(), str::to_owned),
        Err(_) => hex::encode(digest),
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(m) => write_object(out, m),
    }
}

fn write_object(out: &mut Vec<u8>, m: &Row) {
    out.push(b'{');
    let mut previous: Option<&str> = None;
    let sorted = m.keys().all(|k| {
        let in_order = previous.is_none_or(|p| p < k.as_str());
        previous = Some(k);
        in_order
    });
    if sorted {
        for (i, (k, v)) in m.iter().enumerate() {
            member(out, i, k, v);
        }
    } else {
        // A map type that keeps insertion order (serde_json's `preserve_order`).
        let mut members: Vec<(&String, &Value)> = m.iter().collect();
        members.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (k, v)) in members.into_iter().enumerate() {
            member(out, i, k, v);
        }
    }
    out.push(b'}');
}

fn member(out: &mut Vec<u8>, i: usize, k: &str, v: &Value) {
    if i > 0 {
        out.push(b',');
    }
    write_str(out, k);
    out.push(b':');
    write_value(out, v);
}

fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        write_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        // Negative (non-negative values are u64 above).
        out.push(b'-');
        write_u64(out, i.unsigned_abs());
    } else {
        // Floats: serde_json's own formatting (shortest round trip), into the buffer.
        let _ = serde_json::to_writer(&mut *out, n);
    }
}

fn write_u64(out: &mut Vec<u8>, mut u: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Whether byte `b` of a string is written escaped.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any of the 8 bytes of `w` is written escaped: one below 0x20, a `"` or a `\`
/// (the classic "has a byte less than n" and "has a zero byte" word tests, exact as to
/// whether there is one).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let quote = w ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote & HIGH;
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash & HIGH;
    below_space | quote | backslash != 0
}

/// `s` as a JSON string: `"` and `\` backslash-escaped, the control characters with their
/// short escapes (`\b \t \n \f \r`) or as `\u00xx`; everything else, non-ASCII included,
/// as it is.
fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    // Words of 8 bytes with nothing to escape (most text) are skipped whole.
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if !word_needs_escape(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let at = i;
        let b = bytes[at];
        i += 1;
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..at]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The construction the checksum had before this module: keys collected and sorted,
    /// every key and leaf through `serde_json`'s `Display`.
    fn old_canonical(v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let members: Vec<String> = keys
                    .into_iter()
                    .map(|k| format!("{}:{}", Value::String(k.clone()), old_canonical(&m[k])))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(a) => {
                let items: Vec<String> = a.iter().map(old_canonical).collect();
                format!("[{}]", items.join(","))
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn every_byte_is_escaped_as_serde_json_does() {
        for b in 0u8..0x80 {
            let s = format!("a{}b", b as char);
            let mut out = Vec::new();
            write_str(&mut out, &s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "byte {b:#x}"
            );
        }
        for s in [
            "",
            "\"",
            "\\\\",
            "é€😀",
            "\u{7f}\u{80}\u{2028}",
            "x\0y\u{1f}",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn escapes_are_found_at_every_offset_of_long_strings() {
        for special in ['"', '\\', '\n', '\u{0}', '\u{1f}', ' ', '\u{7f}', 'é'] {
            for len in 0..40 {
                for at in 0..len {
                    let s: String = (0..len)
                        .map(|i| if i == at { special } else { 'x' })
                        .collect();
                    let mut out = Vec::new();
                    write_str(&mut out, &s);
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        serde_json::to_string(&s).unwrap(),
                        "{s:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        for n in [
            json!(0),
            json!(7),
            json!(-1),
            json!(i64::MIN),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(1.5),
            json!(-0.0),
            json!(1e20),
            json!(1e-7),
            json!(2.0),
            json!(123456789.123),
            json!(f64::MAX),
        ] {
            assert_eq!(canonical_json(&n), n.to_string());
        }
    }

    #[test]
    fn canonical_text_equals_the_old_construction() {
        let v = json!({"b": 1, "a": {"d": [1, "x", null, true, {"z": false, "y": -3}], "c": null},
                       "e": 1.5, "": "", "k\"ey": "v\\a\nl\u{1}", "ü": "ñ"});
        assert_eq!(canonical_json(&v), old_canonical(&v));
        assert_eq!(
            canonical_json(&json!({"b": 1, "a": {"d": [1, "x"], "c": null}, "e": 1.5})),
            r#"{"a":{"c":null,"d":[1,"x"]},"b":1,"e":1.5}"#
        );
    }

    /// A small deterministic generator (xorshift), so the property test needs no crate.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn string(&mut self) -> String {
            const PIECES: [&str; 14] = [
                "a", "Z", " ", "\"", "\\", "\n", "\t", "\u{1}", "\u{1f}", "é", "€", "😀", "/",
                "\u{7f}",
            ];
            let len = self.below(12);
            (0..len)
                .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
                .collect()
        }

        fn value(&mut self, depth: u32) -> Value {
            match self.below(if depth == 0 { 6 } else { 8 }) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => json!(self.next() as i64 >> self.below(64)),
                3 => json!(self.next() >> self.below(64)),
                4 => json!((self.next() as i64 >> 11) as f64 / (1 + self.below(1000)) as f64),
                5 => Value::String(self.string()),
                6 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
                _ => Value::Object(self.row(depth - 1)),
            }
        }

        fn row(&mut self, depth: u32) -> Row {
            (0..self.below(10))
                .map(|_| (self.string(), self.value(depth)))
                .collect()
        }
    }

    #[test]
    fn random_rows_hash_as_with_the_old_construction() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            let row = g.row(2);
            let old = old_canonical(&Value::Object(row.clone()));
            assert_eq!(canonical_json(&Value::Object(row.clone())), old);
            assert_eq!(row_checksum(&row), sha1_hex(old.as_bytes()));
        }
    }

    #[test]
    fn fixture_rows_hash_as_with_the_old_construction() {
        use crate::sysinfo::{LinuxSysInfo, SysInfo};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut rows = 0;
        for tree in std::fs::read_dir(&root).unwrap().flatten() {
            if !tree.path().join("proc").is_dir() && !tree.path().join("var").is_dir() {
                continue;
            }
            let p = LinuxSysInfo::with_root(tree.path(), crate::null_logger());
            let mut check = |row: Row| {
                let old = old_canonical(&Value::Object(row.clone()));
                assert_eq!(row_checksum(&row), sha1_hex(old.as_bytes()), "{old}");
                rows += 1;
            };
            let _ = p.packages(&mut check);
            let _ = p.processes(&mut check);
            let lists = [p.ports(), p.users(), p.groups(), p.services()];
            let net = p
                .network()
                .map(|n| [n.interfaces, n.protocols, n.addresses].concat());
            for list in lists.into_iter().chain([net]).flatten() {
                list.into_iter().for_each(&mut check);
            }
            [p.os(), p.hardware()]
                .into_iter()
                .flatten()
                .for_each(&mut check);
        }
        assert!(rows > 50, "only {rows} fixture rows");
    }

    #[test]
    fn a_big_row_does_not_stay_in_the_buffer() {
        let mut row = Row::new();
        row.insert("big".into(), Value::String("x".repeat(KEEP_CAPACITY * 2)));
        let sum = row_checksum(&row);
        assert_eq!(
            sum,
            sha1_hex(old_canonical(&Value::Object(row.clone())).as_bytes())
        );
        BUFFER.with(|b| assert!(b.borrow().capacity() <= KEEP_CAPACITY));
    }

    #[test]
    fn known_vectors() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let row: Row = json!({"name": "init", "pid": "1"})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(
            row_checksum(&row),
            sha1_hex(br#"{"name":"init","pid":"1"}"#)
        );
    }
}
