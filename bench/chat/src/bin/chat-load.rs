//! Load tool for a line chat server: N users connect, S of them send R lines/s for D seconds, and
//! every user counts the lines it receives and their latency (each line carries its send time).
//!
//! It scales by itself: `--threads T` runs T independent spool loops, each with N/T connections.
//! Server figures come from /proc/<pid>: RSS before the users connect and once they are idle
//! (the difference per user is the idle cost of a user), peak RSS, and the CPU time (user+sys)
//! spent from the first line sent to the end of the drain.
//!
//! ```text
//! chat-load --addr 127.0.0.1:7000 --pid $SERVER_PID --users 10000 --senders 100 --rate 1 --secs 10
//! ```
//! Prints one `key=value` line (see `main`).

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use spool_runtime::io::BufReader;
use spool_runtime::net::TcpStream;
use spool_runtime::time::{sleep, sleep_until};
use spool_runtime::{join_all, spawn};

#[derive(Clone, Copy)]
struct Opts {
    addr: SocketAddr,
    pid: Option<u32>,
    users: usize,
    senders: usize,
    rate: u32,
    secs: u32,
    threads: usize,
    drain_secs: u64,
}

/// What the threads share with the main thread.
#[derive(Default)]
struct Shared {
    connected: AtomicUsize,
    failed: AtomicUsize,
    start: OnceLock<Instant>,
    done: AtomicBool,
    delivered: AtomicU64,
    dropped: AtomicU64,
    /// Users that have received the warm-up line (so the server has surely subscribed them).
    warmed: AtomicUsize,
}

/// Latency histogram: 1 µs buckets below 10 ms, 1 ms buckets up to 60 s.
struct Hist(Vec<u64>);

impl Hist {
    fn new() -> Self {
        Hist(vec![0; 10_000 + 60_000])
    }
    fn record(&mut self, us: u64) {
        let i = if us < 10_000 {
            us
        } else {
            10_000 + (us / 1000).min(59_999)
        };
        self.0[i as usize] += 1;
    }
    fn merge(&mut self, other: &Hist) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }
    fn quantile_ms(&self, q: f64) -> f64 {
        let total: u64 = self.0.iter().sum();
        let want = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.0.iter().enumerate() {
            seen += n;
            if seen >= want {
                return if i < 10_000 {
                    i as f64 / 1000.0
                } else {
                    (i - 10_000) as f64
                };
            }
        }
        f64::NAN
    }
}

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_us() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn main() {
    let o = parse_args();
    now_us(); // fix the epoch before any thread starts
    let shared = Arc::new(Shared::default());
    let rss_base = o.pid.map(|p| proc_kib(p, "VmRSS:"));
    let handles: Vec<_> = (0..o.threads)
        .map(|t| {
            let shared = shared.clone();
            std::thread::spawn(move || spool_runtime::block_on(thread_main(t, o, shared)))
        })
        .collect();
    let t0 = Instant::now();
    while shared.connected.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed) < o.users
    {
        std::thread::sleep(Duration::from_millis(50));
        if t0.elapsed() > Duration::from_secs(180) {
            break;
        }
    }
    let connected = shared.connected.load(Ordering::Relaxed);
    // A user connected on our side may still wait in the server's accept queue: measure only once
    // a warm-up line from user 0 has reached every other user.
    while shared.warmed.load(Ordering::Relaxed) < connected.saturating_sub(1)
        && t0.elapsed() < Duration::from_secs(240)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let connect_s = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2)); // let the server settle
    let rss_idle = o.pid.map(|p| proc_kib(p, "VmRSS:"));
    let cpu0 = o.pid.map(proc_cpu_s);
    let phase_start = Instant::now();
    shared
        .start
        .set(phase_start + Duration::from_millis(100))
        .unwrap();

    let expected = (o.senders as u64) * (o.rate as u64) * (o.secs as u64) * (connected as u64 - 1);
    let send_end = Instant::now() + Duration::from_secs(o.secs as u64) + Duration::from_millis(100);
    std::thread::sleep(send_end.saturating_duration_since(Instant::now()));
    let drain_end = Instant::now() + Duration::from_secs(o.drain_secs);
    while shared.delivered.load(Ordering::Relaxed) + shared.dropped.load(Ordering::Relaxed)
        < expected
        && Instant::now() < drain_end
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let phase_s = phase_start.elapsed().as_secs_f64();
    let cpu1 = o.pid.map(proc_cpu_s);
    let rss_peak = o.pid.map(|p| proc_kib(p, "VmHWM:"));
    shared.done.store(true, Ordering::Relaxed);
    let mut hist = Hist::new();
    for h in handles {
        hist.merge(&h.join().unwrap());
    }
    let per_user = match (rss_base, rss_idle) {
        (Some(b), Some(i)) => format!("{:.2}", (i as f64 - b as f64) / connected as f64),
        _ => "-".into(),
    };
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => format!("{:.2}", b - a),
        _ => "-".into(),
    };
    println!(
        "users={connected} connect_s={connect_s:.1} senders={} rate={} secs={} expected={expected} delivered={} dropped={} p50_ms={:.2} p99_ms={:.2} max_ms={:.1} server_idle_kib_per_user={per_user} server_rss_idle_mib={} server_rss_peak_mib={} server_cpu_s={cpu} phase_s={phase_s:.1}",
        o.senders,
        o.rate,
        o.secs,
        shared.delivered.load(Ordering::Relaxed),
        shared.dropped.load(Ordering::Relaxed),
        hist.quantile_ms(0.50),
        hist.quantile_ms(0.99),
        hist.quantile_ms(1.0),
        rss_idle.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        rss_peak.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
    );
}

