//! TCP framing for DNS (RFC 1035 §4.2.2, RFC 7766): over TCP every message is preceded by its length as
//! a 2-byte big-endian integer. The resolver falls back to TCP when a UDP answer has TC set; these two
//! helpers are all it needs to write a query and to cut a response out of whatever bytes have arrived.

use super::query::WireError;

/// Prefixes `msg` with its 2-byte length for sending over TCP.
///
/// ```
/// use spool_dns::wire::encode_tcp_frame;
///
/// assert_eq!(encode_tcp_frame(b"abc").unwrap(), b"\x00\x03abc");
/// ```
pub fn encode_tcp_frame(msg: &[u8]) -> Result<Vec<u8>, WireError> {
    let len = u16::try_from(msg.len()).map_err(|_| WireError::TooLongForTcp { len: msg.len() })?;
    let mut out = Vec::with_capacity(2 + msg.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    Ok(out)
}

/// Splits one complete message off the front of `buf`, returning it and the bytes after it, or `None`
/// while the length prefix or the message is still incomplete (read more and call again).
///
/// ```
/// use spool_dns::wire::split_tcp_frame;
///
/// assert_eq!(split_tcp_frame(b"\x00\x02hi, rest"), Some((&b"hi"[..], &b", rest"[..])));
/// assert_eq!(split_tcp_frame(b"\x00\x05hi"), None);
/// ```
pub fn split_tcp_frame(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let prefix = buf.get(..2)?;
    let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
    let msg = buf.get(2..2 + len)?;
    Some((msg, &buf[2 + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let msg: Vec<u8> = (0..=255).collect();
        let framed = encode_tcp_frame(&msg).unwrap();
        assert_eq!(&framed[..2], &[1, 0]);
        assert_eq!(split_tcp_frame(&framed), Some((&msg[..], &[][..])));
    }

    #[test]
    fn incomplete_frames_wait_for_more() {
        assert_eq!(split_tcp_frame(b""), None);
        assert_eq!(split_tcp_frame(b"\x00"), None);
        assert_eq!(split_tcp_frame(b"\x01\x00abc"), None);
        assert_eq!(split_tcp_frame(b"\x00\x00"), Some((&b""[..], &b""[..])));
    }

    #[test]
    fn two_frames_back_to_back() {
        let (first, rest) = split_tcp_frame(b"\x00\x01a\x00\x02bc").unwrap();
        assert_eq!(first, b"a");
        assert_eq!(split_tcp_frame(rest), Some((&b"bc"[..], &b""[..])));
    }

    #[test]
    fn refuses_oversized_messages() {
        assert!(encode_tcp_frame(&vec![0; 65_535]).is_ok());
        assert_eq!(
            encode_tcp_frame(&vec![0; 65_536]),
            Err(WireError::TooLongForTcp { len: 65_536 })
        );
    }
}
