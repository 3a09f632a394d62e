//! The scheduler: which URL starts when. One coordinator on the loop's thread reads URLs, keeps at most
//! `--concurrency` requests in flight and at most `--per-host` per origin, and turns each finished request
//! into exactly one result.
//!
//! # Fairness within a bounded window
//!
//! URLs are read ahead into a window of at most `window` parked entries (4 × concurrency, at least 1024),
//! each parked in a queue of its origin ([`Queues`]). Origins with a parked URL and room under their cap
//! take turns at free slots. So an origin at its cap never holds back URLs of other origins (as long as
//! they are within the window), and a slow origin only ever occupies its own `--per-host` slots.
//! The window is what keeps memory bounded by concurrency rather than by the length of the input.
//!
//! # Exactly one result per URL
//!
//! Each request runs in its own task, which hands its [`Attempt`] to the coordinator through a queue.
//! A guard in the task reports a failure if the task dies without doing so (a panic), so no URL is lost.
//! Lines that cannot be URLs are reported as soon as they are read.
//!
//! # Running out of file descriptors
//!
//! The concurrency given here is already planned within the open-files limit (`rlimit::Budget`); this
//! is the fallback for when the plan is off. A request that could not get a socket (`EMFILE`, `ENFILE`)
//! comes back as
//! [`Attempt::OutOfDescriptors`]: its URL goes back to the front of its queue and the number of requests
//! allowed in flight drops to what is in flight now, then grows by one per finished request (so the tool
//! settles just under the limit instead of failing URLs). With nothing in flight there is nothing to wait
//! for, so the retry is delayed instead; a URL gives up only after `fd_patience` of that.
//!
//! # How the coordinator runs
//!
//! [`run`] is one `poll_fn`: each poll takes finished requests, reads input into the window, starts what
//! may start, redraws the progress bar when due, and returns `Pending` having registered its waker with
//! every source of news (the finished queue, a pipe read in flight, the redraw and retry timers).

use crate::input::{Entry, Input};
use crate::outcome::{Kind, Outcome};
use crate::progress::{Tally, REDRAW};
use crate::queues::{Job, Queues};
use spool_runtime::time::{sleep, Sleep};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How long a retry waits after running out of descriptors with nothing in flight.
const FD_RETRY_DELAY: Duration = Duration::from_millis(50);

/// The limits the scheduler keeps.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests in flight at most (≥ 1).
    pub concurrency: usize,
    /// Requests in flight per origin at most; 0 = no limit.
    pub per_host: usize,
    /// Parked URLs read ahead at most.
    pub window: usize,
    /// How long a URL may keep failing to get a descriptor while nothing else is in flight.
    pub fd_patience: Duration,
}

impl Settings {
    /// The window for `concurrency`: 4 × concurrency, at least 1024.
    pub fn window_for(concurrency: usize) -> usize {
        concurrency.saturating_mul(4).max(1024)
    }
}

/// How one request attempt ended.
#[derive(Debug)]
pub enum Attempt {
    /// With a response or a failure: the URL's result (`elapsed` is filled in by the scheduler).
    Done(Outcome),
    /// No socket or file could be opened for lack of descriptors: try again later.
    OutOfDescriptors(String),
}

/// Where results go, and the periodic chores (flushing, progress).
pub trait Report {
    /// One URL finished.
    fn finished(&mut self, outcome: &Outcome, tally: &Tally) -> io::Result<()>;
    /// Called about every [`REDRAW`] while [`wants_ticks`](Report::wants_ticks) says so.
    fn tick(&mut self, tally: &Tally, total: Option<u64>, in_flight: usize) -> io::Result<()>;
    /// Whether a tick is due work (a bar to redraw, buffered lines to flush).
    fn wants_ticks(&self) -> bool;
}

/// How the run ended, when it was not cut short by an output error.
#[derive(Debug)]
pub struct Finish {
    /// Counts of all URLs.
    pub tally: Tally,
    /// Reading the input failed part-way (the URLs read before were all handled).
    pub input_error: Option<io::Error>,
}

/// Fetch every URL of `input` with `start(index, url)`, under `settings`, reporting each result to
/// `report`. Returns when every URL read has its result; fails only when `report` does.
pub async fn run<F, Fut>(
    input: &mut Input,
    settings: &Settings,
    start: F,
    report: &mut dyn Report,
) -> io::Result<Finish>
where
    F: FnMut(u64, Rc<str>) -> Fut,
    Fut: Future<Output = Attempt> + 'static,
{
    let mut s = Scheduler {
        input,
        settings,
        start,
        report,
        finished: Rc::new(Finished::default()),
        queues: Queues::new(settings.per_host),
        in_flight: 0,
        limit: settings.concurrency,
        tally: Tally::default(),
        input_done: false,
        input_error: None,
        tick: None,
        retry: None,
    };
    poll_fn(|cx| s.poll(cx)).await?;
    Ok(Finish {
        tally: s.tally,
        input_error: s.input_error,
    })
}

/// Finished attempts, handed from request tasks to the coordinator.
#[derive(Default)]
struct Finished {
    queue: RefCell<VecDeque<(Job, Attempt)>>,
    waker: RefCell<Option<Waker>>,
}

