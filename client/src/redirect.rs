//! Redirects: which ones to follow ([`Policy`]) and how the next request is built from a 3xx
//! response (RFC 9110 §15.4).
//!
//! | status | method of the next request | body |
//! |---|---|---|
//! | 301, 302 | `POST` becomes `GET`; others unchanged | dropped when the method changes |
//! | 303 | `GET` (`HEAD` stays `HEAD`) | dropped |
//! | 307, 308 | unchanged | kept |
//!
//! The `Location` may be relative; it is resolved against the URL that answered. When the next
//! URL has another scheme, host or port, `Authorization`, `Cookie`, `Proxy-Authorization` (and a
//! caller's `Host`) are not sent there. Going from https to http is refused unless the policy allows
//! it. Other 3xx responses (300, 304, 305) and 3xx without `Location` are returned as they are.

use http::header::{self, HeaderName};
use http::{HeaderMap, Method, StatusCode};

use crate::auth;
use crate::error::{Error, ErrorKind};
use crate::origin::Origin;
use crate::prepared::Request;
use crate::reference;
use crate::url;

/// Which redirects a client follows.
///
/// ```
/// use spool_client::redirect::Policy;
/// let default = Policy::default();
/// assert_eq!(default.max_redirects(), 10);
/// let never = Policy::none(); // 3xx responses are returned to the caller as they are
/// assert_eq!(never.max_redirects(), 0);
/// let lax = Policy::limited(3).allow_https_to_http(true);
/// # drop((lax, never));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    max: usize,
    https_to_http: bool,
}

impl Policy {
    /// Follow up to `max` redirects; one more is [`ErrorKind::TooManyRedirects`].
    pub fn limited(max: usize) -> Policy {
        Policy {
            max,
            https_to_http: false,
        }
    }

    /// Follow no redirect: a 3xx response is the response.
    pub fn none() -> Policy {
        Policy::limited(0)
    }

    /// Whether a redirect from https to http may be followed (default: refused with
    /// [`ErrorKind::Redirect`], since it would send the request in clear text).
    pub fn allow_https_to_http(mut self, allow: bool) -> Policy {
        self.https_to_http = allow;
        self
    }

    /// The most redirects followed for one request.
    pub fn max_redirects(&self) -> usize {
        self.max
    }
}

impl Default for Policy {
    /// Up to 10 redirects, never from https to http.
    fn default() -> Policy {
        Policy::limited(10)
    }
}

/// Headers that describe the request body; they go when the body goes.
const CONTENT_HEADERS: [HeaderName; 6] = [
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CONTENT_LANGUAGE,
    header::CONTENT_LOCATION,
    header::TRANSFER_ENCODING,
];

/// Headers that are only for the origin they were meant for.
const ORIGIN_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
    header::HOST,
];

