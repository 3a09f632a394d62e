//! `spool-bench-dns-wire`: spool-dns's hand-written DNS response parser beside hickory-proto and
//! simple-dns, on the same four messages, in one run. Prints Markdown tables:
//!
//! 1. correctness: every library must read every sample as the expected addresses or NXDOMAIN (the
//!    program stops if one does not);
//! 2. time per message (median of 5 runs of N iterations), for the decode alone and for the whole
//!    decode + validate + interpret step, and heap allocations per parse (a counting allocator);
//! 3. robustness on 100,000 mutated messages: panics, parses over 1 ms, verdicts, worst time and the
//!    largest heap one parse held.
//!
//! ```text
//! spool-bench-dns-wire [ITERATIONS] [MUTATIONS]     # defaults 200000 100000
//! spool-bench-dns-wire explain HEX                  # how each library reads one message
//! ```
//!
//! `explain` reads one message (e.g. an input from the disagreement table) against the question of the
//! sample whose id it carries, and prints each library's verdict and decoding error.

mod counting_alloc;

use std::hint::black_box;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use spool_bench_dns_wire::contenders::hickory::Hickory;
use spool_bench_dns_wire::contenders::simple::Simple;
use spool_bench_dns_wire::contenders::spool::Spool;
use spool_bench_dns_wire::contenders::Parser;
use spool_bench_dns_wire::messages::{edge_cases, samples, Edge, Sample};
use spool_bench_dns_wire::mutate::{mutate, XorShift, SEED};
use spool_bench_dns_wire::outcome::{Outcome, Rejected};

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// Timing runs per figure; the median is reported.
const RUNS: usize = 5;
/// Parses per allocation count (the figure is the mean; it is the same for every parse anyway).
const ALLOC_PARSES: usize = 1000;
/// A parse slower than this counts as slow.
const SLOW: Duration = Duration::from_millis(1);

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("explain") {
        let hex = args
            .nth(1)
            .expect("usage: spool-bench-dns-wire explain HEX");
        explain(&samples(), &unhex(&hex));
        return;
    }
    let iterations: usize = args
        .next()
        .map(|a| a.parse().expect("ITERATIONS must be a number"))
        .unwrap_or(200_000);
    let mutations: usize = args
        .next()
        .map(|a| a.parse().expect("MUTATIONS must be a number"))
        .unwrap_or(100_000);
    let samples = samples();

    check_all(&samples);
    println!();
    edges(&edge_cases());
    println!();
    timing(&samples, iterations);
    println!();
    robustness(&samples, mutations);
}

/// Prints how each library reads `msg`, asked with the question of the sample whose id `msg` carries.
fn explain(samples: &[Sample], msg: &[u8]) {
    fn one<P: Parser>(s: &Sample, msg: &[u8]) {
        let got = P::read(&P::prepare(&s.ask), msg);
        println!("{}: {got:?}", P::NAME);
        if let Some(e) = P::decode_error(msg) {
            println!("    decode error: {e}");
        }
    }
    let id = msg.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let s = samples
        .iter()
        .find(|s| Some(s.ask.id) == id)
        .unwrap_or(&samples[0]);
    println!(
        "{} bytes, asked as in sample {:?}: {:?}",
        msg.len(),
        s.label,
        s.ask
    );
    one::<Spool>(s, msg);
    one::<Hickory>(s, msg);
    one::<Simple>(s, msg);
}

fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim();
    assert!(text.len().is_multiple_of(2), "odd number of hex digits");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// Asserts every library decodes every sample and reads the expected outcome from it.
fn check_all(samples: &[Sample]) {
    fn check<P: Parser>(s: &Sample) {
        assert!(P::decode(&s.bytes), "{} cannot decode {}", P::NAME, s.label);
        let got = P::read(&P::prepare(&s.ask), &s.bytes);
        assert_eq!(
            got,
            Ok(s.expected.clone()),
            "{} misreads {}",
            P::NAME,
            s.label
        );
    }
    println!("## Samples (checked: all three libraries read the same outcome)\n");
    println!("| message | bytes | outcome |");
    println!("|---|---:|---|");
    for s in samples {
        check::<Spool>(s);
        check::<Hickory>(s);
        check::<Simple>(s);
        println!(
            "| {} | {} | {} |",
            s.label,
            s.bytes.len(),
            describe(&s.expected)
        );
    }
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Addresses { addrs, ttl } => {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            format!("{} addresses, TTL {ttl}: {}", addrs.len(), list.join(" "))
        }
        Outcome::NxDomain { negative_ttl } => format!("NXDOMAIN, negative TTL {negative_ttl:?}"),
        Outcome::NoData { negative_ttl } => format!("NODATA, negative TTL {negative_ttl:?}"),
        Outcome::Other => "other".to_string(),
    }
}

