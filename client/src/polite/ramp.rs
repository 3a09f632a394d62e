//! [`Ramp`]: at most `limit` new connections to one origin waiting for their first answer; the
//! rest wait in line. An origin is *proven* once a response arrives on a connection that stays
//! open: from then on (while it has requests in flight) new connections open without waiting.
//! A server that closes every connection (an HTTP/1.0 one such as Python's `http.server`) is never
//! proven, so it never has more than `limit` connections it has not answered yet.
//!
//! A permit is released when its connection's response head arrives
//! ([`RampPermit::answered`]) or when it is dropped (the connect or the request failed, or was
//! cancelled). Each release wakes the next waiter; a waiter dropped after being woken passes the
//! wake on, so none is lost. State is kept only while an origin has permits out or futures in
//! line — counting those already woken but not yet polled again, so that the last release before
//! they run cannot forget that the origin was proven.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::origin::Origin;

#[derive(Debug, Default)]
struct Host {
    /// Permits out: connections opening or awaiting their first response head.
    pending: usize,
    proven: bool,
    /// [`Enter`] futures that have queued and neither taken a permit nor been dropped: the
    /// wakers below, and those woken out of the queue that have not run yet.
    in_line: usize,
    waiters: VecDeque<Waker>,
}

impl Host {
    fn is_idle(&self) -> bool {
        self.pending == 0 && self.in_line == 0
    }
}

#[derive(Debug)]
pub(crate) struct Ramp {
    limit: usize,
    hosts: RefCell<HashMap<Box<str>, Host>>,
}

impl Ramp {
    pub(crate) fn new(limit: usize) -> Ramp {
        Ramp {
            limit,
            hosts: RefCell::new(HashMap::new()),
        }
    }

    /// Waits until a new connection to `origin` may open.
    pub(crate) fn enter(&self, origin: &Origin<'_>) -> Enter<'_> {
        let mut key = String::new();
        origin.write_key(&mut key);
        Enter {
            ramp: self,
            key: Some(key.into()),
            queued: false,
        }
    }

    /// Origins with state, for tests.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.hosts.borrow().len()
    }

    fn release(&self, key: &str, proven: bool) {
        let mut hosts = self.hosts.borrow_mut();
        let Some(host) = hosts.get_mut(key) else {
            return;
        };
        host.pending -= 1;
        if proven && !host.proven {
            host.proven = true;
            for waker in host.waiters.drain(..) {
                waker.wake();
            }
        } else if let Some(waker) = host.waiters.pop_front() {
            waker.wake();
        }
        if host.is_idle() {
            hosts.remove(key);
        }
    }
}

/// The future of [`Ramp::enter`].
pub(crate) struct Enter<'a> {
    ramp: &'a Ramp,
    /// Taken by the permit.
    key: Option<Box<str>>,
    /// Its waker is (or was) in the host's queue.
    queued: bool,
}

impl<'a> Future for Enter<'a> {
    type Output = RampPermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RampPermit<'a>> {
        let ramp = self.ramp;
        let key = self.key.as_deref().expect("polled after completion");
        let mut hosts = ramp.hosts.borrow_mut();
        if !hosts.contains_key(key) {
            hosts.insert(key.into(), Host::default());
        }
        let host = hosts.get_mut(key).expect("inserted above");
        // Newcomers queue behind waiters; a woken waiter takes the free place.
        let turn = self.queued || host.waiters.is_empty();
        if host.proven || (host.pending < ramp.limit && turn) {
            host.pending += 1;
            if self.queued {
                host.in_line -= 1;
            }
            drop(hosts);
            self.queued = false;
            let key = self.key.take().expect("checked above");
            return Poll::Ready(RampPermit {
                ramp,
                key,
                released: false,
            });
        }
        host.waiters.push_back(cx.waker().clone());
        if !self.queued {
            host.in_line += 1;
        }
        drop(hosts);
        self.queued = true;
        Poll::Pending
    }
}

