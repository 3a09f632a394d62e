//! Operations in flight: each SQE the driver submits is one [`Op`] in a slab, and the op **owns every
//! byte the kernel may read or write for it** until its final completion arrives.
//!
//! The `user_data` of an SQE is its op's slab key. A key is removed (and may be reused) only when its
//! final completion (one without `IORING_CQE_F_MORE`) has been reaped, so a completion always finds the op
//! that caused it. Cancellations are ops too: `ASYNC_CANCEL` names the target by its key, and it is always
//! submitted before the target's final completion is reaped (the driver reaps only after submitting), so it
//! can never hit a reused key.
//!
//! Every `unsafe` push below relies on the same argument: the pointers in the SQE point into heap memory
//! owned by the op (a `Vec`'s or `Box`'s allocation, which does not move when the slab grows) or into the
//! provided-buffer ring, and the op is dropped only after the kernel has finished with the request.

use super::UringDriver;
use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use io_uring::{opcode, squeue, types};
use socket2::{SockAddr, SockAddrStorage};

/// One submitted operation and the memory it lends the kernel.
pub(super) struct Op {
    /// The socket this op works for (`None` for wake reads, cancels and closes).
    pub(super) socket: Option<usize>,
    pub(super) kind: OpKind,
}

pub(super) enum OpKind {
    /// A receive into the provided-buffer ring (multishot when the kernel has it); lends no memory of its own.
    Recv,
    /// A send of `buf[start..]`.
    Send {
        buf: Vec<u8>,
        start: usize,
    },
    Connect(Box<SockAddr>),
    Accept(Box<AddrBuf>),
    RecvMsg(Box<MsgBuf>),
    SendMsg(Box<MsgBuf>),
    Shutdown,
    Close,
    /// A read of the wake eventfd's 8-byte counter.
    Wake(Box<u64>),
    Cancel,
}

/// Where `accept` writes the peer's address.
pub(super) struct AddrBuf {
    storage: SockAddrStorage,
    len: libc::socklen_t,
}

impl AddrBuf {
    pub(super) fn new() -> AddrBuf {
        let storage = SockAddrStorage::zeroed();
        let len = storage.size_of();
        AddrBuf { storage, len }
    }

    pub(super) fn addr(&self) -> Option<SocketAddr> {
        // SAFETY: the kernel wrote a socket address of `len` bytes into `storage` (accept or recvmsg
        // completed successfully); `len` never exceeds the storage size, as the kernel clamps it. The
        // storage is plain old data, so a bitwise copy of it (`ptr::read`) is a valid second value.
        let sa = unsafe { SockAddr::new(std::ptr::read(&self.storage), self.len) };
        sa.as_socket()
    }
}

/// A datagram with its address, iovec and msghdr, all in one box so the pointers between them stay valid.
pub(super) struct MsgBuf {
    pub(super) data: Vec<u8>,
    /// The datagram's length in `data` (for a send: what to send; for a receive: what arrived).
    pub(super) len: usize,
    pub(super) addr: AddrBuf,
    iov: libc::iovec,
    hdr: libc::msghdr,
}

impl MsgBuf {
    pub(super) fn new() -> Box<MsgBuf> {
        Box::new(MsgBuf {
            data: Vec::new(),
            len: 0,
            addr: AddrBuf::new(),
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            // SAFETY: `msghdr` is plain old data for which all zeroes is a valid (empty) value.
            hdr: unsafe { std::mem::zeroed() },
        })
    }

    /// Point the header at this box's own fields (called right before submission, after boxing).
    fn wire(&mut self, data_len: usize) {
        self.iov.iov_base = self.data.as_mut_ptr().cast();
        self.iov.iov_len = data_len;
        self.hdr.msg_name = (&mut self.addr.storage as *mut SockAddrStorage).cast();
        self.hdr.msg_namelen = self.addr.len;
        self.hdr.msg_iov = &mut self.iov;
        self.hdr.msg_iovlen = 1;
        self.hdr.msg_control = std::ptr::null_mut();
        self.hdr.msg_controllen = 0;
        self.hdr.msg_flags = 0;
    }

