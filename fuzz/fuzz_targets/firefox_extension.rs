//! Firefox's `profiles.ini` and a profile's `extensions.json` (the input's two
//! NUL-separated parts), read as the browser extensions collector reads them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use syscollector::sysinfo::browser_extensions::firefox::{addon_row, parse_profiles_ini};
use syscollector::sysinfo::browser_extensions::installed_as_number;

fuzz_target!(|data: &[u8]| {
    let p = syscollector_fuzz::parts(data, 2);
    let _ = parse_profiles_ini(&syscollector_fuzz::text(p[0]));
    let Ok(doc) = serde_json::from_slice::<Value>(p[1]) else {
        return;
    };
    if let Some(addons) = doc.get("addons").and_then(Value::as_array) {
        for addon in addons.iter().filter(|a| a.is_object()).take(64) {
            let mut row = addon_row(addon, "1000", "/home/u/.mozilla/firefox/x.default");
            installed_as_number(&mut row);
        }
    }
});
