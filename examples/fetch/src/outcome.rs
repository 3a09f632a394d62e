//! What one URL ended in: an HTTP response (any status), or a failure of a named kind. The scheduler
//! produces exactly one [`Outcome`] per input URL; the JSON writer and the summary both read it.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

/// The result of one input URL.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Input position.
    pub index: u64,
    /// The URL as given.
    pub url: Rc<str>,
    /// Time from the start of the request (first attempt) to its end.
    pub elapsed: Duration,
    /// Status of the response head, when one arrived (even if the URL then failed, e.g. a cut body).
    pub status: Option<u16>,
    /// Body bytes received (all of them on success; those before the failure otherwise).
    pub bytes: u64,
    /// Why the URL failed, if it did.
    pub failure: Option<Failure>,
    /// Whether the request went out on a pooled connection, when the client says.
    pub reused: Option<bool>,
    /// Where the time went, when a response arrived.
    pub timings: Option<Timings>,
}

/// Where a request's time went, as the client measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Resolving and connecting; `None` on a reused connection.
    pub connect: Option<Duration>,
    /// From the start of the (last) hop, connecting included, to the complete response head.
    pub first_byte: Duration,
}

impl Outcome {
    /// A URL that failed before any request was made.
    pub fn failed(index: u64, url: Rc<str>, kind: Kind, message: impl Into<String>) -> Outcome {
        Outcome {
            index,
            url,
            elapsed: Duration::ZERO,
            status: None,
            bytes: 0,
            failure: Some(Failure {
                kind,
                message: message.into(),
            }),
            reused: None,
            timings: None,
        }
    }

    /// Got a whole HTTP response with status below 400.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none() && self.status.is_some_and(|s| s < 400)
    }
}

/// Why a URL failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class of failure, for the summary and the `kind` field.
    pub kind: Kind,
    /// What happened, for people.
    pub message: String,
}

/// Classes of failure, each counted in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The text is not a URL the client can fetch.
    InvalidUrl,
    /// The host name did not resolve.
    Dns,
    /// No TCP connection (refused, unreachable, connect timeout).
    Connect,
    /// The TLS handshake or a TLS record failed.
    Tls,
    /// `--timeout` passed before the response was complete.
    Timeout,
    /// The server broke HTTP/1.1 (bad head, bad framing, body cut short).
    Protocol,
    /// Too many redirects, or one that could not be followed.
    Redirect,
    /// A read or write on an established connection failed.
    Io,
    /// The body grew past `--max-body`.
    MaxBody,
    /// Writing the body under `--save-dir` failed.
    Save,
    /// No file descriptor could be had for this request for too long.
    Descriptors,
    /// Anything else (including a bug: a request task that panicked).
    Other,
}

/// Every kind, in summary order.
pub const KINDS: [Kind; 12] = [
    Kind::InvalidUrl,
    Kind::Dns,
    Kind::Connect,
    Kind::Tls,
    Kind::Timeout,
    Kind::Protocol,
    Kind::Redirect,
    Kind::Io,
    Kind::MaxBody,
    Kind::Save,
    Kind::Descriptors,
    Kind::Other,
];

impl Kind {
    /// The name used in JSON (`"kind"`) and in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Kind::InvalidUrl => "invalid_url",
            Kind::Dns => "dns",
            Kind::Connect => "connect",
            Kind::Tls => "tls",
            Kind::Timeout => "timeout",
            Kind::Protocol => "protocol",
            Kind::Redirect => "redirect",
            Kind::Io => "io",
            Kind::MaxBody => "max_body",
            Kind::Save => "save",
            Kind::Descriptors => "descriptors",
            Kind::Other => "other",
        }
    }

    /// Position in [`KINDS`] (the enum is declared in that order).
    pub fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_in_declaration_order_with_distinct_names() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.slot(), i, "{k}");
        }
        let names: std::collections::HashSet<_> = KINDS.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), KINDS.len());
    }
}
