//! The io_uring backend of the driver boundary (completion), on the `io-uring` crate's bindings.
//!
//! With epoll the kernel says "you may read now" and the net type makes the syscall. Here the net type
//! *asks for the operation*: the driver queues an SQE (submission queue entry), the loop hands every SQE
//! queued during a turn to the kernel in the same `io_uring_enter` that waits for completions (until the
//! next timer deadline, passed as the wait's timeout), and each completion (CQE) is recorded on its socket
//! and wakes the task waiting there.
//!
//! ```text
//!   task polls read ──► socket has bytes? ── yes ──► copy out, give buffers back ──► Ready(n)
//!                            │ no
//!                            ▼
//!                       arm a receive (one SQE, multishot) and park the waker ──► Pending
//!   loop step 3:  io_uring_enter(submit all SQEs, wait ≥ 1 CQE or the next deadline)   ← one syscall
//!   loop step 4:  CQE "recv: 87 bytes in buffer 12" ──► queue buffer 12 on the socket, wake the reader
//! ```
//!
//! # Memory ownership (the rules that make this sound)
//! 1. **The kernel never sees a caller's buffer.** Receives select buffers from the provided-buffer ring
//!    ([`bufring`]); sends go from a copy the driver owns. A task may drop its read or write future, or
//!    its buffer, at any time: the kernel holds nothing of the task's.
//! 2. **Every byte an SQE lends the kernel is owned by that SQE's op** ([`ops::Op`]: a send's `Vec`, a
//!    connect's or accept's address, a datagram's `MsgBuf`, the wake counter), in heap memory that does
//!    not move, and the op is dropped only after its **final** completion has been reaped.
//! 3. **A ring buffer is owned by exactly one side at a time**: the kernel (in the ring), or the socket it
//!    was delivered to (a [`bufring::Taken`] in the socket's queue) until every byte is copied out, when it
//!    goes back to the ring. When the ring runs dry a receive completes with `ENOBUFS` *without consuming
//!    any bytes* (they stay in the kernel's socket buffer); the socket is then put on the starved list and
//!    its receive is re-armed as soon as buffers come back. No byte is lost.
//! 4. **Operations belong to sockets, not to futures.** Dropping a read future leaves the socket's receive
//!    armed (it holds no buffer until bytes arrive, and bytes that arrive wait for the next read, exactly as
//!    they would in the kernel with epoll). Dropping the **socket** cancels its receive, accept, connect
//!    and datagram receive (`ASYNC_CANCEL`); their memory lives on in their ops until the cancellation's
//!    completion (or the op's own, if it won the race) arrives. Bytes a task already wrote are still sent.
//! 5. **An fd is closed only when no op names it any more** (the socket slot counts its ops in flight), by
//!    an `IORING_OP_CLOSE` after the last completion. So an fd number cannot be reused by a new socket
//!    while an op on the old one is still in flight; completions find their op by key, never by fd.
//! 6. **Dropping the driver** cancels every op still in flight, each by its key (one cancel-any would
//!    cost the kernel a walk over every armed request per request cancelled), waits until every op's
//!    final completion has arrived, and only then unregisters and unmaps the buffer ring. If the kernel does
//!    not finish within a few seconds, the memory is leaked rather than freed under the kernel. A
//!    cancelled send's unsent bytes (and any written after them) go to the kernel with plain non-blocking
//!    `send`s, and a shutdown waiting behind them is made, so what a task wrote before the runtime ended
//!    reaches the peer as it would on epoll, where the bytes sit in the kernel's send buffer at close.
//!
//! # One submission per turn
//! SQEs queued while tasks run sit in the submission queue until step 3 of the loop, where one
//! `io_uring_enter` submits them all and waits. When tasks are still ready (timeout zero) and nothing is
//! queued, no syscall is made at all; completions are read straight from the shared completion queue.
//! (Only a full submission queue, or a kernel that asks for its deferred work, costs an extra enter.)
//!
//! This module and `executor::raw` are the only places in the crate allowed to write `unsafe`; each block
//! carries a `// SAFETY:` comment that argues from the rules above.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod bufring;
mod ops;
mod probe;
mod socket;

