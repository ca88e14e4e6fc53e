//! Extensions of Chromium-family browsers (Chrome, Chromium, Edge, Brave, Opera, …).
//!
//! A browser's user-data directory (`~/.config/chromium`, …) is either itself a profile
//! or holds profiles (`Default`, `Profile 1`, …); a profile is a directory with a
//! `Preferences` or `Secure Preferences` JSON file. As the agent does, a profile's
//! extensions are
//! - the entries of `extensions.settings` of both preference files (`Preferences` first,
//!   each extension directory once) whose directory has a `manifest.json`: relative
//!   paths are below the profile's `Extensions` directory (`<id>/<version>_0`), absolute
//!   ones are unpacked extensions; these are "referenced" and carry the install time,
//!   `from_webstore` and the enabled state from the preferences;
//! - when both preference files exist, every other `Extensions/<id>/<version>/` with a
//!   manifest (not referenced: disabled, no install time).
//!
//! From the manifest come the name and description (resolved from
//! `_locales/<default_locale>/messages.json` when written `__MSG_key__`), version,
//! author, update URL, permissions (joined with `", "`), `background.persistent`, and the
//! extension id: the first 128 bits of the SHA-256 of the decoded `key`, written with
//! the letters `a`–`p`, as Chrome derives it.

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    is_dir, is_file, join, or_unknown, read_json, safe_relative, sha256_file, str_of, subdirs,
    Home, JSON_READ_LIMIT, MANIFEST_READ_LIMIT,
};
use crate::sysinfo::LinuxSysInfo;
use crate::Row;

/// Each browser's name in rows and its user-data directory below a home, in the order the
/// agent searches them (Edge's Linux directories added).
pub const BROWSERS: [(&str, &str); 11] = [
    ("chrome", ".config/google-chrome"),
    ("chrome_beta", ".config/google-chrome-beta"),
    ("chrome_dev", ".config/google-chrome-unstable"),
    ("brave", ".config/BraveSoftware/Brave-Browser"),
    ("chromium", ".config/chromium"),
    ("chromium", "snap/chromium/common/chromium"),
    ("yandex", ".config/yandex-browser"),
    ("opera", ".config/opera"),
    ("vivaldi", ".config/vivaldi"),
    ("edge", ".config/microsoft-edge"),
    ("edge_beta", ".config/microsoft-edge-beta"),
];

const PREFERENCES: &str = "Preferences";
const SECURE_PREFERENCES: &str = "Secure Preferences";
/// Microseconds between 1601-01-01 (Chrome's epoch) and 1970-01-01.
const WEBKIT_EPOCH_OFFSET_US: i64 = 11_644_473_600_000_000;
/// The last microsecond the agent accepts (9999-12-31T23:59:59 in Chrome time).
const WEBKIT_MAX_US: i64 = 253_402_300_799_000_000;

/// What the row takes from an extension's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    pub version: String,
    pub author: String,
    pub update_url: String,
    pub default_locale: String,
    /// `background.persistent`.
    pub persistent: bool,
    /// The string permissions, joined with `", "`.
    pub permissions: String,
    /// The base64 public key Chrome adds on install.
    pub key: String,
}

/// Parses a manifest (`None` when it is not a JSON object). Members of the wrong type
/// are taken as absent.
pub fn parse_manifest(text: &str) -> Option<Manifest> {
    let v: Value = serde_json::from_str(text).ok()?;
    if !v.is_object() {
        return None;
    }
    let permissions = v
        .get("permissions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Some(Manifest {
        name: str_of(&v, "name").to_string(),
        description: str_of(&v, "description").to_string(),
        version: str_of(&v, "version").to_string(),
        author: str_of(&v, "author").to_string(),
        update_url: str_of(&v, "update_url").to_string(),
        default_locale: str_of(&v, "default_locale").to_string(),
        persistent: v
            .get("background")
            .and_then(|b| b.get("persistent"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        permissions,
        key: str_of(&v, "key").to_string(),
    })
}

/// The message of `text` (`__MSG_name__`) in a `messages.json` catalog; message names
/// are case-insensitive, as in Chrome. `None` when `text` is no message reference or the
/// catalog lacks it.
pub fn localized(text: &str, messages: &Value) -> Option<String> {
    let key = text.strip_prefix("__MSG_")?.strip_suffix("__")?;
    let catalog = messages.as_object()?;
    let entry = catalog.get(key).or_else(|| {
        catalog
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })?;
    entry.get("message")?.as_str().map(str::to_string)
}

/// The extension id Chrome derives from a manifest `key`: SHA-256 of the decoded key,
/// first 16 bytes, each nibble written as a letter `a`–`p`. `None` when the key does not
/// decode.
pub fn extension_id(key: &str) -> Option<String> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let der = engine.decode(key.trim()).ok()?;
    if der.is_empty() {
        return None;
    }
    let digest = Sha256::digest(&der);
    let mut id = String::with_capacity(32);
    for byte in digest.iter().take(16) {
        id.push(char::from(b'a' + (byte >> 4)));
        id.push(char::from(b'a' + (byte & 0x0f)));
    }
    Some(id)
}