    /// Set the destination of a datagram to send.
    pub(super) fn set_target(&mut self, target: SocketAddr) {
        let sa = SockAddr::from(target);
        let n = sa.len() as usize;
        let mut storage = SockAddrStorage::zeroed();
        // SAFETY: both are `sockaddr_storage`-sized; we copy the `n <= size_of::<SockAddrStorage>()`
        // bytes of `sa`'s address into the fresh storage, which is exclusively ours.
        unsafe {
            std::ptr::copy_nonoverlapping(
                sa.as_ptr().cast::<u8>(),
                (&mut storage as *mut SockAddrStorage).cast::<u8>(),
                n,
            );
        }
        self.addr.storage = storage;
        self.addr.len = sa.len();
    }

    /// After a receive: the kernel wrote the sender's address length into the header.
    pub(super) fn sync_addr_len(&mut self) {
        self.addr.len = self.hdr.msg_namelen;
    }

    /// Prepare for a receive: room for `cap` bytes, the whole address storage.
    pub(super) fn prepare_recv(&mut self, cap: usize) {
        if self.data.len() < cap {
            self.data.resize(cap, 0);
        }
        self.len = 0;
        self.addr = AddrBuf::new();
    }
}

const NOSIGNAL_WAITALL: i32 = libc::MSG_NOSIGNAL | libc::MSG_WAITALL;

impl UringDriver {
    /// Queue `entry` for `op`; the SQE goes to the kernel with the loop's next `io_uring_enter`.
    fn push(&mut self, op: Op, build: impl FnOnce(&mut Op) -> squeue::Entry) -> usize {
        let key = self.ops.insert(op);
        let entry = build(&mut self.ops[key]).user_data(key as u64);
        loop {
            // SAFETY: see the module docs: every pointer in `entry` points into memory owned by
            // `self.ops[key]` (heap allocations that stay put) or into the buffer ring, all of which live
            // until this op's final completion is reaped.
            let pushed = unsafe { self.ring.submission().push(&entry) };
            if pushed.is_ok() {
                break;
            }
            // The queue is full (more SQEs in one turn than it has slots): hand them to the kernel now.
            if let Err(e) = self.ring.submit() {
                if e.raw_os_error() != Some(libc::EBUSY) && e.raw_os_error() != Some(libc::EINTR) {
                    panic!("spool: io_uring submission failed: {e}");
                }
            }
        }
        if let Some(s) = op_socket(&self.ops[key]) {
            self.sockets[s].ops += 1;
        }
        key
    }

