//! `size-baseline`: the `size-*` driver (arguments, standard input, printing the outcome) with no DNS
//! parser at all, so the other binaries' sizes can be read as "baseline + parser".

use spool_bench_dns_wire::contenders::Parser;
use spool_bench_dns_wire::messages::Ask;
use spool_bench_dns_wire::outcome::{Outcome, Rejected};

/// A parser that rejects everything without looking.
struct NoParser;

impl Parser for NoParser {
    const NAME: &'static str = "none";
    type Query = Ask;

    fn prepare(ask: &Ask) -> Ask {
        *ask
    }

    fn decode(_msg: &[u8]) -> bool {
        false
    }

    fn decode_error(_msg: &[u8]) -> Option<String> {
        None
    }

    fn read(_query: &Ask, msg: &[u8]) -> Result<Outcome, Rejected> {
        // Depend on the input so the printing is not folded away.
        match msg.first() {
            Some(_) => Ok(Outcome::Other),
            None => Err(Rejected::Malformed),
        }
    }
}

fn main() {
    spool_bench_dns_wire::one::run::<NoParser>();
}
