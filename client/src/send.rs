//! One request from `send()` to a response head: redirects, the stale-connection retry, getting a
//! connection, writing the request and reading the head.
//!
//! ```text
//!  send ─► for each hop (at most the redirect policy's limit):
//!            execute ─► acquire: pool checkout ─► reused ───────────────┐
//!                                       └──────► slot ─► connection: open (resolve, connect)
//!                       exchange: write request, read head ◄────────────┘
//!                       classify (pure) a failure: a stale reused connection, idempotent
//!                          method, first try ─► once more on a fresh connection; else fail
//!                       respond: the head and the state machine's body decision ─► Response
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

use http::{Method, Uri};
use spool_runtime::time::{sleep, sleep_until, timeout_at};

use crate::body::Body;
use crate::builder::Config;
use crate::conn::{self, ConnError, Connection, Timer};
use crate::error::{Error, ErrorKind};
use crate::handle::{Client, ClientInner};
use crate::origin::Origin;
use crate::polite::RampPermit;
use crate::pool::{Acquire, Checkout, Pooled};
use crate::prepared::Request;
use crate::proto::{Event, RequestHead, ResponseHead};
use crate::redirect;
use crate::response::{Response, ResponseInfo};
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
            // A streamed body already read cannot be sent again, so the policy is not asked.
            if let Some(first) = first.filter(|_| req.is_replayable()) {
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
            // Acquire. `ready`: when the connection was in hand; the read timeout counts from
            // there, not from before a wait for a pool slot or a connect.
            let started = Instant::now();
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
            let head = match exchange(&mut conn, req, config, &mut timer).await {
                Ok(Event::Head(head)) => head,
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        "the response started without a head",
                    ))
                }
                Err(e) => {
                    let failure = Failure {
                        encode: e.is_encode(),
                        stale: e.is_stale_connection(),
                        reused,
                        fresh,
                        idempotent: is_idempotent(&req.method),
                        replayable: req.is_replayable(),
                    };
                    match classify(failure) {
                        AfterFailure::Refused => {
                            crate::pool::checkin(conn, None);
                            return Err(e.into_error());
                        }
                        AfterFailure::RetryFresh => {
                            drop(conn);
                            fresh = true;
                            continue;
                        }
                        AfterFailure::Fail { not_retried } => {
                            let mut error = e.into_error();
                            match not_retried {
                                Some(NotRetried::NotIdempotent) => {
                                    error = error.amend(&format!(
                                        "; the {} was not retried because it is not idempotent",
                                        req.method
                                    ));
                                }
                                Some(NotRetried::BodySpent) => {
                                    error = error.amend(
                                        "; it was not retried because its streamed body was already read",
                                    );
                                }
                                None => {}
                            }
                            return Err(error);
                        }
                    }
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
            return Ok(respond(conn, head, timer, reused, connect, started, config));
        }
    }
}

/// Exchange: writes the request on `conn` and reads up to the response head (one future for both,
/// so that no intermediate result is kept across the second wait).
async fn exchange(
    conn: &mut Pooled,
    req: &Request,
    config: &Config,
    timer: &mut Timer,
) -> Result<Event, ConnError> {
    let head = RequestHead {
        method: &req.method,
        uri: &req.url,
        headers: &req.headers,
        body_len: req.body_len(),
        user_agent: config.user_agent.as_deref(),
        accept_encoding: config.decompress.then_some(crate::decode::ACCEPT_ENCODING),
    };
    match (&req.body, &req.upload) {
        (None, Some(upload)) => {
            // Taken only now, so a failed connect could still be retried with it.
            let mut source = upload.take().ok_or_else(ConnError::body_spent)?;
            conn.send_request(&head, &[], timer).await?;
            Box::pin(conn.send_body_from(&mut source, upload.len(), timer)).await?;
        }
        (body, _) => {
            let body = body.as_deref().unwrap_or_default();
            conn.send_request(&head, body, timer).await?;
        }
    }
    poll_fn(|cx| conn.poll_event(cx, timer)).await
}

/// What was known when a hop's exchange failed.
#[derive(Debug, Clone, Copy)]
struct Failure {
    /// The request could not be encoded (nothing was sent).
    encode: bool,
    /// The connection turned out closed before any byte of a response arrived.
    stale: bool,
    /// The connection had carried a response before this request (it came from the pool).
    reused: bool,
    /// This is already the second try, on a fresh connection.
    fresh: bool,
    /// The method may be sent twice (RFC 9110 §9.2.2).
    idempotent: bool,
    /// The body can be sent again (false once a streamed body was read).
    replayable: bool,
}

