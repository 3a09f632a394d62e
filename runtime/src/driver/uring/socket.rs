//! One socket on the io_uring driver: what its ops delivered, and the poll functions the net types call.
//!
//! The state lives in the driver, not in the `TcpStream`, because it must outlive the user's handle:
//! after the handle is dropped, its ops may still be in flight (a cancelled receive, bytes still being
//! sent) and the fd is closed only after the last of them completes (rule 5 of the module docs).
//!
//! Receive side (streams): an armed receive (`recv`), the delivered buffers not yet read (`chunks`),
//! and how the stream ended (`end`). Send side: bytes accepted by `poll_send` and not yet handed to the
//! kernel (`pending`), at most one send in flight, and the first send error, which every later write
//! reports. One-shot ops (connect, accept, datagrams) park their result here until a poll collects it, so
//! a future dropped mid-operation loses nothing that the next one could have had.

use super::bufring::Taken;
use super::ops::{errno, AddrBuf, MsgBuf};
use super::UringDriver;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::task::{Context, Poll, Waker};

/// Bytes a socket may hold accepted-but-unsent before `poll_send` says `Pending` (its "send buffer").
const SEND_WINDOW: usize = 64 * 1024;
/// A spare send `Vec` bigger than this is freed instead of kept for the next write.
const KEEP_SPARE: usize = 8 * 1024;
/// Delivered buffers a socket may hold unread before its multishot receive is paused (cancelled), so a
/// fast sender to a slow reader cannot take the whole ring from everyone else.
const MAX_CHUNKS: usize = 8;

/// How a stream's receive side ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    Eof,
    /// An error to report once (then reads see EOF, as after a reset on epoll).
    Error(i32),
}

/// One delivered buffer and how much of it has been read.
struct Chunk {
    buf: Taken,
    read: usize,
}

/// Where a one-shot op stands.
enum OneShot<T> {
    Idle,
    InFlight(usize),
    Done(T),
}

impl<T> OneShot<T> {
    fn in_flight(&self) -> Option<usize> {
        match self {
            OneShot::InFlight(k) => Some(*k),
            _ => None,
        }
    }
}

pub(super) struct Socket {
    fd: RawFd,
    /// Set when the user dropped the handle and gave the fd to the driver to close.
    owned: Option<OwnedFd>,
    released: bool,
    /// Ops in flight that name this socket.
    pub(super) ops: u32,
    // receive side
    recv: Option<usize>,
    recv_cancelled: bool,
    starved: bool,
    chunks: VecDeque<Chunk>,
    end: End,
    reader: Option<Waker>,
    // send side
    pending: Vec<u8>,
    spare: Vec<u8>,
    send: Option<usize>,
    in_flight: usize,
    send_error: Option<i32>,
    write_shut: bool,
    shutdown_after_send: Option<i32>,
    writer: Option<Waker>,
    // one-shot ops
    connect: OneShot<i32>,
    accept: OneShot<io::Result<(OwnedFd, SocketAddr)>>,
    recv_from: OneShot<io::Result<Box<MsgBuf>>>,
    msg_spare: Option<Box<MsgBuf>>,
    send_to: Option<usize>,
    send_to_error: Option<i32>,
}

