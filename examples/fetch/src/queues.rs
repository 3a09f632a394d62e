//! The per-origin queues behind the scheduler's fairness: URLs parked under their origin
//! (`scheme://host:port`), a ring of origins that have a parked URL and room under `--per-host`, and
//! the count of requests each origin has in flight.
//!
//! A free slot goes to the origin at the front of the ring, which then moves to the back: busy origins
//! take turns, and an origin at its cap is simply not in the ring, so it holds back no one. With
//! `--per-host 0` everything goes to slot 0, an unlimited queue, and no origin is computed.

use spool_client::write_origin_key;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::time::Instant;

/// A URL on its way: parked, in flight, or back for a retry.
pub struct Job {
    /// Input position.
    pub index: u64,
    /// The URL as given.
    pub url: Rc<str>,
    /// Slot of its origin in [`Queues::hosts`].
    pub host: usize,
    /// When its first attempt started.
    pub started: Option<Instant>,
    /// When it first found no descriptor, if it did.
    pub starved_since: Option<Instant>,
}

/// The per-origin queues.
pub struct Queues {
    /// Requests per origin at most; 0 = unlimited.
    cap: usize,
    /// Origins by slot; slot 0 is the unlimited queue (every URL when `cap` is 0, and URLs without a
    /// recognisable origin); freed slots are reused.
    hosts: Vec<Host>,
    free: Vec<usize>,
    by_origin: HashMap<Box<str>, usize>,
    /// Origins with parked URLs and room, in turn order; each appears at most once.
    runnable: VecDeque<usize>,
    /// URLs parked over all origins.
    pub parked: usize,
    /// Scratch for computing an origin without allocating.
    origin: String,
}

#[derive(Default)]
struct Host {
    origin: Box<str>,
    active: usize,
    parked: VecDeque<Job>,
    /// In `runnable`.
    queued: bool,
}

impl Queues {
    pub fn new(cap: usize) -> Queues {
        Queues {
            cap,
            hosts: vec![Host::default()],
            free: Vec::new(),
            by_origin: HashMap::new(),
            runnable: VecDeque::new(),
            parked: 0,
            origin: String::new(),
        }
    }

    fn has_room(&self, slot: usize) -> bool {
        slot == 0 || self.hosts[slot].active < self.cap
    }

    /// The slot for `url`'s origin, made if new.
    pub fn slot_for(&mut self, url: &str) -> usize {
        if self.cap == 0 || !write_origin_key(url, &mut self.origin) {
            return 0;
        }
        if let Some(&slot) = self.by_origin.get(self.origin.as_str()) {
            return slot;
        }
        let origin: Box<str> = self.origin.as_str().into();
        let host = Host {
            origin: origin.clone(),
            ..Host::default()
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.hosts[slot] = host;
                slot
            }
            None => {
                self.hosts.push(host);
                self.hosts.len() - 1
            }
        };
        self.by_origin.insert(origin, slot);
        slot
    }

    /// Park `job` at the back (new) or front (a retry) of its origin's queue.
    pub fn park(&mut self, job: Job, front: bool) {
        let slot = job.host;
        let host = &mut self.hosts[slot];
        if front {
            host.parked.push_front(job);
        } else {
            host.parked.push_back(job);
        }
        self.parked += 1;
        self.make_runnable(slot, front);
    }

    fn make_runnable(&mut self, slot: usize, front: bool) {
        if !self.hosts[slot].queued && !self.hosts[slot].parked.is_empty() && self.has_room(slot) {
            self.hosts[slot].queued = true;
            if front {
                self.runnable.push_front(slot);
            } else {
                self.runnable.push_back(slot);
            }
        }
    }

    /// The next URL allowed to start, counted as active.
    pub fn next(&mut self) -> Option<Job> {
        while let Some(slot) = self.runnable.pop_front() {
            self.hosts[slot].queued = false;
            let Some(job) = self.hosts[slot].parked.pop_front() else {
                continue;
            };
            self.parked -= 1;
            self.hosts[slot].active += 1;
            self.make_runnable(slot, false);
            return Some(job);
        }
        None
    }

    /// A request of `slot` ended: free its place; forget the origin once nothing of it is left.
    pub fn release(&mut self, slot: usize) {
        let host = &mut self.hosts[slot];
        host.active -= 1;
        if slot != 0 && host.active == 0 && host.parked.is_empty() {
            let origin = std::mem::take(&mut host.origin);
            host.parked = VecDeque::new();
            self.by_origin.remove(&origin);
            self.free.push(slot);
        } else {
            self.make_runnable(slot, false);
        }
    }
}
