//! `/proc/net/dev`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::network::parse_net_dev;

fuzz_target!(|data: &[u8]| {
    let _ = parse_net_dev(&syscollector_fuzz::text(data));
});
