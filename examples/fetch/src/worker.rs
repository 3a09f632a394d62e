//! `fetch worker`: take URLs from a shared queue, fetch them with the usual options, and leave one
//! result per entry — for as long as there is work, or until SIGINT/SIGTERM.
//!
//! # Three parts on one loop
//! ```text
//!   taker task ──(Feed)──► run::run (the usual scheduler: -c, --per-host, fairness) ──► Reporter
//!   XREADGROUP / claim       fetches each URL with the shared Requester                 │ JSON line
//!        ▲                                                                              ▼
//!        └──── held ids ◄───────────── completer task ◄──────────────── done queue ─────┘
//!                                      FINISH script per result (result + done mark + XACK)
//! ```
//! The taker keeps at most `2 × concurrency` entries held (taken, not yet completed), so the
//! scheduler has a window to choose fairly from, and stops taking on a stop signal, a queue failure
//! or `--idle-exit`; then it closes the feed. The scheduler finishes every entry it holds, the
//! completer writes their results, and the loop ends: nothing held is dropped on a clean stop.
//!
//! Taker and completer use one connection each, so a blocking `XREADGROUP` never delays results.
//! An entry without a `url` field becomes an `invalid_url` result; so does a bad URL (the client
//! refuses it). Every entry gets a result, or stays pending for another worker.

use crate::cli::Config;
use crate::input::{Feed, Input};
use crate::outcome::Outcome;
use crate::output::render_line;
use crate::progress::Tally;
use crate::queue::redis::{Names, Streams, Target};
use crate::queue::{Completed, Done, QueueError, WorkQueue};
use crate::request::Requester;
use crate::run;
use spool_runtime::time::sleep;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// Results per pipelined completion batch at most.
const COMPLETE_BATCH: usize = 512;
/// Wait in XREADGROUP when nothing is held (short enough to notice a stop signal soon).
const IDLE_WAIT: Duration = Duration::from_millis(500);
/// Wait when entries are held: the scheduler may want more soon.
const BUSY_WAIT: Duration = Duration::from_millis(100);

/// The worker's own flags.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    pub target: Target,
    pub names: Names,
    /// Stop after this long with nothing taken and nothing held.
    pub idle_exit: Option<Duration>,
    /// Give up when Redis cannot be reached for this long.
    pub patience: Duration,
}

/// What one worker loop did.
#[derive(Debug, Default)]
pub struct LoopReport {
    pub tally: Tally,
    /// Results written / entries found already done.
    pub written: u64,
    pub already_done: u64,
    pub dead_lettered: u64,
    /// Why the loop stopped early, if it did.
    pub error: Option<String>,
}

/// State the three parts share.
#[derive(Default)]
struct Shared {
    feed: Rc<Feed>,
    /// Input index → entry id, for entries in the scheduler.
    ids: RefCell<HashMap<u64, String>>,
    /// Ids taken and not yet completed (also what keeps a re-read of our pending list from
    /// starting an entry twice).
    held: RefCell<HashSet<String>>,
    /// Entries pushed to the feed so far (the next one's input index).
    pushed: Cell<u64>,
    done: RefCell<Vec<Done>>,
    completer: RefCell<Option<Waker>>,
    /// The scheduler has returned: no more results will come.
    run_over: Cell<bool>,
    failed: RefCell<Option<String>>,
}

impl Shared {
    fn fail(&self, e: QueueError) {
        self.failed.borrow_mut().get_or_insert(e.0);
        self.feed.close();
        self.wake_completer();
    }

    fn wake_completer(&self) {
        if let Some(w) = self.completer.borrow_mut().take() {
            w.wake();
        }
    }
}

