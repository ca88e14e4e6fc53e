//! `/proc/net/ipv6_route`, line by line, then the gateway of every interface named in it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::network::{gateway_v6, parse_ipv6_route_line};

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let routes: Vec<_> = text.lines().filter_map(parse_ipv6_route_line).collect();
    for r in &routes {
        let _ = gateway_v6(&routes, &r.iface);
    }
});
