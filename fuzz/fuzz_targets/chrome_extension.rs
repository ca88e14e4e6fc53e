//! A Chromium-family profile: `Preferences` (also as `Secure Preferences`), an
//! extension's `manifest.json` and its `_locales/en/messages.json` (the input's three
//! NUL-separated parts), collected from a scratch tree as the browser extensions
//! collector reads it; and the manifest, message, key and time parsers called directly.
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::accounts::Home;
use syscollector::sysinfo::browser_extensions::chrome::{
    collect_profile, extension_id, localized, parse_manifest, webkit_to_unix,
};
use syscollector::sysinfo::LinuxSysInfo;

const PROFILE: &str = "/home/u/.config/chromium/Default";
const EXT: &str = "Extensions/abcdefghijklmnopabcdefghijklmnop/1.0_0";

fuzz_target!(|data: &[u8]| {
    static ROOT: OnceLock<(PathBuf, LinuxSysInfo)> = OnceLock::new();
    let (root, p) = ROOT.get_or_init(|| {
        let root = syscollector_fuzz::scratch("chrome");
        let ext = root.join(&PROFILE[1..]).join(EXT);
        std::fs::create_dir_all(ext.join("_locales/en")).expect("tree");
        let p = LinuxSysInfo::with_root(&root, syscollector::null_logger());
        (root, p)
    });
    let parts = syscollector_fuzz::parts(data, 3);
    let profile = root.join(&PROFILE[1..]);
    let ext = profile.join(EXT);
    let ok = std::fs::write(profile.join("Preferences"), parts[0]).is_ok()
        && std::fs::write(profile.join("Secure Preferences"), parts[0]).is_ok()
        && std::fs::write(ext.join("manifest.json"), parts[1]).is_ok()
        && std::fs::write(ext.join("_locales/en/messages.json"), parts[2]).is_ok();
    if ok {
        let home = Home {
            path: "/home/u".into(),
            uid: "1000".into(),
        };
        let mut rows = Vec::new();
        collect_profile(p, "chromium", &home, PROFILE, &mut rows);
    }

    let manifest = syscollector_fuzz::text(parts[1]);
    let messages: serde_json::Value =
        serde_json::from_slice(parts[2]).unwrap_or(serde_json::Value::Null);
    if let Some(m) = parse_manifest(&manifest) {
        let _ = localized(&m.name, &messages);
        let _ = localized(&m.description, &messages);
    }
    let first = syscollector_fuzz::text(parts[0]);
    let _ = extension_id(&first);
    let _ = webkit_to_unix(&first);
});