#[cfg(test)]
pub(crate) use probe::deny_io_uring_setup_on_this_thread;
pub(crate) use probe::refused;

use bufring::BufRing;
use ops::{Op, OpKind};
use socket::Socket;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use io_uring::{cqueue, types, IoUring};
use slab::Slab;

/// Sizes of the provided-buffer ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BufferConfig {
    /// How many buffers (a power of two, at most 32768).
    pub(crate) count: u16,
    /// Bytes per buffer.
    pub(crate) size: u32,
}

impl Default for BufferConfig {
    fn default() -> Self {
        BufferConfig {
            count: 256,
            size: 4096,
        }
    }
}

/// io_uring with a provided-buffer ring, the ops in flight and the sockets they work for.
pub(crate) struct UringDriver {
    ring: IoUring,
    /// Ops in flight, keyed by their SQE's `user_data`.
    ops: Slab<Op>,
    sockets: Slab<Socket>,
    /// `None` only while the driver is being dropped.
    bufs: Option<BufRing>,
    multishot_recv: bool,
    /// Sockets whose receive ended with `ENOBUFS`, to re-arm when buffers come back (oldest first).
    starved: std::collections::VecDeque<usize>,
    /// How many receives ended with ENOBUFS (for `Stats::receives_starved`).
    starved_total: u64,
    /// Wakers collected while reaping; woken by the caller after the driver is no longer borrowed.
    woken: Vec<Waker>,
    /// Completions copied out of the queue, then handled (reused between turns).
    cqes: Vec<(u64, i32, u32)>,
    /// Sockets the user still holds (what `Stats::registered_sources` counts).
    live: usize,
    wake_fd: Arc<File>,
    /// Set while dropping: completions start no new ops and fds are closed directly.
    closing: bool,
}

/// Wakes a blocked `io_uring_enter` from any thread: a write to the eventfd whose read is always in flight.
#[derive(Clone)]
pub(crate) struct UringUnparker(Arc<File>);

impl UringUnparker {
    pub(crate) fn unpark(&self) {
        // A failed write can only mean the counter is saturated (a wake is pending anyway) or the runtime
        // is gone: nothing to do either way.
        let _ = (&*self.0).write(&1u64.to_ne_bytes());
    }
}

