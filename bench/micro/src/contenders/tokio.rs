//! The benchmarks on tokio's current-thread runtime (the single-threaded configuration comparable to spool).
//!
//! Timed work runs inside `tokio::task::unconstrained`: tokio's cooperative budget would otherwise make a
//! sleep polled more than 128 times in one task poll return `Pending` without registering, and that
//! would flatter tokio's timer figures. tokio's `Sleep` is `!Unpin`, so a collection of them is boxed —
//! that allocation is part of what using many tokio timers costs.

use super::{spread, Contender};
use crate::baton::Baton;
use crate::counting_alloc::{self, Snapshot};
use std::future::{pending, poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::task::unconstrained;
use tokio::time::{sleep, sleep_until, Sleep};

/// tokio, `Builder::new_current_thread().enable_all()`.
pub struct Tokio;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

impl Contender for Tokio {
    const NAME: &'static str = "tokio";

    fn spawn_join(n: usize, reps: usize) -> Vec<Duration> {
        rt().block_on(async {
            let mut handles = Vec::with_capacity(n);
            let mut times = Vec::with_capacity(reps);
            for _ in 0..reps {
                let t = Instant::now();
                for i in 0..n {
                    handles.push(tokio::spawn(async move { i }));
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
            tokio::spawn(async move {
                let t = Instant::now();
                for _ in 0..n {
                    tokio::task::yield_now().await;
                }
                t.elapsed()
            })
            .await
            .unwrap()
        })
    }

    fn timer_register_cancel(pending_n: usize, iters: usize) -> Duration {
        rt().block_on(unconstrained(async {
            let far = Duration::from_secs(3600);
            let mut held: Vec<Pin<Box<Sleep>>> = (0..pending_n)
                .map(|i| Box::pin(sleep(far + spread(i))))
                .collect();
            poll_fn(|cx| {
                for s in held.iter_mut() {
                    assert!(s.as_mut().poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
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
        }))
    }

    fn timer_insert_fire(n: usize) -> (Duration, Duration) {
        rt().block_on(unconstrained(async {
            let base = Instant::now() + Duration::from_millis(300);
            let t0 = Instant::now();
            let mut sleeps: Vec<Pin<Box<Sleep>>> = (0..n)
                .map(|i| {
                    Box::pin(sleep_until(tokio::time::Instant::from_std(
                        base + spread(i),
                    )))
                })
                .collect();
            poll_fn(|cx| {
                for s in sleeps.iter_mut() {
                    black_box(s.as_mut().poll(cx).is_pending());
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
            for s in sleeps.iter_mut() {
                s.as_mut().await;
            }
            (insert, t1.elapsed())
        }))
    }

    fn round_trips(n: usize) -> Duration {
        rt().block_on(async {
            let baton = Arc::new(Baton::default());
            let b = baton.clone();
            let echo = tokio::spawn(async move {
                for _ in 0..n {
                    b.wait(1).await;
                    b.pass(1);
                }
            });
            let d = tokio::spawn(async move {
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
                handles.push(tokio::spawn(pending::<()>()));
            }
            tokio::spawn(async {}).await.unwrap();
            let snap = counting_alloc::stop();
            for h in &handles {
                h.abort();
            }
            drop(handles);
            snap
        })
    }
}
