//! Shared by the `fetch_*` tests: run the built `fetch` binary with a wall-clock bound, parse and check
//! its JSON lines and its summary line.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The binary under test.
pub const FETCH: &str = env!("CARGO_BIN_EXE_fetch");

/// What one run of `fetch` left behind.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The exit code (panics if killed by a signal).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("fetch died by a signal: {self:?}"))
    }

    /// stdout as JSON lines; panics on a line that is not a JSON object.
    pub fn lines(&self) -> Vec<Value> {
        parse_lines(&self.stdout)
    }

    /// The `key=value` tokens of the last `fetch: urls=` line on stderr.
    pub fn summary(&self) -> HashMap<String, String> {
        parse_summary(&self.stderr)
    }
}

/// Run `fetch args` with only 64 descriptors allowed and 40 of them already taken behind the tool's
/// back (inherited), so that its plan is wrong and sockets really run out; check that it waited and
/// retried (`fd_retries` > 0) and that every one of `n` URLs got a 200.
pub fn run_starved_of_descriptors(args: &[&str], n: usize, limit: Duration) -> Ran {
    let hog = "ulimit -n 64 && for i in $(seq 40); do exec {fd}</dev/null; done &&";
    let ran = run_with(args, None, Some(hog), limit);
    assert_eq!(ran.code(), 0, "{}", ran.stderr);
    let s = ran.summary();
    // Printed so a passing run shows its margin (`--nocapture`).
    eprintln!("descriptor-starved run: fd_retries={}", s["fd_retries"]);
    assert!(
        s["fd_retries"].parse::<u64>().unwrap() > 0,
        "descriptors never ran out: {}",
        ran.stderr
    );
    let lines = ran.lines();
    assert_one_per_index(&lines, n);
    assert!(
        lines.iter().all(|l| l["status"] == 200),
        "every URL succeeds: {}",
        ran.stderr
    );
    ran
}

/// Run `fetch args`, after the bash commands `shell_prefix` when given (e.g. `ulimit -n 64 &&`),
/// feeding `stdin`, killing it after `limit`.
pub fn run_with(
    args: &[&str],
    stdin: Option<&[u8]>,
    shell_prefix: Option<&str>,
    limit: Duration,
) -> Ran {
    let mut cmd = match shell_prefix {
        None => {
            let mut c = Command::new(FETCH);
            c.args(args);
            c
        }
        Some(prefix) => {
            // The arguments go to bash as "$0" "$@", so they need no quoting.
            let mut c = Command::new("bash");
            c.arg("-c")
                .arg(format!("{prefix} exec \"$0\" \"$@\""))
                .arg(FETCH)
                .args(args);
            c
        }
    };
    // Loopback only: make sure no proxy setting could send a request elsewhere.
    for var in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start fetch");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for fetch") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fetch {args:?} did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    Ran {
        status,
        stdout: String::from_utf8(out_reader.join().unwrap()).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
    }
}

/// Run `fetch args` with a 60 s bound.
pub fn run(args: &[&str]) -> Ran {
    run_with(args, None, None, Duration::from_secs(60))
}

/// Every line a JSON object with the fixed fields of the right types.
pub fn parse_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            check_fields(&v, line);
            v
        })
        .collect()
}

fn check_fields(v: &Value, line: &str) {
    assert!(v["index"].is_u64(), "index: {line}");
    assert!(v["url"].is_string(), "url: {line}");
    assert!(v["bytes"].is_u64(), "bytes: {line}");
    assert!(
        v["ms"].is_number() && v["ms"].as_f64().unwrap() >= 0.0,
        "ms: {line}"
    );
    match &v["error"] {
        Value::Null => assert!(v["status"].is_u64(), "status with no error: {line}"),
        Value::String(_) => {
            assert!(
                v["status"].is_null(),
                "status must be null with an error: {line}"
            );
            assert!(v["kind"].is_string(), "kind: {line}");
        }
        _ => panic!("error must be null or a string: {line}"),
    }
}

/// Exactly one line per input index `0..n`.
pub fn assert_one_per_index(lines: &[Value], n: usize) {
    let indices: Vec<u64> = lines.iter().map(|v| v["index"].as_u64().unwrap()).collect();
    let unique: BTreeSet<u64> = indices.iter().copied().collect();
    assert_eq!(indices.len(), n, "one line per URL");
    assert_eq!(unique, (0..n as u64).collect(), "every index exactly once");
}

/// The line with `index`.
pub fn line_for(lines: &[Value], index: u64) -> &Value {
    lines
        .iter()
        .find(|v| v["index"] == index)
        .unwrap_or_else(|| panic!("no line for index {index}"))
}

pub fn parse_summary(stderr: &str) -> HashMap<String, String> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("fetch: urls="))
        .unwrap_or_else(|| panic!("no summary line in stderr: {stderr}"));
    line.split([' ', '(', ')'])
        .filter_map(|tok| tok.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A private directory under the system temp dir, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("fetch-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write `bytes` to `name` inside; returns the path as a string.
    pub fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
