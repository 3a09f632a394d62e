//! The shared driver of the `size-*` binaries: read one DNS message from standard input, read it with
//! one parser against the question given on the command line, print the outcome. Each binary links
//! only its own parser's code, so their sizes compare what each parser adds to a program.

use std::io::Read;

use crate::contenders::Parser;
use crate::messages::Ask;
use crate::outcome::Family;

/// `size-X ID NAME [A|AAAA] < message`: prints the parser's reading of the message.
pub fn run<P: Parser>() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: size-* ID NAME [A|AAAA] < message.bin";
    let id: u16 = args.next().and_then(|a| a.parse().ok()).expect(usage);
    let name: &'static str = Box::leak(args.next().expect(usage).into_boxed_str());
    let family = match args.next().as_deref() {
        None | Some("A") => Family::A,
        Some("AAAA") => Family::Aaaa,
        Some(_) => panic!("{usage}"),
    };
    let mut msg = Vec::new();
    std::io::stdin()
        .read_to_end(&mut msg)
        .expect("reading standard input");
    let query = P::prepare(&Ask { id, name, family });
    println!("{}: {:?}", P::NAME, P::read(&query, &msg));
}
