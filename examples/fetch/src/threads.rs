//! `--threads N`: N threads, each with its own spool runtime, client, pool and scheduler — sharing
//! nothing but the one results writer.
//!
//! ```text
//!   input ──► lane 0: reads the whole input, keeps the URLs whose origin hash routes to 0 ─┐
//!         ──► lane 1: … routes to 1 ───────────────────────────────────────────────────────┤ whole lines
//!         ──► lane N-1 ────────────────────────────────────────────────────────────────────┤ (channel)
//!                                                                                          ▼
//!                                                               writer thread ──► -o FILE / stdout
//! ```
//! - Routing by origin ([`crate::shard`]) keeps every origin in one lane, so `--per-host`, keep-alive
//!   reuse and fairness are exactly those of a single loop.
//! - Each lane reads the input itself and skips what is not its own: input positions (`index`) stay
//!   those of the whole input, and every line — an invalid one too — is reported by exactly one lane.
//!   So stdin, which can be read only once, cannot be used with more than one thread.
//! - `-c` is the total, split in proportion to what each lane can use at once (its URLs per origin,
//!   capped at `--per-host`; [`crate::apportion`]), at least 1 each; so is the open-files limit.
//!   A one-origin list thus runs in one lane at the whole `-c`.
//! - One writer: lanes send whole lines only ([`Output::lines`]), so lines never interleave.
//! - The summary adds up all lanes; the progress bar is off (N bars would fight over one line).
//! - The demo serves from its own thread's loop, so it stays single-threaded.

use crate::apportion::{apportion, useful_per_lane};
use crate::cli::{Config, Source, UsageError};
use crate::input::Route;
use crate::output::Output;
use crate::progress::Tally;
use crate::run::Finish;
use crate::{bad_path, fetch_lane, finish_run, runtime, Fatal, Lane};
use spool_client::tls::HandshakeStats;
use spool_runtime::Driver;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

/// Messages (batches of whole lines) in flight to the writer at most; a full channel makes lanes wait.
const CHANNEL: usize = 256;

/// Lane `k`'s even share of `total` over `n` lanes (at least 1): for the queue worker's loops,
/// whose URLs are not known in advance.
pub fn share(total: usize, k: usize, n: usize) -> usize {
    (total / n + usize::from(k < total % n)).max(1)
}

/// Run `config.threads` lanes, each on a runtime with `driver`, and wait for all of them.
pub fn fetch(
    config: &Config,
    driver: Driver,
    nofile: u64,
    started: Instant,
) -> Result<ExitCode, Fatal> {
    let n = config.threads;
    match &config.source {
        Source::Demo { .. } => {
            return Err(Fatal::Usage(UsageError(
                "--threads works with URLs or --input FILE, not with the demo".into(),
            )))
        }
        Source::Urls { file: Some(f), .. } if f.as_os_str() == "-" => {
            return Err(Fatal::Usage(UsageError(
                "--threads above 1 needs --input FILE: every thread reads the input, and stdin can be read only once".into(),
            )))
        }
        Source::Urls { .. } => {}
    }
    if let Some(dir) = &config.save_dir {
        std::fs::create_dir_all(dir).map_err(|e| bad_path("--save-dir", dir, e))?;
    }
    if let Source::Urls { file: Some(f), .. } = &config.source {
        let opened = File::open(f).map_err(|e| bad_path("--input", f, e))?;
        let regular = opened.metadata().map(|m| m.is_file()).unwrap_or(false);
        if !regular {
            return Err(Fatal::Usage(UsageError(format!(
                "--threads above 1 needs --input to be a regular file, and {} is not: every thread reads it, and a pipe can be read only once",
                f.display()
            ))));
        }
    }
    let (concurrency, nofile) = match &config.source {
        Source::Urls { urls, file } => {
            let useful =
                useful_per_lane(urls, file.as_deref(), config.shard, n, config.per_host)
                    .map_err(|e| bad_path("--input", file.as_deref().unwrap_or("-".as_ref()), e))?;
            (
                apportion(config.concurrency as u64, &useful),
                apportion(nofile, &useful),
            )
        }
        Source::Demo { .. } => unreachable!("refused above"),
    };
    let (sink, eager): (Box<dyn Write + Send>, bool) = match &config.output {
        Some(p) => (
            Box::new(File::create(p).map_err(|e| bad_path("--output", p, e))?),
            false,
        ),
        None => {
            let fd = io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| Fatal::Io("stdout", e))?;
            (Box::new(File::from(fd)), io::stdout().is_terminal())
        }
    };
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(CHANNEL);
    let writer = std::thread::Builder::new()
        .name("fetch-writer".into())
        .spawn(move || write_all(sink, rx))
        .map_err(|e| Fatal::Io("starting the writer thread", e))?;
    let results: Vec<Result<(Finish, HandshakeStats), String>> = std::thread::scope(|scope| {
        let lanes: Vec<_> = (0..n)
            .map(|k| {
                let tx = tx.clone();
                let lane = Lane {
                    route: Route {
                        shard: config.shard,
                        lane: k,
                        lanes: n,
                    },
                    nofile: nofile[k],
                    concurrency: usize::try_from(concurrency[k]).unwrap_or(usize::MAX),
                };
                std::thread::Builder::new()
                    .name(format!("fetch-loop-{k}"))
                    .spawn_scoped(scope, move || {
                        let out = move |_demo: bool| Ok(Output::lines(tx, eager));
                        let rt = runtime(driver).map_err(|e| e.0)?;
                        rt.block_on(fetch_lane(config, lane, out, started))
                            .map_err(|e| describe(&e))
                    })
                    .expect("spawning a loop thread")
            })
            .collect();
        lanes
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a loop thread panicked".into()))
            })
            .collect()
    });
    drop(tx);
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
    let mut total = Finish {
        tally: Tally::default(),
        input_error: None,
    };
    let mut tls = HandshakeStats::default();
    let mut failed = None;
    for r in results {
        match r {
            Ok((f, t)) => {
                total.tally.merge(&f.tally);
                total.input_error = total.input_error.or(f.input_error);
                tls.full += t.full;
                tls.resumed += t.resumed;
            }
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Err(e) = written {
        return Err(Fatal::Io("writing results", e));
    }
    if let Some(e) = failed {
        eprintln!("fetch: {e}");
        return Ok(ExitCode::from(1));
    }
    Ok(finish_run(&total, tls, driver, started))
}

fn describe(e: &Fatal) -> String {
    match e {
        Fatal::Usage(u) => u.to_string(),
        Fatal::Io(context, e) => format!("{context}: {e}"),
    }
}

/// The writer thread: every batch of lines, in arrival order, then a flush.
fn write_all(mut sink: Box<dyn Write + Send>, rx: mpsc::Receiver<Vec<u8>>) -> io::Result<()> {
    for batch in rx {
        sink.write_all(&batch)?;
    }
    sink.flush()
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up_to_the_total() {
        for (total, n) in [(256, 2), (7, 3), (1, 4), (1000, 16)] {
            let sum: usize = (0..n).map(|k| share(total, k, n)).sum();
            assert_eq!(sum, total.max(n), "{total}/{n}");
        }
    }
}
