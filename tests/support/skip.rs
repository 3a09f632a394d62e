//! What a test does when a program it needs (nginx, its echo module, openssl) is missing.
//!
//! On a developer's machine the test skips and says so; under CI (`CI=true`) a missing program is a
//! failure, because `.ci/run` installs everything and a silent skip there would hide lost coverage.

use std::io::Write;

/// True when running under CI (`CI=true` or `CI=1`), where missing programs fail the test.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

/// Reports that `what` is missing: panics under CI, otherwise prints a skip notice naming the
/// running test and `hint` (how to install it). The caller then returns early.
pub fn missing(what: &str, hint: &str) {
    let test = current_test();
    if in_ci() {
        panic!("{test}: {what} is missing, and CI=true requires it ({hint})");
    }
    notice(&format!(
        "SKIPPED {test}: {what} is missing ({hint}); set CI=true to make this a failure"
    ));
}

/// Prints a skip notice naming the running test and `reason`, whatever `CI` says.
pub fn skipped(reason: &str) {
    notice(&format!("SKIPPED {}: {reason}", current_test()));
}

/// Prints `message` on the real standard error.
///
/// Why not `eprintln!`: the test runner captures `eprintln!` output and shows it only for failing
/// tests, so a skip notice would be invisible exactly when the test "passes" by skipping.
pub fn notice(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "spool test harness: {message}");
}

/// The name of the running test: libtest names each test's thread after the test.
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string()
}