fn eventfd() -> io::Result<File> {
    // SAFETY: eventfd takes no pointers; the result is checked before use. Blocking mode on purpose: an
    // io_uring read of an O_NONBLOCK file would complete with EAGAIN instead of waiting.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

impl UringDriver {
    /// Set up the ring (`entries` submission slots), probe the kernel and register the buffer ring.
    ///
    /// # Errors
    /// The kernel refuses io_uring or lacks something the driver needs; the message names it.
    pub(crate) fn new(entries: usize, buffers: BufferConfig) -> io::Result<UringDriver> {
        let setup = probe::setup(entries.min(4096) as u32)?;
        let bufs =
            BufRing::new(&setup.ring.submitter(), buffers.count, buffers.size, 0).map_err(|e| {
                refused(
                    io::ErrorKind::Unsupported,
                    format!("registering a provided-buffer ring failed ({e}); it needs Linux 5.19"),
                )
            })?;
        let wake_fd = Arc::new(eventfd()?);
        let mut me = UringDriver {
            ring: setup.ring,
            ops: Slab::with_capacity(64),
            sockets: Slab::with_capacity(64),
            bufs: Some(bufs),
            multishot_recv: setup.multishot_recv,
            starved: Default::default(),
            starved_total: 0,
            woken: Vec::new(),
            cqes: Vec::with_capacity(256),
            live: 0,
            wake_fd,
            closing: false,
        };
        let fd = me.wake_fd.as_raw_fd();
        me.submit_wake_read(fd, Box::new(0));
        Ok(me)
    }

    pub(crate) fn unparker(&self) -> UringUnparker {
        UringUnparker(self.wake_fd.clone())
    }

    /// Sockets the user still holds.
    pub(crate) fn registered(&self) -> usize {
        self.live
    }

    /// Receives that completed with ENOBUFS (the ring was empty) since the driver was made.
    pub(crate) fn receives_starved(&self) -> u64 {
        self.starved_total
    }

    /// Ops whose final completion has not been reaped.
    pub(crate) fn ops_in_flight(&self) -> usize {
        self.ops.len()
    }

    /// Wakers collected by the last `poll`; the caller wakes them once the driver is not borrowed.
    pub(crate) fn take_woken(&mut self, into: &mut Vec<Waker>) {
        into.append(&mut self.woken);
    }

    fn bufs(&mut self) -> &mut BufRing {
        self.bufs.as_mut().expect("buffer ring present until drop")
    }

    /// Submit everything queued and wait for completions: not at all when `timeout` is zero, at most
    /// `timeout` otherwise, indefinitely for `None`. Then handle every completion. Returns whether another
    /// thread unparked the loop.
    pub(crate) fn poll(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        self.rearm_starved();
        self.bufs().publish();
        let wait = timeout != Some(Duration::ZERO);
        let result = if !wait {
            let mut sq = self.ring.submission();
            sq.sync();
            let idle = sq.is_empty() && !sq.taskrun() && !sq.cq_overflow();
            drop(sq);
            if idle {
                Ok(0)
            } else {
                self.ring.submitter().submit_and_wait(0)
            }
        } else if let Some(d) = timeout {
            let ts = types::Timespec::from(d);
            let args = types::SubmitArgs::new().timespec(&ts);
            self.ring.submitter().submit_with_args(1, &args)
        } else {
            self.ring.submitter().submit_and_wait(1)
        };
        match result {
            Ok(_) => {}
            // ETIME: the deadline passed; EINTR: a signal; EBUSY: the completion queue is full and must be
            // drained first. In all three the loop simply handles what is there and turns again.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) => {}
            Err(e) => return Err(e),
        }
        Ok(self.reap())
    }

    /// Handle every completion in the queue. Returns whether the wake eventfd fired.
    fn reap(&mut self) -> bool {
        let mut unparked = false;
        let mut cqes = std::mem::take(&mut self.cqes);
        loop {
            cqes.clear();
            {
                let mut cq = self.ring.completion();
                cq.sync();
                cqes.extend(cq.map(|c| (c.user_data(), c.result(), c.flags())));
            }
            if cqes.is_empty() {
                break;
            }
            for &(user_data, res, flags) in &cqes {
                unparked |= self.complete(user_data as usize, res, flags);
            }
        }
        self.cqes = cqes;
        unparked
    }

    /// One completion: hand its result to its socket, and drop the op if this was its last completion.
    fn complete(&mut self, key: usize, res: i32, flags: u32) -> bool {
        let more = cqueue::more(flags);
        let Some(op) = self.ops.get_mut(key) else {
            debug_assert!(false, "completion for unknown op {key}");
            return false;
        };
        let socket = op.socket;
        let mut unparked = false;
        if more {
            // Only multishot receives produce more than one completion.
            if let Some(s) = socket {
                self.on_recv(s, key, res, flags, true);
            }
            return false;
        }
        let op = self.ops.remove(key);
        match op.kind {
            OpKind::Recv => {
                self.on_recv(socket.expect("recv has a socket"), key, res, flags, false)
            }
            OpKind::Send { buf, start } => self.on_send(socket.expect("send"), res, buf, start),
            OpKind::Connect(_) => self.on_connect(socket.expect("connect"), res),
            OpKind::Accept(addr) => self.on_accept(socket.expect("accept"), res, &addr),
            OpKind::RecvMsg(msg) => self.on_recvmsg(socket.expect("recvmsg"), res, msg),
            OpKind::SendMsg(msg) => self.on_sendmsg(socket.expect("sendmsg"), res, msg),
            OpKind::Shutdown | OpKind::Close | OpKind::Cancel => {}
            OpKind::Wake(buf) => {
                unparked = true;
                if !self.closing {
                    let fd = self.wake_fd.as_raw_fd();
                    self.submit_wake_read(fd, buf);
                }
            }
        }
        if let Some(s) = socket {
            self.op_done(s);
        }
        unparked
    }

    /// Re-arm receives that ran out of buffers, as many as there are buffers to receive into. (Re-arming
    /// a receive takes no buffer until bytes land, so `available` does not drop as we go: without the
    /// budget, one free buffer would re-arm every starved socket and all but one would run dry again.)
    fn rearm_starved(&mut self) {
        let mut budget = self.bufs().available();
        while budget > 0 {
            let Some(s) = self.starved.pop_front() else {
                break;
            };
            self.rearm(s);
            budget -= 1;
        }
    }

    /// Cancel everything in flight and reap until every op had its final completion, for at most 5 s.
    /// Returns how many times it entered the kernel.
    fn drain_at_shutdown(&mut self) -> usize {
        self.closing = true;
        self.cancel_in_flight();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut enters = 0;
        while !self.ops.is_empty() && Instant::now() < deadline {
            // Wait for every completion still owed, up to what the completion queue holds. With deferred
            // task work the kernel runs about max(20, wanted) completions per enter, so waiting for one at
            // a time would take hundreds of enters for thousands of cancelled receives.
            let want = self.ops.len().min(self.ring.completion().capacity());
            let ts = types::Timespec::from(Duration::from_millis(50));
            let args = types::SubmitArgs::new().timespec(&ts);
            enters += 1;
            match self.ring.submitter().submit_with_args(want, &args) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                    ) => {}
                Err(_) => break,
            }
            // Nothing new is submitted while closing (sends finish with plain `send`s, the wake read is
            // not re-armed), so reaping is all that is left to do.
            self.reap();
        }
        enters
    }
}

