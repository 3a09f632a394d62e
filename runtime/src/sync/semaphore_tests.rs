//! Unit tests for the semaphore: FIFO order, cancellation, hand-off, close, and wake counts.
//! Futures are polled by hand with counting wakers, so every wake-up is accounted for.

use super::*;
use crate::sync::testing::{counting_waker, poll};

#[test]
fn acquire_is_immediate_when_free_and_permit_returns_on_drop() {
    let sem = Semaphore::new(2);
    let (waker, _) = counting_waker();
    let mut fut = Box::pin(sem.acquire_many(2));
    let Poll::Ready(Ok(permit)) = poll(fut.as_mut(), &waker) else {
        panic!("should be ready")
    };
    assert_eq!((permit.num_permits(), sem.available_permits()), (2, 0));
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn later_small_request_does_not_overtake_earlier_large_one() {
    let sem = Semaphore::new(1);
    let (wa, ca) = counting_waker();
    let (wb, cb) = counting_waker();
    let mut a = Box::pin(sem.acquire_many(3));
    let mut b = Box::pin(sem.acquire());
    assert!(poll(a.as_mut(), &wa).is_pending());
    // One permit is free, but `a` is queued first: `b` and `try_acquire` must wait.
    assert!(poll(b.as_mut(), &wb).is_pending());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    sem.add_permits(1);
    assert_eq!(
        (ca.wakes(), cb.wakes()),
        (0, 0),
        "two permits fit neither in order"
    );
    sem.add_permits(2); // 4 free: a takes 3, then b takes 1
    assert_eq!((ca.wakes(), cb.wakes()), (1, 1));
    assert_eq!(sem.available_permits(), 0);
    assert!(matches!(poll(a.as_mut(), &wa), Poll::Ready(Ok(p)) if p.num_permits() == 3));
    assert!(matches!(poll(b.as_mut(), &wb), Poll::Ready(Ok(_))));
    assert_eq!(
        sem.available_permits(),
        4,
        "both permits were dropped after the match"
    );
}

#[test]
fn waiters_are_served_in_arrival_order_one_release_at_a_time() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let wakers: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| Box::pin(sem.acquire())).collect();
    for (fut, (w, _)) in futs.iter_mut().zip(&wakers) {
        assert!(poll(fut.as_mut(), w).is_pending());
    }
    let wakes = || wakers.iter().map(|(_, c)| c.wakes()).collect::<Vec<_>>();
    drop(held);
    assert_eq!(wakes(), [1, 0, 0]);
    for i in 0..3 {
        let Poll::Ready(Ok(permit)) = poll(futs[i].as_mut(), &wakers[i].0) else {
            panic!()
        };
        for j in i + 1..3 {
            assert!(
                poll(futs[j].as_mut(), &wakers[j].0).is_pending(),
                "{j} overtook"
            );
        }
        drop(permit); // hands the permit to the next in line
    }
    assert_eq!(
        wakes(),
        [1, 1, 1],
        "each waiter woken exactly once, in order"
    );
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn cancelled_front_waiter_unblocks_smaller_request_behind_it() {
    let sem = Semaphore::new(1);
    let (wa, _) = counting_waker();
    let (wb, cb) = counting_waker();
    let mut a = Box::pin(sem.acquire_many(2));
    let mut b = Box::pin(sem.acquire());
    assert!(poll(a.as_mut(), &wa).is_pending());
    assert!(poll(b.as_mut(), &wb).is_pending());
    drop(a);
    assert_eq!(cb.wakes(), 1);
    assert!(matches!(poll(b.as_mut(), &wb), Poll::Ready(Ok(_))));
}

#[test]
fn permit_handed_to_a_cancelled_waiter_is_passed_on() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let (wa, ca) = counting_waker();
    let (wb, cb) = counting_waker();
    let mut a = Box::pin(sem.acquire());
    let mut b = Box::pin(sem.acquire());
    assert!(poll(a.as_mut(), &wa).is_pending());
    assert!(poll(b.as_mut(), &wb).is_pending());
    drop(held);
    assert_eq!((ca.wakes(), cb.wakes(), sem.available_permits()), (1, 0, 0));
    drop(a); // woken with the permit, but cancelled before its next poll
    assert_eq!(cb.wakes(), 1);
    let Poll::Ready(Ok(permit)) = poll(b.as_mut(), &wb) else {
        panic!("b should own the permit")
    };
    drop(permit);
    assert_eq!(sem.available_permits(), 1, "no permit lost");
}

#[test]
fn close_fails_queued_and_future_waiters_but_held_permits_still_return() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let (w, c) = counting_waker();
    let mut queued = Box::pin(sem.acquire());
    assert!(poll(queued.as_mut(), &w).is_pending());
    sem.close();
    assert!(sem.is_closed());
    assert_eq!(c.wakes(), 1);
    assert!(matches!(
        poll(queued.as_mut(), &w),
        Poll::Ready(Err(AcquireError(())))
    ));
    assert!(matches!(
        poll(Box::pin(sem.acquire()).as_mut(), &w),
        Poll::Ready(Err(_))
    ));
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn waiter_granted_before_close_keeps_its_permit() {
    let sem = Semaphore::new(0);
    let (w, _) = counting_waker();
    let mut fut = Box::pin(sem.acquire());
    assert!(poll(fut.as_mut(), &w).is_pending());
    sem.add_permits(1);
    sem.close();
    assert!(matches!(poll(fut.as_mut(), &w), Poll::Ready(Ok(_))));
}

#[test]
fn only_the_latest_waker_is_woken_and_only_once() {
    let sem = Semaphore::new(0);
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut fut = Box::pin(sem.acquire());
    assert!(poll(fut.as_mut(), &w1).is_pending());
    assert!(poll(fut.as_mut(), &w1).is_pending()); // same waker again: still one registration
    assert!(poll(fut.as_mut(), &w2).is_pending()); // the task moved: w1 is stale
    sem.add_permits(3);
    assert_eq!((c1.wakes(), c2.wakes()), (0, 1));
}

#[test]
fn owned_permit_outlives_the_borrow_and_forget_shrinks_the_pool() {
    let sem = Rc::new(Semaphore::new(2));
    let (w, _) = counting_waker();
    let permit = {
        let mut fut = Box::pin(sem.acquire_owned());
        let Poll::Ready(Ok(permit)) = poll(fut.as_mut(), &w) else {
            panic!()
        };
        permit
    };
    assert_eq!(sem.available_permits(), 1);
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
}
