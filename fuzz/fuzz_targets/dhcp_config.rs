//! The network configuration files the DHCP status comes from: ifupdown's
//! `/etc/network/interfaces` (methods and `source` lines), RHEL/SUSE `ifcfg-*`,
//! NetworkManager `.nmconnection` and systemd-networkd `.network` files, and the globs
//! of `source` lines and `[Match] Name=`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::network::dhcp::{
    agent_value, glob_match, ifcfg_status, ifupdown_method, ifupdown_sources,
    network_manager_status, networkd_status,
};
use syscollector::sysinfo::network::Family;

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    for family in [Family::V4, Family::V6] {
        for iface in ["eth0", "lo"] {
            if let Some(m) = ifupdown_method(&text, iface, family) {
                let _ = agent_value(m);
            }
            let _ = network_manager_status(&text, iface, family);
            let _ = networkd_status(&text, iface, family);
        }
        let _ = ifcfg_status(&text, family);
    }
    let _ = ifupdown_sources(&text);
    let p = syscollector_fuzz::parts(data, 2);
    let _ = glob_match(
        &syscollector_fuzz::text(p[0]),
        &syscollector_fuzz::text(p[1]),
    );
});
