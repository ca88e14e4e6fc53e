//! `/etc/passwd` as glibc reads it, then each account's users row (with no other source).
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::parse::accounts::parse_passwd;
use syscollector::sysinfo::users::{user_row, Sources};

fuzz_target!(|data: &[u8]| {
    let parsed = parse_passwd(&syscollector_fuzz::text(data));
    let src = Sources {
        groups: Vec::new(),
        shadow: None,
        sessions: Vec::new(),
        sudoers: Vec::new(),
    };
    for user in parsed.entries.iter().take(64) {
        let _ = user_row(user, &src);
    }
});
