//! Scheduler tests with fake requests (no network): limits, fairness, exactly-once, descriptor shortage.

use super::*;
use spool_client::write_origin_key;
use spool_runtime::sync::Semaphore;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// Called with each result as it is reported.
type OnDone = Box<dyn FnMut(&Outcome)>;

/// Collects results in finishing order.
#[derive(Default)]
struct Collect {
    done: Vec<Outcome>,
    on_done: Option<OnDone>,
}

impl Report for Collect {
    fn finished(&mut self, outcome: &Outcome, _: &Tally) -> io::Result<()> {
        if let Some(f) = &mut self.on_done {
            f(outcome);
        }
        self.done.push(outcome.clone());
        Ok(())
    }
    fn tick(&mut self, _: &Tally, _: Option<u64>, _: usize) -> io::Result<()> {
        Ok(())
    }
    fn wants_ticks(&self) -> bool {
        false
    }
}

fn settings(concurrency: usize, per_host: usize) -> Settings {
    Settings {
        concurrency,
        per_host,
        window: Settings::window_for(concurrency),
        fd_patience: Duration::from_millis(200),
    }
}

fn ok(index: u64, url: Rc<str>) -> Attempt {
    let mut o = Outcome::failed(index, url, Kind::Other, "");
    o.failure = None;
    o.status = Some(200);
    Attempt::Done(o)
}

/// Tracks requests in flight, overall and per origin, and the highest counts seen.
#[derive(Default)]
struct Gauge {
    now: Cell<usize>,
    max: Cell<usize>,
    per: RefCell<HashMap<String, (usize, usize)>>,
}

impl Gauge {
    fn enter(&self, url: &str) {
        self.now.set(self.now.get() + 1);
        self.max.set(self.max.get().max(self.now.get()));
        let mut per = self.per.borrow_mut();
        let e = per.entry(host_of(url)).or_default();
        e.0 += 1;
        e.1 = e.1.max(e.0);
    }
    fn leave(&self, url: &str) {
        self.now.set(self.now.get() - 1);
        self.per.borrow_mut().get_mut(&host_of(url)).unwrap().0 -= 1;
    }
    fn max_per_host(&self) -> usize {
        self.per.borrow().values().map(|v| v.1).max().unwrap_or(0)
    }
}

fn host_of(url: &str) -> String {
    let mut s = String::new();
    assert!(write_origin_key(url, &mut s));
    s
}

fn urls(hosts: usize, per: usize) -> Vec<String> {
    // Interleaved unevenly so that queues fill at different speeds.
    (0..hosts * per)
        .map(|i| format!("http://h{}.test:80/{i}", (i * 7) % hosts))
        .collect()
}

fn assert_each_once(done: &[Outcome], n: usize) {
    assert_eq!(done.len(), n);
    let seen: HashSet<u64> = done.iter().map(|o| o.index).collect();
    assert_eq!(seen, (0..n as u64).collect());
}

#[test]
fn every_url_once_within_both_limits() {
    for (c, cap) in [(1, 1), (5, 2), (16, 3), (64, 8), (7, 0)] {
        let gauge = Rc::new(Gauge::default());
        let list = urls(9, 20);
        let mut input = Input::new(list.clone(), None).unwrap();
        let mut report = Collect::default();
        let g = gauge.clone();
        let finish = spool_runtime::block_on(run(
            &mut input,
            &settings(c, cap),
            move |i, url| {
                let g = g.clone();
                async move {
                    g.enter(&url);
                    spool_runtime::time::sleep(Duration::from_micros(300 * (i % 4))).await;
                    g.leave(&url);
                    ok(i, url)
                }
            },
            &mut report,
        ))
        .unwrap();
        assert_each_once(&report.done, list.len());
        for o in &report.done {
            assert_eq!(*o.url, list[o.index as usize]);
        }
        assert_eq!(finish.tally.ok, list.len() as u64);
        assert!(gauge.max.get() <= c, "c={c}: {} in flight", gauge.max.get());
        if cap > 0 {
            assert!(
                gauge.max_per_host() <= cap,
                "cap={cap}: {}",
                gauge.max_per_host()
            );
        }
        // Enough work and hosts to reach the global limit.
        assert_eq!(
            gauge.max.get(),
            c.min(if cap == 0 { usize::MAX } else { 9 * cap })
        );
    }
}

#[test]
fn a_host_at_its_cap_does_not_hold_back_others() {
    // 30 URLs of a host whose requests hang until released, then 10 of another host. With a per-host
    // cap of 2 and room for 8 requests, every URL of the second host must finish while the first host's
    // requests are all still hanging.
    let mut list: Vec<String> = (0..30).map(|i| format!("http://stuck.test/{i}")).collect();
    list.extend((0..10).map(|i| format!("http://quick.test/{i}")));
    let gate = Rc::new(Semaphore::new(0));
    let quick_done = Rc::new(Cell::new(0));
    let mut report = Collect::default();
    {
        let (gate, quick_done) = (gate.clone(), quick_done.clone());
        report.on_done = Some(Box::new(move |o| {
            if o.url.contains("quick") {
                quick_done.set(quick_done.get() + 1);
                if quick_done.get() == 10 {
                    gate.add_permits(1000);
                }
            }
        }));
    }
    let mut input = Input::new(list, None).unwrap();
    spool_runtime::block_on(run(
        &mut input,
        &settings(8, 2),
        move |i, url| {
            let gate = gate.clone();
            async move {
                if url.contains("stuck") {
                    drop(gate.acquire().await.unwrap());
                }
                ok(i, url)
            }
        },
        &mut report,
    ))
    .unwrap();
    assert_each_once(&report.done, 40);
    assert!(report.done[..10].iter().all(|o| o.url.contains("quick")));
}

