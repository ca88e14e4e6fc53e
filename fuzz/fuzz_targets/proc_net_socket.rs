//! `/proc/net/tcp`, `tcp6`, `udp`, `udp6`: every line as an IPv4 and as an IPv6 table line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::ports::{ipv6_from_proc_words, parse_socket_line, tcp_state_name};

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    for line in text.lines() {
        if let Some(s) = parse_socket_line(line, false) {
            let _ = tcp_state_name(s.state);
        }
        let _ = parse_socket_line(line, true);
        let _ = ipv6_from_proc_words(line);
    }
});
