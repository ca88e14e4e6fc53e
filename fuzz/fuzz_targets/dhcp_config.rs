//! The network configuration files the DHCP flag comes from, read as the reference
//! reads them: ifupdown's `/etc/network/interfaces` (first `iface` stanza of the
//! interface) and RHEL/SUSE `ifcfg-*` (`BOOTPROTO`, `DHCPV6C`), and the split both use.
#![no_main]
use libfuzzer_sys::fuzz_target;
use syscollector::sysinfo::network::dhcp::{
    agent_split, agent_value, ifcfg_status, ifupdown_status,
};
use syscollector::sysinfo::network::Family;

fuzz_target!(|data: &[u8]| {
    let text = syscollector_fuzz::text(data);
    for family in [Family::V4, Family::V6] {
        for iface in ["eth0", "lo"] {
            let _ = ifupdown_status(&text, iface, family);
        }
        let _ = ifcfg_status(&text, family);
    }
    for line in agent_split(&text, '\n') {
        let _ = agent_value(line);
    }
    let _ = agent_split(&text, ' ');
});
