//! The processes collector's `/proc` files: `/proc/<pid>/stat` (also as the ports
//! collector reads a command name from it), `/proc/<pid>/cmdline`, `/proc/stat`'s
//! `btime`, and a `/proc/<pid>/fd/*` link target (stat and cmdline as the raw bytes the
//! collector reads).
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::ports::{socket_link_inode, stat_comm};
use syscollector::sysinfo::processes::{parse_btime, parse_cmdline, parse_stat};

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    let _ = parse_stat(data);
    let _ = stat_comm(&text);
    let _ = parse_cmdline(data);
    let _ = parse_btime(&text);
    let _ = socket_link_inode(data);
});
