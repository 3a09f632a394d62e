//! Name decompression (RFC 1035 §4.1.4): reading a possibly compressed name out of a message.
//!
//! A name on the wire is a run of labels that may end in a 2-byte pointer to a later part of an earlier
//! name. Hostile messages use pointers to build loops, forward references and over-long names. The rule
//! here makes loops impossible rather than merely bounded: each pointer must point strictly before the
//! start of the name *segment* it was found in, so the segment start decreases at every jump and the
//! walk must end. Real servers only ever point back at earlier names, which always satisfies this.
//! The decompressed name must still respect the 255-octet limit; label types `01` and `10` (obsolete
//! extensions) are rejected.

use super::name::{Name, MAX_NAME_LEN};
use super::query::WireError;

/// Decodes the possibly compressed name starting at `start` in `msg`. Returns the name and the offset
/// just past it in the original byte stream (after the first pointer, if any).
pub(crate) fn decode_name(msg: &[u8], start: usize) -> Result<(Name, usize), WireError> {
    // The name is gathered in wire form on the stack and copied out once: no `Vec` grows here.
    let mut wire = [0u8; MAX_NAME_LEN];
    let mut wire_len = 1; // the root label's zero byte, written last
    let mut pos = start;
    // Pointers must land before this; it drops at every jump, which is what rules out loops.
    let mut segment_start = start;
    let mut end_in_stream = None;
    loop {
        let len_byte = *msg.get(pos).ok_or(WireError::Truncated {
            what: "name",
            offset: start,
        })?;
        match len_byte >> 6 {
            0b00 if len_byte == 0 => {
                let end = end_in_stream.unwrap_or(pos + 1);
                let used = wire_len - 1;
                wire[used] = 0;
                return Ok((Name::from_checked_wire(&wire[..wire_len]), end));
            }
            0b00 => {
                let len = usize::from(len_byte);
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(WireError::Truncated {
                        what: "name",
                        offset: start,
                    })?;
                let at = wire_len - 1;
                wire_len += 1 + len;
                if wire_len > MAX_NAME_LEN {
                    return Err(WireError::NameTooLong { offset: start });
                }
                wire[at] = len_byte;
                wire[at + 1..at + 1 + len].copy_from_slice(label);
                pos += 1 + len;
            }
            0b11 => {
                let low = *msg.get(pos + 1).ok_or(WireError::Truncated {
                    what: "name",
                    offset: start,
                })?;
                let target = usize::from(len_byte & 0x3f) << 8 | usize::from(low);
                if target >= segment_start {
                    return Err(WireError::BadPointer {
                        offset: pos,
                        target,
                    });
                }
                end_in_stream.get_or_insert(pos + 2);
                pos = target;
                segment_start = target;
            }
            _ => return Err(WireError::BadLabelType { offset: pos }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testmsg::{name, ptr};

    fn n(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn decodes_plain_and_compressed_names() {
        // offset 0: "example.com"; offset 13: "www" + pointer to 0; offset 19: pointer to 13.
        let mut msg = name("example.com");
        msg.extend([3, b'w', b'w', b'w']);
        msg.extend(ptr(0));
        msg.extend(ptr(13));
        assert_eq!(decode_name(&msg, 0), Ok((n("example.com"), 13)));
        assert_eq!(
            decode_name(&msg, 13),
            Ok((n("www.example.com"), 19)),
            "ends after the first pointer"
        );
        assert_eq!(
            decode_name(&msg, 19),
            Ok((n("www.example.com"), 21)),
            "pointer to a pointer"
        );
    }

    #[test]
    fn decoded_names_are_lowercased() {
        let msg = [3, b'W', b'w', b'W', 3, b'C', b'O', b'M', 0];
        assert_eq!(decode_name(&msg, 0).unwrap().0, n("www.com"));
    }

    #[test]
    fn rejects_pointer_loops_and_forward_pointers() {
        // A pointer to itself.
        assert_eq!(
            decode_name(&ptr(0), 0),
            Err(WireError::BadPointer {
                offset: 0,
                target: 0
            })
        );
        // A label, then a pointer back to that label: strictly backwards, yet a loop.
        let msg = [[1, b'a'].as_slice(), &ptr(0)].concat();
        assert_eq!(
            decode_name(&msg, 0),
            Err(WireError::BadPointer {
                offset: 2,
                target: 0
            })
        );
        // Two pointers pointing at each other.
        let msg = [ptr(2), ptr(0)].concat();
        assert!(matches!(
            decode_name(&msg, 2),
            Err(WireError::BadPointer { .. })
        ));
        assert!(matches!(
            decode_name(&msg, 0),
            Err(WireError::BadPointer { .. })
        ));
        // A forward pointer.
        let msg = [ptr(2), name("a")].concat();
        assert_eq!(
            decode_name(&msg, 0),
            Err(WireError::BadPointer {
                offset: 0,
                target: 2
            })
        );
    }

    #[test]
    fn rejects_reserved_label_types() {
        assert_eq!(
            decode_name(&[0x40, 0], 0),
            Err(WireError::BadLabelType { offset: 0 })
        );
        assert_eq!(
            decode_name(&[1, b'a', 0x80, 0], 0),
            Err(WireError::BadLabelType { offset: 2 })
        );
    }

    #[test]
    fn rejects_truncated_names() {
        for msg in [&[][..], &[3, b'a', b'b'], &[1, b'a'], &[0xc0]] {
            assert!(
                matches!(decode_name(msg, 0), Err(WireError::Truncated { .. })),
                "{msg:?}"
            );
        }
    }

    #[test]
    fn rejects_names_over_255_octets_even_via_pointers() {
        // A compressed chain of 63-octet labels (64 wire octets each):
        // offset 0: L63 + root; 65: L63 + ptr(0); 131: L63 + ptr(65); 197: L63 + ptr(131); 263: L61 + ptr(131).
        let label = |len: usize| [[len as u8].as_slice(), &vec![b'x'; len]].concat();
        let mut msg = [label(63), vec![0]].concat();
        for prev in [0u16, 65, 131] {
            msg.extend(label(63));
            msg.extend(ptr(prev));
        }
        msg.extend(label(61));
        msg.extend(ptr(131));
        assert_eq!(decode_name(&msg, 131).unwrap().0.as_wire().len(), 193);
        assert_eq!(
            decode_name(&msg, 197),
            Err(WireError::NameTooLong { offset: 197 }),
            "4 x 64 + 1 = 257"
        );
        assert_eq!(
            decode_name(&msg, 263).unwrap().0.as_wire().len(),
            255,
            "62 + 193 = 255 is the limit"
        );
    }
}
