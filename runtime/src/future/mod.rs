//! Combinators over plain futures (no spawning): [`join_all()`], asyncio's `gather`.

mod join_all;

pub use join_all::{join_all, JoinAll};
