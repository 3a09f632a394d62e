//! The origin hash that splits URLs between loops (`--threads N`) and between processes or machines
//! (`--shard K/N`): every URL of one origin lands in the same place, so `--per-host`, keep-alive reuse
//! and fairness stay exact within it.
//!
//! # The hash, exactly (so other tools can reproduce it)
//!
//! 1. Take the URL's origin `scheme://host:port`: scheme and host lower-cased, the default port written
//!    out (`HTTP://Example.COM/x` → `http://example.com:80`), user info dropped, IPv6 hosts in brackets
//!    (`http://[::1]:8080`), leading zeros of the port dropped. A line with no recognisable `http`/`https`
//!    origin (it will be reported as invalid) is hashed as its own text, whitespace around it removed.
//! 2. Hash those UTF-8 bytes with 64-bit FNV-1a: start from `0xcbf29ce484222325`; for each byte,
//!    `h = (h XOR byte) * 0x100000001b3` (wrapping).
//! 3. The URL belongs to shard `h % N` (and, inside a process, to loop `h % threads`).
//!
//! ```text
//! fnv1a64("http://example.com:80") = 0x3e7ef9ea584eea22   →   h % 4 == 2: `--shard 2/4` takes it
//! ```
//!
//! With both flags, the shard picks the URLs of this process first and the loop is `(h / N) % threads`,
//! so the loops of one shard still share its origins evenly (with `h % threads` alone, a shard of
//! `N = threads` would send every URL to one loop).

use std::fmt;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// The routing hash of one input line, as documented above. `scratch` is reused for the origin.
pub fn url_hash(url: &str, scratch: &mut String) -> u64 {
    if origin_of(url, scratch) {
        fnv1a64(scratch.as_bytes())
    } else {
        fnv1a64(url.trim().as_bytes())
    }
}

/// The one place that names the origin parser (the scheduler's per-host key).
fn origin_of(url: &str, out: &mut String) -> bool {
    spool_client::write_origin_key(url.trim(), out)
}

/// `--shard K/N`: this process takes the URLs whose hash modulo `count` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, in `0..count`.
    pub index: u64,
    /// N ≥ 1.
    pub count: u64,
}

impl Shard {
    /// Every URL (`0/1`).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether a URL of hash `h` is this shard's.
    pub fn takes(self, h: u64) -> bool {
        h % self.count == self.index
    }
}

/// Which of `threads` loops handles a URL of hash `h` that `shard` took.
pub fn loop_for(h: u64, shard: Shard, threads: usize) -> usize {
    ((h / shard.count) % threads as u64) as usize
}

/// Why `--shard` was refused, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadShard(pub String);

impl fmt::Display for BadShard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Shard {
    type Err = BadShard;

    /// `K/N` with `0 <= K < N`.
    fn from_str(text: &str) -> Result<Shard, BadShard> {
        let bad = |why: &str| {
            BadShard(format!(
                "invalid --shard {text:?}: {why}; expected K/N with 0 <= K < N, e.g. 0/4"
            ))
        };
        let (k, n) = text.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(k) || !digits(n) {
            return Err(bad("K and N must be whole numbers"));
        }
        let index: u64 = k.parse().map_err(|_| bad("K is too large"))?;
        let count: u64 = n.parse().map_err(|_| bad("N is too large"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index >= count {
            return Err(bad("K must be smaller than N"));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "", "a", "foobar".
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn urls_of_one_origin_hash_alike_whatever_their_spelling() {
        let mut s = String::new();
        let h = url_hash("http://example.com:80", &mut s);
        assert_eq!(h, fnv1a64(b"http://example.com:80"));
        for url in [
            "http://example.com/",
            "HTTP://Example.COM/a?b",
            "http://user@example.com:0080/x",
            "  http://example.com#f  ",
        ] {
            assert_eq!(url_hash(url, &mut s), h, "{url}");
        }
        assert_ne!(url_hash("https://example.com/", &mut s), h);
        assert_ne!(url_hash("http://example.com:81/", &mut s), h);
        // No origin: the text itself, trimmed.
        assert_eq!(url_hash(" not a url ", &mut s), fnv1a64(b"not a url"));
    }

    #[test]
    fn the_documented_example_holds() {
        assert_eq!(fnv1a64(b"http://example.com:80"), 0x3e7e_f9ea_584e_ea22);
        assert!(Shard { index: 2, count: 4 }.takes(0x3e7e_f9ea_584e_ea22));
    }

    #[test]
    fn shards_partition_and_loops_spread_within_a_shard() {
        let mut s = String::new();
        let shards: Vec<Shard> = (0..4).map(|k| format!("{k}/4").parse().unwrap()).collect();
        let mut per_loop = [0usize; 4];
        for i in 0..1000 {
            let h = url_hash(&format!("http://host{i}.example/"), &mut s);
            let owners: Vec<_> = shards.iter().filter(|sh| sh.takes(h)).collect();
            assert_eq!(owners.len(), 1);
            if shards[1].takes(h) {
                per_loop[loop_for(h, shards[1], 4)] += 1;
            }
        }
        assert!(per_loop.iter().all(|&n| n > 20), "{per_loop:?}");
        assert!(Shard::ALL.takes(12345));
    }

    #[test]
    fn bad_shards_are_refused_with_a_sentence() {
        for (text, why) in [
            ("1", "no '/'"),
            ("a/2", "whole numbers"),
            ("-1/2", "whole numbers"),
            ("0/0", "at least 1"),
            ("2/2", "smaller than N"),
            ("1/99999999999999999999999", "too large"),
        ] {
            let e = text.parse::<Shard>().unwrap_err();
            assert!(e.0.contains(why), "{text}: {e}");
        }
        assert_eq!("3/4".parse(), Ok(Shard { index: 3, count: 4 }));
    }
}
