//! A Python distribution's `METADATA` / `PKG-INFO` (or a bare `.egg-info` file).
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::python::metadata_row;

fuzz_target!(|data: &[u8]| {
    let _ = metadata_row(data, "/usr/lib/python3/dist-packages/x-1.dist-info/METADATA");
});
