//! One file per socket operation, each showing the two driver models side by side:
//!
//! | file | epoll (readiness): the net type makes the syscall | io_uring (completion): the driver submits an SQE |
//! |---|---|---|
//! | [`recv`] | wait for READABLE, `recv` into the caller's buffer, clear on `WouldBlock` | arm a (multishot) receive into the buffer ring; copy delivered bytes out |
//! | [`send`] | wait for WRITABLE, `send` from the caller's buffer | copy into the socket's send window; one `SEND` in flight, in order |
//! | [`connect`] | non-blocking `connect`, wait for WRITABLE, read `SO_ERROR` | `CONNECT` with the address owned by the op |
//! | [`accept`] | wait for READABLE, `accept4` | `ACCEPT`, the peer address owned by the op |
//! | [`datagram`] | `sendto` / `recvfrom` after readiness | `SENDMSG` / `RECVMSG` from / into a `MsgBuf` owned by the op |
//! | [`shutdown`] | `shutdown(2)` at once | `SHUTDOWN`, queued behind bytes still being sent |
//!
//! Closing is in [`super::source`]'s `Drop`: epoll deregisters and closes; io_uring hands the fd to the
//! driver, which cancels the socket's receive and closes it after its last completion.

pub(crate) mod accept;
pub(crate) mod connect;
pub(crate) mod datagram;
pub(crate) mod recv;
pub(crate) mod send;
pub(crate) mod shutdown;
