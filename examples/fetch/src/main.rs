//! `fetch`: fetch thousands of URLs at once on one thread, one JSON line per URL.
//!
//! ```text
//! fetch [OPTIONS] [URL...]          # see `fetch --help`; with no URL and no --input: the demo
//! fetch -i urls.txt -c 500 > results.jsonl
//! ```
//!
//! # Layout
//! - `cli` — flags, their checks, and the usage errors (exit 2).
//! - `input` — URLs streamed from arguments, a file or stdin, numbered by input position.
//! - `lines` — a URL file cut into lines, one buffer at a time.
//! - the `scheme://host:port` key per-host limits count by is the client's own ([`spool_client::write_origin_key`]), so fetch and the pool agree on what a host is.
//! - `run` — the scheduler: concurrency, one result per URL, descriptor shortage.
//! - `queues` — per-origin queues and the turn order that makes the per-host limit fair.
//! - `request` — one URL through `spool_client`: headers, body, `--max-body`, `--save-dir`, timeouts.
//! - `outcome` — what a URL ended in, and the failure kinds.
//! - `output` — the JSON lines.
//! - `progress` — the progress bar and the summary line on stderr.
//! - `demo` — the in-process HTTP server behind `--demo`.
//! - `rlimit` — raising the open-files limit, recognising `EMFILE`.
//!
//! # One URL, start to end
//! `input` yields it → `run` parks it under its origin, starts it when a slot and the origin have room
//! → `request` sends it with the shared `Client` and counts (or saves) the body → the task hands the
//! `Outcome` back → `run` frees the slots, `output` writes the line, `progress` counts it.

#![forbid(unsafe_code)]

mod apportion;
mod cli;
mod commands;
mod demo;
mod input;
mod lines;
mod outcome;
mod output;
mod progress;
mod proxy;
mod queue;
mod queues;
mod request;
mod rlimit;
mod run;
mod shard;
mod threads;
mod worker;

use cli::{CliExit, Config, Source};
use input::{Input, Route};
use outcome::Outcome;
use output::Output;
use progress::{Progress, Tally};
use spool_runtime::{Driver, Runtime};
use std::io;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match args.get(1).and_then(|a| a.to_str()) {
        Some("enqueue") => return commands::enqueue(&args),
        Some("worker") => return commands::worker(&args),
        _ => {}
    }
    let config = match cli::parse(args) {
        Ok(c) => c,
        Err(CliExit::Info(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(CliExit::Usage(e)) => return usage(e),
    };
    // Not fatal: with the old limit the tool still works, only with fewer requests at once.
    let (nofile, raise_error) = rlimit::raise_nofile_or_keep();
    if let Some(e) = raise_error {
        eprintln!("fetch: could not raise the open-files limit: {e}");
    }
    // Built first, so that an io_uring the kernel refuses is a usage error before anything is read.
    let rt = match runtime(config.driver) {
        Ok(rt) => rt,
        Err(e) => return usage(e),
    };
    let driver = rt.stats().driver;
    let started = Instant::now();
    let ran = if config.threads > 1 {
        drop(rt);
        threads::fetch(&config, driver, nofile, started)
    } else {
        rt.block_on(fetch_all(&config, driver, nofile, started))
    };
    match ran {
        Ok(code) => code,
        Err(Fatal::Usage(e)) => usage(e),
        Err(Fatal::Io(context, e)) => {
            eprintln!("fetch: {context}: {e}");
            ExitCode::from(1)
        }
    }
}

/// A runtime on `driver` (`Auto` is resolved here: `stats().driver` says which one was taken).
fn runtime(driver: Driver) -> Result<Runtime, cli::UsageError> {
    Runtime::builder()
        .driver(driver)
        .build()
        .map_err(|e| cli::UsageError(format!("cannot use --driver {}: {e}", driver.name())))
}

fn usage(e: cli::UsageError) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(2)
}

