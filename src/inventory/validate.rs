//! The check a beta host's module makes of every stateful document before it queues it.
//!
//! From v5.0.0-beta4 the agent's inventory module validates each stateful document against
//! the indexer's template of its index (`wazuh-states-inventory-*`, from
//! `wazuh-indexer-plugins`, compiled into the agent) and does not queue one the indexer
//! would refuse. This file holds the field types of those thirteen templates and applies the
//! reference validator's rules to a document:
//!
//! * a template is `dynamic: strict`: a document field the template does not map is an
//!   error unless its value is `null`;
//! * a field the document does not have is fine; `null` is fine for every field;
//! * an array is checked element by element against the field's type (`path[i]`);
//! * `keyword` / `text` / `match_only_text` take strings; `integer` / `long` / `short` /
//!   `unsigned_long` take integers (a float is refused); `scaled_float` any number;
//!   `boolean` booleans; `date` a number (epoch) or an ISO 8601 string
//!   (`YYYY-MM-DD[THH:MM:SS[.f{1,9}][Z|±HH:MM]]`); `ip` a string `inet_pton(3)` accepts as
//!   IPv4 or IPv6, after dropping a `%zone` suffix; an object field takes an object (or
//!   `null`).
//!
//! What the module does with a refused document, and the lines it logs, depends on where
//! the document was going ([`Purpose`]): see [`admit`]. Alpha0 hosts never validate; only
//! beta callers reach this file.
//!
//! The field types are those of `plugins/setup/src/main/resources/templates/states/` of
//! wazuh-indexer-plugins at tag v5.0.0-beta3, which is also the head of its `5.0.0` branch
//! the beta4 build falls back to (the build downloads the templates of the matching ref).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use serde_json::Value;

use crate::LogLevel;

/// One index template: its index (the pattern without `*`), whether it is strict, and the
/// type of every leaf field, by dotted path.
struct Schema {
    index: &'static str,
    strict: bool,
    fields: &'static [(&'static str, &'static str)],
}

/// A template as a tree: objects (sorted by key, as the reference iterates them) and typed
/// leaves.
#[derive(Debug)]
enum Node {
    Object(BTreeMap<&'static str, Node>),
    Leaf(&'static str),
}

struct Compiled {
    strict: bool,
    root: BTreeMap<&'static str, Node>,
}

fn compiled() -> &'static BTreeMap<&'static str, Compiled> {
    static TREES: OnceLock<BTreeMap<&'static str, Compiled>> = OnceLock::new();
    TREES.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|s| {
                let mut root = BTreeMap::new();
                for (path, ty) in s.fields {
                    insert(&mut root, path, ty);
                }
                (
                    s.index,
                    Compiled {
                        strict: s.strict,
                        root,
                    },
                )
            })
            .collect()
    })
}

fn insert(tree: &mut BTreeMap<&'static str, Node>, path: &'static str, ty: &'static str) {
    match path.split_once('.') {
        None => {
            tree.insert(path, Node::Leaf(ty));
        }
        Some((head, rest)) => {
            let node = tree
                .entry(head)
                .or_insert_with(|| Node::Object(BTreeMap::new()));
            if let Node::Leaf(_) = node {
                *node = Node::Object(BTreeMap::new());
            }
            if let Node::Object(children) = node {
                insert(children, rest, ty);
            }
        }
    }
}

/// The indices a template is known for.
pub fn indices() -> impl Iterator<Item = &'static str> {
    SCHEMAS.iter().map(|s| s.index)
}

/// The mapped type of a dotted field path of an index's template (`None`: not mapped).
pub fn field_type(index: &str, path: &str) -> Option<&'static str> {
    SCHEMAS
        .iter()
        .find(|s| s.index == index)?
        .fields
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
}

/// Why a document was refused: one message per offending field, in the reference's order.
/// `None` from [`validate`] when the index has no template.
pub fn validate(index: &str, document: &Value) -> Option<Vec<String>> {
    let schema = compiled().get(index)?;
    let mut errors = Vec::new();
    check_object(document, &schema.root, schema.strict, "", &mut errors);
    Some(errors)
}

