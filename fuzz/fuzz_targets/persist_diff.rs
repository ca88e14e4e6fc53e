//! A difference from the host (`syscollector_persist_diff`): id, index and data are the
//! input's three NUL-separated parts, the operation its last byte. Bad differences are
//! refused, good ones queued; the queues are emptied now and then so they stay small.
#![no_main]
use std::ffi::CString;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use syscollector::ffi::{syscollector_delete_database, syscollector_persist_diff};

fuzz_target!(|data: &[u8]| {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    syscollector_fuzz::ffi_rig();
    let op = data.last().map_or(0, |&b| i32::from(b % 6) - 1);
    let p = syscollector_fuzz::parts(data, 3);
    let (Ok(id), Ok(index), Ok(doc)) = (
        CString::new(p[0]),
        CString::new(p[1]),
        CString::new(p[2].split(|&b| b == 0).next().unwrap_or(&[])),
    ) else {
        return;
    };
    // SAFETY: valid C strings.
    unsafe { syscollector_persist_diff(id.as_ptr(), op, index.as_ptr(), doc.as_ptr(), 7) };
    if RUNS.fetch_add(1, Ordering::Relaxed) % 20_000 == 19_999 {
        syscollector_delete_database();
    }
});
