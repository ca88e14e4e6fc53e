//! dpkg's `/var/lib/dpkg/status`, as the packages collector parses it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::dpkg::parse_status;

fuzz_target!(|data: &[u8]| {
    let mut rows = 0usize;
    parse_status(data, &mut |_row| rows += 1, &mut |_skip| {});
});
