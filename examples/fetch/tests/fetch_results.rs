//! `fetch` against real local servers: the JSON lines (valid, one per input URL whatever happens),
//! exit statuses, timeouts, `--save-dir`, `--max-body`, `-X`/`-H`/`-d`, `-o`, stdin input, the per-host
//! limit and fairness. nginx tests skip (with a notice) where nginx is missing, unless `CI=true`.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::{assert_one_per_index, line_for, run, run_with, Scratch};
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;
use support::{free_port, Nginx, NginxOptions};

/// Every byte value, then some: a text-only path would be caught.
fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

fn files() -> NginxOptions {
    NginxOptions::new()
        .file("small.txt", "hello\n")
        .file("empty", "")
        .file("bin", binary(300_001))
        .file("big", vec![b'x'; 100_000])
}

#[test]
fn one_valid_line_per_input_url_whatever_happens() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let refused = format!("http://127.0.0.1:{}/", free_port());
    let dir = Scratch::new("mixed");
    let list = format!(
        "# a comment\n\n{}\n   {}   \nnot a url\nftp://127.0.0.1/x\n{refused}\n{}\r\nhttp://127.0.0.1:99999/\n",
        nginx.url("/small.txt"),
        nginx.url("/missing"),
        nginx.url("/bin"),
    );
    let input = dir.file("urls.txt", list.as_bytes());
    let ran = run(&["--no-progress", &nginx.url("/empty"), "-i", &input]);
    assert_eq!(ran.code(), 1, "some URLs failed: {ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, 8);
    let expect = [
        (0, Some(200), 0, None),
        (1, Some(200), 6, None),
        (2, Some(404), -1, None),
        (3, None, 0, Some("invalid_url")),
        (4, None, 0, Some("invalid_url")),
        (5, None, 0, Some("connect")),
        (6, Some(200), 300_001, None),
        (7, None, 0, Some("invalid_url")),
    ];
    for (index, status, bytes, kind) in expect {
        let l = line_for(&lines, index);
        assert_eq!(l["status"].as_u64(), status, "{l}");
        if bytes >= 0 {
            assert_eq!(l["bytes"], bytes, "{l}");
        }
        assert_eq!(l["kind"].as_str(), kind, "{l}");
        assert_eq!(l["error"].is_null(), kind.is_none(), "{l}");
    }
    assert_eq!(
        line_for(&lines, 1)["url"],
        nginx.url("/small.txt"),
        "trimmed"
    );
    assert_eq!(line_for(&lines, 3)["url"], "not a url");
    let s = ran.summary();
    assert_eq!(
        (&*s["urls"], &*s["ok"], &*s["http_err"], &*s["err"]),
        ("8", "3", "1", "4")
    );
    assert_eq!(s["connect"], "1");
}

#[test]
fn exit_0_when_every_url_got_a_response_even_404() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let ran = run(&[
        &nginx.url("/small.txt"),
        &nginx.url("/nope"),
        &nginx.close_url("/small.txt"),
    ]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert_one_per_index(&ran.lines(), 3);
    let s = ran.summary();
    assert_eq!((&*s["ok"], &*s["http_err"], &*s["err"]), ("2", "1", "0"));
    assert!(s["wall_s"].parse::<f64>().unwrap() > 0.0);
    assert!(s["peak_rss_mib"].parse::<f64>().unwrap() > 0.0);
    assert!(s["bytes"].parse::<u64>().unwrap() >= 12);
}

