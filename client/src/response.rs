//! [`Response`]: the status, headers and final URL of an answer, and its body to read.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode, Uri, Version};

use crate::body::Body;
use crate::buffers;
use crate::charset;
use crate::decode;
use crate::decoded::Decoding;
use crate::error::Error;
use crate::proto::ResponseHead;

/// Facts about how a response was obtained, for tools that report them.
///
/// ```no_run
/// # spool_runtime::block_on(async {
/// let response = spool_client::Client::new().get("http://127.0.0.1:8080/").send().await?;
/// let info = response.info();
/// println!("reused: {}, redirects: {}, first byte after {:?}", info.reused, info.redirects, info.first_byte);
/// # Ok::<(), spool_client::Error>(())
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseInfo {
    /// The connection that carried this response had carried an earlier one (it came from the pool).
    pub reused: bool,
    /// Redirects followed before this response.
    pub redirects: u32,
    /// Attempts retried (per the client's [`RetryPolicy`](crate::RetryPolicy)) before this one.
    pub retries: u32,
    /// Time spent resolving and connecting for this response's connection; `None` when reused.
    pub connect: Option<Duration>,
    /// From the start of this (last) hop, connecting included, to the complete response head.
    pub first_byte: Duration,
}

/// An HTTP response whose head has arrived; the body is read with [`chunk`](Self::chunk),
/// [`bytes`](Self::bytes) or [`text`](Self::text).
///
/// Reading the body to its end returns the connection to the pool. Dropping a response early is
/// fine: its connection is closed unless the rest of the body had already arrived.
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: Headers,
    /// The declared `Content-Length`, as the state machine read it at the head.
    content_length: Option<u64>,
    url: Uri,
    body: Body,
    info: ResponseInfo,
    max_body_bytes: u64,
    /// Set when the body is compressed and the client decodes (boxed: rare, and large).
    decoding: Option<Box<Decoding>>,
    /// Body bytes received as sent, when not decoding (`decoding` counts its own).
    wire: u64,
}

impl Response {
    pub(crate) fn new(
        head: ResponseHead,
        content_length: Option<u64>,
        url: Uri,
        body: Body,
        info: ResponseInfo,
        max_body_bytes: u64,
        decompress: bool,
    ) -> Response {
        let mut headers = head.headers;
        let mut content_length = content_length;
        let mut decoding = None;
        if decompress && headers.contains_key(CONTENT_ENCODING) {
            let codings = decode::codings(&headers);
            if codings.as_ref().map_or(true, |c| !c.is_empty()) {
                if codings.is_ok() {
                    // They describe the bytes on the wire, not the body the caller gets (reqwest
                    // removes them too).
                    headers.remove(CONTENT_ENCODING);
                    headers.remove(CONTENT_LENGTH);
                    content_length = None;
                }
                decoding = Some(Box::new(Decoding::new(codings)));
            }
        }
        Response {
            status: head.status,
            version: head.version,
            headers: Headers(headers),
            content_length,
            url,
            body,
            info,
            max_body_bytes,
            decoding,
            wire: 0,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in the order received.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers.0
    }

    /// The URL that gave this response: the request's URL, or the last redirect's target.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// How the response was obtained: connection reuse, redirects, timings.
    pub fn info(&self) -> &ResponseInfo {
        &self.info
    }

    pub(crate) fn set_redirects(&mut self, redirects: u32) {
        self.info.redirects = redirects;
    }

    pub(crate) fn set_retries(&mut self, retries: u32) {
        self.info.retries = retries;
    }

    pub(crate) fn set_url(&mut self, url: Uri) {
        self.url = url;
    }

    /// The body length announced by `Content-Length`, when it gives one valid value (repeated
    /// equal values count as one) and there is no `Transfer-Encoding`; for a `HEAD` request, the
    /// length a `GET` would have had. `None` once the client decodes a compressed body.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The next piece of the body, as it arrives; `Ok(None)` at its end. No size limit applies.
    ///
    /// ```no_run
    /// # spool_runtime::block_on(async {
    /// let mut response = spool_client::Client::new().get("http://127.0.0.1:8080/big").send().await?;
    /// let mut total = 0;
    /// while let Some(chunk) = response.chunk().await? {
    ///     total += chunk.len();
    /// }
    /// println!("{total} bytes");
    /// # Ok::<(), spool_client::Error>(())
    /// # });
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let url = &self.url;
        let piece = match &mut self.decoding {
            Some(decoding) => decoding.chunk(&mut self.body).await,
            None => {
                let piece = self.body.chunk().await;
                if let Ok(Some(data)) = &piece {
                    self.wire += data.len() as u64;
                }
                piece
            }
        };
        piece.map_err(|e| e.with_url(url))
    }

    /// Body bytes received so far as the server sent them (after the transfer framing, before
    /// content decoding): the compressed size of a decoded body, otherwise the bytes handed out.
    pub fn wire_bytes(&self) -> u64 {
        match &self.decoding {
            Some(decoding) => decoding.wire_bytes(),
            None => self.wire,
        }
    }

    /// Whether the body is being decoded from a `Content-Encoding` (whose header has then been
    /// removed; see [`ClientBuilder::decompress`](crate::ClientBuilder::decompress)).
    pub fn is_decoded(&self) -> bool {
        self.decoding.is_some()
    }

    /// The whole body. More than the client's `max_body_bytes` (10 MiB by default) is
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge); a body cut short is
    /// [`ErrorKind::IncompleteBody`](crate::ErrorKind::IncompleteBody).
    pub fn bytes(self) -> impl Future<Output = Result<Bytes, Error>> {
        // Not an `async fn`: the future keeps only the body and the URL, not the whole response.
        let length = self.content_length();
        let Response {
            mut body,
            url,
            max_body_bytes,
            decoding,
            ..
        } = self;
        async move {
            let result = match decoding {
                Some(mut decoding) => decoding.collect(&mut body, max_body_bytes).await,
                None => body.collect(max_body_bytes, length).await,
            };
            result.map_err(|e| e.with_url(&url))
        }
    }

    /// The whole body as text, decoded with the `Content-Type` charset (UTF-8 when none is given;
    /// `iso-8859-1`, `latin1`, `us-ascii`, `windows-1252` and UTF-16 are understood). Invalid bytes
    /// become U+FFFD. Same limits as [`bytes`](Self::bytes).
    pub fn text(self) -> impl Future<Output = Result<String, Error>> {
        let content_type = self.headers.0.get(CONTENT_TYPE).cloned();
        let bytes = self.bytes();
        async move {
            let bytes = bytes.await?;
            Ok(charset::decode(&bytes, content_type.as_ref()))
        }
    }

    /// Whether the body has been read to its end.
    pub fn is_body_complete(&self) -> bool {
        self.body.is_complete()
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &format_args!("{}", self.url))
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers.0)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The response's header map, given back for the next response head to be parsed into when the
/// response is dropped (see `buffers.rs`): a keep-alive request then allocates no map.
struct Headers(HeaderMap);

impl Drop for Headers {
    fn drop(&mut self) {
        buffers::give_header_map(std::mem::take(&mut self.0));
    }
}
