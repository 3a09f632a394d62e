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
//!            retry policy (retry.rs): a transient failure or 408/429/5xx ─► wait, execute again
//!            redirect::next ─► follow (the 3xx connection goes back to the pool) or return
//! ```
//!
//! Time limits: waiting for a pool slot and everything after are bounded by the whole-request
//! deadline; resolving + connecting also by the connect timeout; each wait for bytes also by the
//! read timeout (see `conn/timer.rs`).

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant};

use http::{Method, StatusCode, Uri};
use spool_runtime::time::{sleep, sleep_until, timeout_at};

use crate::body::Body;
use crate::conn::{self, Connection, Timer};
use crate::error::{Error, ErrorKind};
use crate::handle::{Client, ClientInner};
use crate::origin::Origin;
use crate::polite::RampPermit;
use crate::pool::{Acquire, Checkout, Pooled};
use crate::prepared::Request;
use crate::proto::{Event, RequestHead};
use crate::redirect;
use crate::response::{self, Response, ResponseInfo};
use crate::retry::Attempt;

/// The whole-request deadline and the timeout it came from.
type Deadline = Option<(Instant, Duration)>;

/// Sends `req` (or reports why it could not be built), following redirects per the client's policy.
///
/// A plain `fn` returning an `async move` block rather than an `async fn`: an `async fn` copies its
/// arguments into locals, which would store the request twice in every in-flight request's future.
#[allow(clippy::manual_async_fn)] // on purpose, see above
pub(crate) fn send(
    client: Client,
    mut req: Result<Request, Error>,
) -> impl Future<Output = Result<Response, Error>> {
    async move {
        // Used in place: moving it out would store the request twice in this future.
        let Ok(req) = req.as_mut() else {
            return Err(req.expect_err("not Ok"));
        };
        let inner = &*client.inner;
        let deadline = req.timeout.or(inner.config.timeout).map(|limit| {
            let now = Instant::now();
            (now.checked_add(limit).unwrap_or(now), limit)
        });
        let mut hops = 0;
        // Retries (retry.rs) across all hops; the clock is only read when a policy is set.
        let policy = &inner.config.retry;
        let first = (policy.max_retries() > 0).then(Instant::now);
        let mut retries = 0;
        loop {
            let result = execute(inner, req, deadline).await;
            if let Some(first) = first {
                let attempt = match &result {
                    Ok(r) => Attempt::Answered(r.status(), r.headers()),
                    Err(e) => Attempt::Failed(e),
                };
                let until = deadline.map(|(at, _)| at);
                let now = Instant::now();
                if let Some(wait) = policy.decide(&req.method, attempt, retries, first, now, until)
                {
                    // The answer (a 503's body, say) is dropped: its connection closes unless the
                    // body had already arrived.
                    drop(result);
                    Box::pin(sleep(wait)).await;
                    retries += 1;
                    continue;
                }
            }
            let mut response = result.map_err(|e| e.with_url(&req.url).with_retries(retries))?;
            response.set_retries(retries);
            let next = redirect::next(
                &inner.config.redirect,
                req,
                response.status(),
                response.headers(),
                hops,
            )?;
            match next {
                None => {
                    response.set_redirects(hops as u32);
                    // The request is done with: its URL moves into the response (no clone).
                    response.set_url(std::mem::take(&mut req.url));
                    return Ok(response);
                }
                Some(next) => {
                    // The redirect's own body is dropped: if it arrived with the head (the usual small
                    // one), its connection is already back in the pool.
                    drop(response);
                    *req = next;
                    hops += 1;
                }
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
#[allow(clippy::manual_async_fn)] // on purpose, see `send`
fn execute<'a>(
    inner: &'a ClientInner,
    req: &'a Request,
    deadline: Deadline,
) -> impl Future<Output = Result<Response, Error>> + 'a {
    // Not an `async fn`, for the same reason as `send`.
    async move {
        let config = &inner.config;
        let origin = Origin::of(&req.url);
        let origin = origin.through(inner.proxies.for_request(origin.https, origin.host));
        let mut fresh = false;
        loop {
            if inner.polite.rate.is_some() {
                Box::pin(inner.polite.pace(&origin, deadline)).await?;
            }
            let started = Instant::now();
            // `ready`: when the connection was in hand; the read timeout counts from there, not
            // from before a wait for a pool slot or a connect.
            let (mut conn, connect, ready, ramp) = match inner.pool.checkout(&origin, fresh) {
                // The keep-alive fast path: no future, no allocation, no second clock read.
                Ok(Checkout::Reused(conn)) => (conn, None, started, None),
                // Waiting and connecting are boxed: rare, and their futures would otherwise make
                // every request's future larger.
                other => {
                    let (conn, connect, ramp) =
                        Box::pin(connection(inner, &origin, other, deadline)).await?;
                    (conn, connect, Instant::now(), ramp)
                }
            };
            let reused = conn.is_reused();
            let mut timer = Timer::new(deadline, config.read_timeout, ready);
            let head = RequestHead {
                method: &req.method,
                uri: &req.url,
                headers: &req.headers,
                body_len: req.body.as_ref().map(|b| b.len() as u64),
                user_agent: config.user_agent.as_deref(),
                accept_encoding: config.decompress.then_some(crate::decode::ACCEPT_ENCODING),
            };
            let body = req.body.as_deref().unwrap_or_default();
            // One inner future for "write, then read the head", so that no intermediate result is
            // kept across the second wait.
            let result = async {
                conn.send_request(&head, body, &mut timer).await?;
                poll_fn(|cx| conn.poll_event(cx, &mut timer)).await
            }
            .await;
            let head = match result {
                Ok(Event::Head(head)) => head,
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        "the response started without a head",
                    ))
                }
                Err(e) if e.is_encode() => {
                    crate::pool::checkin(conn, None);
                    return Err(e.into_error());
                }
                Err(e)
                    if reused
                        && !fresh
                        && e.is_stale_connection()
                        && is_idempotent(&req.method) =>
                {
                    // The keep-alive race: the server closed this pooled connection just as we used it.
                    drop(conn);
                    fresh = true;
                    continue;
                }
                Err(e) => {
                    let stale = reused && e.is_stale_connection();
                    let mut error = e.into_error();
                    if stale && !is_idempotent(&req.method) {
                        error = error.amend(&format!(
                            "; the {} was not retried because it is not idempotent",
                            req.method
                        ));
                    }
                    return Err(error);
                }
            };
            if let Some(ramp) = ramp {
                ramp.answered(!conn.conn.will_close());
            }
            if let (Some(proxy), false) = (origin.via, origin.https) {
                if head.status.as_u16() == 407 {
                    return Err(proxy.refused_407());
                }
            }
            let head_at = Instant::now();
            let info = ResponseInfo {
                reused,
                redirects: 0,
                retries: 0,
                connect,
                first_byte: head_at.saturating_duration_since(started),
            };
            let bodiless = req.method == Method::HEAD
                || head.status == StatusCode::NO_CONTENT
                || head.status == StatusCode::NOT_MODIFIED;
            // Looked up once: the response keeps it for `Response::content_length`.
            let declared = response::content_length(&head.headers);
            let length = if bodiless { Some(0) } else { declared };
            let body = Body::new(conn, timer, length, head_at);
            return Ok(Response::new(
                head,
                declared,
                // Set by `send` once it knows this is the last hop.
                Uri::default(),
                body,
                info,
                config.max_body_bytes,
                // A bodiless response keeps its headers as they are (a HEAD's length says what a
                // GET would get, compressed).
                config.decompress && !bodiless,
            ));
        }
    }
}

