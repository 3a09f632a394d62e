//! The provided-buffer ring (`IORING_REGISTER_PBUF_RING`): where the kernel puts received bytes.
//!
//! A receive SQE names a buffer *group*, not a buffer. When bytes arrive the kernel takes the next buffer
//! from this ring, fills it and reports its id in the completion (`IORING_CQE_F_BUFFER`). So a connection
//! that waits for bytes holds no memory of its own: buffers are bound to sockets only while they hold
//! bytes nobody has read yet.
//!
//! ```text
//!   ring memory (shared with the kernel)          buffer memory: `count` × `size` bytes
//!   ┌────┬────┬────┬────┬─────┐                   ┌──────┬──────┬──────┬─────┐
//!   │ e0 │ e1 │ e2 │ e3 │ ... │ tail (in e0)      │ bid0 │ bid1 │ bid2 │ ... │
//!   └────┴────┴────┴────┴─────┘                   └──────┴──────┴──────┴─────┘
//!     the kernel consumes at its head, we append at our tail (published with a release store)
//! ```
//!
//! # Who owns a buffer (the rule everything else relies on)
//! Each buffer is in exactly one of three states:
//! 1. **in the ring** — the kernel owns it and may write it at any moment; spool never reads or writes it;
//! 2. **delivered** — a completion named it; the driver holds one [`Taken`] for it (not `Clone`, not
//!    `Copy`) and only through that may its bytes be read ([`BufRing::bytes`]);
//! 3. **recycled** — [`BufRing::recycle`] consumed the `Taken` and wrote the buffer back at our tail; from
//!    the next [`BufRing::publish`] the kernel may use it again (state 1).
//!
//! The memory is unmapped only when the ring is dropped, which the driver does after unregistering the
//! group and after the last operation that could select a buffer has completed (see the driver's `Drop`).

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::Submitter;

/// One delivered buffer: proof that the kernel handed buffer `bid` (holding `len` bytes) to us.
#[derive(Debug)]
pub(super) struct Taken {
    bid: u16,
    len: u32,
}

impl Taken {
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }
}

/// The ring of provided buffers for one buffer group.
pub(super) struct BufRing {
    /// `count` ring entries, page aligned (an anonymous mapping), shared with the kernel.
    ring: *mut BufRingEntry,
    ring_bytes: usize,
    /// `count * size` bytes of buffers (an anonymous mapping: pages become resident when first used).
    bufs: *mut u8,
    bufs_bytes: usize,
    count: u16,
    size: u32,
    group: u16,
    /// Our tail: entries written up to here; the kernel sees them after `publish`.
    tail: u16,
    /// Buffers delivered to us and not yet recycled (state 2).
    out: u32,
}

/// An anonymous private mapping of `bytes` (rounded up to pages by the kernel), zero-filled.
fn map(bytes: usize) -> io::Result<*mut u8> {
    // SAFETY: a fresh anonymous mapping with no address hint touches no existing memory; the result is
    // checked against MAP_FAILED before use.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(p.cast())
}

fn unmap(p: *mut u8, bytes: usize) {
    // SAFETY: `p`/`bytes` are exactly one mapping made by `map` and not unmapped before (each BufRing
    // unmaps its two mappings once, in `Drop`, after the kernel stopped using them).
    unsafe {
        libc::munmap(p.cast(), bytes);
    }
}

impl BufRing {
    /// Map `count` buffers of `size` bytes (count a power of two, at most 32768), fill the ring with all
    /// of them and register it as buffer group `group`.
    pub(super) fn new(
        submitter: &Submitter<'_>,
        count: u16,
        size: u32,
        group: u16,
    ) -> io::Result<BufRing> {
        assert!(count.is_power_of_two() && count <= 32768 && size > 0);
        let ring_bytes = count as usize * std::mem::size_of::<BufRingEntry>();
        let bufs_bytes = count as usize * size as usize;
        let ring = map(ring_bytes)?.cast::<BufRingEntry>();
        let bufs = match map(bufs_bytes) {
            Ok(b) => b,
            Err(e) => {
                unmap(ring.cast(), ring_bytes);
                return Err(e);
            }
        };
        let mut me = BufRing {
            ring,
            ring_bytes,
            bufs,
            bufs_bytes,
            count,
            size,
            group,
            tail: 0,
            out: count as u32,
        };
        for bid in 0..count {
            me.recycle(Taken { bid, len: 0 });
        }
        me.publish();
        // SAFETY: `ring` is a live mapping of `count` entries that stays mapped until `self` is dropped,
        // and the driver unregisters the group (or drops the whole io_uring) before dropping `self`.
        unsafe { submitter.register_buf_ring_with_flags(ring as u64, count, group, 0)? };
        Ok(me)
    }

    pub(super) fn group(&self) -> u16 {
        self.group
    }

    /// How many buffers the kernel may still fill (states 1 and 3).
    pub(super) fn available(&self) -> u32 {
        self.count as u32 - self.out
    }

    /// Take ownership of the buffer a completion names (`flags` and `len` from the CQE).
    /// `None` if the completion carries no buffer.
    pub(super) fn take(&mut self, cqe_flags: u32, len: u32) -> Option<Taken> {
        let bid = io_uring::cqueue::buffer_select(cqe_flags)?;
        assert!(
            bid < self.count,
            "kernel named buffer {bid} of {}",
            self.count
        );
        self.out += 1;
        Some(Taken {
            bid,
            len: len.min(self.size),
        })
    }

    /// The bytes of a delivered buffer.
    pub(super) fn bytes(&self, t: &Taken) -> &[u8] {
        let offset = t.bid as usize * self.size as usize;
        debug_assert!(offset + t.len as usize <= self.bufs_bytes);
        // SAFETY: `t` exists only between the completion that delivered buffer `bid` and its recycling,
        // so the kernel does not write this buffer now (it is not in the ring); `bid < count` was checked
        // in `take` and `len <= size`, so the range lies inside the mapping, which lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.bufs.add(offset), t.len as usize) }
    }

    /// Give a delivered buffer back: it goes into the ring at our tail (visible after `publish`).
    pub(super) fn recycle(&mut self, t: Taken) {
        let mask = self.count - 1;
        let index = (self.tail & mask) as usize;
        // SAFETY: `index < count`, so the entry lies inside the ring mapping. Entries between the kernel's
        // head and our published tail belong to the kernel; this one is at our unpublished tail, which the
        // kernel does not read until `publish` stores the new tail (release) after this write.
        let entry = unsafe { &mut *self.ring.add(index) };
        entry.set_addr(self.bufs as u64 + t.bid as u64 * self.size as u64);
        entry.set_len(self.size);
        entry.set_bid(t.bid);
        self.tail = self.tail.wrapping_add(1);
        self.out -= 1;
    }

    /// Make recycled buffers visible to the kernel (one release store of the tail).
    pub(super) fn publish(&mut self) {
        // SAFETY: the tail lives inside entry 0 of the ring mapping (the kernel's `io_uring_buf_ring`
        // layout); it is a naturally aligned u16 that the kernel reads with an acquire load, so an atomic
        // store through it is the intended protocol, and the mapping lives as long as `self`.
        let tail = unsafe { AtomicU16::from_ptr(BufRingEntry::tail(self.ring).cast_mut()) };
        tail.store(self.tail, Ordering::Release);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        unmap(self.ring.cast(), self.ring_bytes);
        unmap(self.bufs, self.bufs_bytes);
    }
}
