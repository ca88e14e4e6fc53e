//! The `dbsync_browser_extensions` collector on tests/fixtures/browsers-debian12, a tree
//! of homes whose browser files are real: Debian 12's Chromium 156 made the profile
//! (`Preferences`, `Secure Preferences`) and installed the packed extension into
//! `Extensions/<id>/<version>_0` (adding its `key`), with an unpacked extension and its
//! component PDF viewer beside it; uBlock Origin's manifest comes from Debian's
//! `webext-ublock-origin-chromium`; the Firefox `extensions.json` and `profiles.ini` were
//! written by Debian's firefox-esr 153. The files were trimmed to the members the
//! collector reads, and copied to other profiles (an older Chrome's `state`, Brave's
//! `Secure Preferences`, a home without an account). Also on broken profiles.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::helpers::fixture;
use serde_json::{json, Value};
use syscollector::sysinfo::browser_extensions::installed_as_number;
use syscollector::sysinfo::{LinuxSysInfo, SysInfo};
use syscollector::{null_logger, Row};

/// Rows by (browser, user, profile path, package name).
fn extensions(root: &Path) -> BTreeMap<(String, String, String, String), Row> {
    let rows = LinuxSysInfo::with_root(root, null_logger())
        .browser_extensions()
        .unwrap();
    let n = rows.len();
    let s = |r: &Row, k: &str| r[k].as_str().unwrap().to_string();
    let map: BTreeMap<_, _> = rows
        .into_iter()
        .map(|r| {
            (
                (
                    s(&r, "browser_name"),
                    s(&r, "user_id"),
                    s(&r, "browser_profile_path"),
                    s(&r, "package_name"),
                ),
                r,
            )
        })
        .collect();
    assert_eq!(map.len(), n, "a row reported twice");
    map
}

