//! The package normalizer: the agent's `norm_config.json` rules applied to package rows.
//!
//! The file has two lists, `exclusions` and `dictionary`; each item names a `target`
//! (the platform: "linux", "macos", "windows") and a `data_type` ("packages"). Only the
//! items of the configured target and of `data_type` "packages" are kept, in file order.
//!
//! - An exclusion (`field_name`, `pattern`) drops a row whose field fully matches the
//!   pattern.
//! - A dictionary item may have a condition (`find_field` + `find_pattern`, both or the
//!   item is ignored: the field must exist and fully match), then a replacement
//!   (`replace_field`, `replace_pattern`, `replace_value`: every match in the field is
//!   replaced, `$&`, `$1`… `$99`, `` $` ``, `$'` and `$$` as in ECMAScript) and/or an
//!   addition (`add_field` set to `add_value`).
//!
//! Patterns are ECMAScript regular expressions in the agent; here they are compiled by
//! the `regex` crate, which reads every pattern of the shipped file the same way. A
//! pattern it cannot compile (look-around, back-references) disables that one item, with
//! a warning. The agent applies, to each package row, in this order: trim of string
//! values → checksum → [`Normalizer::normalize`] → [`Normalizer::is_excluded`] (an
//! excluded row is not stored at all).

use std::path::Path;

use regex::{Captures, Regex};
use serde_json::Value;

use crate::{LogLevel, Logger, Row};

/// The most of the configuration file that is read (the agent's is about 20 KiB); a larger
/// file is refused.
const CONFIG_LIMIT: u64 = 16 << 20;

/// Rows of this data type are the ones the rules are for.
const DATA_TYPE: &str = "packages";

#[derive(Debug)]
struct Exclusion {
    field: String,
    pattern: Regex,
}

#[derive(Debug)]
struct Replace {
    field: String,
    pattern: Regex,
    value: String,
}

#[derive(Debug)]
struct Rule {
    find: Option<(String, Regex)>,
    replace: Option<Replace>,
    add: Option<(String, String)>,
}

/// The rules of one target for package rows.
#[derive(Debug, Default)]
pub struct Normalizer {
    exclusions: Vec<Exclusion>,
    rules: Vec<Rule>,
    /// SHA-256 of the target and the configuration document the rules came from.
    identity: [u8; 32],
}

/// Why a normalizer configuration document gives no rules at all.
#[derive(Debug, thiserror::Error)]
pub enum NormalizerError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("not a JSON object")]
    NotAnObject,
}

/// A pattern that must match the whole value, as `std::regex_match`.
fn full(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!(r"\A(?:{pattern})\z"))
}

fn text<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(Value::as_str)
}

impl Normalizer {
    /// Reads the rules of `kind` from the JSON file at `path`. A missing or invalid file is
    /// logged and gives `None` (nothing to apply).
    pub fn load(path: &Path, kind: &str, log: &Logger) -> Option<Normalizer> {
        // Never blocks (a FIFO or device at the path is refused, not waited on) and never
        // reads more than the limit.
        let bytes = match crate::sysinfo::read::bytes(path, CONFIG_LIMIT) {
            Ok(b) if b.len() as u64 >= CONFIG_LIMIT => {
                log(
                    LogLevel::Error,
                    &format!(
                        "Normalizer configuration {}: larger than {CONFIG_LIMIT} bytes; not used",
                        path.display()
                    ),
                );
                return None;
            }
            Ok(b) => b,
            Err(e) => {
                let level = if e.kind() == std::io::ErrorKind::NotFound {
                    LogLevel::Debug
                } else if crate::sysinfo::read::is_not_regular(&e) {
                    LogLevel::Error
                } else {
                    LogLevel::Warning
                };
                log(
                    level,
                    &format!("Normalizer configuration {}: {e}", path.display()),
                );
                return None;
            }
        };
        match Normalizer::from_json(&bytes, kind, &mut |m| log(LogLevel::Warning, m)) {
            Ok(n) => Some(n),
            Err(e) => {
                log(
                    LogLevel::Warning,
                    &format!("Invalid normalizer configuration {}: {e}", path.display()),
                );
                None
            }
        }
    }

    /// What the rules were made from (the target and the whole configuration document):
    /// two normalizers with the same identity treat every row the same way.
    pub fn identity(&self) -> &[u8; 32] {
        &self.identity
    }