/// A Chrome time (microseconds since 1601, as a decimal string) as seconds since the
/// epoch, as a decimal string; "" when it is not a plausible time.
pub fn webkit_to_unix(webkit: &str) -> String {
    if webkit.is_empty() || !webkit.bytes().all(|b| b.is_ascii_digit()) {
        return String::new();
    }
    match webkit.parse::<i64>() {
        Ok(us) if (WEBKIT_EPOCH_OFFSET_US..=WEBKIT_MAX_US).contains(&us) => {
            ((us - WEBKIT_EPOCH_OFFSET_US) / 1_000_000).to_string()
        }
        _ => String::new(),
    }
}

/// One extension of a profile, as the row is made of.
#[derive(Debug, Clone, Default)]
struct Extension {
    path: String,
    referenced: bool,
    /// From the preferences (referenced extensions only).
    enabled: bool,
    from_webstore: bool,
    install_timestamp: String,
    /// The id the preferences (or the `Extensions/<id>` directory) file it under.
    listed_id: String,
}

/// Whether a preferences entry leaves the extension enabled: the old `state` (1 =
/// enabled) when present, else no `disable_reasons`.
fn enabled_in(settings: &Value) -> bool {
    if let Some(state) = settings.get("state") {
        return state.as_i64() == Some(1);
    }
    match settings.get("disable_reasons") {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(_) => true,
    }
}

/// Whether `dir` (host path) is a profile directory.
fn is_profile(p: &LinuxSysInfo, dir: &str) -> bool {
    is_file(p, &join(dir, PREFERENCES)) || is_file(p, &join(dir, SECURE_PREFERENCES))
}

/// The profile's display name: `profile.name` of `Preferences`, else of `Secure
/// Preferences`; "" unless both files are there and parse.
fn profile_name(prefs: Option<&Value>, secure: Option<&Value>) -> String {
    let (Some(prefs), Some(secure)) = (prefs, secure) else {
        return String::new();
    };
    [prefs, secure]
        .iter()
        .find_map(|v| v.get("profile")?.get("name")?.as_str())
        .unwrap_or("")
        .to_string()
}

/// The referenced extensions of one preferences file.
fn referenced(p: &LinuxSysInfo, profile: &str, prefs: &Value, out: &mut Vec<Extension>) {
    let Some(settings) = prefs
        .get("extensions")
        .and_then(|e| e.get("settings"))
        .and_then(Value::as_object)
    else {
        return;
    };
    for (id, entry) in settings {
        let Some(path) = entry.get("path").and_then(Value::as_str) else {
            continue;
        };
        let path = if path.starts_with('/') {
            path.to_string()
        } else if safe_relative(path) {
            join(&join(profile, "Extensions"), path)
        } else {
            p.debug(&format!(
                "{profile}: extension {id} has an unusable path {path:?}; skipped"
            ));
            continue;
        };
        if out.iter().any(|e| e.path == path) {
            continue;
        }
        if !is_dir(p, &path) || !is_file(p, &join(&path, "manifest.json")) {
            continue;
        }
        out.push(Extension {
            path,
            referenced: true,
            enabled: enabled_in(entry),
            from_webstore: entry
                .get("from_webstore")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            install_timestamp: webkit_to_unix(str_of(entry, "first_install_time")),
            listed_id: id.clone(),
        });
    }
}