/// `sha256sum` of a file below the fixture root.
fn sha256sum(root: &Path, file: &str) -> String {
    let out = Command::new("sha256sum")
        .arg(root.join(file.trim_start_matches('/')))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn key(browser: &str, uid: &str, profile: &str, name: &str) -> (String, String, String, String) {
    (browser.into(), uid.into(), profile.into(), name.into())
}

const TAB_NOTE: &str = "cnmnphnkcjkhbpfbhnppamdlcdgdlbfk";
const ALICE_CHROMIUM: &str = "/home/alice/.config/chromium";

/// A Tab Note row (the packed extension Chromium installed) in `profile`.
fn tab_note(browser: &str, uid: &str, profile: &str, profile_name: &str) -> Value {
    json!({
        "browser_name": browser, "user_id": uid, "package_name": "Tab Note",
        "package_id": TAB_NOTE, "package_version_": "2.4.1",
        "package_description": "Keeps a short note per tab.",
        "package_vendor": "Wazuh fixture author", "package_build_version": " ",
        "package_path": format!("{profile}/Extensions/{TAB_NOTE}/2.4.1_0"),
        "browser_profile_name": profile_name, "browser_profile_path": profile,
        "package_reference": "", "package_permissions": "storage, tabs, alarms",
        "package_type": " ", "package_enabled": 1, "package_visible": 0,
        "package_autoupdate": 0, "package_persistent": 0, "package_from_webstore": 0,
        "browser_profile_referenced": 1, "package_installed": "1795666997",
    })
}

fn merge(mut base: Value, changes: Value) -> Row {
    for (k, v) in changes.as_object().unwrap() {
        base[k] = v.clone();
    }
    base.as_object().unwrap().clone()
}

#[test]
fn chromium_family_profiles() {
    let root = fixture("browsers-debian12");
    let rows = extensions(&root);
    let hash = |row: &Row| {
        let manifest = format!("{}/manifest.json", row["package_path"].as_str().unwrap());
        sha256sum(&root, &manifest)
    };
    let check = |k: (String, String, String, String), want: Row| {
        let got = rows.get(&k).unwrap_or_else(|| panic!("{k:?} missing"));
        let mut want = want;
        want.insert("file_hash_sha256".into(), hash(got).into());
        assert_eq!(got, &want, "{k:?}");
    };

    let default = format!("{ALICE_CHROMIUM}/Default");
    check(
        key("chromium", "1000", &default, "Tab Note"),
        merge(
            tab_note("chromium", "1000", &default, "Your Chromium"),
            json!({}),
        ),
    );
    // Unpacked: no key in its manifest, its id is the one the preferences file it under.
    check(
        key("chromium", "1000", &default, "Plain Helper"),
        merge(
            tab_note("chromium", "1000", &default, "Your Chromium"),
            json!({
                "package_name": "Plain Helper", "package_id": "hakmaijbianjmmmmbfdfghdnnndikpbl",
                "package_version_": "0.9", "package_description": "A helper without localisation.",
                "package_vendor": "", "package_path": "/home/alice/dev/plain",
                "package_permissions": "contextMenus",
            }),
        ),
    );
    // Left in Extensions/ without an entry in the preferences.
    check(
        key("chromium", "1000", &default, "uBlock Origin"),
        merge(
            tab_note("chromium", "1000", &default, "Your Chromium"),
            json!({
                "package_name": "uBlock Origin", "package_id": "cjpalhdlnbpafiamejdnhcphjbkeiagm",
                "package_version_": "1.67.0",
                "package_description": "Finally, an efficient blocker. Easy on CPU and memory.",
                "package_vendor": "Raymond Hill & contributors",
                "package_path": format!("{default}/Extensions/cjpalhdlnbpafiamejdnhcphjbkeiagm/1.67.0_0"),
                "package_permissions": "alarms, contextMenus, privacy, storage, tabs, unlimitedStorage, webNavigation, webRequest, webRequestBlocking, <all_urls>",
                "package_enabled": 0, "browser_profile_referenced": 0, "package_installed": "",
            }),
        ),
    );
    // An older Chrome's preferences: "state": 0, installed from the web store.
    let work = format!("{ALICE_CHROMIUM}/Profile 1");
    check(
        key("chromium", "1000", &work, "Tab Note"),
        merge(
            tab_note("chromium", "1000", &work, "Work"),
            json!({"package_enabled": 0, "package_from_webstore": 1, "package_installed": "1715526400"}),
        ),
    );
    // Brave keeps the settings in Secure Preferences; disabled by the user.
    let brave = "/home/bob/.config/BraveSoftware/Brave-Browser/Default";
    check(
        key("brave", "1001", brave, "Tab Note"),
        merge(
            tab_note("brave", "1001", brave, " "),
            json!({"package_enabled": 0}),
        ),
    );
    // A home of /home no account owns.
    let carol = "/home/carol/.config/chromium/Default";
    check(
        key("chromium", " ", carol, "Tab Note"),
        merge(tab_note("chromium", " ", carol, "Carol"), json!({})),
    );
    let chromium_rows = rows.keys().filter(|k| k.0 != "firefox").count();
    assert_eq!(chromium_rows, 6);
}

#[test]
fn firefox_profiles() {
    let rows = extensions(&fixture("browsers-debian12"));
    let firefox: Vec<_> = rows.iter().filter(|(k, _)| k.0 == "firefox").collect();
    assert_eq!(firefox.len(), 7);
    let root_profile = "/root/.mozilla/firefox/abcd1234.wazuh";
    let ublock = &rows[&key("firefox", "0", root_profile, "uBlock Origin")];
    let want = json!({
        "browser_name": "firefox", "user_id": "0", "package_name": "uBlock Origin",
        "package_id": "uBlock0@raymondhill.net", "package_version_": "1.67.0",
        "package_description": "Finally, an efficient blocker. Easy on CPU and memory.",
        "package_vendor": "Raymond Hill & contributors", "package_build_version": " ",
        "package_path": "/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/uBlock0@raymondhill.net",
        "browser_profile_name": " ", "browser_profile_path": root_profile,
        "package_reference": "", "package_permissions": " ", "package_type": "extension",
        "package_enabled": 1, "package_visible": 1, "package_autoupdate": 1,
        "package_persistent": 0, "package_from_webstore": 0, "browser_profile_referenced": 0,
        "package_installed": " ", "file_hash_sha256": " ",
    });
    assert_eq!(ublock, want.as_object().unwrap());
    let names: Vec<&str> = firefox
        .iter()
        .filter(|(k, _)| k.2 == root_profile)
        .map(|(k, _)| k.3.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Dark",
            "Form Autofill",
            "System theme — auto",
            "uBlock Origin"
        ]
    );
    let dark = &rows[&key("firefox", "0", root_profile, "Dark")];
    assert_eq!(dark["package_type"], "theme");
    assert_eq!(dark["package_enabled"], 0);
    assert_eq!(dark["package_vendor"], "Mozilla");
    let autofill = &rows[&key("firefox", "0", root_profile, "Form Autofill")];
    assert_eq!(autofill["package_vendor"], "");
    assert_eq!(autofill["package_path"], "");

    // Installed by the user from addons.mozilla.org.
    let alice = "/home/alice/.mozilla/firefox/x1y2z3.default-esr";
    let amo = &rows[&key("firefox", "1000", alice, "uBlock Origin")];
    assert_eq!(
        amo["package_reference"],
        "https://addons.mozilla.org/firefox/downloads/file/4531307/ublock_origin-1.67.0.xpi"
    );
    assert_eq!(
        amo["package_path"],
        format!("{alice}/extensions/uBlock0@raymondhill.net.xpi")
    );
    assert_eq!(amo["package_autoupdate"], 1);
    // The same theme in two profiles of one user: two rows, one per profile.
    let work = &rows[&key("firefox", "1000", "/home/alice/ff-work", "Dark")];
    assert_eq!(work["package_enabled"], 1);
    assert_eq!(
        rows[&key("firefox", "1000", alice, "Dark")]["package_enabled"],
        0
    );
}

