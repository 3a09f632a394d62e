//! `fetch` and compressed bodies against real servers: nginx with `gzip on` and a Python server
//! (zlib from the standard library) answering `gzip` and `deflate`; `--raw`, `--compressed`,
//! `--max-body` on decoded bytes, `wire_bytes`; and `--max-redirects` with `final_url` and
//! `redirects` against nginx's redirects. nginx tests skip (with a notice) where nginx is missing,
//! unless `CI=true`.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::{line_for, run, Scratch};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::{Nginx, NginxOptions};

/// Text that compresses as pages do.
fn page(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0u64;
    while out.len() < len {
        out.extend_from_slice(format!("<li>item {i} of {}</li>\n", i * 7919 % 1013).as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

fn gzip_nginx(body: &[u8]) -> Option<Nginx> {
    Nginx::start(
        NginxOptions::new()
            .file("page.txt", body.to_vec())
            .redirect("/r1", 302, "/r2")
            .redirect("/r2", 301, "/page.txt")
            .server_conf("gzip on; gzip_types *; gzip_min_length 0; gzip_comp_level 6;"),
    )
}

#[test]
fn nginx_gzip_is_decoded_by_default_and_kept_with_raw() {
    let body = page(200_000);
    let Some(nginx) = gzip_nginx(&body) else {
        return;
    };
    let dir = Scratch::new("gzip");
    let saved = dir.path().to_str().unwrap();
    let url = nginx.url("/page.txt");
    for flags in [&[][..], &["--compressed"][..]] {
        let mut args = vec!["--no-progress", "--save-dir", saved, &url];
        args.extend_from_slice(flags);
        let ran = run(&args);
        assert_eq!(ran.code(), 0, "{ran:?}");
        let line = &ran.lines()[0];
        assert_eq!(line["bytes"], body.len() as u64, "{line}");
        let wire = line["wire_bytes"].as_u64().unwrap();
        assert!(wire > 0 && wire < body.len() as u64 / 3, "{line}");
        assert_eq!(std::fs::read(dir.path().join("0")).unwrap(), body);
    }
    // Asked for compression: nginx logged a gzip-sized response.
    let ran = run(&["--no-progress", "--raw", "--save-dir", saved, &url]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let line = &ran.lines()[0];
    // No Accept-Encoding was sent, so nginx did not compress.
    assert_eq!(line["bytes"], body.len() as u64, "{line}");
    assert_eq!(line["wire_bytes"], line["bytes"], "{line}");
    // --raw with the client's own Accept-Encoding: the gzip bytes exactly as sent.
    let ran = run(&[
        "--no-progress",
        "--raw",
        "-H",
        "Accept-Encoding: gzip",
        "--save-dir",
        saved,
        &url,
    ]);
    let line = &ran.lines()[0];
    let saved_bytes = std::fs::read(dir.path().join("0")).unwrap();
    assert_eq!(&saved_bytes[..2], b"\x1f\x8b", "a gzip member");
    assert_eq!(line["bytes"], saved_bytes.len() as u64, "{line}");
    assert_eq!(line["wire_bytes"], line["bytes"], "{line}");
}

#[test]
fn max_body_counts_decoded_bytes() {
    let body = page(200_000);
    let Some(nginx) = gzip_nginx(&body) else {
        return;
    };
    let ran = run(&[
        "--no-progress",
        "--max-body",
        "100000",
        &nginx.url("/page.txt"),
    ]);
    assert_eq!(ran.code(), 1, "{ran:?}");
    let line = &ran.lines()[0];
    assert_eq!(line["kind"], "max_body", "{line}");
    assert_eq!(line["bytes"], 100_000, "{line}");
    assert!(line["wire_bytes"].as_u64().unwrap() < 100_000, "{line}");
}

#[test]
fn max_redirects_and_the_final_url() {
    let body = page(1000);
    let Some(nginx) = gzip_nginx(&body) else {
        return;
    };
    let start = nginx.url("/r1");
    let ran = run(&["--no-progress", &start]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let line = &ran.lines()[0];
    assert_eq!(line["redirects"], 2, "{line}");
    assert_eq!(line["final_url"], nginx.url("/page.txt"), "{line}");
    assert_eq!(line["url"], start.as_str(), "{line}");

    // 0: the 3xx is the result.
    let ran = run(&["--no-progress", "--max-redirects", "0", &start]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let line = &ran.lines()[0];
    assert_eq!(
        (line["status"].as_u64(), line["redirects"].as_u64()),
        (Some(302), Some(0)),
        "{line}"
    );
    assert_eq!(line["final_url"], start.as_str(), "{line}");

    // 1: the second redirect is one too many.
    let ran = run(&["--no-progress", "--max-redirects", "1", &start]);
    assert_eq!(ran.code(), 1, "{ran:?}");
    let line = &ran.lines()[0];
    assert_eq!(line["kind"], "redirect", "{line}");
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    for (args, needle) in [
        (
            &["--max-redirects", "x", "http://127.0.0.1:9/"][..],
            "--max-redirects",
        ),
        (
            &["--max-redirects", "-1", "http://127.0.0.1:9/"][..],
            "--max-redirects",
        ),
        (
            &["--raw", "--compressed", "http://127.0.0.1:9/"][..],
            "--compressed",
        ),
    ] {
        let ran = run(args);
        assert_eq!(ran.code(), 2, "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(needle), "{args:?}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    }
}

/// A Python server answering `/gzip` and `/deflate` (zlib-wrapped) with the same page, and
/// `/plain` without a coding. Prints its port, then serves until killed.
const PY_SERVER: &str = r#"
import gzip, sys, zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
body = sys.stdin.buffer.read()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        coding = self.path.strip("/")
        data = {"gzip": lambda b: gzip.compress(b, mtime=0), "deflate": zlib.compress}.get(coding, lambda b: b)(body)
        self.send_response(200)
        if coding in ("gzip", "deflate"):
            self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Accept-Encoding", self.headers.get("Accept-Encoding", "none"))
        self.end_headers()
        self.wfile.write(data)
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

struct PyServer(Child, u16);

impl PyServer {
    fn start(body: &[u8]) -> PyServer {
        let mut child = Command::new("python3")
            .args(["-c", PY_SERVER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(body).unwrap();
        }
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the server's port");
        PyServer(child, port)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.1)
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn python_gzip_and_deflate_are_decoded() {
    let body = page(50_000);
    let server = PyServer::start(&body);
    let dir = Scratch::new("py");
    let ran = run(&[
        "--no-progress",
        "--save-dir",
        dir.path().to_str().unwrap(),
        &server.url("/gzip"),
        &server.url("/deflate"),
        &server.url("/plain"),
    ]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let lines = ran.lines();
    for index in 0..3u64 {
        let line = line_for(&lines, index);
        assert_eq!(line["bytes"], body.len() as u64, "{line}");
        assert_eq!(
            std::fs::read(dir.path().join(index.to_string())).unwrap(),
            body
        );
        let wire = line["wire_bytes"].as_u64().unwrap();
        if index < 2 {
            assert!(wire < body.len() as u64 / 3, "{line}");
        } else {
            assert_eq!(wire, body.len() as u64, "{line}");
        }
    }
}
