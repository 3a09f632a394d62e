//! Domain names: the one value type every other DNS file speaks.
//!
//! A [`Name`] holds a name in uncompressed wire form (length-prefixed labels ending with the zero-length
//! root label), with ASCII letters folded to lowercase when it is built. Folding once at construction is
//! what makes every comparison in the resolver case-insensitive (RFC 4343) for free: `==`, hashing and
//! cache keys all see the same bytes whether a server wrote `Example.COM` or `example.com`.
//!
//! Names enter in two ways: from text a user typed ([`Name::from_ascii`], strict: letters, digits, `-`
//! and `_`) and from a response on the wire (`compression::decode_name`, which accepts any label bytes, because
//! a CNAME target is whatever the server says it is). Both enforce RFC 1035's limits: a label is at
//! most 63 octets and the whole wire form at most 255.

use std::fmt;

/// The longest a label may be, in octets (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// The longest a name may be in wire form, counting length octets and the root label (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// A domain name, stored lowercase in uncompressed wire form.
///
/// ```
/// use spool_dns::Name;
///
/// let name = Name::from_ascii("WWW.Example.com.").unwrap();
/// assert_eq!(name.to_string(), "www.example.com.");
/// assert_eq!(name, Name::from_ascii("www.example.COM").unwrap());
/// assert_eq!(name.label_count(), 3);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name {
    /// Invariant: a sequence of `len, bytes...` labels, each 1..=63 long, lowercase ASCII letters,
    /// ending with a single 0 byte, total length <= 255. Every constructor checks it.
    wire: Vec<u8>,
}

/// Why a piece of text is not a usable host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The text was empty.
    Empty,
    /// Two dots in a row, or a leading dot: DNS labels cannot be empty.
    EmptyLabel,
    /// A label longer than 63 octets.
    LabelTooLong {
        /// The offending label's length.
        len: usize,
    },
    /// The name is longer than 255 octets in wire form.
    TooLong {
        /// The wire length it would have had.
        len: usize,
    },
    /// A character outside letters, digits, `-` and `_`.
    InvalidChar(char),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "host name is empty"),
            NameError::EmptyLabel => {
                write!(f, "host name has an empty label (leading or doubled dot)")
            }
            NameError::LabelTooLong { len } => {
                write!(
                    f,
                    "host name label is {len} octets long, the limit is {MAX_LABEL_LEN}"
                )
            }
            NameError::TooLong { len } => {
                write!(
                    f,
                    "host name is {len} octets in wire form, the limit is {MAX_NAME_LEN}"
                )
            }
            NameError::InvalidChar(c) => write!(f, "host name contains invalid character {c:?}"),
        }
    }
}

impl std::error::Error for NameError {}

/// Characters accepted in typed host names: LDH (RFC 1123) plus `_`, which real internal hosts use.
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl Name {
    /// The root name `.` (wire form: a single zero byte).
    pub fn root() -> Name {
        Name { wire: vec![0] }
    }

    /// Parses a host name as typed, e.g. `example.com` or `example.com.`.
    ///
    /// A single trailing dot is allowed and ignored here (whether the name is absolute matters only for
    /// the search list, which looks at the text itself); `.` alone is the root.
    pub fn from_ascii(text: &str) -> Result<Name, NameError> {
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        if text == "." {
            return Ok(Name::root());
        }
        let body = text.strip_suffix('.').unwrap_or(text);
        let mut wire = Vec::with_capacity(body.len() + 2);
        for label in body.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if let Some(c) = label.chars().find(|c| !is_host_char(*c)) {
                return Err(NameError::InvalidChar(c));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong { len: label.len() });
            }
            wire.push(label.len() as u8);
            wire.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
        }
        wire.push(0);
        if wire.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong { len: wire.len() });
        }
        Ok(Name { wire })
    }

    /// A name from its complete wire form (labels and the root's zero byte), already checked for
    /// label and name lengths; lower-cased in the one copy.
    pub(crate) fn from_checked_wire(wire: &[u8]) -> Name {
        debug_assert!(wire.len() <= MAX_NAME_LEN && wire.last() == Some(&0));
        Name {
            wire: wire.iter().map(u8::to_ascii_lowercase).collect(),
        }
    }

    /// The uncompressed wire form, ready to copy into a question.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire
    }

    /// The labels from left to right, without length octets; the root label is not included.
    pub fn labels(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let len = usize::from(self.wire[pos]);
            if len == 0 {
                return None;
            }
            let label = &self.wire[pos + 1..pos + 1 + len];
            pos += 1 + len;
            Some(label)
        })
    }

    /// How many labels the name has (`example.com` has 2, the root 0).
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Whether this is the root name `.`.
    pub fn is_root(&self) -> bool {
        self.wire.len() == 1
    }

    /// Appends `suffix` (a search domain) to this name: `www` + `example.com` = `www.example.com`.
    pub fn join(&self, suffix: &Name) -> Result<Name, NameError> {
        let len = self.wire.len() - 1 + suffix.wire.len();
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong { len });
        }
        let mut wire = Vec::with_capacity(len);
        wire.extend_from_slice(&self.wire[..self.wire.len() - 1]);
        wire.extend_from_slice(&suffix.wire);
        Ok(Name { wire })
    }

    /// Whether this name equals `zone` or lies below it, label-wise (`a.example.com` is in `example.com`,
    /// `badexample.com` is not). Used to accept only SOA records that can speak for the queried name.
    pub fn is_in(&self, zone: &Name) -> bool {
        let mine: Vec<&[u8]> = self.labels().collect();
        let theirs: Vec<&[u8]> = zone.labels().collect();
        theirs.len() <= mine.len() && mine[mine.len() - theirs.len()..] == theirs[..]
    }
}

