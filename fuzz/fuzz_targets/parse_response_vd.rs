//! A manager reply for the vulnerability-detector sync instance
//! (`syscollector_parse_response_vd`'s `Inventory::parse_response_vd`), arriving while
//! that instance runs sessions against the in-process manager.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = syscollector_fuzz::session_rig().parse_response_vd(data);
});
