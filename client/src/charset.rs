//! Turning body bytes into text for [`Response::text`](crate::Response::text): the charset comes
//! from `Content-Type` (default UTF-8), and undecodable bytes become U+FFFD instead of an error.
//!
//! Labels follow the WHATWG Encoding Standard, as browsers and reqwest do: `iso-8859-1`, `latin1`
//! and `us-ascii` all mean windows-1252 (which differs from ISO-8859-1 only in 0x80–0x9F, where it
//! has `€`, `‘`, `’` and friends instead of invisible C1 controls). A byte-order mark overrides the
//! label. Unknown labels fall back to UTF-8.

use http::HeaderValue;

/// The encodings this client decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Windows1252,
    Utf16Le,
    Utf16Be,
}

/// Decodes `bytes` as text in the charset `content_type` names.
pub(crate) fn decode(bytes: &[u8], content_type: Option<&HeaderValue>) -> String {
    let (encoding, body) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (Encoding::Utf8, rest),
        [0xFF, 0xFE, rest @ ..] => (Encoding::Utf16Le, rest),
        [0xFE, 0xFF, rest @ ..] => (Encoding::Utf16Be, rest),
        _ => (
            content_type
                .and_then(|v| charset_label(v.as_bytes()))
                .map_or(Encoding::Utf8, encoding_for),
            bytes,
        ),
    };
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(body).into_owned(),
        Encoding::Windows1252 => body.iter().map(|&b| windows_1252(b)).collect(),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let units = body.chunks(2).map(|pair| match (pair, encoding) {
                ([a, b], Encoding::Utf16Le) => u16::from_le_bytes([*a, *b]),
                ([a, b], _) => u16::from_be_bytes([*a, *b]),
                // An odd trailing byte cannot be a code unit.
                _ => 0xFFFD,
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
    }
}

/// The `charset` parameter of a `Content-Type` value, lower-cased, quotes removed.
fn charset_label(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    text.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches('"').trim();
        Some(value.to_ascii_lowercase())
    })
}

fn encoding_for(label: String) -> Encoding {
    match label.as_str() {
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "l1" | "us-ascii" | "ascii"
        | "windows-1252" | "cp1252" | "x-cp1252" | "cp819" | "ibm819" | "iso-ir-100" => {
            Encoding::Windows1252
        }
        "utf-16le" | "utf-16" => Encoding::Utf16Le,
        "utf-16be" => Encoding::Utf16Be,
        _ => Encoding::Utf8,
    }
}

/// One windows-1252 byte as a character (the five undefined bytes map to the C1 control of the same
/// number, as the WHATWG index does).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
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
}
