//! URL checks through the public API (`IntoUrl` for `&str` and for an `http::Uri`).
//!
//! Checked: no panic; an accepted URL has scheme http or https and a non-empty host, contains no
//! space or control byte (it could split the request line), and is a fixed point: its text parses
//! again to the same URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spool_client::IntoUrl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = text.into_url() {
        check_accepted(&uri);
        let again = uri
            .to_string()
            .into_url()
            .expect("an accepted URL's text is accepted again");
        assert_eq!(again, uri, "re-parsing changed the URL");
    }
    // The same text through `http::Uri`'s own parser, then the checks for callers passing a Uri.
    if let Ok(uri) = text.parse::<http::Uri>() {
        if let Ok(checked) = uri.into_url() {
            check_accepted(&checked);
        }
    }
});

fn check_accepted(uri: &http::Uri) {
    let scheme = uri.scheme_str().expect("an accepted URL has a scheme");
    assert!(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"));
    let host = uri.host().expect("an accepted URL has a host");
    assert!(
        !host.is_empty() && host != "[]",
        "empty host accepted: {uri}"
    );
    let text = uri.to_string();
    assert!(
        !text.bytes().any(|b| b <= b' ' || b == 0x7f),
        "space or control byte in an accepted URL: {text:?}"
    );
}
