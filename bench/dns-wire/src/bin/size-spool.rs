//! `size-spool`: one message read with spool-dns only (see `one.rs`), for the binary-size comparison.

fn main() {
    spool_bench_dns_wire::one::run::<spool_bench_dns_wire::contenders::spool::Spool>();
}
