//! The Berkeley DB hash file `/var/lib/rpm/Packages` of old rpm, read with the
//! collector's own reader (written to a scratch file, as the reader takes a path), every
//! record then parsed as a legacy package header.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::rpm::legacy_package_row;
use syscollector::sysinfo::packages::rpm_bdb::for_each_header;

fuzz_target!(|data: &[u8]| {
    static FILE: OnceLock<std::path::PathBuf> = OnceLock::new();
    let path = FILE.get_or_init(|| syscollector_fuzz::scratch("rpm_bdb").join("Packages"));
    if std::fs::write(path, data).is_err() {
        return;
    }
    let _ = for_each_header(
        path,
        &mut |blob| {
            let _ = legacy_package_row(blob);
        },
        &mut |_skip| {},
    );
});
