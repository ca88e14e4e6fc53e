//! The live sources of the provider, chosen by name ([`Sources`]) and run on this machine:
//! the addresses from `getifaddrs` against `ip -j addr` and against the `/proc/net` files,
//! the kernel facts from `uname(2)` against `uname` and `/proc/sys/kernel`. (The services
//! from D-Bus are in tests/all/sysinfo_services.rs, with its private bus.)

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;
use syscollector::null_logger;
use syscollector::sysinfo::{AddressSource, KernelSource, LinuxSysInfo, Sources, SysInfo};

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(out.status.success(), "{cmd} {args:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// (interface, network_type, ip, netmask) of the address rows.
fn addresses(p: &LinuxSysInfo) -> BTreeSet<(String, i64, String, String)> {
    p.network()
        .unwrap()
        .addresses
        .iter()
        .map(|r| {
            (
                r["interface_name"].as_str().unwrap().to_string(),
                r["network_type"].as_i64().unwrap(),
                r["network_ip"].as_str().unwrap().to_string(),
                r["network_netmask"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn netmask(family: &str, prefix: u32) -> String {
    if family == "inet" {
        std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix).unwrap_or(0)).to_string()
    } else {
        std::net::Ipv6Addr::from(u128::MAX.checked_shl(128 - prefix).unwrap_or(0)).to_string()
    }
}

#[test]
fn addresses_from_getifaddrs_match_ip_and_the_files() {
    let live = LinuxSysInfo::new(null_logger());
    assert_eq!(live.sources().addresses, AddressSource::Getifaddrs);
    let from_getifaddrs = addresses(&live);

    let ip: Value = serde_json::from_str(&tool("ip", &["-j", "addr"])).unwrap();
    let mut from_ip = BTreeSet::new();
    for link in ip.as_array().unwrap() {
        for a in link["addr_info"].as_array().into_iter().flatten() {
            let family = a["family"].as_str().unwrap();
            let kind = match family {
                "inet" => 0,
                "inet6" => 1,
                _ => continue,
            };
            let prefix = a["prefixlen"].as_u64().unwrap() as u32;
            from_ip.insert((
                link["ifname"].as_str().unwrap().to_string(),
                kind,
                a["local"].as_str().unwrap().to_string(),
                netmask(family, prefix),
            ));
        }
    }
    assert!(!from_ip.is_empty());
    assert_eq!(from_getifaddrs, from_ip);

    // The same host through the files: every IPv6 address, and the IPv4 addresses that
    // have a directly connected route (or lo's), all of which getifaddrs reports.
    let files = LinuxSysInfo::new(null_logger()).with_sources(Sources {
        addresses: AddressSource::Files,
        ..Sources::live()
    });
    let from_files = addresses(&files);
    let v6 = |s: &BTreeSet<(String, i64, String, String)>| {
        s.iter()
            .filter(|a| a.1 == 1)
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(v6(&from_files), v6(&from_getifaddrs));
    assert!(from_files.is_subset(&from_getifaddrs), "{from_files:?}");
    assert!(from_files.iter().any(|a| a.2 == "127.0.0.1"));
}

#[test]
fn kernel_from_uname_matches_uname_and_proc_sys_kernel() {
    let uname = LinuxSysInfo::new(null_logger());
    assert_eq!(uname.sources().kernel, KernelSource::Uname);
    let files = LinuxSysInfo::new(null_logger()).with_sources(Sources {
        kernel: KernelSource::Files,
        ..Sources::live()
    });
    let a = uname.os().unwrap();
    let b = files.os().unwrap();
    for (key, flag, file) in [
        ("os_kernel_release", "-r", "osrelease"),
        ("os_kernel_name", "-s", "ostype"),
        ("os_kernel_version", "-v", "version"),
        ("hostname", "-n", "hostname"),
    ] {
        assert_eq!(a[key], tool("uname", &[flag]), "{key}");
        let proc = std::fs::read_to_string(format!("/proc/sys/kernel/{file}")).unwrap();
        assert_eq!(b[key], proc.trim_end(), "{key}");
        assert_eq!(a[key], b[key], "{key}");
    }
    assert_eq!(a["architecture"], tool("uname", &["-m"]));

    // A tree reads its own files, unless told to ask uname.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("proc/sys/kernel")).unwrap();
    std::fs::write(dir.path().join("proc/sys/kernel/osrelease"), "1.2.3-tree\n").unwrap();
    let tree = LinuxSysInfo::with_root(dir.path(), null_logger());
    assert_eq!(tree.sources().kernel, KernelSource::Files);
    let from_tree = tree.os().unwrap();
    assert_eq!(from_tree["os_kernel_release"], "1.2.3-tree");
    // The fields the tree has no file for come from uname.
    assert_eq!(from_tree["os_kernel_name"], tool("uname", &["-s"]));
    let asked = LinuxSysInfo::with_root(dir.path(), null_logger()).with_sources(Sources {
        kernel: KernelSource::Uname,
        ..Sources::files()
    });
    assert_eq!(
        asked.os().unwrap()["os_kernel_release"],
        tool("uname", &["-r"])
    );
}
