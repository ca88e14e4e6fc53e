//! What several test modules share, now that they are one test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use syscollector::Logger;

/// The variable that tells a re-executed test binary which test it runs alone.
const ALONE: &str = "SYSCOLLECTOR_TEST_ALONE";

/// For a test that changes process-wide state (the working directory, an environment
/// variable) which the other tests of this one binary share: `name` is the test's path in
/// this crate (`module::test`). In the test binary run by cargo this re-executes the binary
/// for that one test and fails if it fails, and returns `false` (the caller returns); in
/// that child it returns `true` (the caller runs its body, alone in its process).
pub fn alone_in_child(name: &str) -> bool {
    if std::env::var(ALONE).is_ok_and(|n| n == name) {
        return true;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(ALONE, name)
        .output()
        .expect("re-execute the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} in a child process: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The filter must have matched the test, or nothing was checked.
    assert!(
        stdout.contains("1 passed"),
        "{name} did not run in the child:\n{stdout}"
    );
    false
}

/// The fixture trees, `tests/fixtures` of this package.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One fixture tree, `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// A logger that keeps every message, and the messages it kept.
pub fn capture_logger() -> (Logger, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let logger: Logger = Arc::new(move |_, msg: &str| sink.lock().unwrap().push(msg.to_string()));
    (logger, lines)
}

/// Copies the tree `from` into `to` (made if missing), symbolic links as links (one that
/// exists already in `to`, as when trees are laid over each other, is kept).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let ty = entry.file_type().unwrap();
        if ty.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if ty.is_symlink() {
            let _ = std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
