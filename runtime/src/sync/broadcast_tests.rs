//! Unit tests for the broadcast channel: fan-out, lagging, close, subscriber life cycle and wake
//! counts. Futures are polled by hand with counting wakers.

use super::*;
use crate::sync::testing::counting_waker;

fn recv_now<T: Clone>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, RecvError>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

#[test]
fn every_receiver_gets_every_value_in_order() {
    let (tx, mut a) = channel(8);
    let mut b = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(2));
    }
    for rx in [&mut a, &mut b] {
        let got: Vec<i32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn a_new_subscriber_sees_only_what_is_sent_after_it() {
    let (tx, _a) = channel(8);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    tx.send(2).unwrap();
    assert_eq!(late.try_recv(), Ok(2));
}

#[test]
fn a_lagging_receiver_is_told_how_much_it_missed_then_resumes_at_the_oldest() {
    let (tx, mut rx) = channel(3);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(7)));
    assert_eq!(rx.try_recv(), Ok(7));
    let (w, _) = counting_waker();
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Ok(8)));
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Ok(9)));
    assert!(recv_now(&mut rx, &w).is_pending());
}

#[test]
fn lagged_is_reported_by_poll_recv_too() {
    let (tx, mut rx) = channel(1);
    tx.send('a').unwrap();
    tx.send('b').unwrap();
    let (w, _) = counting_waker();
    assert_eq!(
        recv_now(&mut rx, &w),
        Poll::Ready(Err(RecvError::Lagged(1)))
    );
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Ok('b')));
}

#[test]
fn the_ring_holds_at_most_capacity_values_and_grows_lazily() {
    let (tx, _rx) = channel::<u32>(1024);
    assert_eq!(
        tx.shared.borrow().ring.capacity(),
        0,
        "nothing allocated up front"
    );
    for i in 0..5000 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.shared.borrow().ring.len(), 1024);
}

#[test]
fn a_send_wakes_each_waiting_receiver_once_and_only_the_waiting_ones() {
    let (tx, mut a) = channel(4);
    let mut b = tx.subscribe();
    let mut idle = tx.subscribe();
    let (wa, ca) = counting_waker();
    let (wb, cb) = counting_waker();
    assert!(recv_now(&mut a, &wa).is_pending());
    assert!(recv_now(&mut b, &wb).is_pending());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(
        (ca.wakes(), cb.wakes()),
        (1, 1),
        "the second send finds no waker left"
    );
    assert_eq!(recv_now(&mut a, &wa), Poll::Ready(Ok(1)));
    assert_eq!(
        idle.try_recv(),
        Ok(1),
        "a receiver that never waited still gets the values"
    );
}

#[test]
fn a_repoll_with_another_waker_wakes_the_latest_one() {
    let (tx, mut rx) = channel(4);
    let (old, c_old) = counting_waker();
    let (new, c_new) = counting_waker();
    assert!(recv_now(&mut rx, &old).is_pending());
    assert!(recv_now(&mut rx, &new).is_pending());
    tx.send(()).unwrap();
    assert_eq!((c_old.wakes(), c_new.wakes()), (0, 1));
}

#[test]
fn the_last_sender_leaving_closes_after_the_values_are_read() {
    let (tx, mut rx) = channel(4);
    let tx2 = tx.clone();
    let (w, c) = counting_waker();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Ok(1)));
    assert!(recv_now(&mut rx, &w).is_pending(), "tx2 is still alive");
    drop(tx2);
    assert_eq!(
        c.wakes(),
        1,
        "the last sender's drop wakes the waiting receiver"
    );
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Err(RecvError::Closed)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_without_receivers_fails_and_keeps_nothing() {
    let (tx, rx) = channel(4);
    assert_eq!(tx.receiver_count(), 1);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    assert_eq!(tx.send("lost"), Err(SendError("lost")));
    let mut rx = tx.subscribe();
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the failed value was not stored"
    );
}

#[test]
fn a_dropped_receiver_gives_its_slot_back_and_others_carry_on() {
    let (tx, mut a) = channel(4);
    let mut b = tx.subscribe();
    let (w, _) = counting_waker();
    assert!(recv_now(&mut b, &w).is_pending());
    drop(b); // drops its parked waker too
    assert_eq!(tx.send(5), Ok(1));
    assert_eq!(a.try_recv(), Ok(5));
    let _c = tx.subscribe(); // may reuse b's slab slot
    assert_eq!(tx.receiver_count(), 2);
}

#[test]
fn a_value_evicted_or_sent_may_own_a_sender_of_the_same_channel() {
    #[derive(Clone)]
    struct Msg(#[allow(dead_code)] Rc<Sender<Msg>>);
    let (tx, rx) = channel(1);
    let tx = Rc::new(tx);
    tx.send(Msg(tx.clone())).unwrap();
    tx.send(Msg(tx.clone())).unwrap(); // evicts the first Msg outside the borrow
    drop(rx);
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_is_refused() {
    let _ = channel::<()>(0);
}