/// The request to send after `status` + `headers` answered `req`, or `None` to stop here.
///
/// `hops` is how many redirects were already followed.
pub(crate) fn next(
    policy: &Policy,
    req: &Request,
    status: StatusCode,
    headers: &HeaderMap,
    hops: usize,
) -> Result<Option<Request>, Error> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) || policy.max == 0 {
        return Ok(None);
    }
    let Some(location) = headers.get(header::LOCATION) else {
        return Ok(None);
    };
    // Servers put raw UTF-8 in Location; the URL checks percent-encode it.
    let location = String::from_utf8_lossy(location.as_bytes());
    if hops >= policy.max {
        return Err(Error::new(
            ErrorKind::TooManyRedirects,
            format!(
                "gave up after {} redirects; the next one pointed to {location:?}",
                policy.max
            ),
        )
        .with_url(&req.url));
    }
    let target = reference::resolve(&req.url, &location);
    let url = url::parse_location(&target).map_err(|e| {
        Error::new(
            ErrorKind::Redirect,
            format!(
                "cannot follow {} redirect to {location:?}: {}",
                status.as_u16(),
                e.message()
            ),
        )
        .with_url(&req.url)
    })?;
    let from = Origin::of(&req.url);
    let to = Origin::of(&url);
    if from.https && !to.https && !policy.https_to_http {
        return Err(Error::new(
            ErrorKind::Redirect,
            format!("refusing to follow a redirect from https to http ({url})"),
        )
        .with_url(&req.url));
    }

    let (method, keep_body) = match status.as_u16() {
        303 if req.method == Method::HEAD => (Method::HEAD, false),
        303 => (Method::GET, false),
        301 | 302 if req.method == Method::POST => (Method::GET, false),
        _ => (req.method.clone(), true),
    };
    if keep_body && req.upload.is_some() {
        // A streamed body was read once and cannot be sent again: the 307/308 is the result
        // (`Response::url` and the `Location` header say where it pointed).
        return Ok(None);
    }
    let mut headers = req.headers.clone();
    let body = if keep_body { req.body.clone() } else { None };
    if !keep_body {
        for name in &CONTENT_HEADERS {
            headers.remove(name);
        }
    }
    if !from.same_as(&to) {
        for name in &ORIGIN_HEADERS {
            headers.remove(name);
        }
    }
    if !headers.contains_key(header::AUTHORIZATION) {
        if let Some(basic) = auth::basic_from_url(&url) {
            headers.insert(header::AUTHORIZATION, basic);
        }
    }
    Ok(Some(Request {
        method,
        url,
        headers,
        body,
        // Dropped on a redirect to GET; kept ones returned above.
        upload: None,
        timeout: req.timeout,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderValue;

    fn request(method: Method, url: &str) -> Request {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("secret"));
        headers.insert(header::COOKIE, HeaderValue::from_static("c=1"));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert("x-keep", HeaderValue::from_static("yes"));
        Request {
            method,
            url: url.parse().unwrap(),
            headers,
            body: Some(Bytes::from_static(b"payload")),
            upload: None,
            timeout: None,
        }
    }

    fn location(to: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::LOCATION, HeaderValue::from_str(to).unwrap());
        h
    }

    fn follow(req: &Request, status: u16, to: &str) -> Result<Option<Request>, Error> {
        next(
            &Policy::default(),
            req,
            StatusCode::from_u16(status).unwrap(),
            &location(to),
            0,
        )
    }

    #[test]
    fn method_rules_of_rfc9110() {
        let cases = [
            (Method::POST, 301, Method::GET, false),
            (Method::POST, 302, Method::GET, false),
            (Method::POST, 303, Method::GET, false),
            (Method::PUT, 303, Method::GET, false),
            (Method::HEAD, 303, Method::HEAD, false),
            (Method::POST, 307, Method::POST, true),
            (Method::POST, 308, Method::POST, true),
            (Method::PUT, 301, Method::PUT, true),
            (Method::GET, 302, Method::GET, true),
        ];
        for (method, status, want, body) in cases {
            let req = request(method.clone(), "http://a/x");
            let n = follow(&req, status, "/y").unwrap().unwrap();
            assert_eq!(n.method, want, "{method} {status}");
            assert_eq!(n.body.is_some(), body, "{method} {status}");
            assert_eq!(
                n.headers.contains_key(header::CONTENT_TYPE),
                body,
                "{method} {status}"
            );
            assert_eq!(n.url, "http://a/y");
        }
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let req = request(Method::GET, "http://a/x");
        let same = follow(&req, 302, "http://A:80/z").unwrap().unwrap();
        assert!(same.headers.contains_key(header::AUTHORIZATION));
        assert!(same.headers.contains_key(header::COOKIE));
        for to in ["http://b/x", "http://a:81/x", "https://a/x"] {
            let other = follow(&req, 302, to).unwrap().unwrap();
            assert!(!other.headers.contains_key(header::AUTHORIZATION), "{to}");
            assert!(!other.headers.contains_key(header::COOKIE), "{to}");
            assert!(other.headers.contains_key("x-keep"), "{to}");
        }
    }

    #[test]
    fn https_to_http_is_refused_unless_allowed() {
        let req = request(Method::GET, "https://a/x");
        let e = follow(&req, 301, "http://a/x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Redirect);
        assert!(e.to_string().contains("https to http"), "{e}");
        let lax = Policy::default().allow_https_to_http(true);
        let n = next(&lax, &req, StatusCode::FOUND, &location("http://a/x"), 0).unwrap();
        assert!(n.is_some());
    }

    #[test]
    fn limits_and_non_redirects() {
        let req = request(Method::GET, "http://a/x");
        let e = next(
            &Policy::limited(2),
            &req,
            StatusCode::FOUND,
            &location("/y"),
            2,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyRedirects);
        assert!(
            next(&Policy::none(), &req, StatusCode::FOUND, &location("/y"), 0)
                .unwrap()
                .is_none()
        );
        for status in [300, 304, 305, 200] {
            assert!(follow(&req, status, "/y").unwrap().is_none(), "{status}");
        }
        let none = next(
            &Policy::default(),
            &req,
            StatusCode::FOUND,
            &HeaderMap::new(),
            0,
        );
        assert!(none.unwrap().is_none());
    }

    #[test]
    fn bad_locations_are_errors() {
        let req = request(Method::GET, "http://a/x");
        for to in ["ftp://a/x", "http:///x", "http://a:99999/"] {
            let e = follow(&req, 302, to).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Redirect, "{to}");
        }
        let n = follow(&req, 302, "/a b/ü").unwrap().unwrap();
        assert_eq!(n.url, "http://a/a%20b/%C3%BC");
    }

    #[test]
    fn url_credentials_become_basic_auth() {
        let mut req = request(Method::GET, "http://a/x");
        req.headers.clear();
        let n = follow(&req, 302, "http://u:p@b/x").unwrap().unwrap();
        assert_eq!(n.headers[header::AUTHORIZATION], "Basic dTpw");
    }
}
