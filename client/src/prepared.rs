//! [`Request`]: one request as it goes on the wire (method, URL, headers, body, timeout), and the
//! checks it passes before any connection is made. The builder (`request.rs`), the sender
//! (`send.rs`) and redirects (`redirect.rs`) all work on it.

use std::time::Duration;

use bytes::Bytes;
use http::header;
use http::{HeaderMap, Method, Uri};

use crate::auth;
use crate::error::{Error, ErrorKind};
use crate::proto::{self, BodyLen};
use crate::upload::Upload;

/// One request as it goes on the wire (redirects build new ones from it): made with
/// [`RequestBuilder::build`](crate::RequestBuilder::build) or [`Request::new`], sent with
/// [`Client::execute`](crate::Client::execute). Cloning is cheap (the body is shared), which is
/// how retries and middleware resend it. A body streamed from a reader is shared by clones too,
/// and can be sent only once (see [`RequestBuilder::body_reader`](crate::RequestBuilder::body_reader)).
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: Uri,
    pub(crate) headers: HeaderMap,
    /// Sent with `Content-Length`; `Bytes` so a 307/308 redirect can resend it without a copy.
    pub(crate) body: Option<Bytes>,
    /// A body streamed from a reader instead. The builder's `body` and `body_reader` each clear
    /// the other; only [`Request::body_mut`] can leave both set, and then `body` is the one sent
    /// ([`Request::body_len`] and `send::exchange` both give it precedence).
    pub(crate) upload: Option<Upload>,
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

impl Request {
    /// The body's length as the request head announces it, in memory or streamed.
    pub(crate) fn body_len(&self) -> BodyLen {
        match (&self.body, &self.upload) {
            (Some(bytes), _) => BodyLen::Exactly(bytes.len() as u64),
            (None, Some(upload)) => upload.len().map_or(BodyLen::Chunked, BodyLen::Exactly),
            (None, None) => BodyLen::Empty,
        }
    }

    /// Whether this request can be sent (again): false once a streamed body was read.
    pub(crate) fn is_replayable(&self) -> bool {
        self.upload.as_ref().is_none_or(|u| !u.is_spent())
    }
}

pub(crate) fn builder_error(message: String) -> Error {
    Error::new(ErrorKind::Builder, message)
}

/// Refuses, before connecting, what the protocol core would refuse when encoding (it is the same
/// function, [`proto::validate`]): the request must not fail halfway through, after a connection
/// was opened for it.
fn check(req: &Request) -> Result<(), Error> {
    let head = proto::RequestHead {
        method: &req.method,
        uri: &req.url,
        headers: &req.headers,
        body_len: req.body_len(),
        // The client's own User-Agent and Accept-Encoding were checked when it was built.
        user_agent: None,
        accept_encoding: None,
    };
    proto::validate(&head).map_err(Error::from_proto)
}
