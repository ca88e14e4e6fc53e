//! Hardware, operating system and hotfixes: one row each (none for hotfixes on Linux).

use super::{double, int, text, Collector, Gather, Hooks, Instance, TableDef, PACKAGES};

pub static HARDWARE_COLLECTOR: Collector = Collector {
    name: "hardware",
    cli_aliases: &["hw"],
    tables: &[&HARDWARE],
    switch: |c| &mut c.hardware,
    gather: Gather::Rows(|p, each| p.hardware().map(each)),
};

pub static HARDWARE: TableDef = TableDef {
    name: "dbsync_hwinfo",
    index: "wazuh-states-inventory-hardware",
    columns: &[
        text("serial_number", "host.serial_number"),
        text("cpu_name", "host.cpu.name"),
        int("cpu_cores", "host.cpu.cores"),
        double("cpu_speed", "host.cpu.speed"),
        int("memory_total", "host.memory.total"),
        int("memory_free", "host.memory.free"),
        int("memory_used", "host.memory.used"),
    ],
    primary_key: &["serial_number"],
    limit_name: "hardware",
    limit_order: &["serial_number"],
    instance: Instance::Regular,
    collector: &HARDWARE_COLLECTOR,
    hooks: Hooks::NONE,
};

pub static OS_COLLECTOR: Collector = Collector {
    name: "os",
    cli_aliases: &["system"],
    tables: &[&OS],
    switch: |c| &mut c.os,
    gather: Gather::Rows(|p, each| p.os().map(each)),
};

/// When the OS changes, the vulnerability detector re-evaluates every package.
pub static OS: TableDef = TableDef {
    name: "dbsync_osinfo",
    index: "wazuh-states-inventory-system",
    columns: &[
        text("hostname", "host.hostname"),
        text("architecture", "host.architecture"),
        text("os_name", "host.os.name"),
        text("os_version", "host.os.version"),
        text("os_codename", "host.os.codename"),
        text("os_major", "host.os.major"),
        text("os_minor", "host.os.minor"),
        text("os_patch", "host.os.patch"),
        text("os_build", "host.os.build"),
        text("os_platform", "host.os.platform"),
        text("os_type", "host.os.type"),
        text("os_kernel_name", "host.os.kernel.name"),
        text("os_kernel_release", "host.os.kernel.release"),
        text("os_kernel_version", "host.os.kernel.version"),
        text("os_distribution_release", "host.os.distribution.release"),
        text("os_full", "host.os.full"),
    ],
    primary_key: &["os_name", "os_version"],
    limit_name: "os_info",
    limit_order: &["os_name"],
    instance: Instance::Vd {
        context: &[&PACKAGES],
    },
    collector: &OS_COLLECTOR,
    hooks: Hooks::NONE,
};

pub static HOTFIXES_COLLECTOR: Collector = Collector {
    name: "hotfixes",
    cli_aliases: &[],
    tables: &[&HOTFIXES],
    switch: |c| &mut c.hotfixes,
    gather: Gather::Rows(|p, each| p.hotfixes().map(|rows| rows.into_iter().for_each(each))),
};

pub static HOTFIXES: TableDef = TableDef {
    name: "dbsync_hotfixes",
    index: "wazuh-states-inventory-hotfixes",
    columns: &[text("hotfix_name", "package.hotfix.name")],
    primary_key: &["hotfix_name"],
    limit_name: "hotfixes",
    limit_order: &["hotfix_name"],
    instance: Instance::Vd { context: &[] },
    collector: &HOTFIXES_COLLECTOR,
    hooks: Hooks::NONE,
};
