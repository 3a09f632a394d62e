//! Running one test's async body on a fresh spool runtime, bounded in time.
//!
//! Every request loop in a test is bounded in count; this bounds the whole test in time, so a hang
//! fails with a message instead of stalling the suite.

use std::future::Future;
use std::time::Duration;

/// How long a test's async body may take by default.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `future` to completion on a new runtime; panics if it takes longer than [`TEST_LIMIT`].
pub fn run<T>(future: impl Future<Output = T>) -> T {
    run_within(TEST_LIMIT, future)
}

/// Runs `future` to completion on a new runtime; panics if it takes longer than `limit`.
pub fn run_within<T>(limit: Duration, future: impl Future<Output = T>) -> T {
    spool_runtime::block_on(async {
        match spool_runtime::time::timeout(limit, future).await {
            Ok(out) => out,
            Err(_) => panic!("the test took longer than its limit of {limit:?}"),
        }
    })
}
