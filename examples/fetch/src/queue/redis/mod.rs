//! The Redis Streams backend of [`WorkQueue`] and [`Enqueue`], on spool's runtime.
//!
//! # Layout
//! - `resp` — the RESP2 codec, sans-IO.
//! - `conn` — one connection: `redis://` targets, login, pipelined round trips.
//! - `scripts` — the Lua scripts that finish and claim entries atomically.
//! - `entries` — stream entries out of `XREADGROUP` / claim replies.
//! - this file — [`Streams`]: keys, reconnection with backoff, and the queue operations.
//!
//! # Keys
//! ```text
//! <stream>            source entries, field `url`          (fetch enqueue: XADD <stream> * url U)
//! <stream> / <group>  the consumer group (XGROUP CREATE … 0 MKSTREAM when missing)
//! <results>           one entry per source entry: id, json
//! <results>:done      set of source ids that have their result (what makes redelivery harmless)
//! <stream>:dead       entries delivered more than --max-deliveries times: id, url, error, deliveries
//! ```
//! The done-set grows by one member (~30 bytes) per entry; delete it together with the results stream.
//!
//! # How a worker's turn flows
//! ```text
//! take:  [claim due?] CLAIM script (XAUTOCLAIM idle > --claim-after, dead-letter the worn out)
//!        [after (re)connecting] XREADGROUP … <own pending from 0>   (entries whose reply we lost)
//!        XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS s >
//! complete: EVALSHA FINISH per result, pipelined (EVAL on NOSCRIPT)
//! ```
//!
//! # Connection loss
//! Every operation runs on the current connection; any failure drops it, waits (100 ms doubling to
//! 5 s), reconnects, reloads the scripts, recreates the group if the server lost it, and runs the
//! operation again, until `patience` has passed without success. Running `complete` again is safe: the
//! done-set turns a second write into an acknowledgement. Entries whose `XREADGROUP` reply was lost are
//! already in this consumer's pending list, so after a reconnect `take` first re-reads that list.

mod conn;
mod entries;
pub mod resp;
mod scripts;

pub use conn::Target;

use super::{Completed, Done, Enqueue, QueueError, Task, WorkQueue};
use conn::{Conn, ConnError};
use resp::Value;
use spool_runtime::time::sleep;
use std::time::{Duration, Instant};

/// First wait before reconnecting; doubles up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Time allowed for one round trip, on top of any `BLOCK`.
const ROUND_TRIP: Duration = Duration::from_secs(10);
/// Entries per pipelined `XADD` batch in `fetch enqueue`.
const ENQUEUE_BATCH: usize = 1000;

/// Where a worker takes and leaves work.
#[derive(Debug, Clone)]
pub struct Names {
    /// Source stream.
    pub stream: String,
    /// Consumer group.
    pub group: String,
    /// This consumer's name (unique per worker loop).
    pub consumer: String,
    /// Results stream.
    pub results: String,
    /// Take over entries idle this long in other consumers.
    pub claim_after: Duration,
    /// Dead-letter an entry delivered more often than this.
    pub max_deliveries: u64,
}

impl Names {
    fn done_set(&self) -> String {
        format!("{}:done", self.results)
    }

    fn dead_letters(&self) -> String {
        format!("{}:dead", self.stream)
    }
}

/// A Redis Streams queue, for one worker loop or one producer.
pub struct Streams {
    target: Target,
    names: Option<Names>,
    /// Stream name for [`Enqueue`].
    stream: String,
    conn: Option<Conn>,
    /// Give up when no operation succeeded for this long.
    patience: Duration,
    /// SHA1s of [`scripts::FINISH`] and [`scripts::CLAIM`] on the current connection.
    shas: Option<(String, String)>,
    /// Where re-reading this consumer's pending list stands (`Some` until it comes back empty).
    pending_from: Option<String>,
    /// XAUTOCLAIM cursor, and when the next claim pass is due.
    claim_cursor: String,
    next_claim: Instant,
    /// Entries dead-lettered by this worker.
    pub dead_lettered: u64,
}

impl Streams {
    /// A producer's queue: `fetch enqueue` adds to `stream`.
    pub fn producer(target: Target, stream: String, patience: Duration) -> Streams {
        Streams::new(target, None, stream, patience)
    }

    /// A worker's queue.
    pub fn worker(target: Target, names: Names, patience: Duration) -> Streams {
        let stream = names.stream.clone();
        Streams::new(target, Some(names), stream, patience)
    }

    fn new(target: Target, names: Option<Names>, stream: String, patience: Duration) -> Streams {
        Streams {
            target,
            names,
            stream,
            conn: None,
            patience,
            shas: None,
            pending_from: Some("0".into()),
            claim_cursor: "0-0".into(),
            next_claim: Instant::now(),
            dead_lettered: 0,
        }
    }

    /// Connect now (reporting a bad address or login before any work), creating the group if missing.
    pub async fn connect(&mut self) -> Result<(), QueueError> {
        self.call(Vec::new(), 0, Duration::ZERO).await.map(drop)
    }

