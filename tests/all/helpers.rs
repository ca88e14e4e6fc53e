//! What several test modules share, now that they are one test binary.

use std::process::Command;

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
