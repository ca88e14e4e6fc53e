//! Firefox add-ons, from each profile's `extensions.json`.
//!
//! Profiles are the directories of `~/.mozilla/firefox` (and of the snap's
//! `~/snap/firefox/common/.mozilla/firefox`) that hold an `extensions.json`, as the agent
//! finds them (`Crash Reports` and `Pending Pings` are not profiles), plus any profile
//! `profiles.ini` lists elsewhere (`IsRelative=0`). Every entry of the file's `addons`
//! array is a row: extensions, themes, dictionaries and language packs, built-in ones
//! included, with the agent's values: name, description and creator from
//! `defaultLocale`, disabled when `userDisabled`, `appDisabled` or `softDisabled`,
//! auto-update when `applyBackgroundUpdates` is not 0.
//!
//! `browser_profile_path` is the profile directory (the agent puts the add-on's install
//! location there, `app-profile`, `app-builtin`, …, which makes the same add-on in two
//! profiles of a user collide on the table's primary key).

use serde_json::Value;

use super::{is_dir, is_file, join, or_unknown, read_json, str_of, subdirs, Home, JSON_READ_LIMIT};
use crate::sysinfo::LinuxSysInfo;
use crate::Row;

/// Where Firefox keeps its profiles below a home.
pub const PROFILE_ROOTS: [&str; 2] = [".mozilla/firefox", "snap/firefox/common/.mozilla/firefox"];
const ADDONS_FILE: &str = "extensions.json";
/// Directories of the profile root that are never profiles.
const NOT_PROFILES: [&str; 2] = ["Crash Reports", "Pending Pings"];
/// `profiles.ini` is tiny.
const INI_READ_LIMIT: u64 = 1 << 20;

/// The profile directories a `profiles.ini` lists, as written (`Path=`) with whether
/// they are relative to the file's directory (`IsRelative=1`, the default).
pub fn parse_profiles_ini(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut in_profile = false;
    let mut path: Option<String> = None;
    let mut relative = true;
    let mut flush = |path: &mut Option<String>, relative: bool| {
        if let Some(p) = path.take() {
            out.push((p, relative));
        }
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            if in_profile {
                flush(&mut path, relative);
            }
            in_profile = line.starts_with("[Profile");
            relative = true;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "Path" if !v.trim().is_empty() => path = Some(v.trim().to_string()),
                "IsRelative" => relative = v.trim() != "0",
                _ => {}
            }
        }
    }
    if in_profile {
        flush(&mut path, relative);
    }
    out
}

/// A boolean member, false when absent, null or not a boolean.
fn flag(addon: &Value, key: &str) -> bool {
    addon.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The row of one entry of `extensions.json`'s `addons`.
pub fn addon_row(addon: &Value, uid: &str, profile: &str) -> Row {
    let locale = addon.get("defaultLocale").unwrap_or(&Value::Null);
    let disabled = flag(addon, "softDisabled")
        || flag(addon, "softDisable")
        || flag(addon, "appDisabled")
        || flag(addon, "userDisabled");
    let autoupdate = match addon.get("applyBackgroundUpdates") {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::Bool(b)) => *b,
        _ => false,
    };
    let mut row = Row::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    put("browser_name", "firefox".into());
    put("user_id", or_unknown(uid));
    put("package_name", or_unknown(str_of(locale, "name")));
    put("package_id", str_of(addon, "id").into());
    put("package_version_", or_unknown(str_of(addon, "version")));
    put("package_description", str_of(locale, "description").into());
    put("package_vendor", str_of(locale, "creator").into());
    put("package_build_version", " ".into());
    put("package_path", str_of(addon, "path").into());
    put("browser_profile_name", " ".into());
    put("browser_profile_path", or_unknown(profile));
    put("package_reference", str_of(addon, "sourceURI").into());
    put("package_permissions", " ".into());
    put("package_type", str_of(addon, "type").into());
    put("package_enabled", i32::from(!disabled).into());
    put("package_visible", i32::from(flag(addon, "visible")).into());
    put("package_autoupdate", i32::from(autoupdate).into());
    put("package_persistent", 0.into());
    put("package_from_webstore", 0.into());
    put("browser_profile_referenced", 0.into());
    put("package_installed", " ".into());
    put("file_hash_sha256", " ".into());
    row
}

