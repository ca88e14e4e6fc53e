//! A systemd unit file and a drop-in applied over it (the input's two NUL-separated
//! parts), then the specifiers of what was read expanded for a template instance.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::services::unit_files::{expand_specifiers, UnitSettings};

fuzz_target!(|data: &[u8]| {
    let p = syscollector_fuzz::parts(data, 2);
    let mut settings = UnitSettings::default();
    settings.apply(&syscollector_fuzz::text(p[0]));
    settings.apply(&syscollector_fuzz::text(p[1]));
    for value in [&settings.description, &settings.user]
        .into_iter()
        .flatten()
    {
        let _ = expand_specifiers(value, "getty@tty1.service");
        let _ = expand_specifiers(value, value);
    }
});
