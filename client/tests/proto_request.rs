//! Request-encoding tests: origin-form targets, `Host` (ports, IPv6, caller override), `Content-Length`,
//! `User-Agent`, and refusal of anything that could inject bytes into the head. Every case also
//! checks that `proto::validate` (which the client runs before connecting) agrees with the encoder.

use http::{HeaderMap, HeaderValue, Method, Uri};
use spool_client::proto::{validate, BodyLen, ClientConn, Limits, ProtoErrorKind, RequestHead};

/// Encodes a request on a fresh connection and returns the head as text.
fn encode(
    method: Method,
    uri: &str,
    headers: &HeaderMap,
    body_len: impl Into<BodyLen>,
    ua: Option<&str>,
) -> String {
    let uri: Uri = uri.parse().unwrap();
    let req = RequestHead {
        method: &method,
        uri: &uri,
        headers,
        body_len: body_len.into(),
        user_agent: ua,
        accept_encoding: None,
    };
    validate(&req).expect("validate passes what the encoder writes");
    let mut out = Vec::new();
    ClientConn::new(Limits::default())
        .encode_request(&req, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// Encodes and expects a refusal; checks that nothing was written. Returns the message.
fn refuse(
    method: Method,
    uri: &str,
    headers: &HeaderMap,
    body_len: impl Into<BodyLen>,
    ua: Option<&str>,
) -> String {
    let uri: Uri = uri.parse().unwrap();
    let req = RequestHead {
        method: &method,
        uri: &uri,
        headers,
        body_len: body_len.into(),
        user_agent: ua,
        accept_encoding: None,
    };
    let mut out = b"previous".to_vec();
    let mut conn = ClientConn::new(Limits::default());
    let err = conn.encode_request(&req, &mut out).unwrap_err();
    assert_eq!(err.kind(), ProtoErrorKind::InvalidRequest, "{err}");
    // The client refuses early with the same function, so both must give the same answer.
    let early = validate(&req).expect_err("validate refuses what the encoder refuses");
    assert_eq!(early.to_string(), err.to_string());
    assert_eq!(out, b"previous", "dst changed on refusal");
    assert!(
        conn.is_idle_reusable(),
        "a refused request leaves the connection usable"
    );
    err.to_string()
}

fn get(uri: &str) -> String {
    encode(Method::GET, uri, &HeaderMap::new(), None, None)
}

/// The value of `name` in an encoded head (first match, case-insensitive).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(": ")?;
        n.eq_ignore_ascii_case(name).then_some(v)
    })
}

#[test]
fn minimal_get() {
    assert_eq!(
        get("http://example.com"),
        "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    );
}

#[test]
fn origin_form_targets() {
    let line = |uri: &str| get(uri).lines().next().unwrap().to_owned();
    assert_eq!(
        line("http://example.com/a/b?x=1&y=%20"),
        "GET /a/b?x=1&y=%20 HTTP/1.1"
    );
    assert_eq!(line("http://example.com?x=1"), "GET /?x=1 HTTP/1.1");
    assert_eq!(line("http://example.com/"), "GET / HTTP/1.1");
    assert_eq!(line("http://user:pw@example.com/p"), "GET /p HTTP/1.1");
    let opts = encode(
        Method::OPTIONS,
        "*",
        &host_header("example.com"),
        None,
        None,
    );
    assert!(opts.starts_with("OPTIONS * HTTP/1.1\r\n"), "{opts}");
}

#[test]
fn fragments_never_reach_the_wire() {
    let head = get("http://example.com/p?q=1#frag");
    assert!(head.starts_with("GET /p?q=1 HTTP/1.1\r\n"), "{head}");
    assert!(!head.contains('#'), "{head}");
}

#[test]
fn host_header_forms() {
    let host = |uri: &str| header(&get(uri), "host").unwrap().to_owned();
    assert_eq!(host("http://example.com:8080/"), "example.com:8080");
    assert_eq!(host("http://example.com:80/"), "example.com");
    assert_eq!(host("https://example.com:443/"), "example.com");
    assert_eq!(host("https://example.com:80/"), "example.com:80");
    assert_eq!(host("http://example.com:443/"), "example.com:443");
    assert_eq!(host("http://[::1]:8080/"), "[::1]:8080");
    assert_eq!(host("http://[::1]/"), "[::1]");
    assert_eq!(host("http://[2001:db8::1]:80/x"), "[2001:db8::1]");
    assert_eq!(host("http://127.0.0.1:3000/"), "127.0.0.1:3000");
    assert_eq!(
        host("http://user:pw@example.com/"),
        "example.com",
        "userinfo must not leak"
    );
}

fn host_header(value: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static(value));
    h
}

#[test]
fn caller_host_wins_and_comes_first() {
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("*/*"));
    headers.insert("host", HeaderValue::from_static("virtual.test"));
    let head = encode(Method::GET, "http://127.0.0.1:8080/", &headers, None, None);
    assert_eq!(
        head,
        "GET / HTTP/1.1\r\nHost: virtual.test\r\naccept: */*\r\n\r\n"
    );
    // A URI without authority is fine when the caller names the host.
    let head = encode(
        Method::GET,
        "/only/path",
        &host_header("h.test"),
        None,
        None,
    );
    assert!(
        head.starts_with("GET /only/path HTTP/1.1\r\nHost: h.test\r\n"),
        "{head}"
    );
}

