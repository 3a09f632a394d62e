//! Slow polls and the watchdog: "one blocking call ruins everything", reported with the task that made it.
//!
//! Each test builds its own runtime with hooks that capture the reports, so the assertions look at the
//! reports themselves (not at stderr). The blocking calls are `std::thread::sleep`s of a few hundred
//! milliseconds, several times the thresholds, so a loaded machine delays the reports but does not change
//! how many there are.

mod common;

use spool_runtime::{spawn, spawn_named, Runtime, SlowPoll, Stall};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn capture<T: Clone + Send + 'static>() -> (Arc<Mutex<Vec<T>>>, impl Fn(&T) + Send + Sync + 'static)
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |r: &T| sink.lock().unwrap().push(r.clone()))
}

/// The case: a task that sleeps 400 ms in `std::thread::sleep` makes exactly one report, naming
/// the line that spawned it. Default (sampled) timing: the watchdog thread samples every 20 ms.
#[test]
fn a_blocking_sleep_is_reported_once_with_its_spawn_line() {
    common::bounded(30, || {
        let (seen, hook) = capture::<SlowPoll>();
        let rt = Runtime::builder()
            .slow_poll_threshold(Some(Duration::from_millis(100)))
            .watchdog(None)
            .on_slow_poll(hook)
            .build()
            .unwrap();
        let line = line!() + 2;
        let stats = rt.block_on(async {
            let blocker = spawn(async { std::thread::sleep(Duration::from_millis(400)) });
            // A well-behaved neighbour: many short polls, none of them reported.
            let neighbour = spawn(async {
                for _ in 0..100 {
                    spool_runtime::yield_now().await;
                }
            });
            blocker.await.unwrap();
            neighbour.await.unwrap();
            spool_runtime::current_stats().unwrap()
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "reports: {seen:?}");
        let report = &seen[0];
        let site = report.task.spawn_site();
        assert_eq!((site.file(), site.line()), (file!(), line), "{report}");
        assert_eq!(report.task.name(), None);
        // A lower bound, short by at most a sampling period (or more if the sampler was descheduled).
        assert!(report.duration >= Duration::from_millis(100), "{report}");
        assert!(report.duration <= Duration::from_secs(30), "{report}");
        assert!(report.to_string().contains("spawn_blocking"), "{report}");
        assert_eq!(stats.slow_polls, 1);
        let (longest, task) = stats.longest_poll.expect("the slow poll was timed");
        assert_eq!(task.spawn_site().line(), line);
        assert!(longest >= report.duration);
    });
}

/// Later slow polls from one spawn site are counted, not reported; a named task is reported by name;
/// `block_on`'s own future is labelled "block_on". Exact timing here (`time_every_poll`), so the counts
/// do not depend on the sampler.
#[test]
fn one_report_per_spawn_site_later_ones_counted() {
    common::bounded(30, || {
        let (seen, hook) = capture::<SlowPoll>();
        let rt = Runtime::builder()
            .slow_poll_threshold(Some(Duration::from_millis(50)))
            .time_every_poll(true)
            .watchdog(None)
            .on_slow_poll(hook)
            .build()
            .unwrap();
        let stats = rt.block_on(async {
            let mut handles = Vec::new();
            for _ in 0..3 {
                handles.push(spawn(async {
                    std::thread::sleep(Duration::from_millis(60))
                }));
            }
            handles.push(spawn_named("crunch", async {
                std::thread::sleep(Duration::from_millis(60))
            }));
            for h in handles {
                h.await.unwrap();
            }
            std::thread::sleep(Duration::from_millis(60)); // block_on's own future
            spool_runtime::yield_now().await;
            spool_runtime::current_stats().unwrap()
        });
        let seen = seen.lock().unwrap();
        let names: Vec<Option<&str>> = seen.iter().map(|r| r.task.name()).collect();
        assert_eq!(names, [None, Some("crunch"), Some("block_on")], "{seen:?}");
        assert!(seen.iter().all(|r| r.duration >= Duration::from_millis(60)));
        assert_eq!(stats.slow_polls, 5);
    });
}

/// The watchdog reports a stuck loop while it is still stuck, naming the task and how long it has been
/// polled; a loop that merely waits (a timer) is not stuck.
#[test]
fn the_watchdog_names_the_stuck_task_while_it_is_stuck() {
    common::bounded(30, || {
        let (seen, hook) = capture::<(Instant, Stall)>();
        let rt = Runtime::builder()
            .slow_poll_threshold(None)
            .watchdog(Some(Duration::from_millis(200)))
            .on_stall(move |s| hook(&(Instant::now(), s.clone())))
            .build()
            .unwrap();
        let line = line!() + 5;
        let ended = rt.block_on(async {
            // Idle in the kernel for longer than the threshold: not a stall.
            spool_runtime::time::sleep(Duration::from_millis(500)).await;
            assert!(seen.lock().unwrap().is_empty(), "an idle loop was reported");
            let stuck = spawn(async {
                std::thread::sleep(Duration::from_millis(1500));
                Instant::now()
            });
            stuck.await.unwrap()
        });
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let (at, stall) = &seen[0];
        assert!(*at < ended, "reported after the loop was free again");
        let task = stall.task.as_ref().expect("stuck in a task poll");
        assert_eq!(task.spawn_site().line(), line, "{stall}");
        assert!(stall.polling_for >= Duration::from_millis(100), "{stall}");
        assert!(stall.turn_for >= Duration::from_millis(200), "{stall}");
    });
}

/// `tasks()` lists every live task with its label and counters.
#[test]
fn the_task_list_shows_labels_polls_and_idle_time() {
    common::bounded(30, || {
        let rt = Runtime::builder().time_every_poll(true).build().unwrap();
        let before = Instant::now();
        rt.block_on(async {
            let waiting = spawn_named(String::from("waiter"), async {
                spool_runtime::time::sleep(Duration::from_secs(3600)).await;
            });
            let busy = spawn(async {
                for _ in 0..5 {
                    spool_runtime::yield_now().await;
                }
                std::future::pending::<()>().await;
            });
            for _ in 0..10 {
                spool_runtime::yield_now().await;
            }
            let tasks = spool_runtime::tasks();
            assert_eq!(tasks.len(), 2);
            let waiter = tasks
                .iter()
                .find(|t| t.label.name() == Some("waiter"))
                .unwrap();
            assert_eq!(waiter.polls, 1);
            let idle_since = waiter.idle_since.unwrap();
            assert!(idle_since >= before && idle_since <= Instant::now());
            let other = tasks.iter().find(|t| t.label.name().is_none()).unwrap();
            assert_eq!(other.polls, 6);
            assert!(other.label.spawn_site().file().ends_with("watch.rs"));
            assert!(other.busy > Duration::ZERO, "every poll is timed here");
            waiting.abort();
            busy.abort();
        });
        assert!(rt.tasks().is_empty());
    });
}
