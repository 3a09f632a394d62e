//! Command-line parsing tests: defaults, every flag, usage errors.

use super::*;

fn ok(args: &[&str]) -> Config {
    match parse(std::iter::once("fetch").chain(args.iter().copied())) {
        Ok(c) => c,
        Err(e) => panic!("{args:?}: {e:?}"),
    }
}

fn usage(args: &[&str]) -> String {
    match parse(std::iter::once("fetch").chain(args.iter().copied())) {
        Err(CliExit::Usage(e)) => e.to_string(),
        other => panic!("{args:?} should be a usage error, got {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = ok(&["http://a/"]);
    assert_eq!(c.concurrency, 256);
    assert_eq!(c.per_host, 8);
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.connect_timeout, Duration::from_secs(10));
    assert_eq!(c.method, "GET");
    assert_eq!(c.max_body, None);
    assert!(c.progress);
    assert_eq!(
        c.source,
        Source::Urls {
            urls: vec!["http://a/".into()],
            file: None
        }
    );
}

#[test]
fn no_urls_means_demo() {
    assert_eq!(ok(&[]).source, Source::Demo { count: 10_000 });
    assert_eq!(ok(&["--demo"]).source, Source::Demo { count: 10_000 });
    assert_eq!(ok(&["--demo", "500"]).source, Source::Demo { count: 500 });
    assert_eq!(
        ok(&["--demo=7", "-c", "3"]).source,
        Source::Demo { count: 7 }
    );
}

#[test]
fn every_flag() {
    let c = ok(&[
        "-i",
        "list.txt",
        "-c",
        "9",
        "--per-host",
        "0",
        "--timeout",
        "1.5",
        "--connect-timeout",
        "0.25",
        "--max-body",
        "100",
        "-X",
        "PUT",
        "-H",
        "A: b ",
        "-H",
        "X-Y:z",
        "-d",
        "hi",
        "--save-dir",
        "d",
        "-o",
        "out",
        "--no-progress",
        "http://x/",
    ]);
    assert_eq!(c.concurrency, 9);
    assert_eq!(c.per_host, 0);
    assert_eq!(c.timeout, Duration::from_millis(1500));
    assert_eq!(c.connect_timeout, Duration::from_millis(250));
    assert_eq!(c.max_body, Some(100));
    assert_eq!(c.method, "PUT");
    assert_eq!(
        c.headers[0],
        Header {
            name: "A".into(),
            value: "b".into()
        }
    );
    assert_eq!(
        c.headers[1],
        Header {
            name: "X-Y".into(),
            value: "z".into()
        }
    );
    assert_eq!(c.data.as_deref(), Some(&b"hi"[..]));
    assert_eq!(c.save_dir, Some(PathBuf::from("d")));
    assert_eq!(c.output, Some(PathBuf::from("out")));
    assert!(!c.progress);
    assert_eq!(
        c.source,
        Source::Urls {
            urls: vec!["http://x/".into()],
            file: Some("list.txt".into())
        }
    );
}

#[test]
fn data_implies_post() {
    assert_eq!(ok(&["-d", "x", "http://a/"]).method, "POST");
    assert_eq!(ok(&["-d", "x", "-X", "PATCH", "http://a/"]).method, "PATCH");
}

#[test]
fn usage_errors_are_one_line_with_a_hint() {
    for args in [
        &["-c", "0", "http://a/"][..],
        &["-c", "many", "http://a/"],
        &["--timeout", "0", "http://a/"],
        &["--timeout", "-1", "http://a/"],
        &["--timeout", "NaN", "http://a/"],
        &["--connect-timeout", "x", "http://a/"],
        &["-H", "NoColon", "http://a/"],
        &["-H", "Bad Name: v", "http://a/"],
        &["-H", ": v", "http://a/"],
        &["-X", "GE T", "http://a/"],
        &["-d", "@/nonexistent/file", "http://a/"],
        &["--bogus"],
        &["--demo", "5", "http://a/"],
        &["--demo", "-i", "f"],
        &["--max-body", "-3", "http://a/"],
    ] {
        let msg = usage(args);
        assert!(!msg.contains('\n'), "{args:?}: {msg}");
        assert!(msg.starts_with("fetch: "), "{msg}");
        assert!(msg.ends_with("(try 'fetch --help')"), "{msg}");
    }
}

#[test]
fn help_is_info() {
    assert!(
        matches!(parse(["fetch", "--help"]), Err(CliExit::Info(t)) if t.contains("--per-host"))
    );
}