    /// Send `out` (`replies` commands) and return the replies, reconnecting as needed.
    async fn call(
        &mut self,
        out: Vec<u8>,
        replies: usize,
        block: Duration,
    ) -> Result<Vec<Value>, QueueError> {
        let started = Instant::now();
        let mut backoff = BACKOFF_START;
        loop {
            let error = match self.conn.as_mut() {
                Some(conn) => match conn.round_trip(&out, replies, ROUND_TRIP + block).await {
                    Ok(values) => return Ok(values),
                    Err(e) => e,
                },
                None => match self.reconnect().await {
                    Ok(()) => continue,
                    Err(ConnError::Refused(e)) => {
                        return Err(QueueError(format!("redis refused the login: {e}")))
                    }
                    Err(e) => e,
                },
            };
            self.conn = None;
            self.shas = None;
            if started.elapsed() >= self.patience {
                return Err(QueueError(format!(
                    "{error} ({:?}; gave up after {:.0?} of retries)",
                    self.target,
                    started.elapsed()
                )));
            }
            sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Open a connection, load the scripts, make sure the group exists.
    async fn reconnect(&mut self) -> Result<(), ConnError> {
        let mut conn = Conn::open(&self.target, ROUND_TRIP).await?;
        let mut out = Vec::new();
        resp::encode(&mut out, &["SCRIPT", "LOAD", scripts::FINISH]);
        resp::encode(&mut out, &["SCRIPT", "LOAD", scripts::CLAIM]);
        let mut replies = 2;
        if let Some(n) = &self.names {
            resp::encode(
                &mut out,
                &["XGROUP", "CREATE", &n.stream, &n.group, "0", "MKSTREAM"],
            );
            replies += 1;
        }
        let got = conn.round_trip(&out, replies, ROUND_TRIP).await?;
        let sha = |v: &Value| v.as_str().map(str::to_owned);
        let (Some(finish), Some(claim)) = (sha(&got[0]), sha(&got[1])) else {
            return Err(ConnError::Refused(format!(
                "SCRIPT LOAD answered {:?}",
                got[0]
            )));
        };
        if let Some(Value::Error(e)) = got.get(2) {
            if !got[2].is_error("BUSYGROUP") {
                return Err(ConnError::Refused(format!("XGROUP CREATE: {e}")));
            }
        }
        self.shas = Some((finish, claim));
        self.conn = Some(conn);
        // Replies lost with the old connection may have handed us entries: look at our pending list.
        self.pending_from = Some("0".into());
        Ok(())
    }

    fn names(&self) -> &Names {
        self.names.as_ref().expect("a worker's queue")
    }

    /// `EVALSHA sha` with `keys` and `args`, or `EVAL` with the text when `sha` is `None`.
    fn encode_script(
        out: &mut Vec<u8>,
        sha: Option<&str>,
        text: &str,
        keys: &[&str],
        args: &[&[u8]],
    ) {
        let nkeys = keys.len().to_string();
        let mut parts: Vec<&[u8]> = match sha {
            Some(sha) => vec![b"EVALSHA", sha.as_bytes()],
            None => vec![b"EVAL", text.as_bytes()],
        };
        parts.push(nkeys.as_bytes());
        parts.extend(keys.iter().map(|k| k.as_bytes()));
        parts.extend_from_slice(args);
        resp::encode(out, &parts);
    }

    /// One claim pass of at most `max` entries, if one is due.
    async fn claim(&mut self, max: usize) -> Result<Vec<Task>, QueueError> {
        if Instant::now() < self.next_claim {
            return Ok(Vec::new());
        }
        let n = self.names().clone();
        let (dead, done) = (n.dead_letters(), n.done_set());
        let idle = n.claim_after.as_millis().to_string();
        let (count, limit) = (max.to_string(), n.max_deliveries.to_string());
        let mut sha = self.shas.as_ref().map(|s| s.1.clone());
        loop {
            let cursor = self.claim_cursor.clone();
            let args: [&[u8]; 6] = [
                n.group.as_bytes(),
                n.consumer.as_bytes(),
                idle.as_bytes(),
                cursor.as_bytes(),
                count.as_bytes(),
                limit.as_bytes(),
            ];
            let mut out = Vec::new();
            let keys = [n.stream.as_str(), &dead, &done];
            Streams::encode_script(&mut out, sha.as_deref(), scripts::CLAIM, &keys, &args);
            let reply = self.call(out, 1, Duration::ZERO).await?.remove(0);
            if reply.is_error("NOSCRIPT") && sha.is_some() {
                sha = None;
                continue;
            }
            let (next, tasks, dead_now) = entries::claimed(&reply).map_err(QueueError)?;
            self.dead_lettered += dead_now;
            if next == "0-0" {
                // A whole pass over the pending list: rest until entries may have gone idle again.
                self.next_claim = Instant::now() + n.claim_after / 2;
            }
            self.claim_cursor = next;
            return Ok(tasks);
        }
    }

    /// Entries this consumer holds already (after a restart or a lost reply), `max` at most.
    async fn own_pending(&mut self, max: usize) -> Result<Vec<Task>, QueueError> {
        let Some(from) = self.pending_from.clone() else {
            return Ok(Vec::new());
        };
        let n = self.names().clone();
        let mut out = Vec::new();
        let count = max.to_string();
        resp::encode(
            &mut out,
            &[
                "XREADGROUP",
                "GROUP",
                &n.group,
                &n.consumer,
                "COUNT",
                &count,
                "STREAMS",
                &n.stream,
                &from,
            ],
        );
        let reply = self.call(out, 1, Duration::ZERO).await?.remove(0);
        let tasks = self.read_reply(reply)?;
        // Pending entries come in id order: continue after the last one, stop at an empty answer.
        self.pending_from = tasks.last().map(|t| t.id.clone());
        Ok(tasks)
    }

    fn read_reply(&mut self, reply: Value) -> Result<Vec<Task>, QueueError> {
        if reply.is_error("NOGROUP") {
            // The server lost the group (restarted without persistence): recreate it next call.
            self.conn = None;
            return Ok(Vec::new());
        }
        entries::read(&reply).map_err(QueueError)
    }
}

impl WorkQueue for Streams {
    async fn take(&mut self, max: usize, wait: Duration) -> Result<Vec<Task>, QueueError> {
        let mut tasks = self.own_pending(max).await?;
        if tasks.is_empty() {
            tasks = self.claim(max).await?;
        }
        if !tasks.is_empty() {
            return Ok(tasks);
        }
        let n = self.names().clone();
        let (count, block) = (max.to_string(), wait.as_millis().max(1).to_string());
        let mut out = Vec::new();
        resp::encode(
            &mut out,
            &[
                "XREADGROUP",
                "GROUP",
                &n.group,
                &n.consumer,
                "COUNT",
                &count,
                "BLOCK",
                &block,
                "STREAMS",
                &n.stream,
                ">",
            ],
        );
        let reply = self.call(out, 1, wait).await?.remove(0);
        self.read_reply(reply)
    }

    async fn complete(&mut self, done: &[Done]) -> Result<Vec<Completed>, QueueError> {
        let n = self.names().clone();
        let (results, done_set) = (n.results.clone(), n.done_set());
        let keys = [n.stream.as_str(), &results, &done_set];
        let mut answers: Vec<Option<Completed>> = vec![None; done.len()];
        let mut sha = self.shas.as_ref().map(|s| s.0.clone());
        loop {
            let todo: Vec<usize> = (0..done.len()).filter(|&i| answers[i].is_none()).collect();
            if todo.is_empty() {
                return Ok(answers.into_iter().map(Option::unwrap).collect());
            }
            let mut out = Vec::new();
            for &i in &todo {
                let d = &done[i];
                let args: [&[u8]; 6] = [
                    n.group.as_bytes(),
                    d.id.as_bytes(),
                    b"id",
                    d.id.as_bytes(),
                    b"json",
                    &d.json,
                ];
                Streams::encode_script(&mut out, sha.as_deref(), scripts::FINISH, &keys, &args);
            }
            let replies = self.call(out, todo.len(), Duration::ZERO).await?;
            let mut missing_script = false;
            for (&i, reply) in todo.iter().zip(&replies) {
                answers[i] = match reply {
                    Value::Int(1) => Some(Completed::Written),
                    Value::Int(0) => Some(Completed::AlreadyDone),
                    r if r.is_error("NOSCRIPT") => {
                        missing_script = true;
                        None
                    }
                    other => {
                        return Err(QueueError(format!(
                            "writing the result of {}: redis answered {other:?}",
                            done[i].id
                        )))
                    }
                };
            }
            if missing_script {
                sha = None;
            }
        }
    }
}

impl Enqueue for Streams {
    async fn add(&mut self, urls: &[String]) -> Result<(), QueueError> {
        for chunk in urls.chunks(ENQUEUE_BATCH) {
            let mut out = Vec::new();
            for url in chunk {
                resp::encode(&mut out, &["XADD", &self.stream, "*", "url", url]);
            }
            // No retry across a lost connection here: XADD is not idempotent, and a batch whose
            // reply was lost may have been added in part or whole.
            let conn = match self.conn.as_mut() {
                Some(c) => c,
                None => {
                    self.connect().await?;
                    self.conn.as_mut().expect("connected")
                }
            };
            let replies = conn
                .round_trip(&out, chunk.len(), ROUND_TRIP)
                .await
                .map_err(|e| QueueError(format!("{e}; this batch may have been added in part")))?;
            if let Some(Value::Error(e)) = replies.iter().find(|r| matches!(r, Value::Error(_))) {
                return Err(QueueError(format!("XADD {}: {e}", self.stream)));
            }
        }
        Ok(())
    }
}
