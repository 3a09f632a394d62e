//! `size-simple`: one message read with simple-dns only (see `one.rs`), for the binary-size comparison.

fn main() {
    spool_bench_dns_wire::one::run::<spool_bench_dns_wire::contenders::simple::Simple>();
}
