//! `/etc/group` as glibc reads it, then the groups rows (members and primary users) and
//! every account's group names, the accounts being the input read as `/etc/passwd` too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::groups::{distinct_groups, group_row};
use syscollector::sysinfo::parse::accounts::{parse_group, parse_passwd};
use syscollector::sysinfo::users::user_group_names;

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let groups = parse_group(&text).entries;
    let users = parse_passwd(&text).entries;
    for g in distinct_groups(&groups).into_iter().take(64) {
        let _ = group_row(g, &users);
    }
    for u in users.iter().take(64) {
        let _ = user_group_names(u, &groups);
    }
});
