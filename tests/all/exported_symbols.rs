//! The cdylib exports exactly the C ABI of `include/syscollector.h`: the `syscollector_*`
//! functions and nothing else (no Rust symbols, no bundled SQLite, no helper C symbols).
//!
//! Reads the dynamic symbol table of the `libsyscollector.so` that cargo built for this
//! test run (it builds the cdylib alongside the rlib for integration tests) with
//! `nm -D --defined-only`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The functions `include/syscollector.h` declares, which wazuh-modulesd looks up (the
/// alpha0 host's fourteen and the beta hosts' three more, last).
const EXPORTS: [&str; 17] = [
    "syscollector_init",
    "syscollector_start",
    "syscollector_stop",
    "syscollector_init_sync",
    "syscollector_sync_module",
    "syscollector_persist_diff",
    "syscollector_parse_response",
    "syscollector_parse_response_vd",
    "syscollector_notify_data_clean",
    "syscollector_delete_database",
    "syscollector_query",
    "syscollector_lock_scan_mutex",
    "syscollector_unlock_scan_mutex",
    "syscollector_run_recovery_process",
    "syscollector_is_scanning",
    "syscollector_set_agentd_query_func",
    "syscollector_release_resources",
];

/// Symbols the linker itself may define in any shared object.
const LINKER_SYMBOLS: [&str; 6] = ["_init", "_fini", "__bss_start", "_edata", "_end", "_etext"];

/// `target/<profile>/libsyscollector.so` for the profile this test was built with: the test
/// binary lives in `target/<profile>/deps/`.
fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary directory");
    let profile = deps.parent().expect("profile directory");
    let candidates = [
        profile.join("libsyscollector.so"),
        deps.join("libsyscollector.so"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "libsyscollector.so not found (looked at {candidates:?}); \
                 cargo builds the cdylib for integration tests, so the crate-type may have changed"
            )
        })
}

/// `(type letter, name)` of every defined dynamic symbol.
fn dynamic_symbols(lib: &Path) -> Vec<(char, String)> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .expect("run nm (binutils)");
    assert!(
        out.status.success(),
        "nm -D --defined-only {} failed: {}",
        lib.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            // "<address> <type> <name>"; the address column may be absent.
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, ty, name] | [ty, name] if ty.len() == 1 => {
                    Some((ty.chars().next().unwrap_or('?'), name.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn exports_exactly_the_c_abi() {
    let lib = library();
    let symbols = dynamic_symbols(&lib);
    assert!(
        !symbols.is_empty(),
        "{} has no dynamic symbols",
        lib.display()
    );

    // Version-node and linker-internal entries are not part of the ABI.
    let relevant: Vec<&(char, String)> = symbols
        .iter()
        .filter(|(ty, name)| *ty != 'A' && !LINKER_SYMBOLS.contains(&name.as_str()))
        .collect();
    for (ty, name) in &symbols {
        if !relevant.iter().any(|(_, n)| n == name) {
            eprintln!("ignored: {ty} {name}");
        }
    }

    let functions: BTreeSet<&str> = relevant
        .iter()
        .filter(|(ty, _)| matches!(ty, 'T' | 't' | 'W' | 'i'))
        .map(|(_, name)| name.as_str())
        .collect();
    let others: Vec<String> = relevant
        .iter()
        .filter(|(ty, _)| !matches!(ty, 'T' | 't' | 'W' | 'i'))
        .map(|(ty, name)| format!("{ty} {name}"))
        .collect();
    let expected: BTreeSet<&str> = EXPORTS.iter().copied().collect();

    let missing: Vec<&&str> = expected.difference(&functions).collect();
    let extra: Vec<&&str> = functions.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && others.is_empty(),
        "{}: exported functions differ from the C ABI\n  missing: {missing:?}\n  \
         unexpected functions: {extra:?}\n  unexpected other symbols: {others:?}",
        lib.display()
    );
}

#[test]
fn header_declares_the_same_functions() {
    let header = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/syscollector.h");
    let text = std::fs::read_to_string(&header).expect("read include/syscollector.h");
    let declared: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| {
            l.match_indices("syscollector_")
                .filter_map(|(i, _)| {
                    let rest = &l[i..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    let preceded = l[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                    (!preceded && rest[end..].starts_with('(')).then(|| rest[..end].to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<String> = EXPORTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        declared, expected,
        "include/syscollector.h and this test disagree"
    );
}
