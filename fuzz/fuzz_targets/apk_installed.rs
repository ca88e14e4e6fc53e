//! Alpine's `/lib/apk/db/installed`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::apk::parse_installed;

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    parse_installed(&text, &mut |_row| {}, &mut |_skip| {});
});