/// One worker loop on the current thread's runtime, as consumer `names.consumer`.
pub async fn work(
    config: &Config,
    args: &WorkerArgs,
    settings: run::Settings,
    connections: usize,
    stop: Arc<AtomicBool>,
) -> LoopReport {
    let mut report = LoopReport::default();
    let requester = match Requester::new(config, &settings, connections) {
        Ok(r) => Rc::new(r),
        Err(e) => {
            report.error = Some(format!("creating the client: {e}"));
            return report;
        }
    };
    let mut taker = Streams::worker(args.target.clone(), args.names.clone(), args.patience);
    let completer = Streams::worker(args.target.clone(), args.names.clone(), args.patience);
    if let Err(e) = taker.connect().await {
        report.error = Some(e.0);
        return report;
    }
    let shared = Rc::new(Shared::default());
    let limit = settings.concurrency.saturating_mul(2).max(1);
    let take = spool_runtime::spawn(take_loop(
        taker,
        shared.clone(),
        limit,
        args.idle_exit,
        stop,
    ));
    let complete = spool_runtime::spawn(complete_loop(completer, shared.clone()));
    let mut input = Input::fed(shared.feed.clone());
    let mut reporter = Reporter {
        shared: shared.clone(),
        line: Vec::new(),
    };
    let finish = run::run(
        &mut input,
        &settings,
        |index, url| requester.clone().fetch(index, url),
        &mut reporter,
    )
    .await;
    shared.run_over.set(true);
    shared.wake_completer();
    if let Err(e) = &finish {
        shared.fail(QueueError(e.to_string()));
    }
    let dead = take.await.unwrap_or(0);
    let (written, already) = complete.await.unwrap_or((0, 0));
    report.written = written;
    report.already_done = already;
    report.dead_lettered = dead;
    if let Ok(f) = finish {
        report.tally = f.tally;
    }
    report.error = shared.failed.borrow_mut().take();
    report
}

/// Take entries while there is room and no reason to stop; returns how many were dead-lettered.
async fn take_loop(
    mut q: Streams,
    shared: Rc<Shared>,
    limit: usize,
    idle_exit: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> u64 {
    let mut last_work = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) || shared.failed.borrow().is_some() {
            break;
        }
        let held = shared.held.borrow().len();
        if held > 0 {
            last_work = Instant::now();
        }
        if held >= limit {
            sleep(Duration::from_millis(10)).await;
            continue;
        }
        let wait = if held > 0 { BUSY_WAIT } else { IDLE_WAIT };
        let tasks = match q.take(limit - held, wait).await {
            Ok(t) => t,
            Err(e) => {
                shared.fail(e);
                break;
            }
        };
        if tasks.is_empty() {
            if held == 0 && idle_exit.is_some_and(|d| last_work.elapsed() >= d) {
                break;
            }
            continue;
        }
        last_work = Instant::now();
        for t in tasks {
            if !shared.held.borrow_mut().insert(t.id.clone()) {
                continue; // already ours and in progress (a re-read pending list, or a self-claim)
            }
            // The feed numbers its entries in push order, from 0.
            let index = shared.pushed.get();
            shared.pushed.set(index + 1);
            shared.ids.borrow_mut().insert(index, t.id);
            match t.url {
                Some(url) => shared.feed.push(url.into(), None),
                None => shared
                    .feed
                    .push("".into(), Some("the queue entry has no url field")),
            }
        }
    }
    shared.feed.close();
    q.dead_lettered
}

/// Write results as they come, in batches; returns (written, already done).
async fn complete_loop(mut q: Streams, shared: Rc<Shared>) -> (u64, u64) {
    let (mut written, mut already) = (0, 0);
    loop {
        let batch: Vec<Done> = poll_fn(|cx| {
            let mut done = shared.done.borrow_mut();
            if !done.is_empty() {
                let n = done.len().min(COMPLETE_BATCH);
                return Poll::Ready(done.drain(..n).collect());
            }
            if shared.run_over.get() || shared.failed.borrow().is_some() {
                return Poll::Ready(Vec::new());
            }
            *shared.completer.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        if batch.is_empty() {
            return (written, already);
        }
        match q.complete(&batch).await {
            Ok(answers) => {
                let mut held = shared.held.borrow_mut();
                for (d, a) in batch.iter().zip(answers) {
                    held.remove(&d.id);
                    match a {
                        Completed::Written => written += 1,
                        Completed::AlreadyDone => already += 1,
                    }
                }
            }
            Err(e) => {
                // Not acknowledged: these entries stay pending and go to another worker.
                shared.fail(e);
                return (written, already);
            }
        }
    }
}

/// Results to the done queue, as JSON lines without their newline.
struct Reporter {
    shared: Rc<Shared>,
    line: Vec<u8>,
}

impl run::Report for Reporter {
    fn finished(&mut self, outcome: &Outcome, _: &Tally) -> io::Result<()> {
        if let Some(e) = self.shared.failed.borrow().as_ref() {
            return Err(io::Error::other(e.clone()));
        }
        let Some(id) = self.shared.ids.borrow_mut().remove(&outcome.index) else {
            return Ok(());
        };
        self.line.clear();
        render_line(&mut self.line, outcome);
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        self.shared.done.borrow_mut().push(Done {
            id,
            json: self.line.clone(),
        });
        self.shared.wake_completer();
        Ok(())
    }

    fn tick(&mut self, _: &Tally, _: Option<u64>, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn wants_ticks(&self) -> bool {
        false
    }
}
