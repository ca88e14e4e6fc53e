//! The package normalizer on the agent's own `norm_config.json` rules (the macOS ones,
//! the only ones it ships) and on edge cases of the file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use syscollector::inventory::normalizer::Normalizer;
use syscollector::{LogLevel, Logger, Row};

/// The rules of the agent's norm_config.json (v5.0.0-alpha0), restated.
const AGENT_RULES: &str = r#"{
  "exclusions": [
    {"target": "macos", "data_type": "packages", "field_name": "name", "pattern": "(Siri)"},
    {"target": "macos", "data_type": "packages", "field_name": "name", "pattern": "(iCloud)"}
  ],
  "dictionary": [
    {"target": "macos", "data_type": "packages", "find_field": "name", "find_pattern": ".*Microsoft.*",
     "add_field": "vendor", "add_value": "Microsoft"},
    {"target": "macos", "data_type": "packages", "replace_field": "name", "replace_pattern": "(zoom.us)",
     "replace_value": "zoom"},
    {"target": "macos", "data_type": "packages", "find_field": "name", "find_pattern": "Kaspersky.*",
     "replace_pattern": "( For Mac)", "replace_field": "name", "replace_value": ""},
    {"target": "macos", "data_type": "packages", "find_field": "name", "find_pattern": ".*McAfee.*",
     "add_field": "vendor", "add_value": "McAfee",
     "replace_field": "name", "replace_pattern": "( For Mac)", "replace_value": ""},
    {"target": "macos", "data_type": "packages", "replace_field": "name", "replace_pattern": "(McAfee )",
     "replace_value": ""},
    {"target": "macos", "data_type": "packages", "find_field": "name", "find_pattern": ".*TotalDefense.*",
     "replace_field": "name", "replace_pattern": "(Antivirus)", "replace_value": "Anti-Virus"}
  ]
}"#;

fn row(v: Value) -> Row {
    v.as_object().unwrap().clone()
}

type Lines = Arc<Mutex<Vec<(LogLevel, String)>>>;

fn capture_logger() -> (Logger, Lines) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let logger: Logger =
        Arc::new(move |l, msg: &str| sink.lock().unwrap().push((l, msg.to_string())));
    (logger, lines)
}

fn load(text: &str, kind: &str) -> Option<Normalizer> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("norm_config.json");
    std::fs::write(&path, text).unwrap();
    let (log, _) = capture_logger();
    Normalizer::load(&path, kind, &log)
}

#[test]
fn macos_rules() {
    let n = load(AGENT_RULES, "macos").unwrap();
    assert!(!n.is_empty());

    let mut r = row(json!({"name": "Microsoft Word", "vendor": " "}));
    n.normalize(&mut r);
    assert_eq!(r["vendor"], "Microsoft");

    let mut r = row(json!({"name": "McAfee Endpoint For Mac", "vendor": " "}));
    n.normalize(&mut r);
    // Item 4 adds the vendor and drops " For Mac"; item 5 drops "McAfee ".
    assert_eq!(r["name"], "Endpoint");
    assert_eq!(r["vendor"], "McAfee");

    let mut r = row(json!({"name": "Kaspersky Security For Mac"}));
    n.normalize(&mut r);
    assert_eq!(r["name"], "Kaspersky Security");

    let mut r = row(json!({"name": "zoom.us"}));
    n.normalize(&mut r);
    assert_eq!(r["name"], "zoom");

    let mut r = row(json!({"name": "TotalDefense Antivirus Antivirus"}));
    n.normalize(&mut r);
    assert_eq!(r["name"], "TotalDefense Anti-Virus Anti-Virus");

    // Exclusions match the whole value.
    assert!(n.is_excluded(&row(json!({"name": "Siri"}))));
    assert!(!n.is_excluded(&row(json!({"name": "Siri Helper"}))));
    assert!(n.is_excluded(&row(json!({"name": "iCloud"}))));
    assert!(!n.is_excluded(&row(json!({"vendor": "Siri"}))));
    assert!(!n.is_excluded(&row(json!({"name": 3}))));
}

#[test]
fn other_targets_have_no_rules() {
    let n = load(AGENT_RULES, "linux").unwrap();
    assert!(n.is_empty());
    let mut r = row(json!({"name": "Microsoft Word", "vendor": " "}));
    let before = r.clone();
    n.normalize(&mut r);
    assert_eq!(r, before);
    assert!(!n.is_excluded(&row(json!({"name": "Siri"}))));
}

#[test]
fn ecmascript_replacement_formats() {
    let n = load(
        r#"{"dictionary": [
            {"target": "linux", "data_type": "packages", "replace_field": "name",
             "replace_pattern": "(\\w+)-(\\w+)", "replace_value": "$2_$1[$&]$$"},
            {"target": "linux", "data_type": "packages", "replace_field": "vendor",
             "replace_pattern": "b", "replace_value": "<$`|$'|$9>"}
        ]}"#,
        "linux",
    )
    .unwrap();
    let mut r = row(json!({"name": "foo-bar", "vendor": "abc"}));
    n.normalize(&mut r);
    assert_eq!(r["name"], "bar_foo[foo-bar]$");
    assert_eq!(r["vendor"], "a<a|c|$9>c");
}

#[test]
fn incomplete_and_invalid_items_are_skipped() {
    let text = r#"{"exclusions": [
            {"target": "linux", "data_type": "packages", "field_name": "name", "pattern": "(?<=x)y"},
            {"target": "linux", "data_type": "packages", "field_name": "name"},
            {"target": "linux", "data_type": "packages", "field_name": "name", "pattern": "gone"},
            {"target": "linux", "data_type": "hotfixes", "field_name": "name", "pattern": ".*"}
        ],
        "dictionary": [
            {"target": "linux", "data_type": "packages", "find_field": "name",
             "add_field": "vendor", "add_value": "half a condition"},
            {"target": "linux", "data_type": "packages", "add_field": "vendor", "add_value": 7},
            {"target": "linux", "data_type": "packages", "find_field": "size", "find_pattern": "1",
             "add_field": "vendor", "add_value": "numbers never match"},
            {"target": "linux", "data_type": "packages", "add_field": "category", "add_value": "all"}
        ]}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.json");
    std::fs::write(&path, text).unwrap();
    let (log, lines) = capture_logger();
    let n = Normalizer::load(&path, "linux", &log).unwrap();
    assert_eq!(
        lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(l, _)| *l == LogLevel::Warning)
            .count(),
        3
    );
    assert!(n.is_excluded(&row(json!({"name": "gone"}))));
    assert!(!n.is_excluded(&row(json!({"name": "anything"}))));
    let mut r = row(json!({"name": "x", "size": 1, "vendor": " "}));
    n.normalize(&mut r);
    assert_eq!(r["vendor"], " ");
    assert_eq!(r["category"], "all");
}

#[test]
fn missing_or_invalid_files_give_none() {
    let (log, lines) = capture_logger();
    assert!(Normalizer::load(Path::new("/nonexistent/norm_config.json"), "linux", &log).is_none());
    assert!(load("{not json", "linux").is_none());
    assert!(load("[1, 2]", "linux").is_none());
    assert_eq!(lines.lock().unwrap().len(), 1);
    // Lists that are not arrays are empty.
    assert!(load(r#"{"exclusions": 3, "dictionary": "x"}"#, "linux")
        .unwrap()
        .is_empty());
}
