//! `--threads N`: how the total `-c` and the open-files limit are divided between the lanes.
//!
//! Every origin lives in one lane ([`crate::shard`]), so an even split starves a lane that holds a
//! big origin: a one-origin list on two lanes ran at half its `-c`, and the other half sat idle. So
//! before any lane starts, one pass over the input measures what each lane can **use** at once —
//! for each of its origins, that origin's URL count, capped at `--per-host` when there is a cap —
//! and the totals are split in proportion to that (largest remainders; at least 1 per lane).
//!
//! The pass reads the whole input once more (each lane then reads it too); it costs about what a
//! lane's own pass costs, and only with `--threads` above 1.

use crate::input::{Input, Route};
use crate::shard::{loop_for, url_hash, Shard};
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// What each of `lanes` lanes can use at once: per origin routed to it, its URL count, capped at
/// `per_host` (0 = no cap). URLs outside `shard` are not counted.
///
/// `file` must be a regular file: its reads never wait (see `lines.rs`), so the pass runs here,
/// before the runtimes exist.
pub fn useful_per_lane(
    urls: &[String],
    file: Option<&Path>,
    shard: Shard,
    lanes: usize,
    per_host: usize,
) -> io::Result<Vec<u64>> {
    let mut input = Input::new(urls.to_vec(), file)?.routed(Route {
        shard,
        lane: 0,
        lanes: 1,
    });
    let waker = Waker::from(Arc::new(NeverWaits));
    let mut cx = Context::from_waker(&waker);
    let mut scratch = String::new();
    let mut per_origin: HashMap<u64, u64> = HashMap::new();
    loop {
        match input.poll_next(&mut cx) {
            Poll::Ready(Some(Ok(entry))) => {
                *per_origin
                    .entry(url_hash(&entry.url, &mut scratch))
                    .or_default() += 1;
            }
            Poll::Ready(Some(Err(e))) => return Err(e),
            Poll::Ready(None) => break,
            Poll::Pending => unreachable!("a regular file's lines are read without waiting"),
        }
    }
    let cap = if per_host == 0 {
        u64::MAX
    } else {
        per_host as u64
    };
    let mut useful = vec![0u64; lanes];
    for (h, count) in per_origin {
        useful[loop_for(h, shard, lanes)] += count.min(cap);
    }
    Ok(useful)
}

/// The waker of a pass that never waits (regular files only).
struct NeverWaits;

impl Wake for NeverWaits {
    fn wake(self: Arc<Self>) {}
}

/// `total` split over lanes in proportion to `weights` (largest remainders), each lane at least 1;
/// an even split when every weight is 0. The parts add up to `total` unless the "at least 1" adds.
pub fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let n = weights.len() as u64;
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return (0..n)
            .map(|k| (total / n + u64::from(k < total % n)).max(1))
            .collect();
    }
    // Exact shares are total·w/sum; take the floors, then hand the units left over to the lanes
    // with the largest remainders (ties to the lower lane, so the split is deterministic).
    let mut parts: Vec<(u64, u128)> = weights
        .iter()
        .map(|&w| {
            let exact = u128::from(total) * u128::from(w);
            ((exact / sum) as u64, exact % sum)
        })
        .collect();
    let given: u64 = parts.iter().map(|p| p.0).sum();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| parts[b].1.cmp(&parts[a].1).then(a.cmp(&b)));
    for &k in order.iter().take((total - given) as usize) {
        parts[k].0 += 1;
    }
    parts.into_iter().map(|(p, _)| p.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::{apportion, useful_per_lane};
    use crate::shard::{loop_for, url_hash, Shard};

    #[test]
    fn parts_follow_the_weights_and_add_up() {
        assert_eq!(apportion(10_000, &[10_000, 0]), vec![10_000, 1]);
        assert_eq!(apportion(500, &[1, 1]), vec![250, 250]);
        assert_eq!(apportion(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(apportion(100, &[3, 1]), vec![75, 25]);
        assert_eq!(apportion(7, &[0, 0]), vec![4, 3], "no weights: even");
        assert_eq!(apportion(1, &[5, 5]), vec![1, 1], "at least one each");
        for (total, weights) in [
            (1000u64, vec![7u64, 13, 1, 0, 99]),
            (3, vec![1, 1, 1, 1]),
            (u64::MAX / 2, vec![u64::MAX, 1]),
        ] {
            let parts = apportion(total, &weights);
            let sum: u128 = parts.iter().map(|&p| u128::from(p)).sum();
            let floors = parts.iter().filter(|&&p| p == 1).count() as u128;
            assert!(sum >= u128::from(total) && sum <= u128::from(total) + floors);
        }
    }

    #[test]
    fn one_big_origin_weighs_what_per_host_lets_it_use() {
        // Two origins that route to different lanes of two: find them by the documented hash.
        let mut scratch = String::new();
        let lane_of = |u: &str, s: &mut String| loop_for(url_hash(u, s), Shard::ALL, 2);
        let a = "http://a.test/";
        let b = (0..)
            .map(|i| format!("http://b{i}.test/"))
            .find(|u| lane_of(u, &mut scratch) != lane_of(a, &mut scratch))
            .unwrap();
        let mut urls: Vec<String> = (0..90).map(|i| format!("{a}{i}")).collect();
        urls.extend((0..10).map(|i| format!("{b}{i}")));
        let (la, lb) = (lane_of(a, &mut scratch), lane_of(&b, &mut scratch));

        let useful = useful_per_lane(&urls, None, Shard::ALL, 2, 0).unwrap();
        assert_eq!((useful[la], useful[lb]), (90, 10));
        let useful = useful_per_lane(&urls, None, Shard::ALL, 2, 6).unwrap();
        assert_eq!(
            (useful[la], useful[lb]),
            (6, 6),
            "--per-host 6 caps each origin"
        );
        let one = useful_per_lane(&urls, None, Shard::ALL, 1, 0).unwrap();
        assert_eq!(one, vec![100]);
    }
}
