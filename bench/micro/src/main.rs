//! spool-runtime micro-benchmark: the cost of the runtime's basic moves, beside tokio's current-thread
//! runtime and smol's `LocalExecutor`, measured in the same run on the same machine.
//!
//! Each row is the same work written once per runtime (see `contenders/`); the figure is the median over
//! several repetitions, per operation. Run it pinned to one core for steadier numbers:
//!
//! ```text
//! cd bench/micro && cargo build --release && taskset -c 1 target/release/spool-bench-micro
//! ```
//!
//! The "target" column holds the budgets issue 7 sets for spool; they are goals, not pass/fail checks.

mod baton;
mod contenders;
mod counting_alloc;

use contenders::smol::Smol;
use contenders::spool::Spool;
use contenders::tokio::Tokio;
use contenders::Contender;
use std::time::Duration;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// How many times each timed benchmark is repeated (the median is reported).
const REPS: usize = 5;
/// Tasks per task-overhead measurement: with the one sentinel task, a power of two (16,384), so vectors
/// that double end exactly full and unused capacity does not inflate the figure.
const OVERHEAD_TASKS: usize = 16_383;

/// One row: a label, one cell per runtime, the target.
struct Row {
    label: &'static str,
    cells: Vec<String>,
    target: &'static str,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn ns_per(d: Duration, ops: usize) -> f64 {
    d.as_nanos() as f64 / ops as f64
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Every figure for one runtime, in row order.
fn measure<C: Contender>() -> Vec<String> {
    eprintln!("measuring {} ...", C::NAME);
    let mut cells = Vec::new();

    for (n, reps) in [(1_000usize, 200usize), (100_000, REPS)] {
        let times = C::spawn_join(n, reps);
        cells.push(format!(
            "{:.0}",
            median(times.iter().map(|d| ns_per(*d, n)).collect())
        ));
        if n == 100_000 {
            // The first repetition runs on a fresh heap; later ones show what allocator reuse costs.
            cells.push(format!("{:.0}", ns_per(times[0], n)));
        }
    }

    let n = 1_000_000u64;
    cells.push(format!(
        "{:.1}",
        median(
            (0..REPS)
                .map(|_| ns_per(C::yields(n), n as usize))
                .collect()
        )
    ));

    let iters = 1_000_000;
    cells.push(format!(
        "{:.0}",
        median(
            (0..3)
                .map(|_| ns_per(C::timer_register_cancel(100_000, iters), iters))
                .collect()
        )
    ));

    let n = 100_000;
    let runs: Vec<(Duration, Duration)> = (0..3).map(|_| C::timer_insert_fire(n)).collect();
    let insert = median(runs.iter().map(|r| ns_per(r.0, n)).collect());
    let fire = median(runs.iter().map(|r| ns_per(r.1, n)).collect());
    cells.push(format!("{insert:.0}"));
    cells.push(format!("{fire:.0}"));
    cells.push(format!("{:.0}", insert + fire));

    let n = 200_000;
    cells.push(format!(
        "{:.0}",
        median((0..REPS).map(|_| ns_per(C::round_trips(n), n)).collect())
    ));

    let mut lat = C::sleep_1ms(500);
    lat.sort();
    let early = lat
        .iter()
        .filter(|d| **d < Duration::from_millis(1))
        .count();
    cells.push(format!("{:.0}", percentile(&lat, 0.5).as_secs_f64() * 1e6));
    cells.push(format!("{:.0}", percentile(&lat, 0.99).as_secs_f64() * 1e6));
    cells.push(format!("{:.0} ({early} early)", lat[0].as_secs_f64() * 1e6));

    let snap = C::task_bytes(OVERHEAD_TASKS);
    cells.push(format!(
        "{:.0}",
        snap.live_bytes as f64 / OVERHEAD_TASKS as f64
    ));
    cells.push(format!("{:.2}", snap.allocs as f64 / OVERHEAD_TASKS as f64));
    cells
}

/// `spool-bench-micro one <benchmark> <runtime>` runs a single benchmark, for profilers
/// (`perf record`, `valgrind --tool=callgrind`). Benchmarks: spawn1k, spawn100k, yield, timer-cancel,
/// timer-fire, roundtrip, sleep, bytes. Runtimes: spool, tokio, smol.
fn one(bench: &str, runtime: &str) {
    match runtime {
        "spool" => one_on::<Spool>(bench),
        "tokio" => one_on::<Tokio>(bench),
        "smol" => one_on::<Smol>(bench),
        other => panic!("unknown runtime {other:?} (spool, tokio, smol)"),
    }
}

fn one_on<C: Contender>(bench: &str) {
    match bench {
        "spawn1k" => println!(
            "{:?}",
            C::spawn_join(1_000, 2_000)
                .iter()
                .map(|d| ns_per(*d, 1_000))
                .fold(f64::MAX, f64::min)
        ),
        "spawn100k" => println!(
            "{:?}",
            C::spawn_join(100_000, 20)
                .iter()
                .map(|d| ns_per(*d, 100_000))
                .collect::<Vec<_>>()
        ),
        "yield" => println!("{:?}", ns_per(C::yields(10_000_000), 10_000_000)),
        "timer-cancel" => println!(
            "{:?}",
            ns_per(C::timer_register_cancel(100_000, 5_000_000), 5_000_000)
        ),
        "timer-fire" => println!("{:?}", C::timer_insert_fire(100_000)),
        "roundtrip" => println!("{:?}", ns_per(C::round_trips(1_000_000), 1_000_000)),
        "sleep" => {
            let mut lat = C::sleep_1ms(2_000);
            lat.sort();
            println!(
                "median {:?} p99 {:?}",
                percentile(&lat, 0.5),
                percentile(&lat, 0.99)
            );
        }
        "bytes" => {
            counting_alloc::record_sizes(true);
            let snap = C::task_bytes(OVERHEAD_TASKS);
            counting_alloc::record_sizes(false);
            println!("{snap:?}; allocation sizes seen (size: count):");
            for (size, count) in counting_alloc::sizes() {
                println!("  {size:>8}: {count}");
            }
        }
        other => panic!("unknown benchmark {other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, bench, runtime] = args.as_slice() {
        assert_eq!(
            cmd, "one",
            "usage: spool-bench-micro [one <benchmark> <runtime>]"
        );
        return one(bench, runtime);
    }
    let labels: [(&str, &str); 14] = [
        ("spawn+join per task, 1k tasks (ns)", "<= 150"),
        ("spawn+join per task, 100k tasks (ns)", "<= 150"),
        ("  the same, first repetition only (ns)", ""),
        ("yield_now (ns)", "<= 60"),
        ("timer register+cancel, 100k pending (ns)", "<= 150"),
        ("timer insert, 100k timers (ns/timer)", ""),
        ("timer fire+poll, 100k timers (ns/timer)", ""),
        ("timer insert+fire, 100k timers (ns/timer)", ""),
        ("wake+poll round trip, 2 tasks (ns)", ""),
        ("sleep(1 ms) latency median (us)", ""),
        ("sleep(1 ms) latency p99 (us)", ""),
        ("sleep(1 ms) latency min (us)", ">= 1000"),
        ("heap bytes per pending task (+ handle)", "<= 64"),
        ("allocations per task", ""),
    ];
    let columns = [measure::<Spool>(), measure::<Tokio>(), measure::<Smol>()];
    let rows: Vec<Row> = labels
        .iter()
        .enumerate()
        .map(|(i, (label, target))| Row {
            label,
            cells: columns.iter().map(|c| c[i].clone()).collect(),
            target,
        })
        .collect();

    println!(
        "{:<44} {:>16} {:>16} {:>16}  target (issue 7)",
        "benchmark",
        Spool::NAME,
        Tokio::NAME,
        Smol::NAME,
    );
    for r in rows {
        println!(
            "{:<44} {:>16} {:>16} {:>16}  {}",
            r.label, r.cells[0], r.cells[1], r.cells[2], r.target
        );
    }
}