impl fmt::Display for Name {
    /// Presentation form with a trailing dot; bytes outside `[a-z0-9_-]` (possible only in names read
    /// from the wire) are written as `\DDD` so the output is unambiguous.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &b in label {
                if is_host_char(char::from(b)) {
                    write!(f, "{}", char::from(b))?;
                } else {
                    write!(f, "\\{b:03}")?;
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_lowercases() {
        let n = Name::from_ascii("WwW.ExAmple.Com").unwrap();
        assert_eq!(n.as_wire(), b"\x03www\x07example\x03com\x00");
        assert_eq!(n.to_string(), "www.example.com.");
        assert_eq!(n, Name::from_ascii("www.example.com.").unwrap());
    }

    #[test]
    fn root_and_single_label() {
        assert!(Name::from_ascii(".").unwrap().is_root());
        assert_eq!(Name::root().to_string(), ".");
        assert_eq!(Name::from_ascii("intranet").unwrap().label_count(), 1);
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(Name::from_ascii(""), Err(NameError::Empty));
        assert_eq!(Name::from_ascii("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(Name::from_ascii(".a"), Err(NameError::EmptyLabel));
        assert_eq!(Name::from_ascii("a.."), Err(NameError::EmptyLabel));
        assert_eq!(Name::from_ascii("a b"), Err(NameError::InvalidChar(' ')));
        assert_eq!(
            Name::from_ascii("ex\u{e9}.com"),
            Err(NameError::InvalidChar('\u{e9}'))
        );
        assert_eq!(
            Name::from_ascii(&"a".repeat(64)),
            Err(NameError::LabelTooLong { len: 64 })
        );
        assert!(Name::from_ascii(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn length_limit_is_exactly_255() {
        // 4 labels of 62 = 4 * 63 = 252 octets, + a 1-char label (2) + root (1) = 255: allowed.
        let l62 = "a".repeat(62);
        let ok = format!("{l62}.{l62}.{l62}.{l62}.b");
        assert_eq!(Name::from_ascii(&ok).unwrap().as_wire().len(), 255);
        let too_long = format!("{l62}.{l62}.{l62}.{l62}.bc");
        assert_eq!(
            Name::from_ascii(&too_long),
            Err(NameError::TooLong { len: 256 })
        );
    }

    #[test]
    fn join_appends_and_checks_length() {
        let www = Name::from_ascii("www").unwrap();
        let zone = Name::from_ascii("Example.com").unwrap();
        assert_eq!(
            www.join(&zone).unwrap(),
            Name::from_ascii("www.example.com").unwrap()
        );
        let long = Name::from_ascii(&vec!["a".repeat(63); 3].join(".")).unwrap();
        assert!(matches!(long.join(&long), Err(NameError::TooLong { .. })));
    }

    #[test]
    fn zone_membership_is_label_wise() {
        let zone = Name::from_ascii("example.com").unwrap();
        assert!(Name::from_ascii("a.b.example.com").unwrap().is_in(&zone));
        assert!(zone.is_in(&zone));
        assert!(zone.is_in(&Name::root()));
        assert!(!Name::from_ascii("badexample.com").unwrap().is_in(&zone));
        assert!(!Name::from_ascii("com").unwrap().is_in(&zone));
    }

    #[test]
    fn display_escapes_wire_bytes() {
        let n = Name::from_checked_wire(b"\x03a.b\x02C\x00\x00");
        assert_eq!(n.to_string(), "a\\046b.c\\000.");
    }
}
