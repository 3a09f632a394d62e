//! What a reqwest user reaches for beyond `header` and `body`: `query`, `form`, `json`,
//! `basic_auth`, `bearer_auth`, a body read from a file, and a [`Request`] built now and sent
//! later with [`Client::execute`] (how retries and middleware are written).
//!
//! Encoding is left to well-kept crates: `form_urlencoded` (the `url` crate's) for query strings
//! and forms, `base64` for Basic credentials, `serde_json` behind the `json` feature.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_io::AsyncRead;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Uri};

use crate::error::{Error, ErrorKind};
use crate::handle::Client;
use crate::prepared::{builder_error, prepare, Request};
use crate::request::RequestBuilder;
use crate::response::Response;
use crate::upload::{FileSource, Upload};
use crate::url::IntoUrl;

impl RequestBuilder {
    /// Appends `pairs` to the URL's query, `application/x-www-form-urlencoded` as browsers and
    /// reqwest write it (`a b&c` becomes `a+b%26c`). Call it more than once to add more.
    ///
    /// ```
    /// let client = spool_client::Client::new();
    /// let req = client.get("http://127.0.0.1/search?x=1").query(&[("q", "a b&c"), ("n", "2")]).build()?;
    /// assert_eq!(req.url().to_string(), "http://127.0.0.1/search?x=1&q=a+b%26c&n=2");
    /// # Ok::<(), spool_client::Error>(())
    /// ```
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            let mut query = req.url.query().unwrap_or_default().to_string();
            let mut encoder = form_urlencoded::Serializer::for_suffix(&mut query, 0);
            for (k, v) in pairs {
                encoder.append_pair(k.as_ref(), v.as_ref());
            }
            encoder.finish();
            let path = req.url.path();
            let mut parts = req.url.clone().into_parts();
            let joined = if query.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{query}")
            };
            match joined.parse() {
                Ok(pq) => {
                    parts.path_and_query = Some(pq);
                    match Uri::from_parts(parts) {
                        Ok(url) => req.url = url,
                        Err(e) => self.request = Err(builder_error(format!("query(): {e}"))),
                    }
                }
                Err(e) => self.request = Err(builder_error(format!("query(): {e}"))),
            }
        }
        self
    }

    /// Sends `pairs` as an `application/x-www-form-urlencoded` body (sets `Content-Type`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> RequestBuilder {
        let mut encoder = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            encoder.append_pair(k.as_ref(), v.as_ref());
        }
        self.set_header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .body(encoder.finish())
    }

    /// Sends `value` as a JSON body (sets `Content-Type: application/json`). Needs the `json`
    /// feature. A value serde cannot serialise makes `send` fail with [`ErrorKind::Builder`].
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> RequestBuilder {
        match serde_json::to_vec(value) {
            Ok(body) => self
                .set_header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .body(body),
            Err(e) => self.fail(format!("json(): the value cannot be serialised: {e}")),
        }
    }

    /// `Authorization: Basic` with `user` and, if given, `password` (RFC 7617; base64 of
    /// `user:password`). Replaces credentials taken from the URL.
    pub fn basic_auth(self, user: impl AsRef<str>, password: Option<impl AsRef<str>>) -> Self {
        use base64::Engine as _;
        let plain = match password {
            Some(p) => format!("{}:{}", user.as_ref(), p.as_ref()),
            None => format!("{}:", user.as_ref()),
        };
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(plain)
        );
        self.sensitive_header(value, "basic_auth()")
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer_auth(self, token: impl AsRef<str>) -> RequestBuilder {
        let value = format!("Bearer {}", token.as_ref());
        self.sensitive_header(value, "bearer_auth()")
    }

    /// Streams the file at `path` as the body, with its length (taken now) as `Content-Length`;
    /// see [`body_reader`](Self::body_reader) for what streaming means for retries and redirects.
    /// The file is opened now and read in 64 KiB pieces on the blocking pool as the request is
    /// written; a file that cannot be opened makes `send` fail with [`ErrorKind::Builder`] naming
    /// it, and one that shrinks while it is sent fails the request.
    pub fn body_file(self, path: impl AsRef<std::path::Path>) -> RequestBuilder {
        let path = path.as_ref();
        let opened = std::fs::File::open(path).and_then(|file| {
            let len = file.metadata()?.len();
            Ok((file, len))
        });
        match opened {
            Ok((file, len)) => self.body_reader(FileSource::new(file), len),
            Err(e) => self.fail(format!("cannot read the body file {}: {e}", path.display())),
        }
    }

    /// Streams the body from `reader`: exactly `len` bytes, announced as `Content-Length`, read
    /// and written 64 KiB at a time, so a large body never sits in memory.
    ///
    /// The reader is read once. A connect failure may still be retried (nothing was read yet);
    /// after the head is written, nothing resends it: no retry, and a 307 or 308 redirect is
    /// returned as the response rather than followed. A reader that ends before `len` bytes fails
    /// the request with [`ErrorKind::Io`]; bytes past `len` are not read.
    pub fn body_reader(mut self, reader: impl AsyncRead + 'static, len: u64) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            req.upload = Some(Upload::new(Box::pin(reader), Some(len)));
            req.body = None;
        }
        self
    }

    /// Streams the body from `reader` until it ends, for a body whose length is not known up
    /// front (a pipe, a generator, a compressor's output): sent as `Transfer-Encoding: chunked`,
    /// one chunk per read of up to 64 KiB, as reqwest does for a streamed body without a length.
    ///
    /// The reader is read once, as with [`body_reader`](Self::body_reader): no resend after the
    /// head is written, and a 307 or 308 is returned rather than followed. A reader that fails
    /// fails the request with [`ErrorKind::Io`] and closes the connection, so the server never
    /// sees the body end. A server that cannot take chunked bodies (most HTTP/1.0 servers) may
    /// answer `411 Length Required`: give the length with [`body_reader`](Self::body_reader) then.
    pub fn body_stream(mut self, reader: impl AsyncRead + 'static) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            req.upload = Some(Upload::new(Box::pin(reader), None));
            req.body = None;
        }
        self
    }

    /// The request, checked as `send` would check it, to send later with [`Client::execute`]
    /// (or clone and resend).
    pub fn build(self) -> Result<Request, Error> {
        self.request.and_then(prepare)
    }

    fn set_header(mut self, name: header::HeaderName, value: HeaderValue) -> RequestBuilder {
        if let Ok(req) = &mut self.request {
            req.headers.insert(name, value);
        }
        self
    }

    fn sensitive_header(self, value: String, what: &str) -> RequestBuilder {
        match HeaderValue::from_str(&value) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.set_header(header::AUTHORIZATION, value)
            }
            Err(_) => self.fail(format!(
                "{what}: the credentials contain a control character"
            )),
        }
    }

    fn fail(mut self, message: String) -> RequestBuilder {
        if self.request.is_ok() {
            self.request = Err(builder_error(message));
        }
        self
    }
}

