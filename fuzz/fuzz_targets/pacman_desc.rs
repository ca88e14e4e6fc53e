//! A pacman `local/<name>-<version>-<rel>/desc` file, and the directory name it sits in
//! (the input's first line).
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::packages::pacman::{package_row, parse_desc, split_name};

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let desc = parse_desc(&text);
    let dir = text.lines().next().unwrap_or("");
    if let Some((name, version)) = split_name(dir) {
        let _ = package_row(name, version, &desc);
    }
    let _ = package_row("n", "1", &desc);
});
