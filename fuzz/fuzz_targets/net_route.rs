//! `/proc/net/route`, line by line, then the gateway of every interface named in it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::network::{gateway_v4, parse_route_line};

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let routes: Vec<_> = text.lines().filter_map(parse_route_line).collect();
    for r in &routes {
        let _ = gateway_v4(&routes, &r.iface);
    }
});
