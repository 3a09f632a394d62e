//! Credentials in a URL (`http://user:pass@host/`) become an `Authorization: Basic` header
//! (RFC 7617), as curl and reqwest do; they are never sent as part of the URL.

use http::{HeaderValue, Uri};

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
    let mut plain = percent_decode(user);
    plain.push(b':');
    plain.extend(percent_decode(password));
    let mut value = b"Basic ".to_vec();
    base64(&plain, &mut value);
    HeaderValue::from_bytes(&value).ok()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(input: &[u8], out: &mut Vec<u8>) {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for group in input.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let sextet = |shift: u32| TABLE[((n >> shift) & 63) as usize];
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if group.len() > 1 { sextet(6) } else { b'=' });
        out.push(if group.len() > 2 { sextet(0) } else { b'=' });
    }
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
            let mut out = Vec::new();
            base64(plain.as_bytes(), &mut out);
            assert_eq!(out, encoded.as_bytes(), "{plain:?}");
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