    /// The rules of `kind` in a configuration document; `warn` gets every item that is
    /// skipped because a pattern does not compile or a value is not a string.
    pub fn from_json(
        json: &[u8],
        kind: &str,
        warn: &mut dyn FnMut(&str),
    ) -> Result<Normalizer, NormalizerError> {
        let doc: Value = serde_json::from_slice(json)?;
        if !doc.is_object() {
            return Err(NormalizerError::NotAnObject);
        }
        let items = |list: &str| -> Vec<&Value> {
            doc.get(list)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter(|i| {
                            text(i, "target") == Some(kind)
                                && text(i, "data_type") == Some(DATA_TYPE)
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut n = Normalizer::default();
        {
            use sha2::Digest as _;
            let mut h = sha2::Sha256::new();
            h.update((kind.len() as u64).to_le_bytes());
            h.update(kind.as_bytes());
            h.update(json);
            n.identity = h.finalize().into();
        }
        for item in items("exclusions") {
            let (Some(field), Some(pattern)) = (text(item, "field_name"), text(item, "pattern"))
            else {
                warn(&format!(
                    "normalizer: exclusion without field_name/pattern: {item}"
                ));
                continue;
            };
            match full(pattern) {
                Ok(pattern) => n.exclusions.push(Exclusion {
                    field: field.to_string(),
                    pattern,
                }),
                Err(e) => warn(&format!("normalizer: exclusion pattern {pattern:?}: {e}")),
            }
        }
        for item in items("dictionary") {
            match Self::rule(item) {
                Ok(Some(rule)) => n.rules.push(rule),
                Ok(None) => {}
                Err(e) => warn(&format!("normalizer: dictionary item {item}: {e}")),
            }
        }
        Ok(n)
    }

    /// One dictionary item; `Ok(None)` for an item the agent ignores (half a condition).
    fn rule(item: &Value) -> Result<Option<Rule>, String> {
        let string = |key: &str| match item.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key} is not a string")),
        };
        let find = match (string("find_field")?, string("find_pattern")?) {
            (Some(field), Some(pattern)) => {
                Some((field, full(&pattern).map_err(|e| e.to_string())?))
            }
            (None, None) => None,
            _ => return Ok(None),
        };
        let replace = match (
            string("replace_field")?,
            string("replace_pattern")?,
            string("replace_value")?,
        ) {
            (Some(field), Some(pattern), Some(value)) => Some(Replace {
                field,
                pattern: Regex::new(&pattern).map_err(|e| e.to_string())?,
                value,
            }),
            _ => None,
        };
        let add = match (string("add_field")?, string("add_value")?) {
            (Some(field), Some(value)) => Some((field, value)),
            _ => None,
        };
        Ok(Some(Rule { find, replace, add }))
    }

    /// True when no rule applies to this target.
    pub fn is_empty(&self) -> bool {
        self.exclusions.is_empty() && self.rules.is_empty()
    }

    /// Applies the dictionary to one package row, item after item.
    pub fn normalize(&self, row: &mut Row) {
        for rule in &self.rules {
            if let Some((field, pattern)) = &rule.find {
                match row.get(field) {
                    Some(Value::String(s)) if pattern.is_match(s) => {}
                    _ => continue,
                }
            }
            if let Some(r) = &rule.replace {
                if let Some(Value::String(s)) = row.get(&r.field) {
                    let replaced = replace_all(&r.pattern, s, &r.value);
                    row.insert(r.field.clone(), Value::String(replaced));
                }
            }
            if let Some((field, value)) = &rule.add {
                row.insert(field.clone(), Value::String(value.clone()));
            }
        }
    }

    /// True when an exclusion matches the row (it is then not stored).
    pub fn is_excluded(&self, row: &Row) -> bool {
        self.exclusions.iter().any(|x| match row.get(&x.field) {
            Some(Value::String(s)) => x.pattern.is_match(s),
            _ => false,
        })
    }
}

/// Every match of `re` in `text` replaced by `format` read as an ECMAScript replacement.
fn replace_all(re: &Regex, text: &str, format: &str) -> String {
    let groups = re.captures_len() - 1;
    re.replace_all(text, |caps: &Captures<'_>| {
        let (start, end) = caps.get(0).map_or((0, 0), |m| (m.start(), m.end()));
        let mut out = String::new();
        let f = format.as_bytes();
        let mut i = 0;
        while i < f.len() {
            if f[i] != b'$' || i + 1 >= f.len() {
                let ch_len = format[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&format[i..i + ch_len]);
                i += ch_len;
                continue;
            }
            match f[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                }
                b'&' => {
                    out.push_str(&text[start..end]);
                    i += 2;
                }
                b'`' => {
                    out.push_str(&text[..start]);
                    i += 2;
                }
                b'\'' => {
                    out.push_str(&text[end..]);
                    i += 2;
                }
                d if d.is_ascii_digit() => {
                    let one = usize::from(d - b'0');
                    let two = f
                        .get(i + 2)
                        .filter(|c| c.is_ascii_digit())
                        .map(|c| one * 10 + usize::from(c - b'0'));
                    let (n, len) = match two {
                        Some(n) if (1..=groups).contains(&n) => (n, 3),
                        _ if (1..=groups).contains(&one) => (one, 2),
                        _ => (0, 0),
                    };
                    if len == 0 {
                        out.push('$');
                        i += 1;
                    } else {
                        out.push_str(caps.get(n).map_or("", |m| m.as_str()));
                        i += len;
                    }
                }
                _ => {
                    out.push('$');
                    i += 1;
                }
            }
        }
        out
    })
    .into_owned()
}

/// [`Normalizer::load`].
pub fn load(path: &Path, kind: &str, log: &Logger) -> Option<Normalizer> {
    Normalizer::load(path, kind, log)
}
