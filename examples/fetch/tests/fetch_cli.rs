//! The `fetch` command line: usage errors (exit 2, one line naming the problem, a `--help` hint, nothing
//! on stdout), `--help`, and files named on the command line that cannot be used.

mod fetch_util;

use fetch_util::{run, Scratch};

fn assert_usage_error(args: &[&str], mentions: &str) {
    let ran = run(args);
    assert_eq!(ran.code(), 2, "{args:?}: {ran:?}");
    assert_eq!(ran.stdout, "", "{args:?}: nothing on stdout");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line: {:?}", ran.stderr);
    assert!(lines[0].starts_with("fetch: "), "{}", lines[0]);
    assert!(lines[0].contains("--help"), "{}", lines[0]);
    assert!(
        lines[0].contains(mentions),
        "{args:?}: {:?} should mention {mentions:?}",
        lines[0]
    );
    assert!(!ran.stderr.contains("panicked"));
}

#[test]
fn bad_flags_and_values_exit_2_with_one_line() {
    let url = "http://127.0.0.1:9/";
    assert_usage_error(&["--no-such-flag", url], "--no-such-flag");
    assert_usage_error(&["-c", "0", url], "--concurrency");
    assert_usage_error(&["-c", "lots", url], "--concurrency");
    assert_usage_error(&["--per-host", "-1", url], "-1");
    assert_usage_error(&["--timeout", "0", url], "--timeout");
    assert_usage_error(&["--timeout", "soon", url], "--timeout");
    assert_usage_error(&["--connect-timeout", "-2", url], "--connect-timeout");
    assert_usage_error(&["--max-body", "big", url], "--max-body");
    assert_usage_error(&["-H", "no colon here", url], "no colon here");
    assert_usage_error(&["-H", "Bad Name: x", url], "Bad Name");
    assert_usage_error(&["--header", "X: a\u{1}b", url], "control character");
    assert_usage_error(&["-X", "G(T", url], "G(T");
    assert_usage_error(&["--demo", "ten"], "ten");
    assert_usage_error(&["--demo", "5", url], "--demo");
    assert_usage_error(&["-c"], "-c");
}

#[test]
fn unusable_files_exit_2() {
    let dir = Scratch::new("cli-files");
    let missing = dir.path().join("missing.txt");
    assert_usage_error(&["-i", missing.to_str().unwrap()], "missing.txt");
    let data = format!("@{}", missing.display());
    assert_usage_error(&["-d", &data, "http://127.0.0.1:9/"], "missing.txt");
    let out = dir.path().join("no/such/dir/out.jsonl");
    assert_usage_error(
        &["-o", out.to_str().unwrap(), "http://127.0.0.1:9/"],
        "out.jsonl",
    );
    let not_a_dir = dir.file("plain", b"x");
    assert_usage_error(
        &[
            "--save-dir",
            &format!("{not_a_dir}/sub"),
            "http://127.0.0.1:9/",
        ],
        "--save-dir",
    );
}

#[test]
fn help_lists_every_flag_and_exits_0() {
    let ran = run(&["--help"]);
    assert_eq!(ran.code(), 0);
    for flag in [
        "--input",
        "--concurrency",
        "--per-host",
        "--timeout",
        "--connect-timeout",
        "--max-body",
        "--method",
        "--header",
        "--data",
        "--save-dir",
        "--output",
        "--no-progress",
        "--demo",
        "--ca-file",
        "--dns-server",
        "--resolve",
        "--threads",
        "--driver",
    ] {
        assert!(ran.stdout.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn a_driver_that_is_not_one_is_a_usage_error() {
    let url = "http://127.0.0.1:9/";
    assert_usage_error(&["--driver", "kqueue", url], "--driver");
    assert_usage_error(&["--driver", "kqueue", url], "kqueue");
    // The environment's default is checked the same way.
    let ran = fetch_util::run_with(
        &[url],
        None,
        Some("SPOOL_DRIVER=kqueue"),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(ran.code(), 2, "{ran:?}");
    assert!(ran.stderr.contains("SPOOL_DRIVER=\"kqueue\""), "{ran:?}");
}

#[test]
fn the_summary_names_the_driver_that_ran() {
    let driver_in = |ran: &fetch_util::Ran| {
        let summary = ran.stderr.lines().last().unwrap_or_default().to_string();
        summary
            .split_whitespace()
            .find_map(|t| t.strip_prefix("driver="))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no driver= in {summary:?}"))
    };
    let epoll = run(&["--demo", "20", "--driver", "epoll"]);
    assert_eq!(epoll.code(), 0, "{epoll:?}");
    assert_eq!(driver_in(&epoll), "epoll");
    // Auto is resolved: the summary says which driver it took, never "auto".
    let auto = run(&["--demo", "20", "--driver", "auto"]);
    assert_eq!(auto.code(), 0, "{auto:?}");
    let took = driver_in(&auto);
    assert!(took == "epoll" || took == "io_uring", "{took}");
    // An explicit io_uring runs on io_uring, or (where the kernel refuses it, and only there: then Auto
    // took epoll) is a usage error naming the reason; never a silent fallback.
    let uring = run(&["--demo", "20", "--driver", "io_uring"]);
    if took == "io_uring" {
        assert_eq!(uring.code(), 0, "{uring:?}");
        assert_eq!(driver_in(&uring), "io_uring");
    } else {
        assert_eq!(uring.code(), 2, "{uring:?}");
        assert!(
            uring.stderr.contains("cannot use --driver io_uring: "),
            "{uring:?}"
        );
    }
}
