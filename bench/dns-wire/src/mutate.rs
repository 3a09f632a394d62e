//! Pseudo-random mutations of the sample messages, the same sequence on every run and for every
//! library: a xorshift64* generator with a fixed seed and a handful of byte-level edits of the kinds
//! that break parsers (flipped bits, random bytes, forged compression pointers, inflated counts and
//! lengths, truncation, and splices of one message into another).

/// xorshift64* (Vigna, 2016): small, fast, and good enough to pick offsets and bytes.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed (0 is mapped to a fixed constant).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// The fixed seed: every run mutates the same way, so counts are comparable across runs and machines.
pub const SEED: u64 = 0x05ee_dd25_0000_0001;

/// Applies 1 to 4 random edits to a copy of `base`; `others` are the messages splices may take from.
pub fn mutate(rng: &mut XorShift, base: &[u8], others: &[&[u8]]) -> Vec<u8> {
    let mut m = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        edit(rng, &mut m, others);
    }
    m
}

fn edit(rng: &mut XorShift, m: &mut Vec<u8>, others: &[&[u8]]) {
    if m.is_empty() {
        m.push(rng.byte());
        return;
    }
    let at = rng.below(m.len());
    match rng.below(8) {
        // Flip one bit.
        0 => m[at] ^= 1 << rng.below(8),
        // Overwrite a byte with a random value.
        1 => m[at] = rng.byte(),
        // Forge a compression pointer (0b11 prefix) to a random offset, possibly forward or to itself.
        2 => {
            m[at] = 0xc0 | (rng.byte() & 0x3f);
            if at + 1 < m.len() {
                m[at + 1] = rng.byte();
            }
        }
        // Inflate one of the header counts (bytes 4..12) or any other 16-bit field.
        3 => {
            let at = if rng.below(2) == 0 {
                4 + 2 * rng.below(4)
            } else {
                at
            };
            let v = match rng.below(3) {
                0 => 0xffff,
                1 => rng.below(16) as u16,
                _ => rng.next_u64() as u16,
            };
            for (i, b) in v.to_be_bytes().into_iter().enumerate() {
                if let Some(slot) = m.get_mut(at + i) {
                    *slot = b;
                }
            }
        }
        // Truncate.
        4 => m.truncate(at),
        // Delete a short run.
        5 => {
            let end = (at + 1 + rng.below(8)).min(m.len());
            m.drain(at..end);
        }
        // Splice: insert a slice of another message (or of this one) at `at`.
        6 => {
            let src: Vec<u8> = if others.is_empty() || rng.below(3) == 0 {
                m.clone()
            } else {
                others[rng.below(others.len())].to_vec()
            };
            let from = rng.below(src.len().max(1));
            let len = rng.below(src.len() - from + 1);
            let chunk = src[from..from + len].to_vec();
            m.splice(at..at, chunk);
        }
        // Splice: replace the tail with the tail of another message.
        _ => {
            let src = if others.is_empty() {
                &m[..]
            } else {
                others[rng.below(others.len())]
            };
            let from = rng.below(src.len().max(1));
            let tail = src[from.min(src.len())..].to_vec();
            m.truncate(at);
            m.extend_from_slice(&tail);
        }
    }
}
