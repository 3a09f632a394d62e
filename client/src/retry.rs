//! [`RetryPolicy`]: which failed attempts are tried again, and after how long.
//!
//! Only transient failures are retried: a connection refused or reset, a timeout, the server
//! closing the connection before answering, and the statuses 408, 429, 500, 502, 503 and 504.
//! Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) are retried, unless the policy
//! allows others, except that a failure to connect is retried for any method (nothing was sent).
//!
//! The wait before retry *n* (from 0) is exponential with jitter: a random time between half and
//! all of `min(max_backoff, base × 2ⁿ)`. A `Retry-After` on a 429 or 503 (seconds, or an HTTP
//! date) replaces it. No retry starts if its wait would end after `max_elapsed` (counted from the
//! first attempt) or after the request's own deadline: then the last result is returned as it is.
//!
//! The decision is pure ([`RetryPolicy::decide`] looks at what happened and the clock reading it
//! is given), so it is unit-tested without a server; `send.rs` runs the loop.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, Method, StatusCode};

use crate::error::{Error, ErrorKind};

/// When and how often a client retries (see the module docs for what counts as transient).
///
/// ```
/// use std::time::Duration;
/// use spool_client::RetryPolicy;
/// let policy = RetryPolicy::new(3)
///     .max_elapsed(Duration::from_secs(20))
///     .backoff(Duration::from_millis(200), Duration::from_secs(5));
/// let client = spool_client::Client::builder().retry(policy).build()?;
/// # drop(client);
/// # Ok::<(), spool_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    max_elapsed: Option<Duration>,
    base: Duration,
    max_backoff: Duration,
    any_method: bool,
}

impl Default for RetryPolicy {
    /// No retries (the client's default).
    fn default() -> Self {
        RetryPolicy::none()
    }
}

/// What happened to one attempt, as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempt<'a> {
    Failed(&'a Error),
    Answered(StatusCode, &'a HeaderMap),
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> RetryPolicy {
        RetryPolicy::new(0)
    }

    /// Up to `max_retries` retries after the first attempt, waiting 1 s, 2 s, 4 s, … (at most 30 s),
    /// with jitter.
    pub fn new(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            max_elapsed: None,
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            any_method: false,
        }
    }

    /// No retry starts later than `limit` after the first attempt began (curl's
    /// `--retry-max-time`). Default: no limit but the request's timeout.
    pub fn max_elapsed(mut self, limit: impl Into<Option<Duration>>) -> RetryPolicy {
        self.max_elapsed = limit.into();
        self
    }

    /// The first wait and the longest one (defaults 1 s and 30 s).
    pub fn backoff(mut self, base: Duration, max: Duration) -> RetryPolicy {
        self.base = base;
        self.max_backoff = max.max(base);
        self
    }

    /// Also retry methods that are not idempotent (POST, PATCH): only when the server is known to
    /// handle a repeated request safely. Default false.
    pub fn retry_non_idempotent(mut self, enabled: bool) -> RetryPolicy {
        self.any_method = enabled;
        self
    }

    /// The most retries.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Whether to retry after `attempt`, `retries` retries having been made, the first attempt
    /// having started at `first`; `Some(wait)` when so. `deadline` is the request's own.
    pub(crate) fn decide(
        &self,
        method: &Method,
        attempt: Attempt<'_>,
        retries: u32,
        first: Instant,
        now: Instant,
        deadline: Option<Instant>,
    ) -> Option<Duration> {
        if retries >= self.max_retries {
            return None;
        }
        let wait = match attempt {
            Attempt::Failed(e) => {
                if !is_transient(e) || !(e.is_connect() || self.any_method || idempotent(method)) {
                    return None;
                }
                self.backoff_for(retries)
            }
            Attempt::Answered(status, headers) => {
                if !retryable_status(status) || !(self.any_method || idempotent(method)) {
                    return None;
                }
                let hinted = matches!(status.as_u16(), 429 | 503)
                    .then(|| retry_after(headers, SystemTime::now()))
                    .flatten();
                hinted.unwrap_or_else(|| self.backoff_for(retries))
            }
        };
        let at = now.checked_add(wait)?;
        if let Some(limit) = self.max_elapsed {
            if at.saturating_duration_since(first) > limit {
                return None;
            }
        }
        if deadline.is_some_and(|d| at >= d) {
            return None;
        }
        Some(wait)
    }

    /// Exponential backoff with "equal jitter": between half and all of the capped doubling.
    fn backoff_for(&self, retries: u32) -> Duration {
        let doubled = self
            .base
            .checked_mul(1u32 << retries.min(20))
            .unwrap_or(self.max_backoff);
        let full = doubled.min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(random_fraction())
    }
}

/// Failures worth another attempt: refused or reset connections, timeouts, a connection the server
/// closed before answering.
fn is_transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Io
    )
}

fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// RFC 9110 §9.2.2.
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP date (IMF-fixdate) relative to
/// `now`; a date in the past means "now". Anything else is ignored.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (the form RFC 9110 §5.6.7 requires senders to use).
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let rest = text.split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|&m| m == month)? as u32 + 1;
    if !(1..=31).contains(&day) {
        return None;
    }
    let days = crate::tls::utc::days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// A number in [0, 1) from a per-thread xorshift generator: jitter needs spread, not secrecy.
fn random_fraction() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            (nanos ^ 0x9e37_79b9_7f4a_7c15) | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn error(kind: ErrorKind) -> Error {
        Error::new(kind, "test")
    }

    #[test]
    fn transient_failures_and_statuses_only() {
        let p = RetryPolicy::new(3);
        let t = Instant::now();
        let get = &Method::GET;
        let none = HeaderMap::new();
        for kind in [ErrorKind::Connect, ErrorKind::Timeout, ErrorKind::Io] {
            assert!(p
                .decide(get, Attempt::Failed(&error(kind)), 0, t, t, None)
                .is_some());
        }
        for kind in [
            ErrorKind::Dns,
            ErrorKind::Tls,
            ErrorKind::Protocol,
            ErrorKind::Proxy,
        ] {
            assert!(p
                .decide(get, Attempt::Failed(&error(kind)), 0, t, t, None)
                .is_none());
        }
        for code in [408, 429, 500, 502, 503, 504] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(p
                .decide(get, Attempt::Answered(s, &none), 0, t, t, None)
                .is_some());
        }
        for code in [200, 301, 400, 401, 404, 501, 505] {
            let s = StatusCode::from_u16(code).unwrap();
            assert!(p
                .decide(get, Attempt::Answered(s, &none), 0, t, t, None)
                .is_none());
        }
        assert!(p
            .decide(get, Attempt::Failed(&error(ErrorKind::Io)), 3, t, t, None)
            .is_none());
        assert!(RetryPolicy::none()
            .decide(get, Attempt::Failed(&error(ErrorKind::Io)), 0, t, t, None)
            .is_none());
    }

    #[test]
    fn post_is_retried_only_when_nothing_was_sent_or_when_allowed() {
        let p = RetryPolicy::new(2);
        let t = Instant::now();
        let post = &Method::POST;
        let reset = error(ErrorKind::Io);
        let refused = error(ErrorKind::Connect);
        let s503 = StatusCode::SERVICE_UNAVAILABLE;
        let none = HeaderMap::new();
        assert!(p
            .decide(post, Attempt::Failed(&reset), 0, t, t, None)
            .is_none());
        assert!(p
            .decide(post, Attempt::Answered(s503, &none), 0, t, t, None)
            .is_none());
        assert!(p
            .decide(post, Attempt::Failed(&refused), 0, t, t, None)
            .is_some());
        let p = p.retry_non_idempotent(true);
        assert!(p
            .decide(post, Attempt::Failed(&reset), 0, t, t, None)
            .is_some());
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let p = RetryPolicy::new(10).backoff(Duration::from_millis(100), Duration::from_secs(1));
        for _ in 0..100 {
            for (n, full) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1000), (9, 1000)] {
                let wait = p.backoff_for(n);
                let full = Duration::from_millis(full);
                assert!(wait >= full / 2 && wait <= full, "retry {n}: {wait:?}");
            }
        }
        // Jitter spreads the waits.
        let waits: std::collections::HashSet<_> = (0..50).map(|_| p.backoff_for(3)).collect();
        assert!(waits.len() > 10);
    }

    #[test]
    fn limits_stop_retries_whose_wait_would_end_too_late() {
        let p = RetryPolicy::new(5)
            .backoff(Duration::from_secs(2), Duration::from_secs(2))
            .max_elapsed(Duration::from_secs(3));
        let t = Instant::now();
        let io = error(ErrorKind::Io);
        let get = &Method::GET;
        assert!(p.decide(get, Attempt::Failed(&io), 0, t, t, None).is_some());
        let later = t + Duration::from_secs(2);
        assert!(p
            .decide(get, Attempt::Failed(&io), 1, t, later, None)
            .is_none());
        let deadline = Some(t + Duration::from_millis(500));
        assert!(p
            .decide(get, Attempt::Failed(&io), 0, t, t, deadline)
            .is_none());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:50:07 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:00:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        for bad in [
            "soon",
            "-1",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Foo 1994 08:00:00 GMT",
        ] {
            h.insert("retry-after", HeaderValue::from_static(bad));
            assert_eq!(retry_after(&h, now), None, "{bad}");
        }
        // A 503's Retry-After replaces the backoff.
        let p = RetryPolicy::new(1).backoff(Duration::from_secs(9), Duration::from_secs(9));
        h.insert("retry-after", HeaderValue::from_static("1"));
        let t = Instant::now();
        let wait = p.decide(
            &Method::GET,
            Attempt::Answered(StatusCode::SERVICE_UNAVAILABLE, &h),
            0,
            t,
            t,
            None,
        );
        assert_eq!(wait, Some(Duration::from_secs(1)));
    }
}
