//! [`Request`]: one request as it goes on the wire (method, URL, headers, body, timeout), and the
//! checks it passes before any connection is made. The builder (`request.rs`), the sender
//! (`send.rs`) and redirects (`redirect.rs`) all work on it.

use std::time::Duration;

use bytes::Bytes;
use http::header;
use http::{HeaderMap, Method, Uri};

use crate::auth;
use crate::error::{Error, ErrorKind};

/// One request as it goes on the wire (redirects build new ones from it): made with
/// [`RequestBuilder::build`](crate::RequestBuilder::build) or [`Request::new`], sent with
/// [`Client::execute`](crate::Client::execute). Cloning is cheap (the body is shared), which is
/// how retries and middleware resend it.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: Uri,
    pub(crate) headers: HeaderMap,
    /// Sent with `Content-Length`; `Bytes` so a 307/308 redirect can resend it without a copy.
    pub(crate) body: Option<Bytes>,
    /// Overrides the client's whole-request timeout.
    pub(crate) timeout: Option<Duration>,
}

/// The checks of `send`, and the URL's credentials as `Authorization` (for `build` too).
pub(crate) fn prepare(mut request: Request) -> Result<Request, Error> {
    check(&request).map_err(|e| e.with_url(&request.url))?;
    if !request.headers.contains_key(header::AUTHORIZATION) {
        if let Some(basic) = auth::basic_from_url(&request.url) {
            request.headers.insert(header::AUTHORIZATION, basic);
        }
    }
    Ok(request)
}

pub(crate) fn builder_error(message: String) -> Error {
    Error::new(ErrorKind::Builder, message)
}

/// Refuses, before connecting, what the protocol core would refuse when encoding: the request must
/// not fail halfway through, after a connection was opened for it.
fn check(req: &Request) -> Result<(), Error> {
    if req.method == Method::CONNECT {
        return Err(builder_error(
            "CONNECT (tunnelling) is not supported".to_string(),
        ));
    }
    if req.headers.is_empty() {
        return Ok(());
    }
    if req.headers.contains_key(header::TRANSFER_ENCODING) {
        return Err(builder_error(
            "a Transfer-Encoding header cannot be set: the client sends bodies with Content-Length"
                .to_string(),
        ));
    }
    if req.headers.get_all(header::HOST).iter().count() > 1 {
        return Err(builder_error("more than one Host header".to_string()));
    }
    let mut lengths = req.headers.get_all(header::CONTENT_LENGTH).iter();
    if let Some(given) = lengths.next() {
        let body = req.body.as_ref().map_or(0, Bytes::len);
        if lengths.next().is_some() || given.as_bytes() != body.to_string().as_bytes() {
            return Err(builder_error(format!(
                "Content-Length header {given:?} does not match the body length {body}"
            )));
        }
    }
    for (name, value) in &req.headers {
        // Values built with the checked `http` constructors cannot hold these, but unchecked ones can.
        if value
            .as_bytes()
            .iter()
            .any(|&b| matches!(b, b'\r' | b'\n' | 0))
        {
            return Err(builder_error(format!(
                "invalid value for header {name}: it contains CR, LF or NUL"
            )));
        }
    }
    Ok(())
}
