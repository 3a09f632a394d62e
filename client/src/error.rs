//! The one error type of spool-client: a [`kind`](Error::kind) a program can match on, the URL it
//! happened on, and a sentence a person understands.
//!
//! Every error is built where the failure is understood, so its message says what was being done and
//! to what ("connection refused while connecting to 127.0.0.1:9"); [`Display`](std::fmt::Display)
//! then appends the URL. The underlying error (an `io::Error`, a protocol error) is kept as the
//! [`source`](std::error::Error::source), for programs that walk the chain; its text is already part
//! of the message.

use std::error::Error as StdError;
use std::fmt;

use http::Uri;

use crate::proto::{ProtoError, ProtoErrorKind};

/// The cause kept behind an [`Error`].
type Source = Box<dyn StdError + Send + Sync>;

/// What went wrong, for programs to match on.
///
/// ```
/// use spool_client::ErrorKind;
/// let retry_later = |kind: ErrorKind| matches!(kind, ErrorKind::Timeout | ErrorKind::Connect);
/// assert!(retry_later(ErrorKind::Timeout));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL cannot be used: not http/https, no host, a bad port, a space or control character.
    InvalidUrl,
    /// The request or client could not be built: a bad header name or value, a bad setting.
    Builder,
    /// The host name could not be resolved to an address.
    Dns,
    /// No TCP connection could be made (refused, unreachable, reset during connect).
    Connect,
    /// TLS failed or is unavailable.
    Tls,
    /// A time limit passed: connect, whole request, or read idle. The message says which.
    Timeout,
    /// The server's response broke HTTP/1.1: malformed head, bad framing, an upgrade, a closed
    /// connection in the middle of the head.
    Protocol,
    /// The connection ended before the body was complete according to its framing. Never reported as
    /// a short success.
    IncompleteBody,
    /// A limit was exceeded: head size, header count, or the body size allowed for
    /// [`bytes`](crate::Response::bytes) / [`text`](crate::Response::text).
    TooLarge,
    /// The redirect limit was reached.
    TooManyRedirects,
    /// A redirect could not be followed: its `Location` is not a usable http(s) URL, or it goes from
    /// https to http, which the policy refuses.
    Redirect,
    /// Reading or writing the connection failed (reset, broken pipe), or the server closed it before
    /// answering.
    Io,
    /// A compressed body could not be decoded: a `Content-Encoding` spool does not know, or a
    /// corrupt or truncated stream (see [`ClientBuilder::decompress`](crate::ClientBuilder::decompress)).
    Decode,
    /// [`Response::error_for_status`](crate::Response::error_for_status) found a 4xx or 5xx
    /// status ([`Error::status`] says which).
    Status,
    /// The proxy failed: it could not be reached, it asked for credentials (407), or it refused the
    /// CONNECT tunnel (any answer but 2xx). The message names the proxy (never its password).
    Proxy,
}

