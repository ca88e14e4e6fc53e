//! The release files of the OS collector (`os-release`, `lsb-release`, the distribution
//! files): the same text through every format's parser, on an empty row and on a row an
//! earlier file filled (the collector reads several in turn).
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::os::{parse_release, ReleaseFile};
use syscollector::Row;

const KINDS: [ReleaseFile; 11] = [
    ReleaseFile::OsRelease,
    ReleaseFile::Centos,
    ReleaseFile::Fedora,
    ReleaseFile::RedHat,
    ReleaseFile::Gentoo,
    ReleaseFile::Suse,
    ReleaseFile::Arch,
    ReleaseFile::Debian,
    ReleaseFile::Slackware,
    ReleaseFile::LsbRelease,
    ReleaseFile::Alpine,
];

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let mut carried = Row::new();
    for kind in KINDS {
        let mut row = Row::new();
        let _ = parse_release(kind, &text, &mut row);
        let _ = parse_release(kind, &text, &mut carried);
    }
});
