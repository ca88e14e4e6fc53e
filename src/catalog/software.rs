//! Installed software: packages of every package manager, and browser extensions.

use super::{
    bigint, int, text, Collector, Gather, Hooks, Instance, RowFilter, ScanOptions, TableDef, OS,
};

pub static PACKAGES_COLLECTOR: Collector = Collector {
    name: "packages",
    cli_aliases: &[],
    tables: &[&PACKAGES],
    switch: |c| &mut c.packages,
    gather: Gather::Rows(|p, each| p.packages(each)),
};

/// Package rows are normalized after their checksum, as the reference does; when packages
/// change, the vulnerability detector needs the OS they run on.
pub static PACKAGES: TableDef = TableDef {
    name: "dbsync_packages",
    index: "wazuh-states-inventory-packages",
    columns: &[
        text("name", "package.name"),
        text("version_", "package.version"),
        text("vendor", "package.vendor"),
        text("installed", "package.installed"),
        text("path", "package.path"),
        text("architecture", "package.architecture"),
        text("category", "package.category"),
        text("description", "package.description"),
        bigint("size", "package.size"),
        text("priority", "package.priority"),
        text("multiarch", "package.multiarch"),
        text("source", "package.source"),
        text("type", "package.type"),
    ],
    primary_key: &["name", "version_", "architecture", "type", "path"],
    limit_name: "packages",
    limit_order: &["name", "type"],
    instance: Instance::Vd { context: &[&OS] },
    collector: &PACKAGES_COLLECTOR,
    hooks: Hooks {
        select: None,
        normalize: true,
        hashed_only: &[],
        sources: Some(|p| p.packages_fingerprint()),
    },
};

pub static BROWSER_EXTENSIONS_COLLECTOR: Collector = Collector {
    name: "browser_extensions",
    cli_aliases: &[],
    tables: &[&BROWSER_EXTENSIONS],
    switch: |c| &mut c.browser_extensions,
    gather: Gather::Rows(|p, each| {
        p.browser_extensions()
            .map(|rows| rows.into_iter().for_each(each))
    }),
};

/// The install time is a number in documents, as the reference converts it before the
/// checksum.
pub static BROWSER_EXTENSIONS: TableDef = TableDef {
    name: "dbsync_browser_extensions",
    index: "wazuh-states-inventory-browser-extensions",
    columns: &[
        text("browser_name", "browser.name"),
        text("user_id", "user.id"),
        text("package_name", "package.name"),
        text("package_id", "package.id"),
        text("package_version_", "package.version"),
        text("package_description", "package.description"),
        text("package_vendor", "package.vendor"),
        text("package_build_version", "package.build_version"),
        text("package_path", "package.path"),
        text("browser_profile_name", "browser.profile.name"),
        text("browser_profile_path", "browser.profile.path"),
        text("package_reference", "package.reference"),
        text("package_permissions", "package.permissions").list(),
        text("package_type", "package.type"),
        int("package_enabled", "package.enabled").flag(),
        int("package_visible", "package.visible").flag(),
        int("package_autoupdate", "package.autoupdate").flag(),
        int("package_persistent", "package.persistent").flag(),
        int("package_from_webstore", "package.from_webstore").flag(),
        int("browser_profile_referenced", "browser.profile.referenced").flag(),
        text("package_installed", "package.installed"),
        text("file_hash_sha256", "file.hash.sha256"),
    ],
    primary_key: &[
        "browser_name",
        "user_id",
        "browser_profile_path",
        "package_name",
        "package_version_",
    ],
    limit_name: "browser_extensions",
    limit_order: &["browser_name"],
    instance: Instance::Regular,
    collector: &BROWSER_EXTENSIONS_COLLECTOR,
    hooks: Hooks {
        select: Some(installed_as_number),
        normalize: false,
        hashed_only: &[],
        sources: None,
    },
};

fn installed_as_number(_: ScanOptions) -> RowFilter {
    Box::new(|mut row| {
        crate::sysinfo::browser_extensions::installed_as_number(&mut row);
        Some(row)
    })
}
