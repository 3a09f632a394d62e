//! The TCP fallback: when a UDP answer comes back truncated (TC set, or filling our whole receive
//! buffer), the same question is asked again over TCP, where a message may be up to 64 KiB
//! (RFC 1035 §4.2.2, RFC 7766). One connection per question, closed after the answer: fallbacks are
//! rare enough that keeping connections open is not worth the bookkeeping.
//!
//! A TCP answer is not exposed to off-path spoofing the way a datagram is, so a reply that fails
//! validation is not waited past: it is an error for this server.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use spool_runtime::net::TcpStream;
use spool_runtime::time::timeout;

use crate::wire::answer::{read_response, Answer, Rejected};
use crate::wire::framing::encode_tcp_frame;
use crate::wire::query::Query;

/// Why a TCP exchange gave no answer.
#[derive(Debug)]
pub(crate) enum TcpFailure {
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The whole exchange took longer than the limit.
    TimedOut,
    /// The server replied with something that is not an answer to the question.
    Rejected(Rejected),
}

impl fmt::Display for TcpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpFailure::Io(e) => write!(f, "TCP fallback failed: {e}"),
            TcpFailure::TimedOut => write!(f, "TCP fallback timed out"),
            TcpFailure::Rejected(r) => write!(f, "TCP answer rejected: {r}"),
        }
    }
}

/// Asks `query` of `server` over TCP, all within `limit` (connect, write, read).
pub(crate) async fn exchange(
    server: SocketAddr,
    query: &Query,
    limit: Duration,
) -> Result<Answer, TcpFailure> {
    let framed = encode_tcp_frame(&query.encode()).map_err(|e| {
        // A single-question query is far below 64 KiB; this cannot happen, but stays an error.
        TcpFailure::Io(io::Error::new(io::ErrorKind::InvalidInput, e))
    })?;
    let reply = timeout(limit, async {
        let stream = TcpStream::connect(server).await?;
        stream.write_all(&framed).await?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut msg).await?;
        Ok::<_, io::Error>(msg)
    })
    .await
    .map_err(|_| TcpFailure::TimedOut)?
    .map_err(TcpFailure::Io)?;
    read_response(query, &reply).map_err(TcpFailure::Rejected)
}