#[test]
fn content_length_rules() {
    let none = HeaderMap::new();
    let cl = |m: Method, len: Option<u64>| {
        header(&encode(m, "http://h/", &none, len, None), "content-length").map(str::to_owned)
    };
    assert_eq!(cl(Method::GET, None), None);
    assert_eq!(cl(Method::HEAD, None), None);
    assert_eq!(cl(Method::DELETE, None), None);
    assert_eq!(cl(Method::GET, Some(0)), Some("0".into()));
    assert_eq!(cl(Method::POST, None), Some("0".into()));
    assert_eq!(cl(Method::PUT, None), Some("0".into()));
    assert_eq!(cl(Method::PATCH, None), Some("0".into()));
    assert_eq!(cl(Method::POST, Some(12345)), Some("12345".into()));
    assert_eq!(cl(Method::PUT, Some(u64::MAX)), Some(u64::MAX.to_string()));
}

#[test]
fn caller_content_length_must_agree() {
    let mut headers = HeaderMap::new();
    headers.insert("content-length", HeaderValue::from_static("5"));
    let head = encode(Method::POST, "http://h/", &headers, Some(5), None);
    assert_eq!(head.matches("ontent-length").count(), 1, "{head}");
    let msg = refuse(Method::POST, "http://h/", &headers, Some(6), None);
    assert!(msg.contains('5') && msg.contains('6'), "{msg}");
    refuse(Method::POST, "http://h/", &headers, None, None);
    headers.insert("content-length", HeaderValue::from_static("+5"));
    refuse(Method::POST, "http://h/", &headers, Some(5), None);
}

#[test]
fn a_chunked_body_is_announced_by_transfer_encoding_alone() {
    let none = HeaderMap::new();
    for method in [Method::POST, Method::PUT, Method::GET] {
        let head = encode(method, "http://h/", &none, BodyLen::Chunked, None);
        assert_eq!(
            header(&head, "transfer-encoding"),
            Some("chunked"),
            "{head}"
        );
        assert_eq!(header(&head, "content-length"), None, "{head}");
        let lower = head.to_ascii_lowercase();
        assert_eq!(lower.matches("transfer-encoding").count(), 1, "{head}");
    }
    // The caller may frame it neither way: the encoder owns both headers.
    let mut headers = HeaderMap::new();
    headers.insert("content-length", HeaderValue::from_static("5"));
    let msg = refuse(Method::POST, "http://h/", &headers, BodyLen::Chunked, None);
    assert!(msg.contains("chunked"), "{msg}");
    let mut headers = HeaderMap::new();
    headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
    let msg = refuse(Method::POST, "http://h/", &headers, BodyLen::Chunked, None);
    assert!(msg.contains("Transfer-Encoding"), "{msg}");
}

#[test]
fn user_agent_default_and_override() {
    let head = encode(
        Method::GET,
        "http://h/",
        &HeaderMap::new(),
        None,
        Some("spool/0.1"),
    );
    assert_eq!(header(&head, "user-agent"), Some("spool/0.1"));
    let mut headers = HeaderMap::new();
    headers.insert("user-agent", HeaderValue::from_static("mine/1"));
    let head = encode(Method::GET, "http://h/", &headers, None, Some("spool/0.1"));
    assert_eq!(head.matches("ser-agent").count(), 1, "{head}");
    assert_eq!(header(&head, "user-agent"), Some("mine/1"));
}

#[test]
fn caller_headers_are_written_with_duplicates() {
    let mut headers = HeaderMap::new();
    headers.append("accept", HeaderValue::from_static("text/html"));
    headers.append("accept", HeaderValue::from_static("*/*"));
    headers.insert("x-tab", HeaderValue::from_static("a\tb"));
    let head = encode(Method::GET, "http://h/", &headers, None, None);
    assert!(
        head.contains("accept: text/html\r\naccept: */*\r\n"),
        "{head}"
    );
    assert!(head.contains("x-tab: a\tb\r\n"), "{head}");
    // The head parses back as a valid request with every field.
    let mut fields = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut fields);
    assert_eq!(
        req.parse(head.as_bytes()).unwrap(),
        httparse::Status::Complete(head.len())
    );
    assert_eq!(req.headers.len(), 4);
}

#[test]
fn injection_is_refused() {
    let none = HeaderMap::new();
    let msg = refuse(
        Method::GET,
        "http://h/",
        &none,
        None,
        Some("evil\r\nX-Injected: 1"),
    );
    assert!(msg.contains("User-Agent"), "the bad header is named: {msg}");
    refuse(Method::GET, "http://h/", &none, None, Some("nul\0byte"));
    refuse(Method::GET, "http://h/", &none, None, Some("lf\nonly"));
    // `http` already refuses these in URIs and header values; make sure nothing slips through parsing.
    assert!("http://h/a\r\nb".parse::<Uri>().is_err());
    assert!(HeaderValue::from_bytes(b"a\r\nb").is_err());
}

#[test]
fn other_refusals() {
    let none = HeaderMap::new();
    refuse(Method::CONNECT, "http://h:443/", &none, None, None);
    let msg = refuse(Method::GET, "/no/host", &none, None, None);
    assert!(msg.contains("host"), "{msg}");
    let mut te = HeaderMap::new();
    te.insert("transfer-encoding", HeaderValue::from_static("chunked"));
    refuse(Method::POST, "http://h/", &te, Some(3), None);
    let mut hosts = HeaderMap::new();
    hosts.append("host", HeaderValue::from_static("a"));
    hosts.append("host", HeaderValue::from_static("b"));
    refuse(Method::GET, "http://h/", &hosts, None, None);
}

#[test]
fn extension_methods_are_sent_verbatim() {
    let method = Method::from_bytes(b"PURGE").unwrap();
    let head = encode(method, "http://h/x", &HeaderMap::new(), None, None);
    assert!(head.starts_with("PURGE /x HTTP/1.1\r\n"), "{head}");
}
