//! One HTTP/1.1 connection: a [`Stream`], the sans-IO [`ClientConn`] state machine, and the buffers
//! between them. The I/O half of the protocol-core contract (see [`crate::proto`]).
//!
//! # Layout
//! - `mod.rs` — [`Connection`]: what the pool stores and a response reads from, its fields, and
//!   the questions the pool asks of it (reused? reusable? closing?), which never touch the socket.
//! - `io.rs` — the rest of `impl Connection`: writing a request and reading events, the only
//!   place bytes move. Two files, one type: a reader looking for `send_request` or `poll_event`
//!   finds them there.
//! - `stream.rs` — [`Stream`], the transport enum: plain TCP or TLS ([`crate::tls`]).
//! - `open.rs` — resolving and connecting a new [`Stream`].
//! - `timer.rs` — [`Timer`]: whole-request and read-idle limits in one sleep.
//! - `error.rs` — [`ConnError`], and whether a failure is the stale-keep-alive race.
//!
//! # Memory
//! An idle connection holds its socket and its state machine, no buffer: the read buffer is taken
//! (from `buffers.rs`) only once the socket is readable and given back when the response is complete,
//! and the write buffer only lives while a request is being written.

mod error;
mod io;
mod open;
mod stream;
mod timer;

pub(crate) use error::ConnError;
pub(crate) use open::open;
pub(crate) use stream::Stream;
pub(crate) use timer::Timer;

use std::time::Duration;

use bytes::BytesMut;

use crate::buffers;
use crate::origin::Origin;
use crate::proto::{BodyKind, ClientConn, Limits};

/// A connection to one origin, alive across requests while the server keeps it open.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: Stream,
    proto: ClientConn,
    /// Received bytes the state machine has not consumed yet (a partial head, buffered body).
    data: BytesMut,
    /// Initialized free space right after `data` in the same allocation: reads land here, and the
    /// bytes read are joined to `data` without a copy.
    spare: BytesMut,
    /// The server closed its side (a read returned 0).
    eof: bool,
    /// Some byte of the current response arrived.
    got_response_bytes: bool,
    /// Size of the next read buffer; doubles while reads fill it.
    read_size: usize,
    /// Responses completed on this connection: more than 0 means it came from the pool.
    served: u32,
    /// The server's `Keep-Alive: timeout=N` from the latest response.
    keep_alive: Option<Duration>,
}

impl Connection {
    /// A new connection over `stream`.
    pub(crate) fn new(stream: Stream, limits: Limits) -> Connection {
        Connection {
            stream,
            proto: ClientConn::new(limits),
            data: BytesMut::new(),
            spare: BytesMut::new(),
            eof: false,
            got_response_bytes: false,
            read_size: buffers::DEFAULT_READ,
            served: 0,
            keep_alive: None,
        }
    }

    /// A new connection over `stream` for `origin`: a plain-http one through a proxy speaks to it
    /// in absolute form (a tunnelled https one looks like a direct connection).
    pub(crate) fn for_origin(stream: Stream, limits: Limits, origin: &Origin<'_>) -> Connection {
        let mut conn = Connection::new(stream, limits);
        if let (Some(proxy), false) = (origin.via, origin.https) {
            conn.proto.use_proxy_form(proxy.form());
        }
        conn
    }

    /// Whether this connection carried a response before the current one.
    pub(crate) fn is_reused(&self) -> bool {
        self.served > 0
    }

    /// Whether the state machine already knows this connection ends with the current response.
    pub(crate) fn will_close(&self) -> bool {
        self.proto.close_reason().is_some()
    }

    /// How the current response's body is delimited, as the state machine decided at its head.
    pub(crate) fn body_kind(&self) -> Option<BodyKind> {
        self.proto.body_kind()
    }

    /// The server's announced keep-alive timeout, if any.
    pub(crate) fn keep_alive_hint(&self) -> Option<Duration> {
        self.keep_alive
    }

    /// Received bytes not yet decoded.
    pub(crate) fn buffered(&self) -> usize {
        self.data.len()
    }

    /// For the pool: can this idle connection carry another request right now?
    pub(crate) fn is_reusable(&mut self) -> bool {
        !self.eof
            && self.proto.is_idle_reusable()
            && self.data.is_empty()
            && self.stream.is_idle_and_open()
    }

    /// Gives the read buffer back before the connection goes idle (see the module docs).
    pub(crate) fn release_buffers(&mut self) {
        if self.data.is_empty() {
            self.data = BytesMut::new();
        }
        buffers::give_read(std::mem::take(&mut self.spare));
        self.stream.shrink_idle();
    }
}
