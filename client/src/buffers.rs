//! Per-thread free lists of read and write buffers, so that a keep-alive request allocates no
//! buffer and an idle pooled connection holds none.
//!
//! A connection takes a write buffer to encode its request and gives it back as soon as the request
//! is written; it takes a read buffer only once its socket is readable and gives back what is left
//! of it when the response is complete. The lists are bounded (count and bytes): at most 1 MiB of
//! read buffers and 32 write buffers of at most 32 KiB.
//!
//! Read buffers are `BytesMut` whose bytes are all initialized (zeroed once, when first allocated):
//! safe Rust can only read into initialized memory, and reusing a buffer avoids zeroing it again.
//! Body chunks are split off the front as `Bytes` (no copy); what is left at the back is the next
//! read's space, and goes back to the list.

use std::cell::RefCell;

use bytes::BytesMut;

/// A read buffer below this size is not worth keeping: the next read would be short.
pub(crate) const MIN_READ: usize = 2 * 1024;
/// The first read buffer of a connection.
pub(crate) const DEFAULT_READ: usize = 8 * 1024;
/// Reads that keep filling the buffer double its size up to this.
pub(crate) const MAX_READ: usize = 256 * 1024;

/// How many buffers of each kind a thread keeps.
const MAX_KEPT: usize = 32;
/// How many bytes of read buffers a thread keeps in all.
const MAX_KEPT_READ_BYTES: usize = 1024 * 1024;
/// Larger write buffers (a big request body was copied in) are freed, not kept.
const MAX_KEPT_WRITE: usize = 32 * 1024;

struct FreeLists {
    reads: Vec<BytesMut>,
    /// Sum of `reads[i].len()`.
    read_bytes: usize,
    writes: Vec<Vec<u8>>,
}

thread_local! {
    static FREE: RefCell<FreeLists> = const {
        RefCell::new(FreeLists {
            reads: Vec::new(),
            read_bytes: 0,
            writes: Vec::new(),
        })
    };
}

/// A read buffer of at least `min` initialized bytes, reused when one is free.
pub(crate) fn take_read(min: usize, size: usize) -> BytesMut {
    let reused = FREE
        .try_with(|f| {
            let mut f = f.borrow_mut();
            match f.reads.last() {
                Some(b) if b.len() >= min => {
                    let b = f.reads.pop()?;
                    f.read_bytes -= b.len();
                    Some(b)
                }
                _ => None,
            }
        })
        .ok()
        .flatten();
    reused.unwrap_or_else(|| BytesMut::zeroed(size.max(min)))
}

/// Keeps the rest of a read buffer for the next connection that needs one.
pub(crate) fn give_read(buf: BytesMut) {
    if buf.len() < MIN_READ || buf.len() > MAX_READ {
        return;
    }
    let _ = FREE.try_with(|f| {
        let mut f = f.borrow_mut();
        if f.reads.len() < MAX_KEPT && f.read_bytes + buf.len() <= MAX_KEPT_READ_BYTES {
            f.read_bytes += buf.len();
            f.reads.push(buf);
        }
    });
}

/// An empty write buffer, reused when one is free.
pub(crate) fn take_write() -> Vec<u8> {
    FREE.try_with(|f| f.borrow_mut().writes.pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Returns a write buffer once its bytes are written.
pub(crate) fn give_write(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_WRITE {
        return;
    }
    buf.clear();
    let _ = FREE.try_with(|f| {
        let mut f = f.borrow_mut();
        if f.writes.len() < MAX_KEPT {
            f.writes.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_bounded() {
        let b = take_read(MIN_READ, DEFAULT_READ);
        assert_eq!(b.len(), DEFAULT_READ);
        assert!(b.iter().all(|&x| x == 0));
        let ptr = b.as_ptr();
        give_read(b);
        let again = take_read(MIN_READ, DEFAULT_READ);
        assert_eq!(again.as_ptr(), ptr, "the same buffer comes back");
        // Too small to keep.
        give_read(BytesMut::zeroed(10));
        let big = take_read(MIN_READ, DEFAULT_READ);
        assert_eq!(big.len(), DEFAULT_READ);

        let mut w = take_write();
        w.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let cap = w.capacity();
        give_write(w);
        let w = take_write();
        assert!(w.is_empty());
        assert_eq!(w.capacity(), cap);
    }
}