/// The rows of one profile directory (host path); nothing when its `extensions.json`
/// cannot be read or has no `addons` array.
pub fn collect_profile(p: &LinuxSysInfo, home: &Home, profile: &str, rows: &mut Vec<Row>) {
    let file = join(profile, ADDONS_FILE);
    let Some(v) = read_json(p, &file, JSON_READ_LIMIT) else {
        return;
    };
    let Some(addons) = v.get("addons").and_then(Value::as_array) else {
        p.debug(&format!("{file}: no addons array; skipped"));
        return;
    };
    for addon in addons.iter().filter(|a| a.is_object()) {
        rows.push(addon_row(addon, &home.uid, profile));
    }
}

/// The rows of every Firefox profile of one home.
pub fn collect_home(p: &LinuxSysInfo, home: &Home, rows: &mut Vec<Row>) {
    for rel in PROFILE_ROOTS {
        let root = join(&home.path, rel);
        if !is_dir(p, &root) {
            continue;
        }
        let mut profiles: Vec<String> = subdirs(p, &root)
            .into_iter()
            .filter(|d| !NOT_PROFILES.contains(&d.as_str()))
            .map(|d| join(&root, &d))
            .collect();
        if let Some(ini) = p.read_text(&join(&root, "profiles.ini"), INI_READ_LIMIT) {
            for (path, relative) in parse_profiles_ini(&ini) {
                let dir = if relative {
                    join(&root, path.trim_end_matches('/'))
                } else {
                    path.trim_end_matches('/').to_string()
                };
                if dir.starts_with('/') && !profiles.contains(&dir) {
                    profiles.push(dir);
                }
            }
        }
        for profile in profiles {
            if is_file(p, &join(&profile, ADDONS_FILE)) {
                collect_profile(p, home, &profile, rows);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn profiles_ini() {
        // As firefox-esr -CreateProfile writes it, plus a profile kept elsewhere.
        let text = "[Profile1]\nName=work\nIsRelative=0\nPath=/srv/ff/work\n\n\
                    [Profile0]\nName=wazuh\nIsRelative=1\nPath=abcd1234.wazuh\n\n\
                    [General]\nStartWithLastProfile=1\nVersion=2\n\n\
                    [Install4F96D1932A9F858E]\nDefault=abcd1234.wazuh\nLocked=1\n";
        assert_eq!(
            parse_profiles_ini(text),
            [
                ("/srv/ff/work".to_string(), false),
                ("abcd1234.wazuh".to_string(), true)
            ]
        );
        assert!(parse_profiles_ini("garbage\0\n[Profile0\nPath").is_empty());
    }

    #[test]
    fn addon_values() {
        let addon = json!({
            "id": "uBlock0@raymondhill.net", "version": "1.67.0", "type": "extension",
            "defaultLocale": {"name": "uBlock Origin", "description": "d", "creator": null},
            "visible": true, "active": true, "userDisabled": false, "appDisabled": false,
            "softDisabled": false, "applyBackgroundUpdates": 1, "path": "/p", "sourceURI": null,
            "location": "app-system-share"
        });
        let row = addon_row(&addon, "1000", "/home/a/.mozilla/firefox/x.default");
        assert_eq!(row["package_name"], "uBlock Origin");
        assert_eq!(row["package_vendor"], "");
        assert_eq!(row["package_reference"], "");
        assert_eq!(row["package_enabled"], 1);
        assert_eq!(row["package_visible"], 1);
        assert_eq!(row["package_autoupdate"], 1);
        assert_eq!(
            row["browser_profile_path"],
            "/home/a/.mozilla/firefox/x.default"
        );
        let disabled = json!({"id": "t", "userDisabled": true, "applyBackgroundUpdates": 0});
        let row = addon_row(&disabled, "", "/x");
        assert_eq!(row["package_enabled"], 0);
        assert_eq!(row["package_autoupdate"], 0);
        assert_eq!(row["package_name"], " ");
        assert_eq!(row["package_version_"], " ");
        assert_eq!(row["user_id"], " ");
    }
}