/// The JSON type name the reference's errors use.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn got(path: &str, expected: &str, v: &Value) -> String {
    format!(
        "{path}: Expected {expected}, got {} with value: {v}",
        type_name(v)
    )
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn check_object(
    obj: &Value,
    properties: &BTreeMap<&'static str, Node>,
    strict: bool,
    path: &str,
    errors: &mut Vec<String>,
) {
    let Value::Object(map) = obj else {
        errors.push(got(path, "object", obj));
        return;
    };
    if strict {
        for (key, value) in map {
            if !properties.contains_key(key.as_str()) && !value.is_null() {
                errors.push(format!(
                    "{}: Field not allowed in strict mode",
                    join(path, key)
                ));
            }
        }
    }
    for (name, node) in properties {
        let Some(value) = map.get(*name) else {
            continue;
        };
        let field = join(path, name);
        match node {
            Node::Object(children) => {
                if value.is_null() {
                    continue;
                }
                if !value.is_object() {
                    errors.push(got(&field, "object", value));
                    continue;
                }
                check_object(value, children, strict, &field, errors);
            }
            Node::Leaf(ty) => check_field(value, ty, &field, errors),
        }
    }
}

fn check_field(value: &Value, ty: &str, path: &str, errors: &mut Vec<String>) {
    if value.is_null() {
        return;
    }
    if let Value::Array(items) = value {
        for (i, item) in items.iter().enumerate() {
            check_field(item, ty, &format!("{path}[{i}]"), errors);
        }
        return;
    }
    let wrong = match ty {
        "keyword" | "text" | "match_only_text" => (!value.is_string()).then_some("string"),
        "integer" | "long" | "short" | "unsigned_long" => {
            (!(value.is_i64() || value.is_u64())).then_some("integer")
        }
        "scaled_float" => (!value.is_number()).then_some("number"),
        "boolean" => (!value.is_boolean()).then_some("boolean"),
        "object" => (!value.is_object()).then_some("object"),
        "date" => match value {
            Value::Number(_) => None,
            Value::String(s) => {
                if !is_iso8601(s) {
                    errors.push(format!(
                        "{path}: Invalid date format. Expected ISO8601, got: {s}"
                    ));
                }
                None
            }
            _ => Some("date (number or ISO8601 string)"),
        },
        "ip" => match value {
            Value::String(s) => {
                if !is_ip(s) {
                    errors.push(format!("{path}: Invalid IP address format: {s}"));
                }
                None
            }
            _ => Some("IP address string"),
        },
        _ => None,
    };
    if let Some(expected) = wrong {
        errors.push(got(path, expected, value));
    }
}

/// `YYYY-MM-DD`, optionally followed by `THH:MM:SS`, optional fraction of 1 to 9 digits and
/// an optional `Z` or `±HH:MM` (ASCII digits only; nothing else before or after).
pub fn is_iso8601(s: &str) -> bool {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    PATTERN
        .get_or_init(|| {
            regex::Regex::new(
                r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?)?\z",
            )
            .ok()
        })
        .as_ref()
        .is_some_and(|re| re.is_match(s))
}

/// What `inet_pton(3)` accepts as an IPv4 or IPv6 address, once a `%zone` suffix is
/// dropped (as the indexer does). The C string ends at a NUL, as the reference's does.
pub fn is_ip(s: &str) -> bool {
    let s = s.split('%').next().unwrap_or("");
    let s = s.split('\0').next().unwrap_or("");
    let Ok(c) = CString::new(s) else {
        return false;
    };
    let mut buf = [0u8; 16];
    // SAFETY: `c` is a NUL-terminated string; `buf` has room for an in6_addr (16 bytes),
    // which is larger than an in_addr.
    unsafe {
        inet_pton(libc::AF_INET, c.as_ptr(), buf.as_mut_ptr().cast()) == 1
            || inet_pton(libc::AF_INET6, c.as_ptr(), buf.as_mut_ptr().cast()) == 1
    }
}

// The C library's address parser (POSIX; the `libc` crate does not declare it).
extern "C" {
    fn inet_pton(af: libc::c_int, src: *const libc::c_char, dst: *mut libc::c_void) -> libc::c_int;
}

/// Where a stateful document was going when it was checked; it decides the module's lines
/// about a refused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A change found by a scan (`true`: an insertion or a modification, whose row the
    /// module deletes from its database after the scan so that it is found again as new).
    Scan { deferred_delete: bool },
    /// A document of a recovery (full resend of a table).
    Recovery,
    /// A DataContext document for the vulnerability detector.
    DataContext,
}

