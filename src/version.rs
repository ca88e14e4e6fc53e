//! The release version of the library and the tools, in one place: the crate version from
//! `Cargo.toml`, logged once by `syscollector_init`, printed by the tools' `--version`, and
//! mirrored by the `SYSCOLLECTOR_VERSION*` macros of `include/syscollector.h` (written by
//! cbindgen from `cbindgen.toml`; a test below keeps the two equal).

/// The version, `MAJOR.MINOR.PATCH` as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version's numeric parts.
pub const VERSION_MAJOR: &str = env!("CARGO_PKG_VERSION_MAJOR");
pub const VERSION_MINOR: &str = env!("CARGO_PKG_VERSION_MINOR");
pub const VERSION_PATCH: &str = env!("CARGO_PKG_VERSION_PATCH");

/// What the tools print for `--version`, e.g. `syscollector 0.1.0`.
pub fn version_string(program: &str) -> String {
    format!("{program} {VERSION}")
}

/// The line the library logs once when the host initializes it.
pub fn startup_line() -> String {
    format!("libsyscollector {VERSION} (syscollector-rs, Rust implementation of the syscollector module)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_define(header: &str, name: &str) -> Option<String> {
        header.lines().find_map(|l| {
            let rest = l.strip_prefix("#define ")?.strip_prefix(name)?;
            rest.starts_with(' ')
                .then(|| rest.trim().trim_matches('"').to_string())
        })
    }

    #[test]
    fn header_macros_carry_the_crate_version() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/syscollector.h");
        let header = std::fs::read_to_string(path).expect("include/syscollector.h");
        assert_eq!(
            header_define(&header, "SYSCOLLECTOR_VERSION").as_deref(),
            Some(VERSION)
        );
        assert_eq!(
            header_define(&header, "SYSCOLLECTOR_VERSION_MAJOR").as_deref(),
            Some(VERSION_MAJOR)
        );
        assert_eq!(
            header_define(&header, "SYSCOLLECTOR_VERSION_MINOR").as_deref(),
            Some(VERSION_MINOR)
        );
        assert_eq!(
            header_define(&header, "SYSCOLLECTOR_VERSION_PATCH").as_deref(),
            Some(VERSION_PATCH)
        );
    }

    #[test]
    fn startup_line_and_version_string_name_the_version() {
        assert!(startup_line().starts_with(&format!("libsyscollector {VERSION} ")));
        assert_eq!(
            version_string("syscollector-manager"),
            format!("syscollector-manager {VERSION}")
        );
    }

    #[test]
    fn bundled_sqlite_is_past_cve_2025_6965() {
        // SQLite 3.50.2 fixed CVE-2025-6965; the bundled library must be that or newer.
        assert!(
            rusqlite::version_number() >= 3_050_002,
            "bundled SQLite {}",
            rusqlite::version()
        );
    }
}
