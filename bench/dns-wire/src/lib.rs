//! The benchmark's library half: the sample messages, the three parsers behind one trait, the
//! resolver-level rules applied to the two crates' output, the mutation generator, and the driver of
//! the `size-*` binaries. `main.rs` runs the measurements; `src/bin/` holds one small binary per
//! parser for comparing release binary sizes.

pub mod contenders;
pub mod messages;
pub mod mutate;
pub mod one;
pub mod outcome;
