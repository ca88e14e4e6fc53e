//! `/proc/net/fib_trie` and `/proc/net/if_inet6` (the IPv4 and IPv6 addresses read from
//! files), then the IPv4 addresses placed on interfaces with the routes of
//! `/proc/net/route`: the input is the three files, separated by NUL bytes.
#![no_main]
use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::network::addresses::{parse_fib_trie, parse_if_inet6_line, place_ipv4};
use syscollector::sysinfo::network::parse_route_line;

fuzz_target!(|data: &[u8]| {
    let p = syscollector_fuzz::parts(data, 3);
    let (fib, inet6, route) = (
        syscollector_fuzz::text(p[0]),
        syscollector_fuzz::text(p[1]),
        syscollector_fuzz::text(p[2]),
    );
    let trie = parse_fib_trie(&fib);
    let v6: Vec<_> = inet6.lines().filter_map(parse_if_inet6_line).collect();
    let routes: Vec<_> = route.lines().filter_map(parse_route_line).collect();
    let mut names: HashSet<&str> = routes.iter().map(|r| r.iface.as_str()).collect();
    names.extend(v6.iter().map(|a| a.iface.as_str()));
    let _ = place_ipv4(&trie, &routes, &names);
});
