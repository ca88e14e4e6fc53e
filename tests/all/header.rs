//! The committed C header must be exactly what cbindgen makes of the code today.
//! Run with `UPDATE_HEADER=1` to rewrite it after changing an export.

use std::path::Path;

#[test]
fn header_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = root.join("include/syscollector.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write header");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/syscollector.h is stale: run `UPDATE_HEADER=1 cargo test --release --test all header::` and commit it"
    );
}

/// The `SYSCOLLECTOR_SYNC_INDEX_*` defines typed into `cbindgen.toml` are exactly the
/// catalog's sync indices (and the vulnerabilities index), name for name.
#[test]
fn index_defines_are_the_catalogs() {
    use std::collections::BTreeMap;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let text = config.after_includes.unwrap_or_default();
    let typed: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("#define SYSCOLLECTOR_SYNC_INDEX_"))
        .filter_map(|l| {
            let (name, value) = l.split_once(' ')?;
            let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
            Some((format!("SYSCOLLECTOR_SYNC_INDEX_{name}"), value.to_string()))
        })
        .collect();
    let defines = syscollector::catalog::sync_index_defines();
    let wanted: BTreeMap<String, String> = defines
        .iter()
        .map(|(n, v)| (n.clone(), v.to_string()))
        .collect();
    let block: String = defines
        .iter()
        .map(|(n, v)| format!("#define {n} \"{v}\"\n"))
        .collect();
    assert!(
        typed == wanted,
        "cbindgen.toml's after_includes must define exactly these (then run \
         `UPDATE_HEADER=1 cargo test --release --test all header::`):\n{block}"
    );
    assert_eq!(
        text.matches("SYSCOLLECTOR_SYNC_INDEX_").count(),
        wanted.len(),
        "a define is malformed in cbindgen.toml"
    );
}
