//! `/etc/sudoers` and the files it includes, then whether each rule names a user.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::users::sudoers::{header_names_user, parse_sudoers};

fuzz_target!(|data: &[u8]| {
    let file = parse_sudoers(&syscollector_fuzz::text(data));
    for rule in file.rules.iter().take(64) {
        let _ = header_names_user(&rule.header, "root");
        let _ = header_names_user(&rule.header, &rule.header);
    }
});
