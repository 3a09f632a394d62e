//! Turning body bytes into text for [`Response::text`](crate::Response::text): the charset comes
//! from `Content-Type` (default UTF-8), and undecodable bytes become U+FFFD instead of an error.
//!
//! The decoding itself is `encoding_rs` (Firefox's, and reqwest's): every label of the WHATWG
//! Encoding Standard, as browsers read them. So `iso-8859-1`, `latin1` and `us-ascii` all mean
//! windows-1252 (which differs from ISO-8859-1 only in 0x80–0x9F, where it has `€`, `‘`, `’` and
//! friends instead of invisible C1 controls), and `shift_jis`, `gbk` or `koi8-r` decode as such. A
//! byte-order mark overrides the label. Unknown labels fall back to UTF-8.

use encoding_rs::{Encoding, UTF_8};
use http::HeaderValue;

/// Decodes `bytes` as text in the charset `content_type` names.
pub(crate) fn decode(bytes: &[u8], content_type: Option<&HeaderValue>) -> String {
    let encoding = content_type
        .and_then(|v| charset_label(v.as_bytes()))
        .and_then(Encoding::for_label)
        .unwrap_or(UTF_8);
    // `decode` sniffs a byte-order mark first and replaces malformed sequences with U+FFFD.
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// The `charset` parameter of a `Content-Type` value, quotes removed (`for_label` ignores case
/// and surrounding spaces).
fn charset_label(value: &[u8]) -> Option<&[u8]> {
    let text = std::str::from_utf8(value).ok()?;
    text.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Some(value.trim().trim_matches('"').as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(s: &'static str) -> HeaderValue {
        HeaderValue::from_static(s)
    }

    #[test]
    fn utf8_by_default_with_replacement() {
        assert_eq!(decode("héllo".as_bytes(), None), "héllo");
        assert_eq!(decode(b"a\xffb", None), "a\u{FFFD}b");
        assert_eq!(decode(b"a\xffb", Some(&ct("text/plain"))), "a\u{FFFD}b");
        assert_eq!(
            decode(b"\xEF\xBB\xBFbom", Some(&ct("text/plain; charset=latin1"))),
            "bom"
        );
    }

    #[test]
    fn latin1_family() {
        for label in [
            "text/html; charset=ISO-8859-1",
            "text/html;charset=\"latin1\"",
            "text/plain; format=flowed; charset=us-ascii",
            "text/plain; charset=windows-1252",
        ] {
            let value = HeaderValue::from_str(label).unwrap();
            assert_eq!(decode(b"caf\xe9 \x80", Some(&value)), "café €", "{label}");
        }
    }

    #[test]
    fn utf16_and_unknown_labels() {
        assert_eq!(decode(b"\xFF\xFEh\0i\0", None), "hi");
        assert_eq!(
            decode(b"\0h\0i", Some(&ct("text/plain; charset=utf-16be"))),
            "hi"
        );
        assert_eq!(
            decode(b"ok", Some(&ct("text/plain; charset=klingon"))),
            "ok"
        );
    }

    #[test]
    fn labels_beyond_latin1_decode_as_browsers_do() {
        // "日本" in Shift_JIS, "中文" in GBK, "привет" in KOI8-R, "łódź" in ISO-8859-2.
        for (label, bytes, text) in [
            ("shift_jis", &b"\x93\xfa\x96\x7b"[..], "日本"),
            ("GBK", &b"\xd6\xd0\xce\xc4"[..], "中文"),
            ("koi8-r", &b"\xd0\xd2\xc9\xd7\xc5\xd4"[..], "привет"),
            ("iso-8859-2", &b"\xb3\xf3d\xbc"[..], "łódź"),
        ] {
            let value = HeaderValue::from_str(&format!("text/html; charset={label}")).unwrap();
            assert_eq!(decode(bytes, Some(&value)), text, "{label}");
        }
    }
}
