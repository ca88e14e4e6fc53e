//! A query through the C ABI (`syscollector_query`), the module initialised as the host
//! does it; the answer must be the NUL-terminated JSON of the length returned.
#![no_main]
use std::ffi::{CStr, CString};
use std::os::raw::c_char;

use libfuzzer_sys::fuzz_target;
use syscollector::ffi::syscollector_query;

fuzz_target!(|data: &[u8]| {
    syscollector_fuzz::ffi_rig();
    let Ok(q) = CString::new(data.split(|&b| b == 0).next().unwrap_or(&[])) else {
        return;
    };
    ask(&q);
    // A "pause" must not leave the module paused for the next input.
    if data.windows(5).any(|w| w == b"pause") {
        ask(c"{\"command\":\"resume\"}");
    }
});

fn ask(q: &CStr) {
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: a valid C string and a writable pointer.
    let n = unsafe { syscollector_query(q.as_ptr(), &mut out) };
    assert!(!out.is_null(), "no answer");
    // SAFETY: the library returned a malloc'ed NUL-terminated answer.
    let answer = unsafe { CStr::from_ptr(out) };
    assert_eq!(answer.to_bytes().len(), n);
    assert!(serde_json::from_slice::<serde_json::Value>(answer.to_bytes()).is_ok());
    // SAFETY: the host frees the answer with free().
    unsafe { libc_free(out.cast()) };
}

extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut std::ffi::c_void);
}