/// The row of one extension; `None` when its manifest cannot be read.
fn extension_row(
    p: &LinuxSysInfo,
    browser: &str,
    home: &Home,
    profile: &str,
    profile_name: &str,
    ext: &Extension,
) -> Option<Row> {
    let manifest_path = join(&ext.path, "manifest.json");
    let text = p.read_text(&manifest_path, MANIFEST_READ_LIMIT)?;
    let Some(mut m) = parse_manifest(&text) else {
        p.debug(&format!("{manifest_path}: not a manifest; skipped"));
        return None;
    };
    if m.name.starts_with("__MSG_") || m.description.starts_with("__MSG_") {
        let catalog = format!("{}/_locales/{}/messages.json", ext.path, m.default_locale);
        if !m.default_locale.is_empty() && is_file(p, &catalog) {
            if let Some(messages) = read_json(p, &catalog, MANIFEST_READ_LIMIT) {
                if let Some(name) = localized(&m.name, &messages) {
                    m.name = name;
                }
                if let Some(description) = localized(&m.description, &messages) {
                    m.description = description;
                }
            }
        }
    }
    let id = extension_id(&m.key).unwrap_or_else(|| ext.listed_id.clone());
    let mut row = Row::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    put("browser_name", or_unknown(browser));
    put("user_id", or_unknown(&home.uid));
    put("package_name", or_unknown(&m.name));
    put("package_id", or_unknown(&id));
    put("package_version_", or_unknown(&m.version));
    put("package_description", m.description.into());
    put("package_vendor", m.author.into());
    put("package_build_version", " ".into());
    put("package_path", ext.path.clone().into());
    put("browser_profile_name", or_unknown(profile_name));
    put("browser_profile_path", or_unknown(profile));
    put("package_reference", m.update_url.into());
    put("package_permissions", m.permissions.into());
    put("package_type", " ".into());
    put(
        "package_enabled",
        i32::from(ext.referenced && ext.enabled).into(),
    );
    put("package_visible", 0.into());
    put("package_autoupdate", 0.into());
    put("package_persistent", i32::from(m.persistent).into());
    put("package_from_webstore", i32::from(ext.from_webstore).into());
    put(
        "browser_profile_referenced",
        i32::from(ext.referenced).into(),
    );
    put("package_installed", ext.install_timestamp.clone().into());
    put("file_hash_sha256", sha256_file(p, &manifest_path).into());
    Some(row)
}

/// The rows of the extensions of one profile directory (host path).
pub fn collect_profile(
    p: &LinuxSysInfo,
    browser: &str,
    home: &Home,
    profile: &str,
    rows: &mut Vec<Row>,
) {
    let prefs_file = join(profile, PREFERENCES);
    let secure_file = join(profile, SECURE_PREFERENCES);
    let prefs = is_file(p, &prefs_file)
        .then(|| read_json(p, &prefs_file, JSON_READ_LIMIT))
        .flatten();
    let secure = is_file(p, &secure_file)
        .then(|| read_json(p, &secure_file, JSON_READ_LIMIT))
        .flatten();
    let name = profile_name(prefs.as_ref(), secure.as_ref());

    let mut extensions = Vec::new();
    for v in [&prefs, &secure].into_iter().flatten() {
        referenced(p, profile, v, &mut extensions);
    }

    // Extension directories the preferences do not list, when both files exist.
    let extensions_dir = join(profile, "Extensions");
    if is_file(p, &prefs_file) && is_file(p, &secure_file) {
        for id in subdirs(p, &extensions_dir) {
            let id_dir = join(&extensions_dir, &id);
            for version in subdirs(p, &id_dir) {
                let path = join(&id_dir, &version);
                if extensions.iter().any(|e| e.path == path)
                    || !is_file(p, &join(&path, "manifest.json"))
                {
                    continue;
                }
                extensions.push(Extension {
                    path,
                    listed_id: id.clone(),
                    ..Extension::default()
                });
            }
        }
    }

    for ext in &extensions {
        if let Some(row) = extension_row(p, browser, home, profile, &name, ext) {
            rows.push(row);
        }
    }
}