/// A connection for `origin` after the pool said "wait" or "open one". Also returns the connect
/// time and, for a new connection under the connection ramp, its ramp permit.
async fn connection<'a>(
    inner: &'a ClientInner,
    origin: &Origin<'_>,
    checkout: Result<Checkout, Acquire>,
    deadline: Deadline,
) -> Result<(Box<Pooled>, Option<Duration>, Option<RampPermit<'a>>), Error> {
    let checkout = match checkout {
        Ok(checkout) => checkout,
        Err(wait) => match deadline {
            None => wait.await,
            Some((at, limit)) => timeout_at(at, wait)
                .await
                .map_err(|_| request_timeout(limit, "waiting for a connection slot"))?,
        },
    };
    let slot = match checkout {
        Checkout::Reused(conn) => return Ok((conn, None, None)),
        Checkout::New(slot) => slot,
    };
    let ramp = inner.polite.ramp(origin, deadline).await?;
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
    // Raced against the deadline right here rather than through `timeout_at`: an `async fn` that
    // takes the connecting future as an argument would hold it twice.
    let mut opening = pin!(conn::open(
        &inner.dialer,
        *origin,
        config.nodelay,
        &inner.tls,
        config.user_agent.as_deref(),
        config.limits.max_head_bytes,
    ));
    let mut expiry = limit.map(|(at, _)| sleep_until(at));
    let opened = poll_fn(|cx| {
        if let Poll::Ready(result) = opening.as_mut().poll(cx) {
            return Poll::Ready(Some(result));
        }
        match expiry.as_mut().map(|sleep| Pin::new(sleep).poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    })
    .await;
    let stream = match (opened, limit) {
        (Some(result), _) => result?,
        (None, None) => unreachable!("no deadline, so no expiry"),
        (None, Some((_, which))) => {
            return Err(match which {
                Limit::Connect(limit) => Error::new(
                    ErrorKind::Timeout,
                    format!("connecting to {origin} timed out after {limit:?} (connect timeout)"),
                )
                .while_connecting(),
                Limit::Request(limit) => {
                    request_timeout(limit, &format!("connecting to {origin}")).while_connecting()
                }
            })
        }
    };
    Ok((
        Pooled::new(Connection::for_origin(stream, config.limits, origin), slot),
        Some(started.elapsed()),
        ramp,
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