#[test]
fn a_panicking_request_still_gets_its_line() {
    let list: Vec<String> = (0..20).map(|i| format!("http://h.test/{i}")).collect();
    let mut input = Input::new(list, None).unwrap();
    let mut report = Collect::default();
    let finish = spool_runtime::block_on(run(
        &mut input,
        &settings(4, 0),
        |i, url| async move {
            if i == 7 {
                panic!("deliberate test panic");
            }
            ok(i, url)
        },
        &mut report,
    ))
    .unwrap();
    assert_each_once(&report.done, 20);
    let bad = report.done.iter().find(|o| o.index == 7).unwrap();
    assert_eq!(bad.failure.as_ref().unwrap().kind, Kind::Other);
    assert_eq!(&*bad.url, "http://h.test/7");
    assert_eq!(finish.tally.ok, 19);
}

#[test]
fn unreadable_lines_get_their_own_line_and_the_rest_go_on() {
    let mut input = Input::new(vec!["http://a.test/".into()], None).unwrap();
    let mut report = Collect::default();
    // A problem entry is produced by the line reader; feed one through a file.
    let path = std::env::temp_dir().join(format!("fetch-run-test-{}", std::process::id()));
    std::fs::write(
        &path,
        b"http://b.test/\nhttp://\xff.test/\nhttp://c.test/\n",
    )
    .unwrap();
    let mut file_input = Input::new(vec![], Some(&path)).unwrap();
    std::fs::remove_file(&path).unwrap();
    for input in [&mut input, &mut file_input] {
        report.done.clear();
        spool_runtime::block_on(run(
            input,
            &settings(2, 1),
            |i, url| async move { ok(i, url) },
            &mut report,
        ))
        .unwrap();
    }
    assert_each_once(&report.done, 3);
    let bad = report.done.iter().find(|o| o.index == 1).unwrap();
    assert_eq!(bad.failure.as_ref().unwrap().kind, Kind::InvalidUrl);
}

#[test]
fn out_of_descriptors_slows_down_and_every_url_succeeds() {
    // Pretend only 5 descriptors exist: a request beyond that fails to get one.
    const FDS: usize = 5;
    let open = Rc::new(Cell::new(0usize));
    let max_open = Rc::new(Cell::new(0usize));
    let refused = Rc::new(Cell::new(0usize));
    let list: Vec<String> = (0..300).map(|i| format!("http://h.test/{i}")).collect();
    let mut input = Input::new(list, None).unwrap();
    let mut report = Collect::default();
    let (o2, m2, r2) = (open.clone(), max_open.clone(), refused.clone());
    let finish = spool_runtime::block_on(run(
        &mut input,
        &settings(50, 0),
        move |i, url| {
            let (open, max_open, refused) = (o2.clone(), m2.clone(), r2.clone());
            async move {
                if open.get() == FDS {
                    refused.set(refused.get() + 1);
                    return Attempt::OutOfDescriptors("Too many open files".into());
                }
                open.set(open.get() + 1);
                max_open.set(max_open.get().max(open.get()));
                spool_runtime::time::sleep(Duration::from_micros(200)).await;
                open.set(open.get() - 1);
                ok(i, url)
            }
        },
        &mut report,
    ))
    .unwrap();
    assert_each_once(&report.done, 300);
    assert!(report.done.iter().all(|o| o.failure.is_none()));
    assert!(refused.get() > 0, "the test never ran short");
    assert_eq!(finish.tally.fd_retries, refused.get() as u64);
    assert!(max_open.get() <= FDS);
}

#[test]
fn out_of_descriptors_with_nothing_in_flight_gives_up_after_patience() {
    let mut input = Input::new(
        vec!["http://h.test/".into(), "http://h.test/2".into()],
        None,
    )
    .unwrap();
    let mut report = Collect::default();
    let attempts = Rc::new(Cell::new(0));
    let a = attempts.clone();
    spool_runtime::block_on(run(
        &mut input,
        &settings(4, 0),
        move |_, _| {
            a.set(a.get() + 1);
            async { Attempt::OutOfDescriptors("Too many open files".into()) }
        },
        &mut report,
    ))
    .unwrap();
    assert_each_once(&report.done, 2);
    for o in &report.done {
        let f = o.failure.as_ref().unwrap();
        assert_eq!(
            (f.kind, f.message.as_str()),
            (Kind::Descriptors, "Too many open files")
        );
    }
    // Retried with a delay, not in a busy loop: 200 ms of patience at 50 ms per retry.
    assert!(
        attempts.get() >= 4 && attempts.get() < 100,
        "{}",
        attempts.get()
    );
}
