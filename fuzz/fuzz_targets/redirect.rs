//! Redirect-reference resolution: a base URL and a `Location` value, resolved (RFC 3986 §5.2) and
//! checked as the client does before following a redirect (`__fuzz::resolve_location`, a hidden hook:
//! the resolver itself is not public API).
//!
//! Input: the base URL, a newline, the `Location` bytes (taken as lossy UTF-8, as the client does).
//! Checked: no panic; a followed redirect is an http(s) URL with a host, no space or control byte,
//! no dot segment left in its path, and passes the caller-URL checks unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spool_client::IntoUrl;

fuzz_target!(|data: &[u8]| {
    let nl = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(base) = std::str::from_utf8(&data[..nl]) else {
        return;
    };
    // Without a valid base, fall back to a fixed one so every input exercises resolution.
    let base = base
        .into_url()
        .unwrap_or_else(|_| http::Uri::from_static("http://a.test/b/c/d;p?q"));
    let location = String::from_utf8_lossy(data.get(nl + 1..).unwrap_or_default());
    let Ok(next) = spool_client::__fuzz::resolve_location(&base, &location) else {
        return;
    };
    let scheme = next.scheme_str().expect("a resolved URL has a scheme");
    assert!(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"));
    assert!(
        next.host().is_some_and(|h| !h.is_empty()),
        "no host: {next}"
    );
    let text = next.to_string();
    assert!(
        !text.bytes().any(|b| b <= b' ' || b == 0x7f),
        "space or control byte in a followed redirect: {text:?}"
    );
    // RFC 3986 §5.2.2 keeps the base path as it is for a reference with an empty path, so only a
    // base without dot segments promises a result without them.
    if !has_dot_segment(base.path()) {
        assert!(
            !has_dot_segment(next.path()),
            "dot segment left in {text:?}"
        );
    }
    let again = text
        .as_str()
        .into_url()
        .expect("a followed redirect passes the URL checks");
    assert_eq!(again, next);
});

fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|s| s == "." || s == "..")
}
