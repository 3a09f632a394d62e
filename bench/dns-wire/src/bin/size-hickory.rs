//! `size-hickory`: one message read with hickory-proto only (see `one.rs`), for the binary-size
//! comparison.

fn main() {
    spool_bench_dns_wire::one::run::<spool_bench_dns_wire::contenders::hickory::Hickory>();
}
