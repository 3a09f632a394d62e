//! Unit tests for `Notify`: the stored permit, FIFO wake order, `notify_waiters` reaching futures
//! not yet polled, and cancellation passing a notification on.

use super::*;
use crate::sync::testing::{counting_waker, poll};

#[test]
fn notify_one_without_waiters_stores_exactly_one_permit() {
    let notify = Notify::new();
    let (w, _) = counting_waker();
    notify.notify_one();
    notify.notify_one(); // still one permit
    let mut first = Box::pin(notify.notified());
    assert!(poll(first.as_mut(), &w).is_ready(), "takes the permit");
    let mut second = Box::pin(notify.notified());
    assert!(poll(second.as_mut(), &w).is_pending(), "no second permit");
}

#[test]
fn notify_one_wakes_waiters_oldest_first() {
    let notify = Notify::new();
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &w1).is_pending());
    assert!(poll(b.as_mut(), &w2).is_pending());
    notify.notify_one();
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    assert!(poll(b.as_mut(), &w2).is_pending(), "b was not notified");
    assert!(poll(a.as_mut(), &w1).is_ready());
    notify.notify_one();
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    assert!(poll(b.as_mut(), &w2).is_ready());
}

#[test]
fn notify_waiters_wakes_all_present_futures_and_stores_no_permit() {
    let notify = Notify::new();
    let (w, c) = counting_waker();
    let mut polled = Box::pin(notify.notified());
    assert!(poll(polled.as_mut(), &w).is_pending());
    let mut unpolled = Box::pin(notify.notified()); // created before the call, never polled
    notify.notify_waiters();
    assert_eq!(c.wakes(), 1);
    assert!(poll(polled.as_mut(), &w).is_ready());
    assert!(
        poll(unpolled.as_mut(), &w).is_ready(),
        "it existed at the call"
    );
    let mut later = Box::pin(notify.notified());
    assert!(
        poll(later.as_mut(), &w).is_pending(),
        "no permit was stored"
    );
}

#[test]
fn notify_waiters_leaves_a_stored_permit_for_later() {
    let notify = Notify::new();
    let (w, _) = counting_waker();
    notify.notify_one(); // permit
    let mut before = Box::pin(notify.notified());
    notify.notify_waiters();
    assert!(
        poll(before.as_mut(), &w).is_ready(),
        "completed by notify_waiters"
    );
    let mut after = Box::pin(notify.notified());
    assert!(
        poll(after.as_mut(), &w).is_ready(),
        "the permit is still there"
    );
}

#[test]
fn a_dropped_waiter_woken_by_notify_one_passes_it_on() {
    let notify = Notify::new();
    let (w1, _) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &w1).is_pending());
    assert!(poll(b.as_mut(), &w2).is_pending());
    notify.notify_one(); // goes to a
    drop(a); // ... which never saw it
    assert_eq!(c2.wakes(), 1, "handed to the next waiter");
    assert!(poll(b.as_mut(), &w2).is_ready());
}

#[test]
fn a_dropped_notified_waiter_with_nobody_behind_leaves_the_permit() {
    let notify = Notify::new();
    let (w, _) = counting_waker();
    let mut a = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &w).is_pending());
    notify.notify_one();
    drop(a);
    let mut b = Box::pin(notify.notified());
    assert!(poll(b.as_mut(), &w).is_ready());
}

#[test]
fn a_dropped_unnotified_waiter_leaves_the_queue_quietly() {
    let notify = Notify::new();
    let (w1, _) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &w1).is_pending());
    assert!(poll(b.as_mut(), &w2).is_pending());
    drop(a);
    assert_eq!(c2.wakes(), 0);
    notify.notify_one();
    assert_eq!(c2.wakes(), 1, "b is now first");
    let mut c = Box::pin(notify.notified());
    assert!(
        poll(c.as_mut(), &w1).is_pending(),
        "the notification went to b, not to a permit"
    );
}

#[test]
fn a_repoll_with_a_new_waker_is_the_one_woken() {
    let notify = Notify::new();
    let (old, c_old) = counting_waker();
    let (new, c_new) = counting_waker();
    let mut a = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &old).is_pending());
    assert!(poll(a.as_mut(), &new).is_pending());
    notify.notify_waiters();
    assert_eq!((c_old.wakes(), c_new.wakes()), (0, 1));
}