impl Finished {
    fn push(&self, job: Job, attempt: Attempt) {
        self.queue.borrow_mut().push_back((job, attempt));
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// Lives in each request task; delivers its result, or a failure if the task dies first.
struct Delivery {
    finished: Rc<Finished>,
    job: Option<Job>,
}

impl Delivery {
    fn deliver(mut self, attempt: Attempt) {
        if let Some(job) = self.job.take() {
            self.finished.push(job, attempt);
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            let o = Outcome::failed(
                job.index,
                job.url.clone(),
                Kind::Other,
                "request task panicked",
            );
            self.finished.push(job, Attempt::Done(o));
        }
    }
}

struct Scheduler<'a, F> {
    input: &'a mut Input,
    settings: &'a Settings,
    start: F,
    report: &'a mut dyn Report,
    finished: Rc<Finished>,
    queues: Queues,
    in_flight: usize,
    /// Requests allowed in flight now: `concurrency`, less while descriptors are short.
    limit: usize,
    tally: Tally,
    input_done: bool,
    input_error: Option<io::Error>,
    /// Next redraw/flush, while ticks are wanted.
    tick: Option<Sleep>,
    /// No starts before this fires (out of descriptors with nothing in flight).
    retry: Option<Sleep>,
}

impl<F, Fut> Scheduler<'_, F>
where
    F: FnMut(u64, Rc<str>) -> Fut,
    Fut: Future<Output = Attempt> + 'static,
{
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            self.take_finished()?;
            let read = self.read_input(cx)?;
            let started = self.start_jobs(cx);
            if self.input_done && self.in_flight == 0 && self.queues.parked == 0 {
                self.report.tick(&self.tally, self.input.known_total(), 0)?;
                return Poll::Ready(Ok(()));
            }
            if !read && !started && self.finished.queue.borrow().is_empty() {
                break;
            }
        }
        self.poll_tick(cx)?;
        let mut waker = self.finished.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Account for every finished attempt.
    fn take_finished(&mut self) -> io::Result<()> {
        loop {
            let Some((mut job, attempt)) = self.finished.queue.borrow_mut().pop_front() else {
                return Ok(());
            };
            self.in_flight -= 1;
            self.queues.release(job.host);
            match attempt {
                Attempt::Done(mut outcome) => {
                    if let Some(t) = job.started {
                        outcome.elapsed = t.elapsed();
                    }
                    // Recover from a descriptor shortage one finished request at a time.
                    if self.limit < self.settings.concurrency {
                        self.limit += 1;
                    }
                    self.report_done(&outcome)?;
                }
                Attempt::OutOfDescriptors(message) => {
                    self.tally.fd_retries += 1;
                    let now = Instant::now();
                    let since = *job.starved_since.get_or_insert(now);
                    self.limit = self.in_flight.max(1);
                    if self.in_flight == 0 && now.duration_since(since) >= self.settings.fd_patience
                    {
                        let mut o =
                            Outcome::failed(job.index, job.url.clone(), Kind::Descriptors, message);
                        o.elapsed = job.started.map_or(Duration::ZERO, |t| t.elapsed());
                        self.report_done(&o)?;
                        continue;
                    }
                    if self.in_flight == 0 {
                        self.retry = Some(sleep(FD_RETRY_DELAY));
                    }
                    self.queues.park(job, true);
                }
            }
        }
    }

    fn report_done(&mut self, outcome: &Outcome) -> io::Result<()> {
        self.tally.add(outcome);
        self.report.finished(outcome, &self.tally)
    }

    /// Read URLs while the window has room; `true` if any was read.
    fn read_input(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let mut any = false;
        while !self.input_done && self.queues.parked < self.settings.window {
            match self.input.poll_next(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => self.input_done = true,
                Poll::Ready(Some(Err(e))) => {
                    self.input_done = true;
                    self.input_error = Some(e);
                }
                Poll::Ready(Some(Ok(entry))) => {
                    any = true;
                    self.admit(entry)?;
                }
            }
        }
        Ok(any)
    }

    fn admit(&mut self, entry: Entry) -> io::Result<()> {
        if let Some(problem) = entry.problem {
            return self.report_done(&Outcome::failed(
                entry.index,
                entry.url,
                Kind::InvalidUrl,
                problem,
            ));
        }
        let host = self.queues.slot_for(&entry.url);
        let job = Job {
            index: entry.index,
            url: entry.url,
            host,
            started: None,
            starved_since: None,
        };
        self.queues.park(job, false);
        Ok(())
    }

    /// Start what may start; `true` if anything did.
    fn start_jobs(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(retry) = &mut self.retry {
            if Pin::new(retry).poll(cx).is_pending() {
                return false;
            }
            self.retry = None;
        }
        let mut any = false;
        while self.in_flight < self.limit {
            let Some(mut job) = self.queues.next() else {
                break;
            };
            job.started.get_or_insert_with(Instant::now);
            // Boxed here, once: a request future is several KiB (the client's state for every step
            // of a request), and spawning moves the task's future a few times on its way into the
            // executor; moving a box moves a pointer.
            let request = Box::pin((self.start)(job.index, job.url.clone()));
            let delivery = Delivery {
                finished: self.finished.clone(),
                job: Some(job),
            };
            self.in_flight += 1;
            spool_runtime::spawn(async move {
                let attempt = request.await;
                delivery.deliver(attempt);
            });
            any = true;
        }
        any
    }

    /// Redraw and flush about every [`REDRAW`] while there is a bar or unflushed output.
    fn poll_tick(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.report.wants_ticks() {
            self.tick = None;
            return Ok(());
        }
        let tick = self.tick.get_or_insert_with(|| sleep(REDRAW));
        while Pin::new(&mut *tick).poll(cx).is_ready() {
            tick.reset(Instant::now() + REDRAW);
            self.report
                .tick(&self.tally, self.input.known_total(), self.in_flight)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
