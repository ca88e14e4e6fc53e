//! An npm `package.json` below a `node_modules` directory.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::npm::package_row;

fuzz_target!(|data: &[u8]| {
    let _ = package_row(data, "/usr/lib/node_modules/x/package.json");
});
