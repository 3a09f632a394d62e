//! The benchmarks on spool-runtime.

use super::{spread, Contender};
use crate::baton::Baton;
use crate::counting_alloc::{self, Snapshot};
use spool_runtime::time::{sleep, sleep_until, Sleep};
use spool_runtime::{spawn, yield_now, Runtime};
use std::future::{pending, poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// spool-runtime with default settings.
pub struct Spool;

fn rt() -> Runtime {
    Runtime::new().expect("spool runtime")
}

impl Contender for Spool {
    const NAME: &'static str = "spool";

    fn spawn_join(n: usize, reps: usize) -> Vec<Duration> {
        rt().block_on(async {
            let mut handles = Vec::with_capacity(n);
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                let t = Instant::now();
                for i in 0..n {
                    handles.push(spawn(async move { i }));
                }
                let mut sum = 0;
                for h in handles.drain(..) {
                    sum += h.await.unwrap();
                }
                times.push(t.elapsed());
                black_box(sum);
            }
            times
        })
    }

    fn yields(n: u64) -> Duration {
        rt().block_on(async {
            spawn(async move {
                let t = Instant::now();
                for _ in 0..n {
                    yield_now().await;
                }
                t.elapsed()
            })
            .await
            .unwrap()
        })
    }

    fn timer_register_cancel(pending_n: usize, iters: usize) -> Duration {
        rt().block_on(async {
            let far = Duration::from_secs(3600);
            let mut held: Vec<Sleep> = (0..pending_n).map(|i| sleep(far + spread(i))).collect();
            poll_fn(|cx| {
                for s in held.iter_mut() {
                    assert!(Pin::new(s).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            assert_eq!(spool_runtime::current_stats().unwrap().timers, pending_n);
            let t = Instant::now();
            poll_fn(|cx| {
                for i in 0..iters {
                    let mut s = pin!(sleep(far + spread(i)));
                    black_box(s.as_mut().poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let d = t.elapsed();
            drop(held);
            d
        })
    }

    fn timer_insert_fire(n: usize) -> (Duration, Duration) {
        rt().block_on(async {
            let base = Instant::now() + Duration::from_millis(300);
            let t0 = Instant::now();
            let mut sleeps: Vec<Sleep> = (0..n).map(|i| sleep_until(base + spread(i))).collect();
            poll_fn(|cx| {
                for s in sleeps.iter_mut() {
                    black_box(Pin::new(s).poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            let insert = t0.elapsed();
            // Let every deadline pass without turning the loop, so the next part times only the firing.
            std::thread::sleep(
                (base + spread(999)).saturating_duration_since(Instant::now())
                    + Duration::from_millis(1),
            );
            let t1 = Instant::now();
            for s in sleeps.iter_mut() {
                s.await;
            }
            (insert, t1.elapsed())
        })
    }

    fn round_trips(n: usize) -> Duration {
        rt().block_on(async {
            let baton = Arc::new(Baton::default());
            let b = baton.clone();
            let echo = spawn(async move {
                for _ in 0..n {
                    b.wait(1).await;
                    b.pass(1);
                }
            });
            let d = spawn(async move {
                let t = Instant::now();
                for _ in 0..n {
                    baton.pass(0);
                    baton.wait(0).await;
                }
                t.elapsed()
            })
            .await
            .unwrap();
            echo.await.unwrap();
            d
        })
    }

    fn sleep_1ms(samples: usize) -> Vec<Duration> {
        rt().block_on(async {
            let mut out = Vec::with_capacity(samples);
            for _ in 0..samples {
                let t = Instant::now();
                sleep(Duration::from_millis(1)).await;
                out.push(t.elapsed());
            }
            out
        })
    }

    fn task_bytes(n: usize) -> Snapshot {
        rt().block_on(async {
            let mut handles = Vec::with_capacity(n);
            counting_alloc::start();
            for _ in 0..n {
                handles.push(spawn(pending::<()>()));
            }
            // The run queue is FIFO: once this last task has run, every other one was polled once.
            spawn(async {}).await.unwrap();
            let snap = counting_alloc::stop();
            drop(handles);
            snap
        })
    }
}