#[test]
fn timeouts_give_their_own_lines_and_the_rest_go_on() {
    // A server that accepts connections (the kernel does, into the backlog) but never answers.
    let silent = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let silent_url = format!(
        "http://127.0.0.1:{}/never",
        silent.local_addr().unwrap().port()
    );
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let mut args = vec![
        "--timeout".to_string(),
        "0.5".into(),
        nginx.url("/small.txt"),
    ];
    args.push(silent_url.clone());
    if nginx.has_echo() {
        args.push(nginx.url("/slow?ms=5000"));
        // Head at once, then the body stalls: the limit covers the body too.
        args.push(nginx.url("/stall?ms=5000"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ran = run(&args);
    assert_eq!(ran.code(), 1);
    let lines = ran.lines();
    assert_one_per_index(&lines, args.len() - 2);
    assert_eq!(line_for(&lines, 0)["status"], 200);
    for index in 1..(args.len() - 2) as u64 {
        let l = line_for(&lines, index);
        assert_eq!(l["kind"], "timeout", "{l}");
        assert!(l["status"].is_null());
        assert!(l["ms"].as_f64().unwrap() >= 450.0, "{l}");
    }
    drop(silent);
}

#[test]
fn save_dir_holds_the_servers_bytes() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let dir = Scratch::new("save");
    let save = dir.path().join("bodies");
    let paths = [
        "/bin",
        "/empty",
        "/chunked/bin",
        "/small.txt",
        "/big",
        "/missing",
    ];
    // One of them over the port that closes after each response: a close-delimited read path.
    let urls: Vec<String> = paths
        .iter()
        .map(|p| {
            if *p == "/big" {
                nginx.close_url(p)
            } else {
                nginx.url(p)
            }
        })
        .collect();
    let mut args = vec!["--save-dir", save.to_str().unwrap()];
    args.extend(urls.iter().map(String::as_str));
    let ran = run(&args);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, urls.len());
    for (i, path) in paths.iter().enumerate() {
        let saved = std::fs::read(save.join(i.to_string())).unwrap_or_else(|e| panic!("{i}: {e}"));
        let raw = support::raw::get(nginx.port(), path);
        assert_eq!(saved.len(), raw.body.len(), "{path}");
        assert!(
            saved == raw.body,
            "{path}: saved bytes differ from the server's"
        );
        assert_eq!(line_for(&lines, i as u64)["bytes"], saved.len());
    }
}

#[test]
fn max_body_stops_the_read_and_reports() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let ran = run(&[
        "--max-body",
        "1000",
        &nginx.url("/big"),
        &nginx.url("/small.txt"),
        &nginx.url("/chunked/big"),
    ]);
    assert_eq!(ran.code(), 1);
    let lines = ran.lines();
    assert_one_per_index(&lines, 3);
    for index in [0, 2] {
        let l = line_for(&lines, index);
        assert_eq!(l["kind"], "max_body", "{l}");
        assert!(l["error"].as_str().unwrap().contains("--max-body"), "{l}");
        assert_eq!(l["response_status"], 200, "{l}");
        assert!(l["bytes"].as_u64().unwrap() <= 1000, "{l}");
    }
    assert_eq!(line_for(&lines, 1)["status"], 200);
    let ok = run(&["--max-body", "100000", &nginx.url("/big")]);
    assert_eq!(ok.code(), 0, "a body of exactly --max-body is fine: {ok:?}");
}

#[test]
fn method_headers_and_data_reach_the_server() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    if !nginx.require_echo() {
        return;
    }
    let dir = Scratch::new("mhd");
    let save = dir.path().join("s");
    let save = save.to_str().unwrap();
    let data_file = dir.file("payload", &binary(5000));

    let ran = run(&[
        "-X",
        "PUT",
        "-H",
        "X-One: 1",
        "--header",
        "X-Two:  two words ",
        "--save-dir",
        save,
        &nginx.url("/echo/headers"),
    ]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    // Field names are case-insensitive (RFC 9110 §5.1); the client may send them in lower case.
    let head = std::fs::read_to_string(format!("{save}/0"))
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.starts_with("put /echo/headers http/1.1\r\n"), "{head}");
    assert!(
        head.contains("\r\nx-one: 1\r\n") && head.contains("\r\nx-two: two words\r\n"),
        "{head}"
    );

    let at = format!("@{data_file}");
    let ran = run(&[
        "-d",
        &at,
        "--save-dir",
        save,
        &nginx.url("/echo/body"),
        &nginx.url("/echo/body"),
    ]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    for i in 0..2 {
        assert!(
            std::fs::read(format!("{save}/{i}")).unwrap() == binary(5000),
            "body {i} echoed"
        );
    }
    let ran = run(&[
        "--data",
        "a=1&b=2",
        "--save-dir",
        save,
        &nginx.url("/echo/body"),
    ]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert_eq!(
        std::fs::read_to_string(format!("{save}/0")).unwrap(),
        "a=1&b=2"
    );
    let methods: Vec<String> = nginx
        .wait_for_requests(4)
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["PUT", "POST", "POST", "POST"]);
}

