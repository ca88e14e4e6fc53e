//! Build script: gives `libsyscollector.so` its SONAME (the name the Wazuh agent's C++ module
//! has and the agent loads), so the linker records it in whatever links the library; and
//! gives the crate `SYSCOLLECTOR_SOURCE_DIGEST`, a digest of its own source files, so that
//! what a build stores as "rows of unchanged sources" is never trusted by a build whose
//! code could make other rows of them (see `src/dbsync/sources.rs`).

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsyscollector.so");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    let mut h = std::hash::DefaultHasher::new();
    for f in &files {
        f.hash(&mut h);
        // An unreadable file hashes as empty; the build itself would then fail anyway.
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    println!(
        "cargo:rustc-env=SYSCOLLECTOR_SOURCE_DIGEST={:016x}",
        h.finish()
    );
}