/// A short form of a reading, for the edge-case table.
fn short(r: &Result<Outcome, Rejected>) -> String {
    match r {
        Ok(Outcome::Addresses { addrs, .. }) => {
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            if list.len() > 2 {
                format!("{} addresses", list.len())
            } else {
                format!("address {}", list.join(" "))
            }
        }
        Ok(Outcome::NxDomain { .. }) => "NXDOMAIN".to_string(),
        Ok(Outcome::NoData { .. }) => "NODATA".to_string(),
        Ok(Outcome::Other) => "other (error / TC / chain)".to_string(),
        Err(Rejected::Malformed) => "malformed".to_string(),
        Err(Rejected::Mismatch) => "not our answer".to_string(),
    }
}

/// Prints each library's reading of the edge cases (not asserted).
fn edges(cases: &[Edge]) {
    fn read<P: Parser>(e: &Edge) -> String {
        short(&P::read(&P::prepare(&e.ask), &e.bytes))
    }
    println!("## Edge cases (what each library reads; not asserted)\n");
    println!("| message | RFC reading | spool-dns | hickory-proto | simple-dns |");
    println!("|---|---|---|---|---|");
    for e in cases {
        println!(
            "| {} | {} | {} | {} | {} |",
            e.label,
            e.rfc,
            read::<Spool>(e),
            read::<Hickory>(e),
            read::<Simple>(e)
        );
    }
}

