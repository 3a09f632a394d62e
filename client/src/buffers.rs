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
//! read's space, and goes back to the list. Once everything split off a buffer has been dropped, a
//! worn-down buffer grows back to full size inside its own allocation (see `reclaim`).
//!
//! Response header maps are recycled the same way: a dropped [`Response`](crate::Response) gives its
//! emptied `HeaderMap` back ([`give_header_map`]) and the next request hands it to its connection's
//! state machine to fill ([`take_header_map`]), so a response head costs no allocation either.

use std::cell::RefCell;

use bytes::BytesMut;
use http::HeaderMap;

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
/// Header maps kept at most, and the largest kept (in fields): one per response in flight is the
/// steady state; an unusually large map is not worth its memory.
const MAX_KEPT_MAPS: usize = 64;
const MAX_KEPT_MAP_CAPACITY: usize = 64;

struct FreeLists {
    reads: Vec<BytesMut>,
    /// Sum of `reads[i].len()`.
    read_bytes: usize,
    writes: Vec<Vec<u8>>,
    maps: Vec<HeaderMap>,
}

thread_local! {
    static FREE: RefCell<FreeLists> = const {
        RefCell::new(FreeLists {
            reads: Vec::new(),
            read_bytes: 0,
            writes: Vec::new(),
            maps: Vec::new(),
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
    match reused {
        Some(mut b) => {
            if b.len() < size / 2 {
                reclaim(&mut b, size);
            }
            b
        }
        None => BytesMut::zeroed(size.max(min)),
    }
}

/// Grow a recycled read buffer that has shrunk (every response split off its front) back to `size`
/// within its own allocation, when nothing else still points into that allocation (the heads and
/// chunks split off it were all dropped). Without this, a buffer serving many small responses
/// would wear down below [`MIN_READ`] every few dozen responses and be replaced by a freshly
/// allocated and zeroed one. Done only below half of `size`, so the copy and the zeroing are paid
/// once per many responses; when the allocation is still shared, nothing happens and nothing is
/// copied.
fn reclaim(b: &mut BytesMut, size: usize) {
    let len = b.len();
    if b.try_reclaim(size - len) {
        // The regained room is initialized again before it is handed out (safe code reads into it).
        b.resize(size, 0);
    }
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

/// An empty header map, with room from an earlier response if one was given back (else a new map,
/// which allocates nothing until it is filled).
pub(crate) fn take_header_map() -> HeaderMap {
    FREE.try_with(|f| f.borrow_mut().maps.pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Give back a map that is no longer needed: it is emptied (releasing the header bytes it points
/// into) and kept for [`take_header_map`] if it is of a reasonable size and the list has room.
pub(crate) fn give_header_map(mut map: HeaderMap) {
    if map.capacity() == 0 || map.capacity() > MAX_KEPT_MAP_CAPACITY {
        return;
    }
    map.clear();
    let _ = FREE.try_with(|f| {
        let mut f = f.borrow_mut();
        if f.maps.len() < MAX_KEPT_MAPS {
            f.maps.push(map);
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

    #[test]
    fn header_maps_come_back_empty_with_their_room() {
        let mut map = take_header_map();
        map.insert(http::header::SERVER, http::HeaderValue::from_static("x"));
        let cap = map.capacity();
        give_header_map(map);
        let again = take_header_map();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), cap);
        // Never-filled maps are not worth keeping.
        give_header_map(HeaderMap::new());
        assert_eq!(take_header_map().capacity(), 0);
    }

    #[test]
    fn worn_read_buffers_grow_back_in_place_once_unshared() {
        let mut b = take_read(MIN_READ, DEFAULT_READ);
        let base = b.as_ptr();
        // Responses split off the front; one is still held by the caller.
        let held = b.split_to(DEFAULT_READ - MIN_READ - 100).freeze();
        give_read(b);
        let b = take_read(MIN_READ, DEFAULT_READ);
        assert_eq!(b.len(), MIN_READ + 100, "shared: left as it was");
        drop(held);
        give_read(b);
        let b = take_read(MIN_READ, DEFAULT_READ);
        assert_eq!(b.len(), DEFAULT_READ, "unshared: grown back");
        assert_eq!(b.as_ptr(), base, "in the same allocation");
        assert!(b.iter().all(|&x| x == 0));
    }
}
