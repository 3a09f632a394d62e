//! [`RequestBuilder`]: method, URL, headers, body and timeout of one request, checked before any
//! byte is sent.
//!
//! Mistakes are remembered, not panicked on: the first bad URL, header name or value is returned by
//! [`send`](RequestBuilder::send) as an [`Error`] of kind [`InvalidUrl`](crate::ErrorKind::InvalidUrl) or
//! [`Builder`](crate::ErrorKind::Builder), before any connection is made.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};

use crate::error::Error;
use crate::handle::Client;
use crate::prepared::{builder_error, prepare, Request};
use crate::response::Response;

/// A request being built; [`send`](Self::send) it.
///
/// ```no_run
/// # spool_runtime::block_on(async {
/// let client = spool_client::Client::new();
/// let response = client
///     .post("http://127.0.0.1:8080/upload")
///     .header("content-type", "application/json")
///     .body(r#"{"hello":"world"}"#)
///     .timeout(std::time::Duration::from_secs(5))
///     .send()
///     .await?;
/// println!("{}", response.status());
/// # Ok::<(), spool_client::Error>(())
/// # });
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    pub(crate) client: Client,
    /// The request so far, or the first mistake (`request_api.rs` adds to it too).
    pub(crate) request: Result<Request, Error>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, url: Result<Uri, Error>) -> RequestBuilder {
        let request = url.map(|url| Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            upload: None,
            timeout: None,
        });
        RequestBuilder { client, request }
    }

    /// Adds a header (an existing one of the same name is kept: both are sent).
    ///
    /// A name that is not a valid token, or a value with CR, LF, NUL or another control character,
    /// makes `send` fail with [`ErrorKind::Builder`](crate::ErrorKind::Builder) naming the header.
    pub fn header<K, V>(mut self, name: K, value: V) -> RequestBuilder
    where
        K: AsRef<str>,
        V: TryInto<HeaderValue>,
    {
        if let Ok(req) = &mut self.request {
            let name = name.as_ref();
            match (HeaderName::from_bytes(name.as_bytes()), value.try_into()) {
                (Ok(n), Ok(v)) => {
                    req.headers.append(n, v);
                }
                (Err(_), _) => {
                    self.request = Err(builder_error(format!(
                        "invalid header name {name:?}: a name is letters, digits and !#$%&'*+-.^_`|~"
                    )));
                }
                (Ok(_), Err(_)) => {
                    self.request = Err(builder_error(format!(
                        "invalid value for header {name}: it contains CR, LF, NUL or another control character"
                    )));
                }
            }
        }
        self
    }

    /// Adds all of `headers`, replacing any earlier values of the same names.
    pub fn headers(mut self, headers: HeaderMap) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            let mut last: Option<HeaderName> = None;
            for (name, value) in headers {
                // `HeaderMap`'s iterator yields the name only for the first value of each field.
                match name {
                    Some(name) => {
                        req.headers.insert(name.clone(), value);
                        last = Some(name);
                    }
                    None => {
                        if let Some(name) = &last {
                            req.headers.append(name.clone(), value);
                        }
                    }
                }
            }
        }
        self
    }

    /// Sets the body, sent with `Content-Length`.
    pub fn body(mut self, body: impl Into<Bytes>) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            req.body = Some(body.into());
            req.upload = None;
        }
        self
    }

    /// Limits this request as a whole (connecting, sending, redirects and reading the body),
    /// overriding the client's [`timeout`](crate::ClientBuilder::timeout).
    pub fn timeout(mut self, limit: Duration) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            req.timeout = Some(limit);
        }
        self
    }

    /// Sends the request and waits for the response head (following redirects).
    ///
    /// The body is read afterwards with [`Response::bytes`], [`Response::text`] or
    /// [`Response::chunk`].
    ///
    /// Not an `async fn` on purpose: the checks run here, and the returned future is the sending
    /// future itself, holding the request once (an `async fn` would keep this builder too).
    pub fn send(self) -> impl Future<Output = Result<Response, Error>> {
        crate::send::send(self.client, self.request.and_then(prepare))
    }
}
