//! The shared grammar of HTTP/1.1 fields (RFC 9110 §5.6): tokens, comma lists, optional whitespace,
//! and the one way a `Content-Length` number is read. Request encoding, head parsing and body framing
//! all use these, so a rule is written once.

/// Parses one Content-Length number: 1 to 19 ASCII digits (so it always fits a `u64`), nothing else — no
/// sign, no spaces, no hex.
pub(crate) fn parse_content_length_value(digits: &[u8]) -> Result<u64, &'static str> {
    if digits.is_empty() {
        return Err("is empty");
    }
    if digits.len() > 19 {
        return Err("has more than 19 digits");
    }
    let mut n: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err("is not a decimal number");
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Ok(n)
}

/// Whether a comma-separated header value lists `token`, ignoring case and surrounding whitespace.
pub(crate) fn has_token(value: &[u8], token: &str) -> bool {
    list_elements(value).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// The non-empty, trimmed elements of a comma list (RFC 9110 §5.6.1: empty elements are ignored).
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|e| !e.is_empty())
}

/// Strips optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whether `b` may appear in a token (RFC 9110 §5.6.2): a table lookup, since request encoding checks
/// every header-name byte.
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length_value(b"0"), Ok(0));
        assert_eq!(parse_content_length_value(b"007"), Ok(7));
        assert_eq!(
            parse_content_length_value(b"9999999999999999999"),
            Ok(9_999_999_999_999_999_999)
        );
        for bad in [
            &b""[..],
            b"+5",
            b"-5",
            b"5 5",
            b"0x5",
            b"5.0",
            b"10000000000000000000",
        ] {
            assert!(parse_content_length_value(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_in_lists() {
        assert!(has_token(b"keep-alive, Close", "close"));
        assert!(has_token(b" ,close ,", "close"));
        assert!(!has_token(b"closed", "close"));
        assert!(!has_token(b"", "close"));
    }

    #[test]
    fn token_chars() {
        let tchars: Vec<u8> = (0..=255u8).filter(|&b| is_tchar(b)).collect();
        assert_eq!(tchars.len(), 62 + 15);
        for b in b"\"(),/:;<=>?@[\\]{} \t\r\n\x7f" {
            assert!(!is_tchar(*b), "{b}");
        }
    }

    #[test]
    fn trimming() {
        assert_eq!(trim(b" \t5 \t"), b"5");
        assert_eq!(trim(b"   "), b"");
        assert_eq!(trim(b"a b"), b"a b");
    }
}