fn park(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

fn how_code(how: Shutdown) -> i32 {
    match how {
        Shutdown::Read => libc::SHUT_RD,
        Shutdown::Write => libc::SHUT_WR,
        Shutdown::Both => libc::SHUT_RDWR,
    }
}

impl UringDriver {
    /// Start driving `fd` (a socket in *blocking* mode: io_uring makes every operation non-blocking by
    /// itself, and would report EAGAIN for an `O_NONBLOCK` file instead of waiting). The caller keeps
    /// owning the fd until [`UringDriver::release`].
    pub(crate) fn register(&mut self, fd: RawFd) -> usize {
        self.live += 1;
        self.sockets.insert(Socket {
            fd,
            owned: None,
            released: false,
            ops: 0,
            recv: None,
            recv_cancelled: false,
            starved: false,
            chunks: VecDeque::new(),
            end: End::Open,
            reader: None,
            pending: Vec::new(),
            spare: Vec::new(),
            send: None,
            in_flight: 0,
            send_error: None,
            write_shut: false,
            shutdown_after_send: None,
            writer: None,
            connect: OneShot::Idle,
            accept: OneShot::Idle,
            recv_from: OneShot::Idle,
            msg_spare: None,
            send_to: None,
            send_to_error: None,
        })
    }

    /// The user dropped the socket: cancel what only a reader could want, let written bytes go out, and
    /// close `fd` once no op names it.
    pub(crate) fn release(&mut self, key: usize, fd: OwnedFd) {
        self.live -= 1;
        let s = &mut self.sockets[key];
        s.released = true;
        s.owned = Some(fd);
        s.reader = None;
        s.writer = None;
        let mut cancel = Vec::new();
        if let Some(k) = s.recv {
            if !s.recv_cancelled {
                s.recv_cancelled = true;
                cancel.push(k);
            }
        }
        cancel.extend(s.connect.in_flight());
        cancel.extend(s.accept.in_flight());
        cancel.extend(s.recv_from.in_flight());
        if s.send_error.is_some() {
            cancel.extend(s.send);
        }
        let chunks = std::mem::take(&mut s.chunks);
        let sending = s.send.is_some() || !s.pending.is_empty();
        let (fd, ops) = (s.fd, s.ops);
        for c in chunks {
            self.bufs().recycle(c.buf);
        }
        if ops == 0 {
            // Nothing names the fd: close it now, as epoll does (one `close`, once per socket), so the
            // peer sees the end even if this loop never turns again.
            let mut s = self.sockets.remove(key);
            drop(s.owned.take());
            return;
        }
        for k in cancel {
            self.submit_cancel(k);
        }
        if !sending {
            // Ops are still in flight, so the fd must stay open (rule 5) until their completions, which
            // the loop reaps on its next turn. The peer should not have to wait for that turn (the task
            // that dropped the socket may go on to block): shut both directions down now. Nothing is
            // waiting to be sent, so no byte is lost; errors (a UDP socket is not connected) are moot.
            // SAFETY: `fd` is this socket's open descriptor, owned by the slot until its close.
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
            }
        }
        self.maybe_close(key);
    }

    /// Whether `op` is socket `key`'s receive and a cancel for it was already submitted.
    pub(super) fn recv_cancel_sent(&self, key: usize, op: usize) -> bool {
        let s = &self.sockets[key];
        s.recv == Some(op) && s.recv_cancelled
    }

    /// An op of socket `key` had its final completion.
    pub(super) fn op_done(&mut self, key: usize) {
        self.sockets[key].ops -= 1;
        self.maybe_close(key);
    }

    fn maybe_close(&mut self, key: usize) {
        let s = &self.sockets[key];
        if !s.released || s.ops > 0 {
            return;
        }
        let mut s = self.sockets.remove(key);
        if let Some(fd) = s.owned.take() {
            if self.closing {
                drop(fd);
            } else {
                self.submit_close(fd);
            }
        }
    }

    // ---- stream receive ------------------------------------------------------------------------------

    /// Read into `buf`. With `cx = None` (a `try_read`) never parks a waker and says `WouldBlock` when
    /// nothing is there (but still arms a receive, so a later probe sees what arrived meanwhile).
    pub(crate) fn poll_recv(
        &mut self,
        key: usize,
        cx: Option<&mut Context<'_>>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if !self.sockets[key].chunks.is_empty() {
            return Poll::Ready(Ok(self.copy_out(key, buf)));
        }
        if let Some(r) = self.take_end(key) {
            return Poll::Ready(r.map(|()| 0));
        }
        self.arm_recv(key);
        match cx {
            Some(cx) => {
                park(&mut self.sockets[key].reader, cx);
                Poll::Pending
            }
            None => Poll::Ready(Err(io::ErrorKind::WouldBlock.into())),
        }
    }

    /// Wait until a read would not wait: bytes are queued, or the stream ended.
    pub(crate) fn poll_recv_ready(&mut self, key: usize, cx: &mut Context<'_>) -> Poll<()> {
        let s = &self.sockets[key];
        if !s.chunks.is_empty() || s.end != End::Open {
            return Poll::Ready(());
        }
        self.arm_recv(key);
        park(&mut self.sockets[key].reader, cx);
        Poll::Pending
    }

    /// `Some(Ok)` at EOF, `Some(Err)` once for an error (then EOF), `None` while the stream is open.
    fn take_end(&mut self, key: usize) -> Option<io::Result<()>> {
        let s = &mut self.sockets[key];
        match s.end {
            End::Open => None,
            End::Eof => Some(Ok(())),
            End::Error(code) => {
                s.end = End::Eof;
                Some(Err(io::Error::from_raw_os_error(code)))
            }
        }
    }

    /// Copy queued bytes into `buf` (across chunks), giving emptied buffers back to the ring.
    fn copy_out(&mut self, key: usize, buf: &mut [u8]) -> usize {
        let mut n = 0;
        let bufs = self.bufs.as_mut().expect("buffer ring present");
        let s = &mut self.sockets[key];
        while n < buf.len() {
            let Some(chunk) = s.chunks.front_mut() else {
                break;
            };
            let bytes = &bufs.bytes(&chunk.buf)[chunk.read..];
            let take = bytes.len().min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&bytes[..take]);
            n += take;
            chunk.read += take;
            if chunk.read == chunk.buf.len() {
                let chunk = s.chunks.pop_front().expect("front exists");
                bufs.recycle(chunk.buf);
            }
        }
        n
    }

    /// Make sure a receive is armed, unless one is, the stream ended, or too much is queued unread.
    fn arm_recv(&mut self, key: usize) {
        let s = &self.sockets[key];
        if s.recv.is_some() || s.starved || s.end != End::Open || s.chunks.len() >= MAX_CHUNKS {
            return;
        }
        let fd = s.fd;
        let k = self.submit_recv(key, fd);
        let s = &mut self.sockets[key];
        s.recv = Some(k);
        s.recv_cancelled = false;
    }

    /// Re-arm a starved socket (buffers came back).
    pub(super) fn rearm(&mut self, key: usize) {
        let Some(s) = self.sockets.get_mut(key) else {
            return;
        };
        s.starved = false;
        if !s.released {
            self.arm_recv(key);
        }
    }

    /// A receive completion: bytes in a ring buffer, EOF, or an error. `more`: the multishot goes on.
    pub(super) fn on_recv(&mut self, key: usize, op: usize, res: i32, flags: u32, more: bool) {
        let taken = if res > 0 {
            self.bufs().take(flags, res as u32)
        } else {
            None
        };
        if !more {
            let s = &mut self.sockets[key];
            if s.recv == Some(op) {
                s.recv = None;
            }
        }
        let s = &mut self.sockets[key];
        if s.released {
            if let Some(t) = taken {
                self.bufs().recycle(t);
            }
            return;
        }
        match res {
            n if n > 0 => {
                let t = taken.expect("a receive with bytes names its buffer");
                s.chunks.push_back(Chunk { buf: t, read: 0 });
                if more && s.chunks.len() >= MAX_CHUNKS && !s.recv_cancelled {
                    // Pause the multishot; what it delivers before the cancel lands is still queued.
                    s.recv_cancelled = true;
                    self.submit_cancel(op);
                }
            }
            0 => s.end = End::Eof,
            e if e == -libc::ENOBUFS => {
                // The ring ran dry: nothing was consumed from the socket. Re-arm when buffers return.
                self.starved_total += 1;
                if !s.starved {
                    s.starved = true;
                    self.starved.push_back(key);
                }
            }
            e if e == -libc::ECANCELED => {}
            e => s.end = End::Error(-e),
        }
        let s = &mut self.sockets[key];
        if let Some(w) = s.reader.take() {
            self.woken.push(w);
        }
    }

    // ---- stream send ---------------------------------------------------------------------------------

    /// Accept bytes for sending: copied into the socket's send window and sent in order; `Ok(n)` means
    /// the driver owns them now (as the kernel would after `send`). `Pending` while the window is full.
    pub(crate) fn poll_send(
        &mut self,
        key: usize,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let s = &mut self.sockets[key];
        if let Some(code) = s.send_error {
            return Poll::Ready(Err(io::Error::from_raw_os_error(code)));
        }
        if s.write_shut {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let room = SEND_WINDOW.saturating_sub(s.pending.len() + s.in_flight);
        if room == 0 {
            park(&mut s.writer, cx);
            return Poll::Pending;
        }
        let mut copied = 0;
        for b in bufs {
            let take = b.len().min(room - copied);
            s.pending.extend_from_slice(&b[..take]);
            copied += take;
            if copied == room {
                break;
            }
        }
        if s.send.is_none() {
            self.start_send(key);
        }
        Poll::Ready(Ok(copied))
    }

    fn start_send(&mut self, key: usize) {
        let s = &mut self.sockets[key];
        if s.pending.is_empty() || s.send.is_some() {
            return;
        }
        let next = std::mem::take(&mut s.spare);
        let buf = std::mem::replace(&mut s.pending, next);
        s.in_flight = buf.len();
        let fd = s.fd;
        let k = self.submit_send(key, fd, buf, 0);
        self.sockets[key].send = Some(k);
    }

    /// A send completion: continue a short send, start the next one, or record the error.
    pub(super) fn on_send(&mut self, key: usize, res: i32, mut buf: Vec<u8>, start: usize) {
        if self.closing {
            self.finish_send_at_shutdown(key, res, &buf[start..]);
            return;
        }
        let s = &mut self.sockets[key];
        s.send = None;
        if res < 0 || (res == 0 && start < buf.len()) {
            s.send_error = Some(if res < 0 { -res } else { libc::EPIPE });
            s.in_flight = 0;
            s.pending.clear();
            s.shutdown_after_send = None;
        } else if start + (res as usize) < buf.len() {
            let fd = s.fd;
            let k = self.submit_send(key, fd, buf, start + res as usize);
            self.sockets[key].send = Some(k);
            return;
        } else {
            s.in_flight = 0;
            buf.clear();
            if buf.capacity() <= KEEP_SPARE && s.spare.capacity() == 0 && !s.released {
                s.spare = buf;
            }
            self.start_send(key);
        }
        let s = &mut self.sockets[key];
        if s.send.is_none() {
            if let Some(how) = s.shutdown_after_send.take() {
                let fd = s.fd;
                self.submit_shutdown(key, fd, how);
            }
        }
        let s = &mut self.sockets[key];
        if let Some(w) = s.writer.take() {
            self.woken.push(w);
        }
    }

    /// The driver is being dropped (its loop will not turn again) and a send of socket `key` completed,
    /// most often as `ECANCELED`. Bytes `poll_send` accepted were promised to the peer, exactly as bytes
    /// in the kernel's send buffer are when an epoll program closes its socket. So hand what is left of
    /// this send, then the socket's `pending` bytes, to the kernel now with plain non-blocking `send`s,
    /// then make the shutdown a `poll_shutdown` asked for. What the kernel's own buffer has no room for
    /// (a peer that stopped reading) is dropped: nothing can wait for a loop that has ended.
    fn finish_send_at_shutdown(&mut self, key: usize, res: i32, sent_from: &[u8]) {
        let s = &mut self.sockets[key];
        s.send = None;
        s.in_flight = 0;
        let rest = match res {
            n if n >= 0 => &sent_from[(n as usize).min(sent_from.len())..],
            n if n == -libc::ECANCELED => sent_from,
            _ => {
                // A real error: the peer will never see these bytes, nor those behind them.
                s.pending.clear();
                s.shutdown_after_send = None;
                return;
            }
        };
        let pending = std::mem::take(&mut s.pending);
        let fd = s.fd;
        if send_now(fd, rest) && send_now(fd, &pending) {
            if let Some(how) = s.shutdown_after_send.take() {
                // SAFETY: `fd` is this socket's open descriptor: the op whose completion this is named it,
                // so the slot has not closed it (rule 5).
                unsafe {
                    libc::shutdown(fd, how);
                }
            }
        }
    }

    /// Wait until the send window has room (or the socket failed).
    pub(crate) fn poll_send_ready(&mut self, key: usize, cx: &mut Context<'_>) -> Poll<()> {
        let s = &mut self.sockets[key];
        if s.send_error.is_some() || s.write_shut || s.pending.len() + s.in_flight < SEND_WINDOW {
            return Poll::Ready(());
        }
        park(&mut s.writer, cx);
        Poll::Pending
    }

    /// A flush: every accepted byte is already the driver's to send, in order, whatever the task does
    /// next (as bytes in the kernel's send buffer are on epoll), so only a send error already known is
    /// reported. Waiting here for the send's completion would cost the task a turn per flush, and a
    /// server that flushes every batch would take its next batch too early, with fewer lines in it.
    pub(crate) fn poll_flush(&mut self, key: usize) -> Poll<io::Result<()>> {
        match self.sockets[key].send_error {
            Some(code) => Poll::Ready(Err(io::Error::from_raw_os_error(code))),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Wait until every accepted byte has been handed to the kernel (its send completed); reports a
    /// send error.
    pub(crate) fn poll_sent(&mut self, key: usize, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let s = &mut self.sockets[key];
        if let Some(code) = s.send_error {
            return Poll::Ready(Err(io::Error::from_raw_os_error(code)));
        }
        if s.pending.is_empty() && s.send.is_none() {
            return Poll::Ready(Ok(()));
        }
        park(&mut s.writer, cx);
        Poll::Pending
    }

    /// Shut down one or both directions. A write shutdown waits (in the driver) for accepted bytes to be
    /// sent first, so the FIN never overtakes them.
    pub(crate) fn shutdown(&mut self, key: usize, how: Shutdown) -> io::Result<()> {
        let s = &mut self.sockets[key];
        let fd = s.fd;
        if how != Shutdown::Read {
            if s.write_shut {
                return Ok(());
            }
            s.write_shut = true;
            if s.send.is_some() || !s.pending.is_empty() {
                s.shutdown_after_send = Some(how_code(how));
                return Ok(());
            }
        }
        self.submit_shutdown(key, fd, how_code(how));
        Ok(())
    }

    // ---- connect and accept --------------------------------------------------------------------------

    pub(crate) fn poll_connect(
        &mut self,
        key: usize,
        cx: &mut Context<'_>,
        addr: SocketAddr,
    ) -> Poll<io::Result<()>> {
        let s = &mut self.sockets[key];
        match std::mem::replace(&mut s.connect, OneShot::Idle) {
            OneShot::Done(res) => {
                return Poll::Ready(if res < 0 { Err(errno(res)) } else { Ok(()) });
            }
            OneShot::InFlight(k) => s.connect = OneShot::InFlight(k),
            OneShot::Idle => {
                let fd = s.fd;
                let k = self.submit_connect(key, fd, addr);
                self.sockets[key].connect = OneShot::InFlight(k);
            }
        }
        park(&mut self.sockets[key].writer, cx);
        Poll::Pending
    }

    pub(super) fn on_connect(&mut self, key: usize, res: i32) {
        let s = &mut self.sockets[key];
        s.connect = OneShot::Done(res);
        if let Some(w) = s.writer.take() {
            self.woken.push(w);
        }
    }

    /// Accept one connection; the new socket's fd is in blocking mode (see [`UringDriver::register`]).
    pub(crate) fn poll_accept(
        &mut self,
        key: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(OwnedFd, SocketAddr)>> {
        let s = &mut self.sockets[key];
        match std::mem::replace(&mut s.accept, OneShot::Idle) {
            OneShot::Done(r) => return Poll::Ready(r),
            OneShot::InFlight(k) => s.accept = OneShot::InFlight(k),
            OneShot::Idle => {
                let fd = s.fd;
                let k = self.submit_accept(key, fd);
                self.sockets[key].accept = OneShot::InFlight(k);
            }
        }
        park(&mut self.sockets[key].reader, cx);
        Poll::Pending
    }

    pub(super) fn on_accept(&mut self, key: usize, res: i32, addr: &AddrBuf) {
        let result = if res < 0 {
            Err(errno(res))
        } else {
            // SAFETY: a successful accept completion's result is a new descriptor that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(res) };
            match addr.addr() {
                Some(a) => Ok((fd, a)),
                None => Err(io::Error::other("accept returned a non-IP peer address")),
            }
        };
        let s = &mut self.sockets[key];
        if s.released {
            return; // dropping `result` closes a connection nobody will take
        }
        s.accept = OneShot::Done(result);
        if let Some(w) = s.reader.take() {
            self.woken.push(w);
        }
    }

    // ---- datagrams -----------------------------------------------------------------------------------

    /// Queue one datagram to `target`. Like a stream write it returns once the driver owns a copy; an
    /// error from the kernel is reported by the next `send_to` or `recv_from`, whichever comes first.
    pub(crate) fn poll_send_to(
        &mut self,
        key: usize,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let s = &mut self.sockets[key];
        if let Some(code) = s.send_to_error.take() {
            return Poll::Ready(Err(io::Error::from_raw_os_error(code)));
        }
        if s.send_to.is_some() {
            park(&mut s.writer, cx);
            return Poll::Pending;
        }
        let mut msg = s.msg_spare.take().unwrap_or_else(MsgBuf::new);
        msg.data.clear();
        msg.data.extend_from_slice(buf);
        msg.len = buf.len();
        msg.set_target(target);
        let fd = s.fd;
        let k = self.submit_sendmsg(key, fd, msg);
        self.sockets[key].send_to = Some(k);
        Poll::Ready(Ok(buf.len()))
    }

    pub(super) fn on_sendmsg(&mut self, key: usize, res: i32, msg: Box<MsgBuf>) {
        let s = &mut self.sockets[key];
        s.send_to = None;
        let failed = res < 0 && res != -libc::ECANCELED;
        if failed {
            s.send_to_error = Some(-res);
        }
        if s.msg_spare.is_none() && msg.data.capacity() <= 64 * 1024 {
            s.msg_spare = Some(msg);
        }
        if let Some(w) = s.writer.take() {
            self.woken.push(w);
        }
        if failed {
            if let Some(w) = s.reader.take() {
                self.woken.push(w);
            }
        }
    }

    /// Receive one datagram into `buf` (truncated to `buf.len()` like `recvfrom`).
    pub(crate) fn poll_recv_from(
        &mut self,
        key: usize,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let s = &mut self.sockets[key];
        // An error a send reaped (on a connected socket, the ICMP "port unreachable" of an earlier
        // datagram surfaces as ECONNREFUSED on whichever call comes next) belongs to the socket:
        // the receiver sees it too, as it would with epoll, so that it does not wait for a reply
        // that cannot come. The receive in flight, if any, stays in flight.
        if let Some(code) = s.send_to_error.take() {
            return Poll::Ready(Err(io::Error::from_raw_os_error(code)));
        }
        match std::mem::replace(&mut s.recv_from, OneShot::Idle) {
            OneShot::Done(Err(e)) => return Poll::Ready(Err(e)),
            OneShot::Done(Ok(msg)) => {
                let n = msg.len.min(buf.len());
                buf[..n].copy_from_slice(&msg.data[..n]);
                let from = msg.addr.addr();
                s.msg_spare.get_or_insert(msg);
                return Poll::Ready(
                    from.map(|a| (n, a)).ok_or_else(|| {
                        io::Error::other("recvmsg returned a non-IP sender address")
                    }),
                );
            }
            OneShot::InFlight(k) => s.recv_from = OneShot::InFlight(k),
            OneShot::Idle => {
                let mut msg = s.msg_spare.take().unwrap_or_else(MsgBuf::new);
                msg.prepare_recv(buf.len().clamp(1, 64 * 1024));
                let fd = s.fd;
                let k = self.submit_recvmsg(key, fd, msg);
                self.sockets[key].recv_from = OneShot::InFlight(k);
            }
        }
        park(&mut self.sockets[key].reader, cx);
        Poll::Pending
    }

    pub(super) fn on_recvmsg(&mut self, key: usize, res: i32, mut msg: Box<MsgBuf>) {
        let s = &mut self.sockets[key];
        if s.released || res == -libc::ECANCELED {
            s.recv_from = OneShot::Idle;
            return;
        }
        s.recv_from = OneShot::Done(if res < 0 {
            Err(errno(res))
        } else {
            msg.len = res as usize;
            msg.sync_addr_len();
            Ok(msg)
        });
        if let Some(w) = s.reader.take() {
            self.woken.push(w);
        }
    }
}

/// Write all of `bytes` to `fd` without waiting (the driver is shutting down). Returns whether they all
/// went into the kernel's send buffer.
fn send_now(fd: RawFd, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a live slice for the whole call and the kernel only reads `bytes.len()` bytes
        // from it; `fd` is an open descriptor (see the caller).
        let n = unsafe {
            libc::send(
                fd,
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n > 0 {
            bytes = &bytes[n as usize..];
        } else if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        } else {
            return false;
        }
    }
    true
}