impl Request {
    /// A request with no headers and no body; `url` is checked as [`Client::get`] checks it.
    pub fn new(method: Method, url: impl IntoUrl) -> Result<Request, Error> {
        Ok(Request {
            method,
            url: url.into_url()?,
            headers: HeaderMap::new(),
            body: None,
            upload: None,
            timeout: None,
        })
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The method, to change.
    pub fn method_mut(&mut self) -> &mut Method {
        &mut self.method
    }

    /// The URL.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The URL, to change (checked again by [`Client::execute`]).
    pub fn url_mut(&mut self) -> &mut Uri {
        &mut self.url
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body, if it is in memory (a streamed one, set with
    /// [`RequestBuilder::body_reader`] or [`body_file`](RequestBuilder::body_file), is not).
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// The in-memory body, to set or take. Setting one here while a streamed body is set sends
    /// the in-memory one.
    pub fn body_mut(&mut self) -> &mut Option<Bytes> {
        &mut self.body
    }

    /// This request's own whole-request timeout, if it has one.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets or clears this request's own whole-request timeout.
    pub fn timeout_mut(&mut self) -> &mut Option<Duration> {
        &mut self.timeout
    }
}

impl Client {
    /// Sends a [`Request`] built earlier (checked again: it may have been changed), following
    /// redirects as [`RequestBuilder::send`] does.
    ///
    /// ```no_run
    /// # spool_runtime::block_on(async {
    /// let client = spool_client::Client::new();
    /// let request = client.get("http://127.0.0.1:8080/").build()?;
    /// // A retry, in three lines: the request is cheap to clone.
    /// let response = match client.execute(request.clone()).await {
    ///     Err(e) if e.kind() == spool_client::ErrorKind::Connect => client.execute(request).await?,
    ///     other => other?,
    /// };
    /// # drop(response);
    /// # Ok::<(), spool_client::Error>(())
    /// # });
    /// ```
    pub fn execute(&self, request: Request) -> impl Future<Output = Result<Response, Error>> {
        crate::send::send(self.clone(), prepare(request))
    }

    /// Starts a `PATCH` request.
    pub fn patch(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }
}

impl Response {
    /// `Err` of kind [`ErrorKind::Status`] for a 4xx or 5xx status (the error carries the
    /// status and URL), the response otherwise: `client.get(url).send().await?.error_for_status()?`.
    pub fn error_for_status(self) -> Result<Response, Error> {
        let status = self.status();
        if status.is_client_error() || status.is_server_error() {
            return Err(
                Error::new(ErrorKind::Status, format!("the server answered {status}"))
                    .with_status(status)
                    .with_url(self.url()),
            );
        }
        Ok(self)
    }

    /// The body parsed as JSON into `T` (needs the `json` feature). Same limits as
    /// [`bytes`](Self::bytes); a body that is not valid JSON for `T` is [`ErrorKind::Decode`].
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(self) -> impl Future<Output = Result<T, Error>> {
        let url = self.url().clone();
        let bytes = self.bytes();
        async move {
            let bytes = bytes.await?;
            serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(
                    ErrorKind::Decode,
                    format!("the body is not the JSON expected: {e}"),
                )
                .with_url(&url)
            })
        }
    }
}
