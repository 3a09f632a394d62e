//! Work queues shared by many workers (`fetch enqueue`, `fetch worker`): the seam between the worker
//! loop and a queue engine. Redis Streams is the one backend today ([`redis`]).
//!
//! # The seam
//!
//! A backend implements [`WorkQueue`] (the worker's side) and [`Enqueue`] (the producer's side). The
//! worker only ever:
//! 1. [`take`](WorkQueue::take)s up to N tasks — entries abandoned by dead workers first, then new ones —
//!    waiting a bounded time when there are none;
//! 2. fetches each task's URL with the usual options;
//! 3. [`complete`](WorkQueue::complete)s tasks, handing over the JSON line of each.
//!
//! What a backend must guarantee, whatever the engine:
//! - **exactly one result per entry**: `complete` writes the result *and* acknowledges the entry in one
//!   atomic step, and writes nothing when a result for that entry already exists (a redelivered entry
//!   that two workers both fetched, or a retry after a lost reply);
//! - **nothing acknowledged that was not written**: no step acknowledges without writing the result;
//! - **redelivery**: an entry taken but not completed (the worker died) is handed to another worker
//!   after a while, and after too many deliveries goes to a dead-letter place with its last error
//!   instead (that counts as its one result);
//! - **reconnection**: losing the engine's connection is not an error of the task; the backend
//!   reconnects with backoff and retries, and gives up (an `Err`) only after its patience runs out.
//!
//! How others would map: NATS JetStream — a pull consumer's `fetch(batch)` for `take`, `AckWait` and
//! `MaxDeliver` for redelivery and dead-lettering, and a publish with `Nats-Msg-Id` (deduplication)
//! followed by the ack for `complete` (JetStream has no multi-subject transaction: the dedup window
//! stands in for the done-set). Kafka — a consumer group's poll for `take`; a transactional producer
//! that writes the result and commits the consumed offset in one transaction for `complete`.

pub mod redis;

use std::fmt;
use std::time::Duration;

/// One entry taken from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The engine's id of the entry (a Redis stream ID such as `1700000000000-0`).
    pub id: String,
    /// The entry's `url` field; `None` when the entry has none (it still gets a result: an error).
    pub url: Option<String>,
}

/// A finished task: its id and the JSON object `fetch` would print for it (without the newline).
#[derive(Debug, Clone)]
pub struct Done {
    /// [`Task::id`].
    pub id: String,
    /// The result line.
    pub json: Vec<u8>,
}

/// What `complete` did for one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completed {
    /// The result was written and the entry acknowledged.
    Written,
    /// A result already existed (another delivery got there first): only acknowledged.
    AlreadyDone,
}

/// The queue could not be used, for longer than the backend's patience or for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueError(pub String);

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// The futures are not `Send` on purpose: a worker is one thread on one spool loop.
#[allow(async_fn_in_trait)]
/// The worker's side of a queue.
pub trait WorkQueue {
    /// Up to `max` tasks: abandoned entries due for redelivery first, then new ones; waits at most
    /// `wait` when there are none (then returns an empty list).
    async fn take(&mut self, max: usize, wait: Duration) -> Result<Vec<Task>, QueueError>;

    /// Write each result and acknowledge its entry, atomically per task; one answer per item, in order.
    async fn complete(&mut self, done: &[Done]) -> Result<Vec<Completed>, QueueError>;
}

#[allow(async_fn_in_trait)]
/// The producer's side of a queue.
pub trait Enqueue {
    /// Add one entry per URL, in order.
    async fn add(&mut self, urls: &[String]) -> Result<(), QueueError>;
}