/// Checks the stateful document of `table` (sync index `index`), serialized as `json`,
/// and logs what the beta4 module logs. `true`: queue it. `false`: do not; the lines are:
///
/// * always, at ERROR: `Schema validation failed for Syscollector message (<context>,
///   index: <index>). Errors: ` followed by `  - <error>` for each error, then
///   `Raw event that failed validation: <json>`, where the context is `table: <table>`,
///   `recovery event, table: <table>` or `VD DataContext, table: <table>`;
/// * for a scan change, ERROR `Discarding invalid Syscollector message (table: <table>)`
///   and, for an insertion or modification, DEBUG `Marking entry from table <table> for
///   deferred deletion due to validation failure`;
/// * for a recovery document, DEBUG `Skipping persistence of invalid recovery event`;
/// * for a DataContext document, DEBUG `Skipping persistence of invalid VD DataContext
///   event`.
///
/// An index without a template is refused with WARNING `No schema validator found for
/// index: <index>. Discarding message.` (and the purpose's lines).
pub fn admit(
    table: &str,
    index: &str,
    document: &Value,
    json: &str,
    purpose: Purpose,
    log: &dyn Fn(LogLevel, &str),
) -> bool {
    let context = match purpose {
        Purpose::Scan { .. } => format!("table: {table}"),
        Purpose::Recovery => format!("recovery event, table: {table}"),
        Purpose::DataContext => format!("VD DataContext, table: {table}"),
    };
    let valid = match validate(index, document) {
        None => {
            log(
                LogLevel::Warning,
                &format!("No schema validator found for index: {index}. Discarding message."),
            );
            false
        }
        Some(errors) if errors.is_empty() => true,
        Some(errors) => {
            let mut msg = format!(
                "Schema validation failed for Syscollector message ({context}, index: {index}). Errors: "
            );
            for e in &errors {
                msg.push_str("  - ");
                msg.push_str(e);
            }
            log(LogLevel::Error, &msg);
            log(
                LogLevel::Error,
                &format!("Raw event that failed validation: {json}"),
            );
            false
        }
    };
    if valid {
        return true;
    }
    match purpose {
        Purpose::Scan { deferred_delete } => {
            log(
                LogLevel::Error,
                &format!("Discarding invalid Syscollector message (table: {table})"),
            );
            if deferred_delete {
                log(
                    LogLevel::Debug,
                    &format!(
                        "Marking entry from table {table} for deferred deletion due to validation failure"
                    ),
                );
            }
        }
        Purpose::Recovery => log(
            LogLevel::Debug,
            "Skipping persistence of invalid recovery event",
        ),
        Purpose::DataContext => log(
            LogLevel::Debug,
            "Skipping persistence of invalid VD DataContext event",
        ),
    }
    false
}

/// The line the module logs once per process when the validator is ready (beta4 logs it
/// from `init_sync`, the first time any module instance of the process initializes it).
pub const INITIALIZED: &str = "Schema validator initialized successfully from embedded resources";

/// Logs [`INITIALIZED`] at DEBUG the first time it is called in the process; for a beta
/// host's `init_sync`.
pub fn log_initialized(log: &dyn Fn(LogLevel, &str)) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if !DONE.swap(true, Ordering::SeqCst) {
        log(LogLevel::Debug, INITIALIZED);
    }
}

/// The lines the module logs when it deletes, after a scan, the rows whose documents were
/// refused: one per row (`table`), then the total.
pub fn deletion_lines(tables: &[&str]) -> Vec<(LogLevel, String)> {
    let mut lines: Vec<(LogLevel, String)> = tables
        .iter()
        .map(|t| {
            (
                LogLevel::Debug,
                format!("Deleting entry from table {t} due to validation failure"),
            )
        })
        .collect();
    if !tables.is_empty() {
        lines.push((
            LogLevel::Debug,
            format!(
                "Deleted {} item(s) from DBSync due to validation failure",
                tables.len()
            ),
        ));
    }
    lines
}