impl ErrorKind {
    /// A short phrase naming the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid URL",
            Self::Builder => "invalid request",
            Self::Dns => "DNS resolution failed",
            Self::Connect => "connection failed",
            Self::Tls => "TLS failed",
            Self::Timeout => "timed out",
            Self::Protocol => "HTTP protocol error",
            Self::IncompleteBody => "incomplete body",
            Self::TooLarge => "too large",
            Self::TooManyRedirects => "too many redirects",
            Self::Redirect => "redirect not followed",
            Self::Io => "I/O error",
            Self::Decode => "body decoding failed",
            Self::Status => "HTTP error status",
            Self::Proxy => "proxy failed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from building or sending a request, or from reading its response.
///
/// ```
/// spool_runtime::block_on(async {
///     let err = spool_client::Client::new().get("ftp://example.com/").send().await.unwrap_err();
///     assert_eq!(err.kind(), spool_client::ErrorKind::InvalidUrl);
///     assert!(err.to_string().contains("ftp"));
/// });
/// ```
pub struct Error {
    /// Boxed so that `Result<Response, Error>` stays small on the success path.
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    url: Option<Uri>,
    source: Option<Source>,
    /// The failure happened while connecting (a connect timeout is both `Timeout` and a connect error).
    connecting: bool,
    /// The status, for [`ErrorKind::Status`].
    status: Option<http::StatusCode>,
    /// Attempts retried before this failure (the client's retry policy).
    retries: u32,
}

impl Error {
    /// An error of `kind` with a complete sentence (the URL is added by [`Display`](fmt::Display)).
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                url: None,
                source: None,
                connecting: matches!(kind, ErrorKind::Connect | ErrorKind::Dns | ErrorKind::Proxy),
                status: None,
                retries: 0,
            }),
        }
    }

    /// Attaches the URL the error happened on (kept if one is already set).
    pub(crate) fn with_url(mut self, url: &Uri) -> Error {
        if self.inner.url.is_none() {
            self.inner.url = Some(url.clone());
        }
        self
    }

    /// Attaches the status of an error response.
    pub(crate) fn with_status(mut self, status: http::StatusCode) -> Error {
        self.inner.status = Some(status);
        self
    }

    /// The status of the response, for an error from
    /// [`error_for_status`](crate::Response::error_for_status).
    pub fn status(&self) -> Option<http::StatusCode> {
        self.inner.status
    }

    /// Attaches the underlying error.
    pub(crate) fn with_source(mut self, source: impl Into<Source>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    /// Appends `more` to the message.
    pub(crate) fn amend(mut self, more: &str) -> Error {
        self.inner.message.push_str(more);
        self
    }

    /// Records how many retries came before this failure.
    pub(crate) fn with_retries(mut self, retries: u32) -> Error {
        self.inner.retries = retries;
        self
    }

    /// Marks the error as having happened while connecting.
    pub(crate) fn while_connecting(mut self) -> Error {
        self.inner.connecting = true;
        self
    }

    /// A protocol-core error, mapped to the kind a caller cares about.
    pub(crate) fn from_proto(e: ProtoError) -> Error {
        let kind = match e.kind() {
            ProtoErrorKind::IncompleteBody => ErrorKind::IncompleteBody,
            ProtoErrorKind::TooLarge => ErrorKind::TooLarge,
            ProtoErrorKind::ClosedBeforeResponse => ErrorKind::Io,
            ProtoErrorKind::InvalidRequest => ErrorKind::Builder,
            _ => ErrorKind::Protocol,
        };
        Error::new(kind, e.to_string()).with_source(e)
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The URL the error happened on, when it concerns one (after redirects, the URL of that hop).
    pub fn url(&self) -> Option<&Uri> {
        self.inner.url.as_ref()
    }

    /// Whether a time limit passed.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// Whether the error happened while resolving or connecting (nothing was sent yet), including a
    /// connect timeout.
    pub fn is_connect(&self) -> bool {
        self.inner.connecting
    }

    /// Whether the error is about following redirects.
    pub fn is_redirect(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::TooManyRedirects | ErrorKind::Redirect
        )
    }

    /// Whether the response body was cut short.
    pub fn is_body(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::IncompleteBody)
    }

    /// Whether the request was refused before anything was sent (bad URL, header, or setting).
    pub fn is_builder(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Builder | ErrorKind::InvalidUrl)
    }

    /// How many times the request was retried (per the client's
    /// [`RetryPolicy`](crate::RetryPolicy)) before it failed this way.
    pub fn retries(&self) -> u32 {
        self.inner.retries
    }

    /// The message without the URL.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(url) = &self.inner.url {
            write!(f, " ({url})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(url) = &self.inner.url {
            d.field("url", &format_args!("{url}"));
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Describes an `io::Error` the way a person says it ("connection refused"), without the
/// "(os error 111)" suffix std adds.
pub(crate) fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let text = match e.kind() {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset by the server",
        K::ConnectionAborted => "connection aborted",
        K::BrokenPipe => "connection closed by the server (broken pipe)",
        K::NotConnected => "not connected",
        K::AddrNotAvailable => "address not available",
        K::TimedOut => "timed out",
        K::UnexpectedEof => "unexpected end of stream",
        _ => return strip_os_code(e.to_string()),
    };
    text.to_string()
}

fn strip_os_code(mut text: String) -> String {
    if let Some(at) = text.find(" (os error") {
        text.truncate(at);
    }
    // std spells most messages with a capital letter; ours continue a sentence.
    if let Some(first) = text.get(..1) {
        if text
            .get(1..2)
            .is_some_and(|c| c.chars().all(|c| c.is_lowercase()))
        {
            let lower = first.to_lowercase();
            text.replace_range(..1, &lower);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_appends_the_url_and_keeps_the_source() {
        let url: Uri = "http://127.0.0.1:9/".parse().unwrap();
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = Error::new(
            ErrorKind::Connect,
            format!("{} while connecting to 127.0.0.1:9", describe_io(&io)),
        )
        .with_source(io)
        .with_url(&url);
        assert_eq!(
            e.to_string(),
            "connection refused while connecting to 127.0.0.1:9 (http://127.0.0.1:9/)"
        );
        assert!(e.is_connect());
        assert!(e.source().is_some());
        assert_eq!(e.url(), Some(&url));
    }

    #[test]
    fn os_codes_are_dropped() {
        assert_eq!(
            strip_os_code("Network is unreachable (os error 101)".into()),
            "network is unreachable"
        );
        assert_eq!(strip_os_code("EOF".into()), "EOF");
    }

    #[test]
    fn error_is_small_and_thread_safe() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