/// The rows of every Chromium-family profile of one home.
pub fn collect_home(p: &LinuxSysInfo, home: &Home, rows: &mut Vec<Row>) {
    for (browser, rel) in BROWSERS {
        let data_dir = join(&home.path, rel);
        if !is_dir(p, &data_dir) {
            continue;
        }
        if is_profile(p, &data_dir) {
            collect_profile(p, browser, home, &data_dir, rows);
            continue;
        }
        for sub in subdirs(p, &data_dir) {
            let profile = join(&data_dir, &sub);
            if is_profile(p, &profile) {
                collect_profile(p, browser, home, &profile, rows);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webkit_times() {
        assert_eq!(webkit_to_unix("13440140597783522"), "1795666997");
        assert_eq!(webkit_to_unix("11644473600000000"), "0");
        assert_eq!(webkit_to_unix("11644473599999999"), "");
        assert_eq!(webkit_to_unix("253402300799000001"), "");
        assert_eq!(webkit_to_unix("-5"), "");
        assert_eq!(webkit_to_unix("12x"), "");
        assert_eq!(webkit_to_unix("99999999999999999999999"), "");
        assert_eq!(webkit_to_unix(""), "");
    }

    #[test]
    fn ids_from_keys() {
        // The key Chromium wrote into the manifest of the extension it installed as
        // cnmnphnkcjkhbpfbhnppamdlcdgdlbfk (tests/fixtures/browsers-*).
        let key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnNZE91Ukk9685xeN7GV70LWT4u04wG+HzzSWO5HO+j9X1+PC0qGZMJbmA0hJUngtEnMqiqu+q5swEVVHaNBpAk/WB/pbGmhXJywmmCkliJxdqcdq/fjputB8wXB4Sidudj8kSm8OoK3FQDp3wdSaTHASgFl+H62aAysnsRx3ZAgKFk7DHVGnVkT3HB5IsibU1FiduZpK7/0/zw0AaRQQ8j2hTFN9dsN8rHJk/DZsK65Ad35mwzw6iL2XMLf81/zNjSNnwr13bK52zw/DEBkyVyQDUo1tR5OuzfkmahVM3s5aK8LbT3TW71t85fosaSy5Tsg+SxbmpJBZtCG5lH7eoQIDAQAB";
        assert_eq!(
            extension_id(key).as_deref(),
            Some("cnmnphnkcjkhbpfbhnppamdlcdgdlbfk")
        );
        assert_eq!(extension_id(""), None);
        assert_eq!(extension_id("not base64!"), None);
    }

    #[test]
    fn manifests() {
        let m = parse_manifest(
            r#"{"name": "__MSG_extName__", "version": "2.4.1", "author": {"email": "a@b"},
                "permissions": ["storage", {"socket": ["tcp"]}, "tabs"],
                "background": {"persistent": true, "scripts": ["bg.js"]},
                "default_locale": "en", "description": 7}"#,
        )
        .unwrap();
        assert_eq!(m.name, "__MSG_extName__");
        assert_eq!(m.version, "2.4.1");
        assert_eq!(m.author, "");
        assert_eq!(m.permissions, "storage, tabs");
        assert!(m.persistent);
        assert_eq!(m.description, "");
        assert!(parse_manifest("[1, 2]").is_none());
        assert!(parse_manifest("{\"name\": ").is_none());
    }

    #[test]
    fn messages() {
        let catalog = json!({"extName": {"message": "Tab Note"}, "APP_DESC": {"message": "d"}});
        assert_eq!(
            localized("__MSG_extName__", &catalog).as_deref(),
            Some("Tab Note")
        );
        assert_eq!(
            localized("__MSG_extname__", &catalog).as_deref(),
            Some("Tab Note")
        );
        assert_eq!(
            localized("__MSG_app_desc__", &catalog).as_deref(),
            Some("d")
        );
        assert_eq!(localized("__MSG_missing__", &catalog), None);
        assert_eq!(localized("Plain", &catalog), None);
    }

    #[test]
    fn enabled_states() {
        assert!(enabled_in(&json!({"state": 1})));
        assert!(!enabled_in(&json!({"state": 0})));
        assert!(enabled_in(&json!({"disable_reasons": []})));
        assert!(!enabled_in(&json!({"disable_reasons": [1]})));
        assert!(!enabled_in(&json!({"disable_reasons": 8192})));
        assert!(enabled_in(&json!({})));
    }
}