/// What a hop does after its exchange failed.
#[derive(Debug, PartialEq, Eq)]
enum AfterFailure {
    /// Nothing was sent and the connection is intact: it goes back to the pool, the request fails.
    Refused,
    /// The keep-alive race (the server closed this pooled connection just as we used it): once
    /// more, on a fresh connection.
    RetryFresh,
    /// The request fails; `not_retried`: it was that race, but the request could not be sent
    /// again, and the error says why.
    Fail { not_retried: Option<NotRetried> },
}

/// Why the keep-alive race was not retried.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum NotRetried {
    NotIdempotent,
    BodySpent,
}

/// The decision after a failed exchange, a pure function of what was known.
fn classify(f: Failure) -> AfterFailure {
    if f.encode {
        AfterFailure::Refused
    } else if !(f.reused && f.stale) {
        AfterFailure::Fail { not_retried: None }
    } else if !f.idempotent {
        AfterFailure::Fail {
            not_retried: Some(NotRetried::NotIdempotent),
        }
    } else if !f.replayable {
        AfterFailure::Fail {
            not_retried: Some(NotRetried::BodySpent),
        }
    } else if f.fresh {
        AfterFailure::Fail { not_retried: None }
    } else {
        AfterFailure::RetryFresh
    }
}

/// Respond: the response over `conn`, its body framed as the state machine decided at the head.
/// `started`: when this try began (connecting included), for the time to the first byte.
fn respond(
    conn: Box<Pooled>,
    head: ResponseHead,
    timer: Timer,
    reused: bool,
    connect: Option<Duration>,
    started: Instant,
    config: &Config,
) -> Response {
    let head_at = Instant::now();
    let info = ResponseInfo {
        reused,
        // Both set by `send` once it knows this is the last hop.
        redirects: 0,
        retries: 0,
        connect,
        first_byte: head_at.saturating_duration_since(started),
    };
    // What the state machine decided at the head (never re-read from the headers here).
    let kind = conn
        .body_kind()
        .expect("the state machine returned a head, so it decided the body");
    let body = Body::new(conn, timer, kind.exact_len(), head_at);
    Response::new(
        head,
        kind.content_length(),
        // Set by `send` once it knows this is the last hop.
        Uri::default(),
        body,
        info,
        config.max_body_bytes,
        // A bodiless response keeps its headers as they are (a HEAD's length says what a GET
        // would get, compressed).
        config.decompress && !kind.is_bodiless(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(encode: bool, stale: bool, reused: bool, fresh: bool, idempotent: bool) -> Failure {
        Failure {
            encode,
            stale,
            reused,
            fresh,
            idempotent,
            replayable: true,
        }
    }

    #[test]
    fn an_unencodable_request_fails_and_keeps_its_connection() {
        for other in [false, true] {
            let f = failure(true, other, other, other, other);
            assert_eq!(classify(f), AfterFailure::Refused, "{f:?}");
        }
    }

    #[test]
    fn only_the_first_stale_reuse_of_an_idempotent_request_is_retried() {
        assert_eq!(
            classify(failure(false, true, true, false, true)),
            AfterFailure::RetryFresh
        );
        // Already the second try; a new connection; not stale (the server answered, or the bytes
        // broke off mid-response): fail, nothing to explain.
        for f in [
            failure(false, true, true, true, true),
            failure(false, true, false, false, true),
            failure(false, false, true, false, true),
            failure(false, false, false, false, false),
        ] {
            assert_eq!(
                classify(f),
                AfterFailure::Fail { not_retried: None },
                "{f:?}"
            );
        }
    }

    #[test]
    fn a_stale_reuse_of_a_post_fails_saying_why_it_was_not_retried() {
        for fresh in [false, true] {
            assert_eq!(
                classify(failure(false, true, true, fresh, false)),
                AfterFailure::Fail {
                    not_retried: Some(NotRetried::NotIdempotent)
                }
            );
        }
        assert_eq!(
            classify(failure(false, true, false, false, false)),
            AfterFailure::Fail { not_retried: None }
        );
    }

    #[test]
    fn a_stale_reuse_whose_streamed_body_was_read_fails_saying_so() {
        let spent = Failure {
            replayable: false,
            ..failure(false, true, true, false, true)
        };
        assert_eq!(
            classify(spent),
            AfterFailure::Fail {
                not_retried: Some(NotRetried::BodySpent)
            }
        );
        // Not the race: nothing to explain.
        let answered = Failure {
            replayable: false,
            ..failure(false, false, true, false, true)
        };
        assert_eq!(classify(answered), AfterFailure::Fail { not_retried: None });
    }
}
