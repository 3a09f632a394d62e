//! The queue commands: `fetch enqueue` (URLs from a file into a stream) and `fetch worker` (the
//! queue's flags, then every usual fetch option), with their usage errors (exit 2) and the signal
//! handling of a worker.
//!
//! ```text
//! fetch enqueue --redis URL --stream NAME -i FILE
//! fetch worker  --redis URL --stream NAME --group G --consumer C --results NAME
//!               [--idle-exit SECS] [--claim-after SECS] [--max-deliveries N] [--redis-patience SECS]
//!               [--threads N] [-c N] [...every fetch option]
//! ```
//!
//! # Stopping on SIGINT/SIGTERM without an async runtime's signal support
//! The handler only sets an `AtomicBool` (signal-hook's `flag::register`, the async-signal-safe
//! minimum). Each worker loop's taker looks at the flag before every `XREADGROUP`, whose `BLOCK` is at
//! most 500 ms, so a stop is seen within about half a second; then the loop takes nothing more, finishes
//! what it holds and writes those results. A second signal ends the process at once (signal-hook's
//! conditional shutdown): whatever it held stays pending and goes to another worker after
//! `--claim-after`. A self-pipe registered with the runtime would wake the loop sooner, but would need
//! a Unix-pipe type in spool's net module for a gain of half a second at exit.

use crate::cli::{self, CliExit, Config, Source, UsageError};
use crate::lines::{Line, LineReader, Source as LineSource};
use crate::progress;
use crate::queue::redis::{Names, Streams, Target};
use crate::queue::Enqueue;
use crate::threads::share;
use crate::worker::{self, LoopReport, WorkerArgs};
use crate::{rlimit, run};
use spool_runtime::Driver;
use std::ffi::OsString;
use std::future::poll_fn;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// URLs per `XADD` round trip batch handed to the queue.
const ENQUEUE_CHUNK: usize = 10_000;

fn usage(text: String) -> ExitCode {
    eprintln!("{}", UsageError(text));
    ExitCode::from(2)
}

/// Flags of a queue command taken out of `args`; the rest is left for fetch's own parser.
struct Flags {
    values: Vec<(&'static str, String)>,
    rest: Vec<OsString>,
}

impl Flags {
    fn split(args: &[OsString], known: &[&'static str]) -> Result<Flags, String> {
        let mut values = Vec::new();
        let mut rest = vec![OsString::from("fetch")];
        let mut it = args.iter().skip(2);
        while let Some(a) = it.next() {
            let text = a.to_string_lossy();
            let (name, inline) = match text.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (text.to_string(), None),
            };
            match known.iter().find(|k| **k == name) {
                Some(k) => {
                    let v = match inline {
                        Some(v) => v,
                        None => it
                            .next()
                            .map(|v| v.to_string_lossy().into_owned())
                            .ok_or_else(|| format!("{k} needs a value"))?,
                    };
                    values.push((*k, v));
                }
                None => rest.push(a.clone()),
            }
        }
        Ok(Flags { values, rest })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{name} is required"))
    }

    fn seconds(&self, name: &str) -> Result<Option<Duration>, String> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
            _ => Err(format!(
                "invalid value {v:?} for {name}: expected a positive number of seconds"
            )),
        }
    }
}