/// Nanoseconds per call of `f`, over `iterations` calls.
fn time_ns(iterations: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// (median, minimum) of the runs.
fn median_min(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

/// The figures of one library on one message.
struct Figures {
    decode_ns: (f64, f64),
    read_ns: (f64, f64),
    decode_allocs: f64,
    read_allocs: f64,
    read_reallocs: f64,
    read_bytes: f64,
}

/// Per-call allocation figures: allocations (reallocations included), of which reallocations, bytes.
struct PerCall {
    allocs: f64,
    reallocs: f64,
    bytes: f64,
}

/// Allocations, reallocations and bytes per call of `f`.
fn allocs_per_call(mut f: impl FnMut()) -> PerCall {
    f(); // any one-time initialisation stays out of the count
    counting_alloc::start();
    for _ in 0..ALLOC_PARSES {
        f();
    }
    let snap = counting_alloc::stop();
    let per = |n: usize| n as f64 / ALLOC_PARSES as f64;
    PerCall {
        allocs: per(snap.allocs),
        reallocs: per(snap.reallocs),
        bytes: per(snap.bytes),
    }
}

/// One run of each measurement for `P`, appended to `acc` (decode times, read times).
fn time_once<P: Parser>(
    q: &P::Query,
    msg: &[u8],
    iterations: usize,
    acc: &mut (Vec<f64>, Vec<f64>),
) {
    acc.0.push(time_ns(iterations, || {
        black_box(P::decode(black_box(msg)));
    }));
    acc.1.push(time_ns(iterations, || {
        black_box(P::read(black_box(q), black_box(msg))).ok();
    }));
}

fn allocs<P: Parser>(q: &P::Query, msg: &[u8]) -> (PerCall, PerCall) {
    let decode = allocs_per_call(|| {
        black_box(P::decode(black_box(msg)));
    });
    let read = allocs_per_call(|| {
        black_box(P::read(black_box(q), black_box(msg))).ok();
    });
    (decode, read)
}

fn timing(samples: &[Sample], iterations: usize) {
    println!(
        "## Time and allocations per parse ({iterations} iterations, median and minimum of {RUNS} runs)\n"
    );
    println!("`decode`: the library's message decoding alone. `read`: decode + validate against the question + follow the CNAME chain to the address list (or the negative TTL), as the resolver does per datagram.\n");
    println!("Allocations count reallocations too (a growing `Vec`); the column after them says how many of those were reallocations. Heap bytes: total requested per read.\n");
    println!("| message | library | decode ns (median / min) | read ns (median / min) | read vs spool (medians) | allocs/decode | allocs/read | of which realloc | heap bytes/read |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in samples {
        let qs = Spool::prepare(&s.ask);
        let qh = Hickory::prepare(&s.ask);
        let qm = Simple::prepare(&s.ask);
        let msg = s.bytes.as_slice();
        let mut runs: [(Vec<f64>, Vec<f64>); 3] = Default::default();
        // Warm up, then interleave the libraries run by run so drift on a shared machine hits all alike.
        time_once::<Spool>(&qs, msg, iterations / 10, &mut (Vec::new(), Vec::new()));
        time_once::<Hickory>(&qh, msg, iterations / 10, &mut (Vec::new(), Vec::new()));
        time_once::<Simple>(&qm, msg, iterations / 10, &mut (Vec::new(), Vec::new()));
        for _ in 0..RUNS {
            time_once::<Spool>(&qs, msg, iterations, &mut runs[0]);
            time_once::<Hickory>(&qh, msg, iterations, &mut runs[1]);
            time_once::<Simple>(&qm, msg, iterations, &mut runs[2]);
        }
        let alloc_figures = [
            allocs::<Spool>(&qs, msg),
            allocs::<Hickory>(&qh, msg),
            allocs::<Simple>(&qm, msg),
        ];
        let figures: Vec<Figures> = runs
            .into_iter()
            .zip(alloc_figures)
            .map(|((d, r), (decode, read))| Figures {
                decode_ns: median_min(d),
                read_ns: median_min(r),
                decode_allocs: decode.allocs,
                read_allocs: read.allocs,
                read_reallocs: read.reallocs,
                read_bytes: read.bytes,
            })
            .collect();
        let names = [Spool::NAME, Hickory::NAME, Simple::NAME];
        for (name, f) in names.iter().zip(&figures) {
            println!(
                "| {} | {} | {:.0} / {:.0} | {:.0} / {:.0} | {:.2}x | {} | {} | {} | {:.0} |",
                s.label,
                name,
                f.decode_ns.0,
                f.decode_ns.1,
                f.read_ns.0,
                f.read_ns.1,
                f.read_ns.0 / figures[0].read_ns.0,
                fmt_count(f.decode_allocs),
                fmt_count(f.read_allocs),
                fmt_count(f.read_reallocs),
                f.read_bytes,
            );
        }
    }
}

fn fmt_count(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// What one library did with the mutated messages.
#[derive(Default)]
struct Robust {
    accepted: usize,
    malformed: usize,
    mismatch: usize,
    panics: usize,
    slow: usize,
    worst: Duration,
    worst_heap: isize,
    heap_over_64k: usize,
    same_as_spool: usize,
    panic_examples: Vec<(String, Vec<u8>)>,
    /// (spool's verdict, this library's verdict) -> count and the first input, where they differ.
    disagreements: Vec<(Verdict, Verdict, usize, Vec<u8>)>,
}

impl Robust {
    fn disagree(&mut self, spool: Verdict, this: Verdict, msg: &[u8]) {
        match self
            .disagreements
            .iter_mut()
            .find(|d| d.0 == spool && d.1 == this)
        {
            Some(d) => d.2 += 1,
            None => self.disagreements.push((spool, this, 1, msg.to_vec())),
        }
    }
}

/// The verdict class of a reading, for comparing libraries on the same input.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Verdict {
    /// Read as an answer (the outcome is compared separately).
    Accepted,
    /// Rejected as malformed.
    Malformed,
    /// Well-formed but not an answer to the question.
    Mismatch,
    /// The library panicked.
    Panicked,
}

/// Compares another library's reading with spool's; records and returns whether they agree.
fn compare(
    spool: &(Verdict, Option<Outcome>),
    this: &(Verdict, Option<Outcome>),
    r: &mut Robust,
    msg: &[u8],
) -> bool {
    if spool == this {
        r.same_as_spool += 1;
        return true;
    }
    // Both accepted but read different outcomes: shown as Accepted -> Accepted.
    r.disagree(spool.0, this.0, msg);
    false
}

/// Reads `msg` with `P` under `catch_unwind`, timing it and measuring its heap peak.
fn probe<P: Parser>(q: &P::Query, msg: &[u8], r: &mut Robust) -> (Verdict, Option<Outcome>) {
    counting_alloc::start();
    let t = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| P::read(q, msg)));
    let mut elapsed = t.elapsed();
    let heap = counting_alloc::stop().peak;
    if elapsed > SLOW {
        // A shared machine can preempt any one call: it counts as slow only if it is slow every time.
        for _ in 0..3 {
            let t = Instant::now();
            let again = panic::catch_unwind(AssertUnwindSafe(|| P::read(q, msg)));
            drop(black_box(again));
            elapsed = elapsed.min(t.elapsed());
        }
        if elapsed > SLOW {
            r.slow += 1;
        }
    }
    r.worst = r.worst.max(elapsed);
    r.worst_heap = r.worst_heap.max(heap);
    if heap > 64 * 1024 {
        r.heap_over_64k += 1;
    }
    match result {
        Ok(Ok(o)) => {
            r.accepted += 1;
            (Verdict::Accepted, Some(o))
        }
        Ok(Err(Rejected::Malformed)) => {
            r.malformed += 1;
            (Verdict::Malformed, None)
        }
        Ok(Err(Rejected::Mismatch)) => {
            r.mismatch += 1;
            (Verdict::Mismatch, None)
        }
        Err(payload) => {
            r.panics += 1;
            if r.panic_examples.len() < 3 {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string panic)".to_string());
                r.panic_examples.push((text, msg.to_vec()));
            }
            (Verdict::Panicked, None)
        }
    }
}

