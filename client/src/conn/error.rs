//! What can go wrong on a connection during one exchange, with the one fact the retry logic needs:
//! did the server send any byte of a response before it failed?

use std::io;

use crate::error::{describe_io, Error, ErrorKind};
use crate::proto::{ProtoError, ProtoErrorKind};
use crate::tls::TlsError;

use super::timer::Expired;

/// A failure while sending a request or reading its response.
#[derive(Debug)]
pub(crate) struct ConnError {
    kind: Kind,
    /// No byte of the response had arrived: on a reused connection this is the keep-alive race
    /// (the server closed it just as we sent), safe to retry for idempotent methods.
    before_response: bool,
}

#[derive(Debug)]
enum Kind {
    /// The request could not be encoded; nothing was sent and the connection is still idle.
    Encode(ProtoError),
    Write(io::Error),
    Read(io::Error),
    Proto(ProtoError),
    /// A limit passed; `bool`: while writing the request.
    Timeout(Expired, bool),
    /// The request's streamed body was already read by an earlier send; nothing was sent.
    BodySpent,
    /// The reader of a streamed body failed, ended early, or gave nothing for the read timeout.
    Source(io::Error),
}

impl ConnError {
    pub(crate) fn encode(e: ProtoError) -> ConnError {
        ConnError {
            kind: Kind::Encode(e),
            before_response: true,
        }
    }

    pub(crate) fn write(e: io::Error) -> ConnError {
        ConnError {
            kind: Kind::Write(e),
            before_response: true,
        }
    }

    pub(crate) fn read(e: io::Error, before_response: bool) -> ConnError {
        ConnError {
            kind: Kind::Read(e),
            before_response,
        }
    }

    pub(crate) fn proto(e: ProtoError) -> ConnError {
        let before_response = e.kind() == ProtoErrorKind::ClosedBeforeResponse;
        ConnError {
            kind: Kind::Proto(e),
            before_response,
        }
    }

    pub(crate) fn timeout(expired: Expired, writing: bool) -> ConnError {
        ConnError {
            kind: Kind::Timeout(expired, writing),
            before_response: false,
        }
    }

    pub(crate) fn body_spent() -> ConnError {
        ConnError {
            kind: Kind::BodySpent,
            before_response: true,
        }
    }

    pub(crate) fn source(e: io::Error) -> ConnError {
        ConnError {
            kind: Kind::Source(e),
            before_response: false,
        }
    }

    /// Whether the request never reached the server's response logic as far as we can tell: write
    /// failures, resets and closes before any response byte. Timeouts are never retried.
    pub(crate) fn is_stale_connection(&self) -> bool {
        self.before_response && matches!(self.kind, Kind::Write(_) | Kind::Read(_) | Kind::Proto(_))
    }

    /// Whether nothing was sent and the connection can go back to the pool unharmed (the
    /// request could not be encoded, or its streamed body was already spent).
    pub(crate) fn is_encode(&self) -> bool {
        matches!(self.kind, Kind::Encode(_) | Kind::BodySpent)
    }

    /// The caller-facing error.
    pub(crate) fn into_error(self) -> Error {
        match self.kind {
            Kind::Encode(e) => {
                Error::new(ErrorKind::Builder, e.detail().to_string()).with_source(e)
            }
            Kind::Write(e) => {
                let (kind, what) = io_failure(&e, false);
                Error::new(kind, format!("sending the request failed: {what}")).with_source(e)
            }
            Kind::Read(e) => {
                let (kind, what) = io_failure(&e, !self.before_response);
                Error::new(kind, format!("reading the response failed: {what}")).with_source(e)
            }
            Kind::Proto(e) => Error::from_proto(e),
            Kind::BodySpent => Error::new(
                ErrorKind::Builder,
                "the request's streamed body was already sent: a body from a reader can be sent once",
            ),
            Kind::Source(e) => {
                let kind = match e.kind() {
                    io::ErrorKind::TimedOut => ErrorKind::Timeout,
                    _ => ErrorKind::Io,
                };
                Error::new(kind, format!("reading the request body failed: {e}")).with_source(e)
            }
            Kind::Timeout(Expired::Request(limit), _) => Error::new(
                ErrorKind::Timeout,
                format!("the request did not complete within {limit:?} (timeout)"),
            ),
            Kind::Timeout(Expired::Idle(limit), false) => Error::new(
                ErrorKind::Timeout,
                format!("the server sent nothing for {limit:?} (read timeout)"),
            ),
            Kind::Timeout(Expired::Idle(limit), true) => Error::new(
                ErrorKind::Timeout,
                format!("the server took none of the request for {limit:?} (read timeout)"),
            ),
        }
    }
}

/// The kind and words for a socket-level failure. TLS failures keep their own words: a TLS error
/// inside (a corrupt record, an alert) is [`ErrorKind::Tls`]; a close without `close_notify` (the
/// only `UnexpectedEof` with a message, see [`crate::tls`]) after response bytes arrived is
/// [`ErrorKind::IncompleteBody`]: the response may have been cut short.
fn io_failure(e: &io::Error, response_started: bool) -> (ErrorKind, String) {
    if TlsError::from_io(e).is_some() {
        return (ErrorKind::Tls, e.to_string());
    }
    if e.kind() == io::ErrorKind::UnexpectedEof && e.get_ref().is_some() {
        let kind = if response_started {
            ErrorKind::IncompleteBody
        } else {
            ErrorKind::Io
        };
        return (kind, e.to_string());
    }
    (ErrorKind::Io, describe_io(e))
}
