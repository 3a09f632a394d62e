//! CPU time of the calling thread, from `/proc/thread-self/schedstat` (nanoseconds on CPU), so a
//! figure counts the client's own work and not nginx's on the other core.

use std::time::{Duration, Instant};

/// Wall-clock and thread-CPU time of one measured run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub ops: u64,
    pub wall: Duration,
    pub cpu: Duration,
}

impl Sample {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }

    pub fn cpu_us_per_op(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.ops as f64
    }
}

/// Runs `f` (which reports how many operations it did) and times it.
pub fn measure(f: impl FnOnce() -> u64) -> Sample {
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    let ops = f();
    Sample {
        ops,
        wall: wall0.elapsed(),
        cpu: thread_cpu().saturating_sub(cpu0),
    }
}

fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    let ns: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("schedstat starts with the CPU time in ns");
    Duration::from_nanos(ns)
}
