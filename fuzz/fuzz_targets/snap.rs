//! snapd's HTTP answer to `GET /v2/snaps` (status line, headers, plain or chunked body),
//! then the JSON body as the collector reads it, and the install dates in it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::snap::{http_body, parse_install_date, parse_snaps};

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = http_body(data) {
        let _ = parse_snaps(&body, &mut |_row| {}, &mut |_skip| {});
    }
    let _ = parse_snaps(data, &mut |_row| {}, &mut |_skip| {});
    let _ = parse_install_date(&syscollector_fuzz::text(data));
});