fn robustness(samples: &[Sample], mutations: usize) {
    let others: Vec<&[u8]> = samples.iter().map(|s| s.bytes.as_slice()).collect();
    let queries: Vec<_> = samples
        .iter()
        .map(|s| {
            (
                Spool::prepare(&s.ask),
                Hickory::prepare(&s.ask),
                Simple::prepare(&s.ask),
            )
        })
        .collect();
    let mut rng = XorShift::new(SEED);
    let mut results: [Robust; 3] = Default::default();
    let mut all_agree = 0;

    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    for i in 0..mutations {
        let which = i % samples.len();
        let msg = mutate(&mut rng, &samples[which].bytes, &others);
        let (qs, qh, qm) = &queries[which];
        let s = probe::<Spool>(qs, &msg, &mut results[0]);
        let h = probe::<Hickory>(qh, &msg, &mut results[1]);
        let m = probe::<Simple>(qm, &msg, &mut results[2]);
        results[0].same_as_spool += 1;
        let h_agrees = compare(&s, &h, &mut results[1], &msg);
        let m_agrees = compare(&s, &m, &mut results[2], &msg);
        if h_agrees && m_agrees {
            all_agree += 1;
        }
    }
    let elapsed = started.elapsed();
    panic::set_hook(previous_hook);

    println!(
        "## Robustness: {mutations} mutated messages (seed {SEED:#x}, {:.0} ms for all)\n",
        elapsed.as_secs_f64() * 1e3
    );
    println!("Each mutation is 1-4 edits of one of the four samples (bit flips, random bytes, forged compression pointers, inflated counts, truncation, deletions, splices), read against that sample's question. `same as spool` counts inputs where the library reached the same verdict and, if accepted, the same outcome.\n");
    println!("| library | panics | slow (> 1 ms) | worst time | accepted | malformed | not our answer | same as spool | worst heap / parse | parses > 64 KiB heap |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let names = [Spool::NAME, Hickory::NAME, Simple::NAME];
    for (name, r) in names.iter().zip(&results) {
        println!(
            "| {} | {} | {} | {:.1} µs | {} | {} | {} | {} | {} | {} |",
            name,
            r.panics,
            r.slow,
            r.worst.as_secs_f64() * 1e6,
            r.accepted,
            r.malformed,
            r.mismatch,
            r.same_as_spool,
            fmt_bytes(r.worst_heap),
            r.heap_over_64k,
        );
    }
    println!(
        "\nAll three reached the same verdict and outcome on {all_agree} of {mutations} inputs."
    );
    println!("\nWhere a crate's verdict differs from spool-dns's (`Accepted -> Accepted`: both accepted, different outcome), with the first such input:\n");
    println!("| library | spool-dns | library's verdict | inputs | first input (hex) |");
    println!("|---|---|---|---:|---|");
    for (name, r) in names.iter().zip(&results).skip(1) {
        let mut d = r.disagreements.clone();
        d.sort_by_key(|x| std::cmp::Reverse(x.2));
        for (spool, this, n, msg) in d {
            println!("| {name} | {spool:?} | {this:?} | {n} | `{}` |", hex(&msg));
        }
    }
    for (name, r) in names.iter().zip(&results) {
        for (text, msg) in &r.panic_examples {
            println!(
                "\n{name} panicked: {text}\n  input ({} bytes): {}",
                msg.len(),
                hex(msg)
            );
        }
    }
}

fn fmt_bytes(b: isize) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
    } else if b >= 1 << 10 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