#[test]
fn every_row_has_the_schema_columns() {
    let rows = extensions(&fixture("browsers-debian12"));
    let mut want: Vec<&str> = syscollector::dbsync::schema::BROWSER_EXTENSIONS
        .columns
        .iter()
        .map(|c| c.name)
        .collect();
    want.sort();
    for row in rows.values() {
        let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, want);
        let mut converted = row.clone();
        installed_as_number(&mut converted);
        assert!(
            converted["package_installed"].is_i64() || converted["package_installed"].is_null()
        );
    }
}

fn write(root: &Path, file: &str, contents: &[u8]) {
    let p = root.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, contents).unwrap();
}

#[test]
fn broken_profiles_skip_entries_not_everything() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "etc/passwd",
        b"alice:x:1000:1000::/home/alice:/bin/sh\n\x00garbage\nbob:x:1001:1001::/home/bob:/bin/sh\n",
    );
    let profile = "home/alice/.config/google-chrome/Default";
    let good = r#"{"name": "Good", "version": "1.0", "manifest_version": 3}"#;
    let settings = json!({"extensions": {"settings": {
        "goodgoodgoodgoodgoodgoodgoodgood": {"path": "goodgoodgoodgoodgoodgoodgoodgood/1.0_0", "state": 1},
        "escape": {"path": "../../../../etc", "state": 1},
        "nopath": {"state": 1},
        "badpath": {"path": 17},
        "brokenmanifest": {"path": "brokenmanifest/1_0"},
        "arraymanifest": {"path": "arraymanifest/1_0"},
        "wrongtypes": {"path": "wrongtypes/1_0", "state": "on", "from_webstore": "yes",
                       "first_install_time": 13360000000000000u64}
    }}});
    write(
        root,
        &format!("{profile}/Preferences"),
        settings.to_string().as_bytes(),
    );
    write(
        root,
        &format!("{profile}/Secure Preferences"),
        b"{\"extensions\": \x00\xff",
    );
    let ext = |id: &str| format!("{profile}/Extensions/{id}/1_0/manifest.json");
    write(
        root,
        &format!("{profile}/Extensions/goodgoodgoodgoodgoodgoodgoodgood/1.0_0/manifest.json"),
        good.as_bytes(),
    );
    write(
        root,
        &ext("brokenmanifest"),
        b"{\"name\": \"Broken\", \"version\": ",
    );
    write(root, &ext("arraymanifest"), b"[\"name\"]");
    write(
        root,
        &ext("wrongtypes"),
        br#"{"name": ["x"], "version": 2, "permissions": "tabs", "background": {"persistent": "yes"},
            "key": 12, "default_locale": "en", "description": "__MSG_d__"}"#,
    );
    write(
        root,
        &format!("{profile}/Extensions/wrongtypes/1_0/_locales/en/messages.json"),
        b"\xff\xfe",
    );
    // Firefox: one profile with garbage, one without an addons array, one good.
    let ff = "home/bob/.mozilla/firefox";
    write(
        root,
        &format!("{ff}/aaa.garbage/extensions.json"),
        &[0x89, 0x50, 0x4e, 0x47, 0, 1, 2],
    );
    write(
        root,
        &format!("{ff}/bbb.noaddons/extensions.json"),
        b"{\"addons\": {}}",
    );
    write(
        root,
        &format!("{ff}/ccc.good/extensions.json"),
        br#"{"addons": [7, null, {"id": "x@y", "version": 3, "defaultLocale": {"name": ["n"]},
            "applyBackgroundUpdates": "x", "userDisabled": "yes"},
            {"id": "ok@y", "version": "1", "defaultLocale": {"name": "OK"}}]}"#,
    );
    write(
        root,
        &format!("{ff}/profiles.ini"),
        b"\x00\x01[Profile0\nPath=../../../etc\n[Profile1]\nPath=\n",
    );

    let rows = LinuxSysInfo::with_root(root, null_logger())
        .browser_extensions()
        .unwrap();
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["browser_name"].as_str().unwrap(),
                r["package_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("chrome", "Good"),
            ("chrome", " "),
            ("firefox", " "),
            ("firefox", "OK")
        ]
    );
    let good = &rows[0];
    assert_eq!(good["package_enabled"], 1);
    assert_eq!(good["package_id"], "goodgoodgoodgoodgoodgoodgoodgood");
    assert_eq!(good["browser_profile_name"], " ");
    let wrong = &rows[1];
    assert_eq!(wrong["package_version_"], " ");
    assert_eq!(wrong["package_enabled"], 0);
    assert_eq!(wrong["package_from_webstore"], 0);
    assert_eq!(wrong["package_installed"], "");
    assert_eq!(wrong["package_persistent"], 0);
    assert_eq!(wrong["package_description"], "__MSG_d__");
    assert_eq!(wrong["package_id"], "wrongtypes");
    let x = &rows[2];
    assert_eq!(x["package_id"], "x@y");
    assert_eq!(x["package_version_"], " ");
    assert_eq!(x["package_enabled"], 1);
    assert_eq!(x["package_autoupdate"], 0);
}

#[test]
fn no_homes_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let rows = LinuxSysInfo::with_root(dir.path(), null_logger())
        .browser_extensions()
        .unwrap();
    assert!(rows.is_empty());
}