/// One loop: connects users `t, t+T, t+2T, ...`, reads for all of them, sends for the senders.
async fn thread_main(t: usize, o: Opts, shared: Arc<Shared>) -> Hist {
    let hist = Rc::new(RefCell::new(Hist::new()));
    let local = Rc::new((Cell::new(0u64), Cell::new(0u64))); // delivered, dropped since last flush
    let mine: Vec<usize> = (t..o.users).step_by(o.threads).collect();
    for chunk in mine.chunks(100) {
        let streams = join_all(chunk.iter().map(|_| TcpStream::connect(o.addr))).await;
        for (&user, stream) in chunk.iter().zip(streams) {
            let Ok(stream) = stream else {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let stream = Rc::new(stream);
            spawn(reader(
                stream.clone(),
                hist.clone(),
                local.clone(),
                shared.clone(),
            ));
            if user == 0 {
                spawn(warm_up(stream.clone(), shared.clone()));
            }
            if user < o.senders {
                let offset = Duration::from_secs(1) * user as u32 / (o.senders as u32 * o.rate);
                spawn(sender(stream, shared.clone(), offset, o.rate, o.secs));
            }
            shared.connected.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Hand the local counts to the main thread every 20 ms until it says stop.
    while !shared.done.load(Ordering::Relaxed) {
        sleep(Duration::from_millis(20)).await;
        shared
            .delivered
            .fetch_add(local.0.replace(0), Ordering::Relaxed);
        shared
            .dropped
            .fetch_add(local.1.replace(0), Ordering::Relaxed);
    }
    let hist = std::mem::replace(&mut *hist.borrow_mut(), Hist::new());
    hist
}

/// Counts every line; a line ends with its send time in µs since the epoch.
async fn reader(
    stream: Rc<TcpStream>,
    hist: Rc<RefCell<Hist>>,
    local: Rc<(Cell<u64>, Cell<u64>)>,
    shared: Arc<Shared>,
) {
    let mut reader = BufReader::with_capacity(16 * 1024, &*stream);
    let mut line = Vec::new();
    let mut warmed = false;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = std::str::from_utf8(&line).unwrap_or("").trim_end();
        if text.ends_with(" warm-up") {
            if !std::mem::replace(&mut warmed, true) {
                shared.warmed.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        if let Some(notice) = text.strip_prefix("*** ") {
            let n: u64 = notice
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            local.1.set(local.1.get() + n);
            continue;
        }
        if let Some(sent) = text.rsplit(' ').next().and_then(|t| t.parse::<u64>().ok()) {
            hist.borrow_mut().record(now_us().saturating_sub(sent));
            local.0.set(local.0.get() + 1);
        }
    }
}

/// Until the measurement starts, user 0 says "warm-up" every 2 s (late joiners miss earlier ones).
async fn warm_up(stream: Rc<TcpStream>, shared: Arc<Shared>) {
    while shared.start.get().is_none() {
        if stream.write_all(b"warm-up\n").await.is_err() {
            return;
        }
        sleep(Duration::from_secs(2)).await;
    }
}

/// Sends `rate` lines/s for `secs` seconds from the shared start, shifted by `offset`.
async fn sender(
    stream: Rc<TcpStream>,
    shared: Arc<Shared>,
    offset: Duration,
    rate: u32,
    secs: u32,
) {
    let start = loop {
        if let Some(start) = shared.start.get() {
            break *start + offset;
        }
        sleep(Duration::from_millis(10)).await;
    };
    let period = Duration::from_secs(1) / rate;
    for k in 0..rate * secs {
        sleep_until(start + period * k).await;
        let line = format!("msg {k} {}\n", now_us());
        if stream.write_all(line.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn proc_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of `pid`, in seconds.
fn proc_cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0 // USER_HZ is 100 on Linux
}

fn num<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| panic!("bad value {value:?} for {flag}"))
}

fn parse_args() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:7000".parse().unwrap(),
        pid: None,
        users: 10_000,
        senders: 10,
        rate: 1,
        secs: 10,
        threads: 2,
        drain_secs: 10,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--addr" => o.addr = num(pair[0].as_str(), value),
            "--pid" => o.pid = Some(num(pair[0].as_str(), value)),
            "--users" => o.users = num(pair[0].as_str(), value),
            "--senders" => o.senders = num(pair[0].as_str(), value),
            "--rate" => o.rate = num(pair[0].as_str(), value),
            "--secs" => o.secs = num(pair[0].as_str(), value),
            "--threads" => o.threads = num(pair[0].as_str(), value),
            "--drain-secs" => o.drain_secs = num(pair[0].as_str(), value),
            other => {
                panic!("unknown option {other} (see the doc comment at the top of chat-load.rs)")
            }
        }
    }
    o
}
