//! A manager reply for the regular sync instance (`syscollector_parse_response`'s
//! `Inventory::parse_response`), arriving while that instance runs sessions against the
//! in-process manager.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = syscollector_fuzz::session_rig().parse_response(data);
});