    pub(super) fn submit_recv(&mut self, socket: usize, fd: RawFd) -> usize {
        let group = self.bufs.as_ref().expect("buffer ring present").group();
        let multishot = self.multishot_recv;
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::Recv,
            },
            |_| {
                if multishot {
                    opcode::RecvMulti::new(types::Fd(fd), group).build()
                } else {
                    opcode::Recv::new(types::Fd(fd), std::ptr::null_mut(), 0)
                        .buf_group(group)
                        .build()
                        .flags(squeue::Flags::BUFFER_SELECT)
                }
            },
        )
    }

    pub(super) fn submit_send(
        &mut self,
        socket: usize,
        fd: RawFd,
        buf: Vec<u8>,
        start: usize,
    ) -> usize {
        debug_assert!(start < buf.len());
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::Send { buf, start },
            },
            |op| match &op.kind {
                OpKind::Send { buf, start } => {
                    let rest = &buf[*start..];
                    let len = rest.len().min(u32::MAX as usize) as u32;
                    opcode::Send::new(types::Fd(fd), rest.as_ptr(), len)
                        .flags(NOSIGNAL_WAITALL)
                        .build()
                }
                _ => unreachable!(),
            },
        )
    }

    pub(super) fn submit_connect(&mut self, socket: usize, fd: RawFd, addr: SocketAddr) -> usize {
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::Connect(Box::new(SockAddr::from(addr))),
            },
            |op| match &op.kind {
                OpKind::Connect(sa) => {
                    opcode::Connect::new(types::Fd(fd), sa.as_ptr().cast(), sa.len()).build()
                }
                _ => unreachable!(),
            },
        )
    }

    pub(super) fn submit_accept(&mut self, socket: usize, fd: RawFd) -> usize {
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::Accept(Box::new(AddrBuf::new())),
            },
            |op| match &mut op.kind {
                OpKind::Accept(a) => opcode::Accept::new(
                    types::Fd(fd),
                    (&mut a.storage as *mut SockAddrStorage).cast(),
                    &mut a.len,
                )
                .flags(libc::SOCK_CLOEXEC)
                .build(),
                _ => unreachable!(),
            },
        )
    }

    pub(super) fn submit_recvmsg(&mut self, socket: usize, fd: RawFd, msg: Box<MsgBuf>) -> usize {
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::RecvMsg(msg),
            },
            |op| match &mut op.kind {
                OpKind::RecvMsg(m) => {
                    let cap = m.data.len();
                    m.wire(cap);
                    opcode::RecvMsg::new(types::Fd(fd), &mut m.hdr).build()
                }
                _ => unreachable!(),
            },
        )
    }

    pub(super) fn submit_sendmsg(&mut self, socket: usize, fd: RawFd, msg: Box<MsgBuf>) -> usize {
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::SendMsg(msg),
            },
            |op| match &mut op.kind {
                OpKind::SendMsg(m) => {
                    let len = m.len;
                    m.wire(len);
                    opcode::SendMsg::new(types::Fd(fd), &m.hdr)
                        .flags(libc::MSG_NOSIGNAL as u32)
                        .build()
                }
                _ => unreachable!(),
            },
        )
    }

    pub(super) fn submit_shutdown(&mut self, socket: usize, fd: RawFd, how: i32) -> usize {
        self.push(
            Op {
                socket: Some(socket),
                kind: OpKind::Shutdown,
            },
            |_| opcode::Shutdown::new(types::Fd(fd), how).build(),
        )
    }

    /// Close `fd` (whose ownership the caller gives up: the kernel closes it).
    pub(super) fn submit_close(&mut self, fd: std::os::fd::OwnedFd) -> usize {
        use std::os::fd::IntoRawFd;
        let fd = fd.into_raw_fd();
        self.push(
            Op {
                socket: None,
                kind: OpKind::Close,
            },
            |_| opcode::Close::new(types::Fd(fd)).build(),
        )
    }

    pub(super) fn submit_wake_read(&mut self, fd: RawFd, buf: Box<u64>) -> usize {
        self.push(
            Op {
                socket: None,
                kind: OpKind::Wake(buf),
            },
            |op| match &mut op.kind {
                OpKind::Wake(b) => {
                    opcode::Read::new(types::Fd(fd), (&mut **b as *mut u64).cast(), 8)
                        .offset(u64::MAX)
                        .build()
                }
                _ => unreachable!(),
            },
        )
    }

    /// Ask the kernel to cancel op `target` (its final completion will say `ECANCELED`, or carry the
    /// result if it finished first). The target keeps its memory until that completion.
    pub(super) fn submit_cancel(&mut self, target: usize) {
        self.push(
            Op {
                socket: None,
                kind: OpKind::Cancel,
            },
            |_| opcode::AsyncCancel::new(target as u64).build(),
        );
    }

    /// Cancel every op still in flight, each by its own key (used when the driver is dropped), except
    /// those a cancel is already on its way for and those a cancel cannot stop (cancels, closes,
    /// shutdowns, which finish on their own).
    ///
    /// One cancel per op, not one `IORING_ASYNC_CANCEL_ANY`: the kernel finds an op by its key in a hash
    /// table, but a cancel-any walks every armed request once for each one it cancels. At 10,000 idle
    /// keep-alive sockets that was quadratic: about a second of kernel time per cancel-any (Linux 6.18).
    pub(super) fn cancel_in_flight(&mut self) {
        let targets: Vec<usize> = self
            .ops
            .iter()
            .filter(|(key, op)| match op.kind {
                OpKind::Cancel | OpKind::Close | OpKind::Shutdown => false,
                OpKind::Recv => !self.recv_cancel_sent(op.socket.expect("recv has a socket"), *key),
                _ => true,
            })
            .map(|(key, _)| key)
            .collect();
        for target in targets {
            self.submit_cancel(target);
        }
    }
}

fn op_socket(op: &Op) -> Option<usize> {
    op.socket
}

/// The error a negative completion result stands for.
pub(super) fn errno(res: i32) -> io::Error {
    io::Error::from_raw_os_error(-res)
}
