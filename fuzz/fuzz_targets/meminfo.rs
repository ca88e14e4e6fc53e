//! `/proc/meminfo`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::hardware::parse_meminfo;

fuzz_target!(|data: &[u8]| {
    let _ = parse_meminfo(&syscollector_fuzz::text(data));
});
