//! `/run/utmp` (binary records), then each record's type name and address, and the users
//! row of an account with those sessions.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::parse::accounts::PasswdEntry;
use syscollector::sysinfo::users::utmp::parse_utmp;
use syscollector::sysinfo::users::{user_row, Sources};

fuzz_target!(|data: &[u8]| {
    let sessions = parse_utmp(data);
    for r in &sessions {
        let _ = r.type_name();
        let _ = r.address();
    }
    let user = sessions.first().map(|r| r.user.clone()).unwrap_or_default();
    let src = Sources {
        groups: Vec::new(),
        shadow: None,
        sessions,
        sudoers: Vec::new(),
    };
    let entry = PasswdEntry {
        name: user,
        uid: 1000,
        gid: 1000,
        gecos: String::new(),
        home: "/home/u".into(),
        shell: "/bin/sh".into(),
    };
    let _ = user_row(&entry, &src);
});