// The field types of the thirteen inventory templates (leaf fields only; every prefix of a
// path is an object). Listed from the templates' `mappings.properties`, sorted by path.
static SCHEMAS: &[Schema] = &[
    Schema {
        index: "wazuh-states-inventory-browser-extensions",
        strict: true,
        fields: &[
            ("browser.name", "keyword"),
            ("browser.profile.name", "keyword"),
            ("browser.profile.path", "keyword"),
            ("browser.profile.referenced", "boolean"),
            ("checksum.hash.sha1", "keyword"),
            ("file.hash.sha256", "keyword"),
            ("message", "keyword"),
            ("package.autoupdate", "boolean"),
            ("package.build_version", "keyword"),
            ("package.description", "keyword"),
            ("package.enabled", "boolean"),
            ("package.from_webstore", "boolean"),
            ("package.id", "keyword"),
            ("package.installed", "date"),
            ("package.name", "keyword"),
            ("package.path", "keyword"),
            ("package.permissions", "keyword"),
            ("package.persistent", "boolean"),
            ("package.reference", "keyword"),
            ("package.type", "keyword"),
            ("package.vendor", "keyword"),
            ("package.version", "keyword"),
            ("package.visible", "boolean"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("user.id", "keyword"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-groups",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("group.description", "match_only_text"),
            ("group.id", "unsigned_long"),
            ("group.id_signed", "long"),
            ("group.is_hidden", "boolean"),
            ("group.name", "keyword"),
            ("group.users", "keyword"),
            ("group.uuid", "keyword"),
            ("message", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-hardware",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("host.cpu.cores", "short"),
            ("host.cpu.name", "keyword"),
            ("host.cpu.speed", "long"),
            ("host.memory.free", "long"),
            ("host.memory.total", "long"),
            ("host.memory.usage", "scaled_float"),
            ("host.memory.used", "long"),
            ("host.serial_number", "keyword"),
            ("message", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-hotfixes",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("message", "keyword"),
            ("package.hotfix.name", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-interfaces",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("host.mac", "keyword"),
            ("host.network.egress.bytes", "long"),
            ("host.network.egress.drops", "long"),
            ("host.network.egress.errors", "long"),
            ("host.network.egress.packets", "long"),
            ("host.network.ingress.bytes", "long"),
            ("host.network.ingress.drops", "long"),
            ("host.network.ingress.errors", "long"),
            ("host.network.ingress.packets", "long"),
            ("interface.alias", "keyword"),
            ("interface.mtu", "long"),
            ("interface.name", "keyword"),
            ("interface.state", "keyword"),
            ("interface.type", "keyword"),
            ("message", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-networks",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("interface.name", "keyword"),
            ("message", "keyword"),
            ("network.broadcast", "ip"),
            ("network.dhcp", "boolean"),
            ("network.ip", "ip"),
            ("network.metric", "long"),
            ("network.netmask", "ip"),
            ("network.type", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-packages",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("message", "keyword"),
            ("package.architecture", "keyword"),
            ("package.category", "keyword"),
            ("package.description", "keyword"),
            ("package.installed", "date"),
            ("package.multiarch", "keyword"),
            ("package.name", "keyword"),
            ("package.path", "keyword"),
            ("package.priority", "keyword"),
            ("package.size", "long"),
            ("package.source", "keyword"),
            ("package.type", "keyword"),
            ("package.vendor", "keyword"),
            ("package.version", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-ports",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("destination.ip", "ip"),
            ("destination.port", "long"),
            ("file.inode", "keyword"),
            ("host.network.egress.queue", "long"),
            ("host.network.ingress.queue", "long"),
            ("interface.state", "keyword"),
            ("message", "keyword"),
            ("network.transport", "keyword"),
            ("process.name", "keyword"),
            ("process.pid", "long"),
            ("source.ip", "ip"),
            ("source.port", "long"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-processes",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("message", "keyword"),
            ("process.args", "keyword"),
            ("process.args_count", "long"),
            ("process.command_line", "keyword"),
            ("process.name", "keyword"),
            ("process.parent.pid", "long"),
            ("process.pid", "long"),
            ("process.start", "date"),
            ("process.state", "keyword"),
            ("process.stime", "long"),
            ("process.utime", "long"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-protocols",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("interface.name", "keyword"),
            ("message", "keyword"),
            ("network.dhcp", "boolean"),
            ("network.gateway", "ip"),
            ("network.metric", "long"),
            ("network.type", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-services",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("error.log.file.path", "keyword"),
            ("file.path", "keyword"),
            ("log.file.path", "keyword"),
            ("message", "keyword"),
            ("process.args", "keyword"),
            ("process.executable", "keyword"),
            ("process.group.name", "keyword"),
            ("process.pid", "long"),
            ("process.root_directory", "keyword"),
            ("process.user.name", "keyword"),
            ("process.working_directory", "keyword"),
            ("service.address", "keyword"),
            ("service.description", "keyword"),
            ("service.enabled", "keyword"),
            ("service.exit_code", "integer"),
            ("service.following", "keyword"),
            ("service.frequency", "long"),
            ("service.id", "keyword"),
            ("service.inetd_compatibility", "boolean"),
            ("service.name", "keyword"),
            ("service.object_path", "keyword"),
            ("service.restart", "keyword"),
            ("service.start_type", "keyword"),
            ("service.starts.on_mount", "boolean"),
            ("service.starts.on_not_empty_directory", "keyword"),
            ("service.starts.on_path_modified", "keyword"),
            ("service.state", "keyword"),
            ("service.sub_state", "keyword"),
            ("service.target.address", "keyword"),
            ("service.target.ephemeral_id", "keyword"),
            ("service.target.type", "keyword"),
            ("service.type", "keyword"),
            ("service.win32_exit_code", "integer"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-system",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("host.architecture", "keyword"),
            ("host.hostname", "keyword"),
            ("host.os.build", "keyword"),
            ("host.os.codename", "keyword"),
            ("host.os.distribution.release", "keyword"),
            ("host.os.full", "keyword"),
            ("host.os.kernel.name", "keyword"),
            ("host.os.kernel.release", "keyword"),
            ("host.os.kernel.version", "keyword"),
            ("host.os.major", "keyword"),
            ("host.os.minor", "keyword"),
            ("host.os.name", "keyword"),
            ("host.os.patch", "keyword"),
            ("host.os.platform", "keyword"),
            ("host.os.type", "keyword"),
            ("host.os.version", "keyword"),
            ("message", "keyword"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
    Schema {
        index: "wazuh-states-inventory-users",
        strict: true,
        fields: &[
            ("checksum.hash.sha1", "keyword"),
            ("host.ip", "ip"),
            ("login.status", "boolean"),
            ("login.tty", "keyword"),
            ("login.type", "keyword"),
            ("message", "keyword"),
            ("process.pid", "long"),
            ("state.document_version", "integer"),
            ("state.modified_at", "date"),
            ("user.auth_failures.count", "integer"),
            ("user.auth_failures.timestamp", "date"),
            ("user.created", "date"),
            ("user.full_name", "keyword"),
            ("user.group.id", "unsigned_long"),
            ("user.group.id_signed", "long"),
            ("user.groups", "keyword"),
            ("user.home", "keyword"),
            ("user.id", "keyword"),
            ("user.is_hidden", "boolean"),
            ("user.is_remote", "boolean"),
            ("user.last_login", "date"),
            ("user.name", "keyword"),
            ("user.password.expiration_date", "date"),
            ("user.password.hash_algorithm", "keyword"),
            ("user.password.inactive_days", "integer"),
            ("user.password.last_change", "integer"),
            ("user.password.last_set_time", "date"),
            ("user.password.max_days_between_changes", "integer"),
            ("user.password.min_days_between_changes", "integer"),
            ("user.password.status", "keyword"),
            ("user.password.warning_days_before_expiration", "integer"),
            ("user.roles", "keyword"),
            ("user.shell", "keyword"),
            ("user.type", "keyword"),
            ("user.uid_signed", "long"),
            ("user.uuid", "keyword"),
            ("wazuh.agent.groups", "keyword"),
            ("wazuh.agent.host.architecture", "keyword"),
            ("wazuh.agent.host.hostname", "keyword"),
            ("wazuh.agent.host.ip", "ip"),
            ("wazuh.agent.host.os.name", "keyword"),
            ("wazuh.agent.host.os.platform", "keyword"),
            ("wazuh.agent.host.os.type", "keyword"),
            ("wazuh.agent.host.os.version", "keyword"),
            ("wazuh.agent.id", "keyword"),
            ("wazuh.agent.name", "keyword"),
            ("wazuh.agent.version", "keyword"),
            ("wazuh.cluster.name", "keyword"),
            ("wazuh.cluster.node", "keyword"),
            ("wazuh.schema.version", "keyword"),
        ],
    },
];
