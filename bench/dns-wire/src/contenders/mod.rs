//! The three parsers behind one interface, so the timing, allocation and robustness loops are written
//! once and monomorphised per library (no dynamic dispatch inside a timed loop).

pub mod hickory;
pub mod simple;
pub mod spool;

use crate::messages::Ask;
use crate::outcome::{Outcome, Rejected};

/// One DNS library, as a stub resolver would use it on a received datagram.
pub trait Parser {
    /// Column name in the tables.
    const NAME: &'static str;
    /// The question in the library's own types, built once before any timing.
    type Query;

    /// Converts the question into the library's types.
    fn prepare(ask: &Ask) -> Self::Query;

    /// Only the library's decoding of the whole message into its message type (then dropped).
    /// Returns whether it accepted the bytes.
    fn decode(msg: &[u8]) -> bool;

    /// The library's own description of why it cannot decode `msg`, if it cannot (for `explain`).
    fn decode_error(msg: &[u8]) -> Option<String>;

    /// Decoding, validation against `query`, and interpretation to addresses: the per-datagram work
    /// of a stub resolver.
    fn read(query: &Self::Query, msg: &[u8]) -> Result<Outcome, Rejected>;
}
