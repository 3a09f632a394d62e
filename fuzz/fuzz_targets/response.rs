//! The response state machine (`proto::ClientConn`) on arbitrary bytes, in arbitrary reads.
//!
//! Checked: no panic; the event contract (one head first, no empty data, `End` agrees with the
//! connection); the decoder always settles at EOF; a response that completes does so identically
//! however its bytes are split into reads; and a connection left reusable really is.
#![no_main]

#[path = "common/exchange.rs"]
mod exchange;

use exchange::{check_reuse, check_same, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(case) = Case::parse(data) else {
        return;
    };
    let (_, whole) = exchange::exchange(&case, &[case.response]);
    let (mut conn, split) = exchange::exchange(&case, &case.pieces());
    check_same(&whole, &split);
    if case.head_method && whole.finish != exchange::Finish::Pending {
        assert!(whole.body.is_empty(), "a HEAD response with a body");
    }
    check_reuse(&mut conn, &split);
});
