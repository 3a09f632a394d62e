//! `spawn_blocking`: run a blocking function (such as the system's `getaddrinfo`) on a helper thread and
//! await its result on the loop without blocking it.
//!
//! The helper threads form a small pool shared by the process: started on demand up to a cap, each exits
//! after a while without work. The result is handed back through a mutex-protected slot; the helper thread
//! wakes the awaiting task with its `Waker`, and because that wake comes from another thread it reaches
//! the loop through the driver's unparker (the `mio::Waker`).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// At most this many helper threads exist at once; further jobs queue.
const MAX_THREADS: usize = 64;
/// A helper thread with no work for this long exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            queue: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        work: Condvar::new(),
    })
}

impl Pool {
    fn submit(&'static self, job: Job) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.queue.push_back(job);
        // Each queued job needs a worker of its own. An idle worker counts as idle until it actually wakes,
        // so testing `idle > 0` alone would hand a whole burst of jobs to one idle worker, to run one after
        // another behind a blocking call: start a thread whenever jobs outnumber idle workers.
        if st.queue.len() <= st.idle {
            self.work.notify_one();
        } else if st.threads < MAX_THREADS {
            st.threads += 1;
            drop(st);
            let spawned = thread::Builder::new()
                .name("spool-blocking".into())
                .spawn(move || self.worker());
            if spawned.is_err() {
                // Could not start a thread: the job stays queued for an existing worker, if any.
                self.state.lock().unwrap_or_else(|p| p.into_inner()).threads -= 1;
            }
        }
    }

    fn worker(&'static self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                job();
                st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                continue;
            }
            st.idle += 1;
            let (guard, wait) = self
                .work
                .wait_timeout(st, IDLE_EXIT)
                .unwrap_or_else(|p| p.into_inner());
            st = guard;
            st.idle -= 1;
            if wait.timed_out() && st.queue.is_empty() {
                st.threads -= 1;
                return;
            }
        }
    }
}

/// Where the worker thread leaves the result and finds the waker of the task awaiting it.
struct Handoff<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// The result of [`spawn_blocking`], as a future.
pub struct BlockingTask<T> {
    slot: Arc<Mutex<Handoff<T>>>,
}

/// Run `f` on a helper thread; the returned future completes with its result.
///
/// If `f` panics, awaiting the result re-raises the panic in the awaiting task. Dropping the future does
/// not stop `f` (a blocking call cannot be interrupted); its result is discarded.
///
/// ```
/// let n = spool_runtime::block_on(spool_runtime::spawn_blocking(|| 2 + 2));
/// assert_eq!(n, 4);
/// ```
pub fn spawn_blocking<F, T>(f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Handoff {
        result: None,
        waker: None,
    }));
    let theirs = slot.clone();
    pool().submit(Box::new(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let waker = {
            let mut s = theirs.lock().unwrap_or_else(|p| p.into_inner());
            s.result = Some(result);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }));
    BlockingTask { slot }
}

impl<T> Future for BlockingTask<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match s.result.take() {
            Some(Ok(v)) => Poll::Ready(v),
            Some(Err(panic)) => {
                drop(s);
                std::panic::resume_unwind(panic)
            }
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
