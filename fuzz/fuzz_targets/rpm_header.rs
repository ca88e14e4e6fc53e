//! One rpm header blob (the `blob` column of rpmdb.sqlite, the data of a Berkeley DB
//! `Packages` record), through every reader of it: the sqlite and the legacy package rows,
//! the Python paths and the file list.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::rpm::{legacy_package_row, package_row, python_paths, Header};

fuzz_target!(|data: &[u8]| {
    let _ = package_row(data);
    let _ = legacy_package_row(data);
    let _ = python_paths(data, &["python", "platform-python"]);
    if let Ok(h) = Header::parse(data) {
        let _ = h.files();
        for tag in [1000u32, 1001, 1002, 1004, 1009, 1044, 1117, 1118, 1116] {
            let _ = h.tag_type(tag);
            let _ = h.string(tag);
            let _ = h.strings(tag);
            let _ = h.number(tag);
            let _ = h.int32s(tag);
            let _ = h.legacy_text(tag);
        }
    }
});
