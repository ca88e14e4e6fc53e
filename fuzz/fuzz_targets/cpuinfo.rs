//! `/proc/cpuinfo`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::hardware::parse_cpuinfo;

fuzz_target!(|data: &[u8]| {
    let _ = parse_cpuinfo(&syscollector_fuzz::text(data));
});