/// Why the run stopped early.
enum Fatal {
    /// Something named on the command line cannot be used (exit 2).
    Usage(cli::UsageError),
    /// Results could not be written (exit 1).
    Io(&'static str, io::Error),
}

fn bad_path(what: &str, path: &std::path::Path, e: io::Error) -> Fatal {
    Fatal::Usage(cli::UsageError(format!("cannot use {what} {path:?}: {e}")))
}

async fn fetch_all(
    config: &Config,
    driver: Driver,
    nofile: u64,
    started: Instant,
) -> Result<ExitCode, Fatal> {
    // Before the output file is created (truncated): a usage error must leave no trace.
    if let Some(dir) = &config.save_dir {
        std::fs::create_dir_all(dir).map_err(|e| bad_path("--save-dir", dir, e))?;
    }
    let output = |demo: bool| match &config.output {
        Some(p) => Output::create(p).map_err(|e| bad_path("--output", p, e)),
        None if demo => Ok(Output::discard()),
        None => Output::stdout().map_err(|e| Fatal::Io("stdout", e)),
    };
    let lane = Lane {
        route: Route {
            shard: config.shard,
            lane: 0,
            lanes: 1,
        },
        nofile,
        concurrency: config.concurrency,
    };
    let (finish, tls) = fetch_lane(config, lane, output, started).await?;
    Ok(finish_run(&finish, tls, driver, started))
}

/// The summary line and the exit status of a whole run.
fn finish_run(
    finish: &run::Finish,
    tls: spool_client::tls::HandshakeStats,
    driver: Driver,
    started: Instant,
) -> ExitCode {
    eprintln!(
        "{}",
        progress::summary(&finish.tally, started.elapsed(), tls, driver)
    );
    if let Some(e) = &finish.input_error {
        eprintln!("fetch: reading the input stopped early: {e}");
    }
    let all_answered = finish.tally.err() == 0 && finish.input_error.is_none();
    if all_answered {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// One loop's share of a run: its URLs, its open files, its requests in flight.
#[derive(Debug, Clone, Copy)]
struct Lane {
    route: Route,
    nofile: u64,
    concurrency: usize,
}

/// Fetch this lane's URLs on the current thread's runtime, results to `output(demo)`.
async fn fetch_lane(
    config: &Config,
    lane: Lane,
    output: impl FnOnce(bool) -> Result<Output, Fatal>,
    started: Instant,
) -> Result<(run::Finish, spool_client::tls::HandshakeStats), Fatal> {
    let demo = matches!(config.source, Source::Demo { .. });
    let budget = rlimit::Budget::plan(
        lane.nofile,
        lane.concurrency,
        config.save_dir.is_some(),
        demo,
    );
    if budget.concurrency < lane.concurrency {
        eprintln!(
            "fetch: {} open files allowed (ulimit -n): at most {} requests at once instead of {}",
            lane.nofile, budget.concurrency, lane.concurrency
        );
    }
    let mut settings = run::Settings {
        concurrency: budget.concurrency,
        per_host: config.per_host,
        window: run::Settings::window_for(budget.concurrency),
        fd_patience: config.connect_timeout,
    };
    let (server, input) = match &config.source {
        Source::Urls { urls, file } => {
            let input = Input::new(urls.clone(), file.as_deref())
                .map_err(|e| bad_path("--input", file.as_deref().unwrap_or("-".as_ref()), e))?;
            (None, input)
        }
        Source::Demo { count } => {
            let server =
                demo::DemoServer::start().map_err(|e| Fatal::Io("starting the demo server", e))?;
            // The server is local and the demo's own: no reason to spread its load.
            settings.per_host = 0;
            eprintln!(
                "fetch: demo: serving {} B, {} B and {} B bodies on http://{}/, fetching {count} URLs \
                 with up to {} at once, all on one thread",
                demo::SIZES[0],
                demo::SIZES[1],
                demo::SIZES[2],
                server.addr(),
                settings.concurrency,
            );
            let urls = Rc::new(server);
            let make = urls.clone();
            (Some(urls), Input::generated(*count, move |i| make.url(i)))
        }
    };
    let mut input = if lane.route.lanes > 1 || lane.route.shard != shard::Shard::ALL {
        input.routed(lane.route)
    } else {
        input
    };
    let output = output(demo)?;
    let requester = Rc::new(
        request::Requester::new(config, &settings, budget.connections)
            .map_err(|e| Fatal::Io("creating the client", e))?,
    );
    let mut report = Reporter {
        output,
        progress: Progress::new(config.progress && lane.route.lanes == 1, started),
    };
    let result = run::run(
        &mut input,
        &settings,
        |index, url| requester.clone().fetch(index, url),
        &mut report,
    )
    .await;
    drop(server);
    report.progress.clear();
    match result.and_then(|f| report.output.flush().map(|()| f)) {
        Ok(f) => Ok((f, requester.tls_stats())),
        Err(e) => Err(Fatal::Io("writing results", e)),
    }
}

/// Results to the output, counts to the bar.
struct Reporter {
    output: Output,
    progress: Progress,
}

impl run::Report for Reporter {
    fn finished(&mut self, outcome: &Outcome, _: &Tally) -> io::Result<()> {
        self.output.write(outcome)
    }

    fn tick(&mut self, tally: &Tally, total: Option<u64>, in_flight: usize) -> io::Result<()> {
        self.progress.draw(tally, total, in_flight);
        self.output.flush()
    }

    fn wants_ticks(&self) -> bool {
        self.progress.is_enabled() || self.output.is_dirty()
    }
}
