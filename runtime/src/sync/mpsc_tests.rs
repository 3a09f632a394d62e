//! Unit tests for the bounded channel: back-pressure, FIFO senders, cancellation, close and drop
//! from both ends, and wake counts. Futures are polled by hand with counting wakers.

use super::*;
use crate::sync::testing::{counting_waker, poll};

fn recv_now<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Option<T>> {
    rx.poll_recv(&mut Context::from_waker(waker))
}

#[test]
fn full_channel_pushes_back_until_a_value_is_received() {
    let (tx, mut rx) = channel(2);
    let (w, c) = counting_waker();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    let mut send = Box::pin(tx.send(3));
    assert!(poll(send.as_mut(), &w).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(c.wakes(), 1, "a freed slot wakes the waiting sender");
    assert_eq!(poll(send.as_mut(), &w), Poll::Ready(Ok(())));
    assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(2), Ok(3)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn waiting_senders_get_slots_in_arrival_order() {
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut s1 = Box::pin(tx.send(1));
    let mut s2 = Box::pin(tx.send(2));
    assert!(poll(s1.as_mut(), &w1).is_pending());
    assert!(poll(s2.as_mut(), &w2).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((c1.wakes(), c2.wakes()), (1, 0));
    assert_eq!(
        tx.try_send(9),
        Err(TrySendError::Full(9)),
        "the free slot belongs to s1"
    );
    assert!(poll(s2.as_mut(), &w2).is_pending());
    assert_eq!(poll(s1.as_mut(), &w1), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    assert_eq!(poll(s2.as_mut(), &w2), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn cancelled_sender_passes_its_slot_on_and_sends_nothing() {
    let (tx, mut rx) = channel(1);
    tx.try_send(0).unwrap();
    let (w1, _) = counting_waker();
    let (w2, c2) = counting_waker();
    let mut s1 = Box::pin(tx.send(1));
    let mut s2 = Box::pin(tx.send(2));
    assert!(poll(s1.as_mut(), &w1).is_pending());
    assert!(poll(s2.as_mut(), &w2).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // slot handed to s1 ...
    drop(s1); // ... which is cancelled before using it
    assert_eq!(c2.wakes(), 1);
    assert_eq!(poll(s2.as_mut(), &w2), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(3).unwrap(); // capacity is intact
}

#[test]
fn receiver_is_woken_once_per_wait_not_per_value() {
    let (tx, mut rx) = channel(4);
    let (w, c) = counting_waker();
    assert!(recv_now(&mut rx, &w).is_pending());
    tx.try_send('a').unwrap();
    tx.try_send('b').unwrap();
    assert_eq!(c.wakes(), 1);
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Some('a')));
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Some('b')));
    assert_eq!(c.wakes(), 1, "receiving never wakes the receiver itself");
}

#[test]
fn recv_ends_after_the_last_sender_leaves_and_the_queue_drains() {
    let (tx, mut rx) = channel(4);
    let tx2 = tx.clone();
    let (w, c) = counting_waker();
    tx2.try_send(1).unwrap();
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Some(1)));
    assert!(recv_now(&mut rx, &w).is_pending());
    drop(tx);
    assert_eq!(c.wakes(), 0, "one sender remains: no progress possible");
    tx2.try_send(2).unwrap();
    drop(tx2);
    assert_eq!(c.wakes(), 1);
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Some(2)));
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(None));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    let (tx, mut rx) = channel::<u8>(1);
    assert!(recv_now(&mut rx, &w).is_pending());
    drop(tx);
    assert_eq!(
        c.wakes(),
        2,
        "last sender dropped wakes the waiting receiver"
    );
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(None));
}

#[test]
fn dropping_the_receiver_fails_waiting_and_later_sends_and_drops_queued_values() {
    let value = Rc::new(());
    let (tx, rx) = channel(1);
    tx.try_send(value.clone()).unwrap();
    let (w, c) = counting_waker();
    let mut send = Box::pin(tx.send(value.clone()));
    assert!(poll(send.as_mut(), &w).is_pending());
    drop(rx);
    assert_eq!(c.wakes(), 1);
    let Poll::Ready(Err(SendError(back))) = poll(send.as_mut(), &w) else {
        panic!()
    };
    drop(back);
    assert_eq!(
        Rc::strong_count(&value),
        1,
        "the queued value was dropped with the receiver"
    );
    assert!(tx.is_closed());
    assert!(matches!(
        tx.try_send(value.clone()),
        Err(TrySendError::Closed(_))
    ));
    assert!(matches!(
        poll(Box::pin(tx.send(value)).as_mut(), &w),
        Poll::Ready(Err(_))
    ));
}

#[test]
fn close_rejects_new_values_but_delivers_queued_ones() {
    let (tx, mut rx) = channel(2);
    let (w, _) = counting_waker();
    tx.try_send(1).unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Some(1)));
    assert_eq!(
        recv_now(&mut rx, &w),
        Poll::Ready(None),
        "senders alive, but closed"
    );
}

#[test]
fn queued_value_owning_a_sender_can_be_dropped_with_the_receiver() {
    struct Msg(#[allow(dead_code)] Sender<Msg>);
    let (tx, rx) = channel(1);
    tx.try_send(Msg(tx.clone())).unwrap();
    drop(rx); // drops the Msg, whose Sender touches the channel state: must not re-borrow-panic
    assert!(tx.is_closed());
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_is_refused() {
    let _ = channel::<()>(0);
}

#[test]
fn sender_handed_a_slot_just_before_close_still_fails() {
    let (tx, mut rx) = channel(1);
    let (w, _) = counting_waker();
    tx.try_send(1).unwrap();
    let mut send = Box::pin(tx.send(2));
    assert!(poll(send.as_mut(), &w).is_pending());
    assert_eq!(rx.try_recv(), Ok(1)); // the freed slot is handed to `send` ...
    rx.close(); // ... but the receiver closes before `send` runs again
    assert_eq!(poll(send.as_mut(), &w), Poll::Ready(Err(SendError(2))));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_bounded_channel_allocates_its_queue_lazily() {
    let (tx, mut rx) = channel::<u64>(256);
    assert_eq!(
        rx.chan.state.borrow().queue.capacity(),
        0,
        "no slots up front"
    );
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let grown = rx.chan.state.borrow().queue.capacity();
    assert!(
        (3..256).contains(&grown),
        "grows with use, not to capacity: {grown}"
    );
    assert_eq!(rx.try_recv(), Ok(0));
}
