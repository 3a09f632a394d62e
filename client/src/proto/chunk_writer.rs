//! [`ChunkWriter`]: the framing of a chunked request body (RFC 9112 §7.1), as the bytes to write
//! before each piece of data and at the end. It never sees the data itself, so the driver can
//! write each piece straight from its own buffer, framing and data in one vectored write.

/// Frames a request body of unknown length, announced by
/// [`BodyLen::Chunked`](super::BodyLen::Chunked), as one chunk per piece the driver has.
///
/// Each chunk is `size-in-hex CRLF data CRLF`. The writer puts a chunk's closing CRLF in front of
/// the next chunk's size line (or the end), so each piece needs one prefix and nothing after it.
/// The body ends with the last chunk `0 CRLF` and an empty trailer section `CRLF`.
///
/// ```
/// use spool_client::proto::ChunkWriter;
/// let mut chunks = ChunkWriter::new();
/// let mut wire = Vec::new();
/// for piece in [&b"hello"[..], b"", b", world"] {
///     chunks.prefix(piece.len(), &mut wire);
///     wire.extend_from_slice(piece);
/// }
/// chunks.finish(&mut wire);
/// assert_eq!(wire, b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
/// ```
#[derive(Debug, Default)]
pub struct ChunkWriter {
    /// A chunk was started, so its closing CRLF is still owed.
    open: bool,
}

impl ChunkWriter {
    /// A writer for a body that has not started.
    pub fn new() -> ChunkWriter {
        ChunkWriter::default()
    }

    /// Appends to `dst` what goes before `len` data bytes: the end of the previous chunk, if any,
    /// and this chunk's size line. A `len` of 0 appends nothing (a chunk of size 0 would end the
    /// body), so an empty read can be passed through as it is.
    pub fn prefix(&mut self, len: usize, dst: &mut Vec<u8>) {
        if len == 0 {
            return;
        }
        self.close_chunk(dst);
        write_hex(len as u64, dst);
        dst.extend_from_slice(b"\r\n");
        self.open = true;
    }

    /// Appends the end of the body: the end of the previous chunk, if any, the last chunk and
    /// the empty trailer section. Nothing may be written after it.
    pub fn finish(&mut self, dst: &mut Vec<u8>) {
        self.close_chunk(dst);
        dst.extend_from_slice(b"0\r\n\r\n");
    }

    fn close_chunk(&mut self, dst: &mut Vec<u8>) {
        if std::mem::take(&mut self.open) {
            dst.extend_from_slice(b"\r\n");
        }
    }
}

/// `n` in lower-case hexadecimal, without leading zeros (RFC 9112 §7.1: `chunk-size = 1*HEXDIG`).
fn write_hex(n: u64, dst: &mut Vec<u8>) {
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        dst.push(b"0123456789abcdef"[(n >> (shift * 4)) as usize & 0xf]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_hex_without_leading_zeros() {
        for (n, want) in [
            (1u64, "1"),
            (15, "f"),
            (16, "10"),
            (65_536, "10000"),
            (u64::MAX, "ffffffffffffffff"),
        ] {
            let mut out = Vec::new();
            write_hex(n, &mut out);
            assert_eq!(out, want.as_bytes(), "{n}");
        }
    }

    #[test]
    fn an_empty_body_is_only_the_last_chunk() {
        let mut out = Vec::new();
        let mut chunks = ChunkWriter::new();
        chunks.prefix(0, &mut out);
        chunks.finish(&mut out);
        assert_eq!(out, b"0\r\n\r\n");
    }
}
