//! [`DnsError`]: why a host name could not be turned into addresses, phrased for the person reading
//! the log line. Every message names the host and, when a server said something, which server said it,
//! because "lookup failed" alone leaves the reader guessing between a typo, a broken server and a
//! firewall eating port 53.
//!
//! The error is `Clone` (one failed lookup is handed to every task that was waiting on it) and
//! `Send + Sync` (so it fits in an `io::Error` or a boxed error), which is why an I/O failure is kept
//! as its kind and message rather than as the `io::Error` itself.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::wire::name::NameError;

/// What went wrong, without the host name (see [`DnsError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsErrorKind {
    /// The host is not a valid DNS name (empty label, bad character, too long).
    InvalidName(NameError),
    /// The name does not exist (RCODE 3). `server` is `None` when the answer came from the cache.
    NxDomain {
        /// The server that said so.
        server: Option<SocketAddr>,
    },
    /// The name exists but has neither A nor AAAA records.
    NoAddresses {
        /// The server that said so (`None` when cached).
        server: Option<SocketAddr>,
    },
    /// Every server that answered reported a failure (SERVFAIL, REFUSED, NOTIMP...).
    ServerFailure {
        /// The response code's name, e.g. `"SERVFAIL"`.
        rcode: String,
        /// The last server that answered so.
        server: SocketAddr,
    },
    /// No server answered within its timeout, on any attempt.
    Timeout {
        /// The servers that were asked.
        servers: Vec<SocketAddr>,
        /// Rounds over all servers.
        attempts: u8,
    },
    /// A server sent a well-formed reply that cannot be used: a CNAME chain longer than the bound (a
    /// loop), or a malformed or mismatched TCP answer.
    BadResponse {
        /// What was wrong with it.
        reason: String,
        /// Which server sent it.
        server: SocketAddr,
    },
    /// A server answered only with replies that could not be used (malformed: a compression loop, a
    /// record running past the message, garbage; or answering another id or question) until the
    /// lookup's own timeout. Such replies are ignored rather than taken as a failure, because a forged
    /// datagram must not end a lookup; this reports them when the lookup gives up.
    UnusableReplies {
        /// How many replies, over every round with this server.
        count: u32,
        /// Why the first one was refused.
        first: String,
        /// The server that sent them (the last, when several did).
        server: SocketAddr,
    },
    /// A local failure before any server could answer (no socket could be created, network
    /// unreachable...).
    Io {
        /// The error's kind.
        kind: io::ErrorKind,
        /// The OS error code, when the error came from a system call (`EMFILE`: out of descriptors).
        os_error: Option<i32>,
        /// Its message.
        message: String,
    },
    /// The lookup task ended without delivering an outcome (it panicked or the runtime shut down).
    Abandoned,
}

impl DnsErrorKind {
    /// How much this error says about the name, used to pick which of two failures to report: a
    /// definite answer beats a server failure, which beats unusable replies, which beat silence, which
    /// beats a local error.
    pub(crate) fn weight(&self) -> u8 {
        match self {
            DnsErrorKind::InvalidName(_) => 8,
            DnsErrorKind::NxDomain { .. } => 7,
            DnsErrorKind::NoAddresses { .. } => 6,
            DnsErrorKind::BadResponse { .. } => 5,
            DnsErrorKind::ServerFailure { .. } => 4,
            DnsErrorKind::UnusableReplies { .. } => 3,
            DnsErrorKind::Timeout { .. } => 2,
            DnsErrorKind::Io { .. } => 1,
            DnsErrorKind::Abandoned => 0,
        }
    }
}

/// A failed name lookup: the host that was asked for and why it failed.
///
/// ```
/// use spool_dns::{DnsError, DnsErrorKind};
///
/// let err = DnsError::new("example.invalid", DnsErrorKind::NxDomain { server: Some("127.0.0.1:53".parse().unwrap()) });
/// assert_eq!(err.to_string(), "no such host: example.invalid (NXDOMAIN from 127.0.0.1:53)");
/// assert!(err.is_not_found());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsError {
    host: String,
    kind: DnsErrorKind,
}

impl DnsError {
    /// An error about `host`.
    pub fn new(host: impl Into<String>, kind: DnsErrorKind) -> DnsError {
        DnsError {
            host: host.into(),
            kind,
        }
    }

    /// The host name as the caller gave it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// What went wrong.
    pub fn kind(&self) -> &DnsErrorKind {
        &self.kind
    }

    /// Whether the answer is definite that the host has no addresses (NXDOMAIN, or a name without A
    /// and AAAA records), as opposed to a failure that might pass if tried again.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.kind,
            DnsErrorKind::NxDomain { .. } | DnsErrorKind::NoAddresses { .. }
        )
    }

    /// The OS error code behind a local failure ([`DnsErrorKind::Io`]), such as `EMFILE` when no socket
    /// could be opened for lack of file descriptors: a reason to wait and retry rather than to give up
    /// on the name. `None` for every answer from a server.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self.kind {
            DnsErrorKind::Io { os_error, .. } => os_error,
            _ => None,
        }
    }

    /// Whether no server answered in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, DnsErrorKind::Timeout { .. })
    }
}