#[test]
fn urls_from_stdin_and_results_to_a_file() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let dir = Scratch::new("stdin");
    let out = dir.path().join("out.jsonl");
    let list = format!(
        "{}\n#skip\n\n{}\n",
        nginx.url("/small.txt"),
        nginx.url("/empty")
    );
    let ran = run_with(
        &["-i", "-", "-o", out.to_str().unwrap(), "--no-progress"],
        Some(list.as_bytes()),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert_eq!(ran.stdout, "", "results went to the file");
    let lines = fetch_util::parse_lines(&std::fs::read_to_string(&out).unwrap());
    assert_one_per_index(&lines, 2);
    assert_eq!(line_for(&lines, 1)["url"], nginx.url("/empty"));
}

#[test]
fn per_host_limit_caps_connections() {
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let dir = Scratch::new("perhost");
    let list: String = (0..300)
        .map(|i| format!("{}?{i}\n", nginx.url("/small.txt")))
        .collect();
    let input = dir.file("urls", list.as_bytes());
    let ran = run(&["-i", &input, "-c", "50", "--per-host", "3"]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert_one_per_index(&ran.lines(), 300);
    nginx.wait_for_requests(300);
    let conns = nginx.accepted_connections();
    assert!(
        (1..=3).contains(&conns),
        "--per-host 3 opened {conns} connections"
    );
}

#[test]
fn a_stuck_host_does_not_hold_back_the_others() {
    // The stuck host accepts (into its backlog) and never answers; its URLs come first in the input.
    let stuck = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let stuck_port = stuck.local_addr().unwrap().port();
    let Some(nginx) = Nginx::start(files()) else {
        return;
    };
    let dir = Scratch::new("fair");
    let mut list: String = (0..6)
        .map(|i| format!("http://127.0.0.1:{stuck_port}/{i}\n"))
        .collect();
    list.extend((0..100).map(|i| format!("{}?{i}\n", nginx.url("/small.txt"))));
    let input = dir.file("urls", list.as_bytes());
    let ran = run(&[
        "-i",
        &input,
        "-c",
        "10",
        "--per-host",
        "2",
        "--timeout",
        "2",
    ]);
    assert_eq!(ran.code(), 1);
    let lines = ran.lines();
    assert_one_per_index(&lines, 106);
    // Lines are written as URLs finish: every fast URL finished before the first stuck one timed out.
    let first_stuck = lines
        .iter()
        .position(|l| l["index"].as_u64().unwrap() < 6)
        .unwrap();
    assert!(
        first_stuck >= 100,
        "only {first_stuck} fast URLs finished before a stuck one"
    );
    assert!(lines[100..].iter().all(|l| l["kind"] == "timeout"));
    drop(stuck);
}

#[test]
fn connect_timeout_limits_the_connect() {
    // A listener with a backlog of 0 whose one queue place is taken: the kernel drops further SYNs,
    // so a connect neither succeeds nor fails until a limit ends it.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let fillers: Vec<_> = (0..3)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    let url = format!("http://{addr}/");
    let ran = run(&["--connect-timeout", "0.3", "--timeout", "20", &url]);
    assert_eq!(ran.code(), 1, "{ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, 1);
    let l = &lines[0];
    assert_eq!(l["kind"], "timeout", "{l}");
    assert!(l["error"].as_str().unwrap().contains("connect"), "{l}");
    // Ended by the 0.3 s connect limit, not the 20 s request limit.
    assert!(l["ms"].as_f64().unwrap() < 10_000.0, "{l}");
    drop(fillers);
}

#[test]
fn redirects_are_followed_and_loops_reported() {
    let options = files()
        .redirect("/old", 302, "/small.txt")
        .redirect("/loop", 302, "/loop");
    let Some(nginx) = Nginx::start(options) else {
        return;
    };
    let ran = run(&[&nginx.url("/old"), &nginx.url("/loop")]);
    assert_eq!(ran.code(), 1, "{ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, 2);
    let followed = line_for(&lines, 0);
    assert_eq!(
        (followed["status"].as_u64(), followed["bytes"].as_u64()),
        (Some(200), Some(6)),
        "{followed}"
    );
    assert_eq!(line_for(&lines, 1)["kind"], "redirect");
}
