//! One request from `send()` to a response head: redirects, the stale-connection retry, getting a
//! connection, writing the request and reading the head.
//!
//! ```text
//!  send ─► for each hop (at most the redirect policy's limit):
//!            execute ─► connection: pool checkout ─► reused ─────────────┐
//!                                          └──────► slot ─► open (resolve, connect)
//!                        write request, read head ◄─────────────────────┘
//!                          └─ failed before any response byte on a reused connection,
//!                             idempotent method, first try ─► once more on a fresh connection
//!            redirect::next ─► follow (the 3xx connection goes back to the pool) or return
//! ```
//!
//! Time limits: waiting for a pool slot and everything after are bounded by the whole-request
//! deadline; resolving + connecting also by the connect timeout; each wait for bytes also by the
//! read timeout (see `conn/timer.rs`).

use std::future::poll_fn;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use spool_runtime::time::timeout_at;

use crate::body::Body;
use crate::client::{Client, ClientInner};
use crate::conn::{self, Connection, Timer};
use crate::error::{Error, ErrorKind};
use crate::pool::Checkout;
use crate::proto::{Event, RequestHead};
use crate::redirect;
use crate::request::Request;
use crate::response::{self, Response, ResponseInfo};
use crate::url::Origin;

/// The whole-request deadline and the timeout it came from.
type Deadline = Option<(Instant, Duration)>;

/// Sends `req`, following redirects per the client's policy.
pub(crate) async fn send(client: &Client, mut req: Request) -> Result<Response, Error> {
    let inner = &*client.inner;
    let started = Instant::now();
    let deadline = req
        .timeout
        .or(inner.config.timeout)
        .map(|limit| (started.checked_add(limit).unwrap_or(started), limit));
    let mut hops = 0;
    loop {
        let mut response = execute(inner, &req, deadline)
            .await
            .map_err(|e| e.with_url(&req.url))?;
        let next = redirect::next(
            &inner.config.redirect,
            &req,
            response.status(),
            response.headers(),
            hops,
        )?;
        match next {
            None => {
                response.set_redirects(hops as u32);
                return Ok(response);
            }
            Some(next) => {
                // The redirect's own body is dropped: if it arrived with the head (the usual small
                // one), its connection is already back in the pool.
                drop(response);
                req = next;
                hops += 1;
            }
        }
    }
}

/// Methods that may be sent twice (RFC 9110 §9.2.2), so a stale pooled connection can be retried.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// One hop: a connection, the request written, the response head read.
async fn execute(
    inner: &ClientInner,
    req: &Request,
    deadline: Deadline,
) -> Result<Response, Error> {
    let config = &inner.config;
    let origin = Origin::of(&req.url);
    let mut fresh = false;
    loop {
        let started = Instant::now();
        let (mut conn, connect) = connection(inner, &origin, fresh, deadline).await?;
        let reused = conn.is_reused();
        let mut timer = Timer::new(deadline, config.read_timeout);
        let head = RequestHead {
            method: &req.method,
            uri: &req.url,
            headers: &req.headers,
            body_len: req.body.as_ref().map(|b| b.len() as u64),
            user_agent: config.user_agent.as_deref(),
        };
        let body = req.body.as_deref().unwrap_or_default();
        let result = match conn.send_request(&head, body, &mut timer).await {
            Ok(()) => poll_fn(|cx| conn.poll_event(cx, &mut timer)).await,
            Err(e) => Err(e),
        };
        let head = match result {
            Ok(Event::Head(head)) => head,
            Ok(_) => {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    "the response started without a head",
                ))
            }
            Err(e) if e.is_encode() => {
                crate::pool::checkin(conn);
                return Err(e.into_error());
            }
            Err(e) if reused && !fresh && e.is_stale_connection() && is_idempotent(&req.method) => {
                // The keep-alive race: the server closed this pooled connection just as we used it.
                drop(conn);
                fresh = true;
                continue;
            }
            Err(e) => {
                let stale = reused && e.is_stale_connection();
                let mut error = e.into_error();
                if stale && !is_idempotent(&req.method) {
                    error = Error::new(
                        error.kind(),
                        format!(
                            "{}; the {} was not retried because it is not idempotent",
                            error.message(),
                            req.method
                        ),
                    );
                }
                return Err(error);
            }
        };
        let info = ResponseInfo {
            reused,
            redirects: 0,
            connect,
            first_byte: started.elapsed(),
        };
        let bodiless = req.method == Method::HEAD
            || head.status == StatusCode::NO_CONTENT
            || head.status == StatusCode::NOT_MODIFIED;
        let length = if bodiless {
            Some(0)
        } else {
            response::content_length(&head.headers)
        };
        let body = Body::new(conn, timer, length);
        return Ok(Response::new(
            head.status,
            head.version,
            head.headers,
            req.url.clone(),
            body,
            info,
            config.max_body_bytes,
        ));
    }
}

/// A connection for `origin`: from the pool, or newly opened. Also returns the connect time.
async fn connection(
    inner: &ClientInner,
    origin: &Origin<'_>,
    fresh: bool,
    deadline: Deadline,
) -> Result<(Box<Connection>, Option<Duration>), Error> {
    let checkout = match inner.pool.checkout(origin, fresh) {
        Ok(checkout) => checkout,
        Err(wait) => match deadline {
            None => wait.await,
            Some((at, limit)) => timeout_at(at, wait)
                .await
                .map_err(|_| request_timeout(limit, "waiting for a connection slot"))?,
        },
    };
    let slot = match checkout {
        Checkout::Reused(conn) => return Ok((conn, None)),
        Checkout::New(slot) => slot,
    };
    let started = Instant::now();
    let config = &inner.config;
    let connect_deadline = config.connect_timeout.map(|limit| {
        (
            started.checked_add(limit).unwrap_or(started),
            Limit::Connect(limit),
        )
    });
    let request_deadline = deadline.map(|(at, limit)| (at, Limit::Request(limit)));
    let limit = match (connect_deadline, request_deadline) {
        (Some(c), Some(r)) => Some(if r.0 < c.0 { r } else { c }),
        (c, r) => c.or(r),
    };
    // Boxed: connecting is the rare path, and its future would otherwise make every request's
    // future larger.
    let opening = Box::pin(conn::open(&inner.resolver, *origin, config.nodelay));
    let stream =
        match limit {
            None => opening.await?,
            Some((at, which)) => match timeout_at(at, opening).await {
                Ok(result) => result?,
                Err(_) => return Err(match which {
                    Limit::Connect(limit) => Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "connecting to {origin} timed out after {limit:?} (connect timeout)"
                        ),
                    )
                    .while_connecting(),
                    Limit::Request(limit) => {
                        request_timeout(limit, &format!("connecting to {origin}"))
                            .while_connecting()
                    }
                }),
            },
        };
    Ok((
        Connection::new(stream, slot, config.limits),
        Some(started.elapsed()),
    ))
}

/// Which limit bounds a connect attempt.
#[derive(Clone, Copy)]
enum Limit {
    Connect(Duration),
    Request(Duration),
}

fn request_timeout(limit: Duration, doing: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("the request did not complete within {limit:?} (timeout) while {doing}"),
    )
}
