//! `/etc/shadow` as glibc reads it, then each entry's password status and hash
//! algorithm, and the users rows of the same names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::parse::accounts::{parse_passwd, parse_shadow};
use syscollector::sysinfo::users::{user_row, Sources};

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let shadow = parse_shadow(&text).entries;
    for s in &shadow {
        let _ = s.password_status();
        let _ = s.hash_algorithm();
    }
    let users = parse_passwd(&text).entries;
    let src = Sources {
        groups: Vec::new(),
        shadow: Some(shadow),
        sessions: Vec::new(),
        sudoers: Vec::new(),
    };
    for user in users.iter().take(64) {
        let _ = user_row(user, &src);
    }
});
