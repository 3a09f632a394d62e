//! The benchmarks on smol: a `LocalExecutor` (single-threaded, `!Send` tasks allowed, like spool) driven by
//! `smol::block_on`, which also drives async-io's reactor and timers on the calling thread.

use super::{spread, Contender};
use crate::baton::Baton;
use crate::counting_alloc::{self, Snapshot};
use smol::{LocalExecutor, Timer};
use std::future::{pending, poll_fn, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// smol 2: `LocalExecutor` + `smol::block_on`.
pub struct Smol;

impl Contender for Smol {
    const NAME: &'static str = "smol";

    fn spawn_join(n: usize, reps: usize) -> Vec<Duration> {
        let ex = LocalExecutor::new();
        smol::block_on(ex.run(async {
            let mut handles = Vec::with_capacity(n);
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                let t = Instant::now();
                for i in 0..n {
                    handles.push(ex.spawn(async move { i }));
                }
                let mut sum = 0;
                for h in handles.drain(..) {
                    sum += h.await;
                }
                times.push(t.elapsed());
                black_box(sum);
            }
            times
        }))
    }

    fn yields(n: u64) -> Duration {
        let ex = LocalExecutor::new();
        smol::block_on(ex.run(async {
            ex.spawn(async move {
                let t = Instant::now();
                for _ in 0..n {
                    smol::future::yield_now().await;
                }
                t.elapsed()
            })
            .await
        }))
    }

    fn timer_register_cancel(pending_n: usize, iters: usize) -> Duration {
        let ex = LocalExecutor::new();
        smol::block_on(ex.run(async {
            let far = Duration::from_secs(3600);
            let mut held: Vec<Timer> = (0..pending_n)
                .map(|i| Timer::after(far + spread(i)))
                .collect();
            poll_fn(|cx| {
                for t in held.iter_mut() {
                    assert!(Pin::new(t).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let t = Instant::now();
            poll_fn(|cx| {
                for i in 0..iters {
                    let mut timer = Timer::after(far + spread(i));
                    black_box(Pin::new(&mut timer).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let d = t.elapsed();
            drop(held);
            d
        }))
    }

    fn timer_insert_fire(n: usize) -> (Duration, Duration) {
        let ex = LocalExecutor::new();
        smol::block_on(ex.run(async {
            let base = Instant::now() + Duration::from_millis(300);
            let t0 = Instant::now();
            let mut timers: Vec<Timer> = (0..n).map(|i| Timer::at(base + spread(i))).collect();
            poll_fn(|cx| {
                for t in timers.iter_mut() {
                    black_box(Pin::new(t).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let insert = t0.elapsed();
            std::thread::sleep(
                (base + spread(999)).saturating_duration_since(Instant::now())
                    + Duration::from_millis(1),
            );
            let t1 = Instant::now();
            for t in timers.iter_mut() {
                t.await;
            }
            (insert, t1.elapsed())
        }))
    }

    fn round_trips(n: usize) -> Duration {
        let ex = LocalExecutor::new();
        smol::block_on(ex.run(async {
            let baton = Arc::new(Baton::default());
            let b = baton.clone();
            let echo = ex.spawn(async move {
                for _ in 0..n {
                    b.wait(1).await;
                    b.pass(1);
                }
            });
            let d = ex
                .spawn(async move {
                    let t = Instant::now();
                    for _ in 0..n {
                        baton.pass(0);
                        baton.wait(0).await;
                    }
                    t.elapsed()
                })
                .await;
            echo.await;
            d
        }))
    }

    fn sleep_1ms(samples: usize) -> Vec<Duration> {
        smol::block_on(async {
            let mut out = Vec::with_capacity(samples);
            for _ in 0..samples {
                let t = Instant::now();
                Timer::after(Duration::from_millis(1)).await;
                out.push(t.elapsed());
            }
            out
        })
    }

    fn task_bytes(n: usize) -> Snapshot {
        let ex = LocalExecutor::new();
        smol::block_on(ex.run(async {
            let mut handles = Vec::with_capacity(n);
            counting_alloc::start();
            for _ in 0..n {
                handles.push(ex.spawn(pending::<()>()));
            }
            ex.spawn(async {}).await;
            let snap = counting_alloc::stop();
            drop(handles);
            snap
        }))
    }
}