/// Writes `from 1.2.3.4:53` or `cached`.
fn origin(server: &Option<SocketAddr>) -> String {
    match server {
        Some(addr) => format!("from {addr}"),
        None => "cached".to_owned(),
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.host;
        match &self.kind {
            DnsErrorKind::InvalidName(e) => write!(f, "invalid host name {host:?}: {e}"),
            DnsErrorKind::NxDomain { server } => {
                write!(f, "no such host: {host} (NXDOMAIN {})", origin(server))
            }
            DnsErrorKind::NoAddresses { server } => write!(
                f,
                "no addresses for host: {host} (the name exists but has no A or AAAA records, {})",
                origin(server)
            ),
            DnsErrorKind::ServerFailure { rcode, server } => write!(
                f,
                "DNS server failure for host: {host} ({rcode} from {server})"
            ),
            DnsErrorKind::Timeout { servers, attempts } => {
                let list: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
                write!(
                    f,
                    "DNS lookup of {host} timed out (no answer from {} after {attempts} attempt{})",
                    list.join(", "),
                    if *attempts == 1 { "" } else { "s" }
                )
            }
            DnsErrorKind::BadResponse { reason, server } => write!(
                f,
                "unusable DNS answer for host: {host} from {server}: {reason}"
            ),
            DnsErrorKind::UnusableReplies {
                count,
                first,
                server,
            } => write!(
                f,
                "DNS lookup of {host} failed: {count} unusable repl{} from {server} (first: {first})",
                if *count == 1 { "y" } else { "ies" }
            ),
            DnsErrorKind::Io { message, .. } => {
                write!(f, "DNS lookup of {host} failed: {message}")
            }
            DnsErrorKind::Abandoned => {
                write!(f, "DNS lookup of {host} was abandoned before it finished")
            }
        }
    }
}

impl std::error::Error for DnsError {}

impl From<DnsError> for io::Error {
    /// Keeps the `DnsError` as the source (`err.get_ref()` and downcast to get it back), with a kind
    /// that matches: `NotFound` for names without addresses, `TimedOut`, `InvalidInput` for a bad name.
    fn from(err: DnsError) -> io::Error {
        let kind = match &err.kind {
            DnsErrorKind::NxDomain { .. } | DnsErrorKind::NoAddresses { .. } => {
                io::ErrorKind::NotFound
            }
            DnsErrorKind::Timeout { .. } => io::ErrorKind::TimedOut,
            DnsErrorKind::InvalidName(_) => io::ErrorKind::InvalidInput,
            DnsErrorKind::Io { kind, .. } => *kind,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> SocketAddr {
        "127.0.0.1:53".parse().unwrap()
    }

    #[test]
    fn messages_name_the_host_and_server() {
        let cases = [
            (
                DnsErrorKind::NxDomain { server: None },
                "no such host: h.test (NXDOMAIN cached)",
            ),
            (
                DnsErrorKind::ServerFailure {
                    rcode: "SERVFAIL".into(),
                    server: server(),
                },
                "DNS server failure for host: h.test (SERVFAIL from 127.0.0.1:53)",
            ),
            (
                DnsErrorKind::Timeout {
                    servers: vec![server(), "[::1]:53".parse().unwrap()],
                    attempts: 2,
                },
                "DNS lookup of h.test timed out (no answer from 127.0.0.1:53, [::1]:53 after 2 attempts)",
            ),
            (
                DnsErrorKind::InvalidName(NameError::EmptyLabel),
                "invalid host name \"h.test\": host name has an empty label (leading or doubled dot)",
            ),
        ];
        for (kind, text) in cases {
            assert_eq!(DnsError::new("h.test", kind).to_string(), text);
        }
    }

    #[test]
    fn converts_to_io_error_keeping_the_source() {
        let err = DnsError::new("h.test", DnsErrorKind::NxDomain { server: None });
        let io: io::Error = err.clone().into();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        let inner = io.get_ref().unwrap().downcast_ref::<DnsError>().unwrap();
        assert_eq!(inner, &err);
    }

    #[test]
    fn definite_answers_outweigh_failures() {
        let nx = DnsError::new("h", DnsErrorKind::NxDomain { server: None });
        let timeout = DnsError::new(
            "h",
            DnsErrorKind::Timeout {
                servers: vec![],
                attempts: 1,
            },
        );
        assert!(nx.kind().weight() > timeout.kind().weight());
        assert!(nx.is_not_found() && !nx.is_timeout() && timeout.is_timeout());
    }
}