/// `fetch enqueue`.
pub fn enqueue(args: &[OsString]) -> ExitCode {
    let flags = match Flags::split(args, &["--redis", "--stream", "-i", "--input"]) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    if flags.rest.len() > 1 {
        return usage(format!(
            "fetch enqueue takes --redis, --stream and -i only, not {:?}",
            flags.rest[1]
        ));
    }
    let parsed = (|| {
        let target: Target = flags.need("--redis")?.parse()?;
        let stream = flags.need("--stream")?.to_string();
        let input = flags
            .get("-i")
            .or(flags.get("--input"))
            .ok_or("-i FILE is required ('-' for stdin)")?
            .to_string();
        Ok::<_, String>((target, stream, input))
    })();
    let (target, stream, input) = match parsed {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let lines = if input == "-" {
        LineReader::stdin()
    } else {
        std::fs::File::open(&input).map(|f| LineReader::new(LineSource::File(f)))
    };
    let mut lines = match lines {
        Ok(l) => l,
        Err(e) => return usage(format!("cannot use --input {input:?}: {e}")),
    };
    let ran = spool_runtime::block_on(async move {
        let mut q = Streams::producer(target, stream.clone(), Duration::from_secs(30));
        q.connect().await.map_err(|e| e.0)?;
        let (mut added, mut batch) = (0u64, Vec::new());
        loop {
            let next = poll_fn(|cx| lines.poll_line(cx)).await;
            let end = match next {
                Some(Ok(Line { text, .. })) => {
                    batch.push(text.to_string());
                    false
                }
                Some(Err(e)) => return Err(format!("reading {input:?}: {e} ({added} added)")),
                None => true,
            };
            if batch.len() >= ENQUEUE_CHUNK || (end && !batch.is_empty()) {
                q.add(&batch)
                    .await
                    .map_err(|e| format!("{e} ({added} entries were added before)"))?;
                added += batch.len() as u64;
                batch.clear();
            }
            if end {
                return Ok(added);
            }
        }
    });
    match ran {
        Ok(n) => {
            eprintln!("fetch: enqueued {n} URLs");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fetch: enqueue: {e}");
            ExitCode::from(1)
        }
    }
}

/// `fetch worker`.
pub fn worker(args: &[OsString]) -> ExitCode {
    const KNOWN: [&str; 9] = [
        "--redis",
        "--stream",
        "--group",
        "--consumer",
        "--results",
        "--idle-exit",
        "--claim-after",
        "--max-deliveries",
        "--redis-patience",
    ];
    let flags = match Flags::split(args, &KNOWN) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    let config = match cli::parse(flags.rest.clone()) {
        Ok(c) => c,
        Err(CliExit::Info(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(CliExit::Usage(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let parsed = (|| {
        if matches!(config.source, Source::Urls { .. }) || flags.rest.iter().any(|a| a == "--demo")
        {
            return Err(
                "fetch worker takes its URLs from the queue: no URL, --input or --demo".into(),
            );
        }
        let max_deliveries = match flags.get("--max-deliveries") {
            None => 5,
            Some(v) => v.parse::<u64>().ok().filter(|&n| n >= 1).ok_or_else(|| {
                format!("invalid --max-deliveries {v:?}: expected a whole number ≥ 1")
            })?,
        };
        Ok::<_, String>(WorkerArgs {
            target: flags.need("--redis")?.parse()?,
            names: Names {
                stream: flags.need("--stream")?.into(),
                group: flags.need("--group")?.into(),
                consumer: flags.need("--consumer")?.into(),
                results: flags.need("--results")?.into(),
                claim_after: flags
                    .seconds("--claim-after")?
                    .unwrap_or(Duration::from_secs(60)),
                max_deliveries,
            },
            idle_exit: flags.seconds("--idle-exit")?,
            patience: flags
                .seconds("--redis-patience")?
                .unwrap_or(Duration::from_secs(120)),
        })
    })();
    let args = match parsed {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    if let Some(dir) = &config.save_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return usage(format!("cannot use --save-dir {dir:?}: {e}"));
        }
    }
    let driver = match crate::runtime(config.driver) {
        Ok(rt) => rt.stats().driver,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // First the exit on a second signal (it checks the flag before the flag is set), then the flag.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 1, stop.clone());
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
    let (nofile, raise_error) = rlimit::raise_nofile_or_keep();
    if let Some(e) = raise_error {
        eprintln!("fetch: could not raise the open-files limit: {e}");
    }
    let started = Instant::now();
    let reports = run_loops(&config, driver, &args, nofile, &stop);
    let mut total = LoopReport::default();
    let mut errors = Vec::new();
    for r in reports {
        total.tally.merge(&r.tally);
        total.written += r.written;
        total.already_done += r.already_done;
        total.dead_lettered += r.dead_lettered;
        errors.extend(r.error);
    }
    eprintln!(
        "{} results_written={} already_done={} dead_lettered={}",
        progress::summary(&total.tally, started.elapsed(), Default::default(), driver),
        total.written,
        total.already_done,
        total.dead_lettered
    );
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        for e in errors {
            eprintln!("fetch: worker: {e}");
        }
        ExitCode::from(1)
    }
}

/// One worker loop per `--threads`, each on a runtime with `driver`, consumer names `C` (one loop) or
/// `C-0`, `C-1`, … .
fn run_loops(
    config: &Config,
    driver: Driver,
    args: &WorkerArgs,
    nofile: u64,
    stop: &Arc<AtomicBool>,
) -> Vec<LoopReport> {
    let n = config.threads;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|k| {
                let mut args = args.clone();
                if n > 1 {
                    args.names.consumer = format!("{}-{k}", args.names.consumer);
                }
                let stop = stop.clone();
                let concurrency = share(config.concurrency, k, n);
                let budget = rlimit::Budget::plan(
                    (nofile / n as u64).max(1),
                    concurrency,
                    config.save_dir.is_some(),
                    false,
                );
                let settings = run::Settings {
                    concurrency: budget.concurrency,
                    per_host: config.per_host,
                    window: run::Settings::window_for(budget.concurrency),
                    fd_patience: config.connect_timeout,
                };
                scope.spawn(move || match crate::runtime(driver) {
                    Ok(rt) => rt.block_on(worker::work(
                        config,
                        &args,
                        settings,
                        budget.connections,
                        stop,
                    )),
                    Err(e) => LoopReport {
                        error: Some(e.0),
                        ..LoopReport::default()
                    },
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| LoopReport {
                    error: Some("a worker loop panicked".into()),
                    ..LoopReport::default()
                })
            })
            .collect()
    })
}