impl Drop for UringDriver {
    fn drop(&mut self) {
        self.drain_at_shutdown();
        if !self.ops.is_empty() {
            // The kernel still owns some memory: never free it under the kernel.
            eprintln!(
                "spool: {} io_uring operations did not finish at shutdown; leaking their memory",
                self.ops.len()
            );
            std::mem::forget(std::mem::take(&mut self.ops));
            std::mem::forget(self.bufs.take());
            return;
        }
        if let Some(bufs) = self.bufs.take() {
            let _ = self.ring.submitter().unregister_buf_ring(bufs.group());
            drop(bufs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn shutdown_reaps_thousands_of_cancelled_receives_in_a_few_enters() {
        // 2,000 sockets with a receive armed and no data, as a pool of idle keep-alive connections
        // leaves them. Dropping the driver cancels each receive by its key and waits for the completions
        // in bulk. (It used to issue one cancel-any per turn and wait for one completion at a time: with
        // 10,000 sockets that took 5 s of kernel time and still leaked 9,322 ops.)
        const SOCKETS: usize = 2000;
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        if soft < 2 * SOCKETS as u64 + 100 {
            rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard).unwrap();
        }
        let mut driver = match UringDriver::new(256, BufferConfig::default()) {
            Ok(d) => d,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("skipped: io_uring unavailable here ({e})");
                return;
            }
            Err(e) => panic!("io_uring unavailable under CI: {e}"),
        };
        let pairs: Vec<(UnixStream, UnixStream)> = (0..SOCKETS)
            .map(|_| UnixStream::pair().expect("socketpair"))
            .collect();
        let mut buf = [0u8; 16];
        for (ours, _theirs) in &pairs {
            let key = driver.register(ours.as_raw_fd());
            let armed = driver.poll_recv(key, None, &mut buf);
            assert!(
                matches!(armed, std::task::Poll::Ready(Err(ref e)) if e.kind() == io::ErrorKind::WouldBlock)
            );
        }
        // One enter hands the receives to the kernel, where they wait.
        driver.poll(Some(Duration::ZERO)).unwrap();
        let owed = driver.ops_in_flight();
        assert!(
            owed > SOCKETS,
            "{owed} ops in flight: every receive and the wake read"
        );
        let cq = driver.ring.completion().capacity();
        let enters = driver.drain_at_shutdown();
        assert_eq!(driver.ops_in_flight(), 0, "ops left after {enters} enters");
        // Each op owes its own completion and its cancel's: 2 * owed completions, cq at a time.
        let bound = 2 * (2 * owed).div_ceil(cq) + 2;
        assert!(
            enters <= bound,
            "{enters} enters to reap {owed} cancelled ops (bound {bound})"
        );
        drop(pairs);
    }
}