impl Drop for Enter<'_> {
    fn drop(&mut self) {
        // Cancelled while in line: maybe it was woken for a place it will not take.
        let (Some(key), true) = (&self.key, self.queued) else {
            return;
        };
        let mut hosts = self.ramp.hosts.borrow_mut();
        if let Some(host) = hosts.get_mut(&**key) {
            host.in_line -= 1;
            if host.pending < self.ramp.limit {
                if let Some(waker) = host.waiters.pop_front() {
                    waker.wake();
                }
            }
            if host.is_idle() {
                hosts.remove(&**key);
            }
        }
    }
}

/// Held by a new connection until its first response head arrives.
#[derive(Debug)]
pub(crate) struct RampPermit<'a> {
    ramp: &'a Ramp,
    key: Box<str>,
    released: bool,
}

impl RampPermit<'_> {
    /// The first response arrived; `stays_open`: the connection will be kept alive.
    pub(crate) fn answered(mut self, stays_open: bool) {
        self.released = true;
        self.ramp.release(&self.key, stays_open);
    }
}

impl Drop for RampPermit<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.ramp.release(&self.key, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(std::sync::atomic::AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll<'a>(f: &mut Pin<Box<Enter<'a>>>) -> Option<RampPermit<'a>> {
        let waker = Waker::from(Arc::new(Count(0.into())));
        match f.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(p) => Some(p),
            Poll::Pending => None,
        }
    }

    #[test]
    fn at_most_limit_unanswered_until_a_kept_alive_answer() {
        let ramp = Ramp::new(2);
        let u: http::Uri = "http://a.test/".parse().unwrap();
        let o = Origin::of(&u);
        let mut f: Vec<_> = (0..5).map(|_| Box::pin(ramp.enter(&o))).collect();
        let p0 = poll(&mut f[0]).unwrap();
        let p1 = poll(&mut f[1]).unwrap();
        assert!(poll(&mut f[2]).is_none());
        assert!(poll(&mut f[3]).is_none());
        // A closing answer frees one place, taken in order.
        p0.answered(false);
        let p2 = poll(&mut f[2]).unwrap();
        assert!(poll(&mut f[3]).is_none());
        // A failed connection frees one too.
        drop(p2);
        let p3 = poll(&mut f[3]).unwrap();
        // A kept-alive answer lifts the ramp for everyone.
        p1.answered(true);
        let p4 = poll(&mut f[4]).unwrap();
        let mut more = Box::pin(ramp.enter(&o));
        let p5 = poll(&mut more).unwrap();
        drop((p3, p4, p5));
        assert_eq!(ramp.tracked(), 0, "no state once nothing is in flight");
    }

    #[test]
    fn the_lift_holds_for_waiters_woken_before_the_last_permit_is_released() {
        // Both permits answer (kept alive) in one loop turn, before any woken waiter runs: the
        // origin stays proven, and all of them open at once.
        let ramp = Ramp::new(2);
        let u: http::Uri = "http://a.test/".parse().unwrap();
        let o = Origin::of(&u);
        let mut f: Vec<_> = (0..6).map(|_| Box::pin(ramp.enter(&o))).collect();
        let p0 = poll(&mut f[0]).unwrap();
        let p1 = poll(&mut f[1]).unwrap();
        for waiter in &mut f[2..] {
            assert!(poll(waiter).is_none());
        }
        p0.answered(true);
        p1.answered(true);
        let permits: Vec<_> = f[2..].iter_mut().map(|w| poll(w)).collect();
        assert!(permits.iter().all(Option::is_some), "every waiter opens");
        drop(permits);
        assert_eq!(ramp.tracked(), 0, "no state once nothing is in flight");
    }

    #[test]
    fn a_cancelled_waiter_passes_its_wake_on() {
        let ramp = Ramp::new(1);
        let u: http::Uri = "http://a.test/".parse().unwrap();
        let o = Origin::of(&u);
        let mut a = Box::pin(ramp.enter(&o));
        let mut b = Box::pin(ramp.enter(&o));
        let mut c = Box::pin(ramp.enter(&o));
        let pa = poll(&mut a).unwrap();
        assert!(poll(&mut b).is_none());
        assert!(poll(&mut c).is_none());
        drop(pa); // wakes b
        drop(b); // b leaves without taking the place: c is woken and gets it
        assert!(poll(&mut c).is_some());
    }
}
