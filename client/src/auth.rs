//! Credentials in a URL (`http://user:pass@host/`) become an `Authorization: Basic` header
//! (RFC 7617), as curl and reqwest do; they are never sent as part of the URL.
//!
//! Both steps use well-kept crates (`percent-encoding`, `base64`) rather than hand-written code:
//! this runs only for URLs with user info, so speed is no reason to keep a copy of our own.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{HeaderValue, Uri};
use percent_encoding::percent_decode_str;

/// The `Authorization` value for the URL's user info, if it has any.
///
/// User name and password are percent-decoded first (`%40` is `@`), then `user:password` is
/// base64-encoded.
pub(crate) fn basic_from_url(uri: &Uri) -> Option<HeaderValue> {
    let authority = uri.authority()?.as_str();
    // Byte search: this runs for every request, and almost never finds anything.
    let at = authority.bytes().rposition(|b| b == b'@')?;
    let userinfo = &authority[..at];
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let mut plain: Vec<u8> = percent_decode_str(user).collect();
    plain.push(b':');
    plain.extend(percent_decode_str(password));
    let value = format!("Basic {}", STANDARD.encode(plain));
    let mut value = HeaderValue::from_str(&value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors_from_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(STANDARD.encode(plain), encoded, "{plain:?}");
        }
    }

    #[test]
    fn credentials_from_urls() {
        let uri: Uri = "http://Aladdin:open%20sesame@h/".parse().unwrap();
        assert_eq!(
            basic_from_url(&uri).unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        let uri: Uri = "http://user@h/".parse().unwrap();
        assert_eq!(basic_from_url(&uri).unwrap(), "Basic dXNlcjo=");
        let uri: Uri = "http://h/".parse().unwrap();
        assert!(basic_from_url(&uri).is_none());
    }
}
