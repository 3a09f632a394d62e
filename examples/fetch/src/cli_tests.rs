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

#[test]
fn dns_server_and_resolve_are_repeatable() {
    let c = ok(&[
        "--dns-server",
        "127.0.0.1:5353",
        "--dns-server",
        "::1",
        "--resolve",
        "a.example:80:127.0.0.1",
        "--resolve",
        "b.example:8443:127.0.0.2,[::1]",
        "http://a.example/",
    ]);
    assert_eq!(
        c.dns_servers,
        [
            "127.0.0.1:5353".parse().unwrap(),
            "[::1]:53".parse().unwrap()
        ]
    );
    assert_eq!(c.resolve.len(), 2);
    assert_eq!(
        (c.resolve[0].host.as_str(), c.resolve[0].port),
        ("a.example", 80)
    );
    assert_eq!(
        c.resolve[1].addrs,
        [
            "127.0.0.2".parse::<std::net::IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ]
    );
    let plain = ok(&["http://a/"]);
    assert!(plain.dns_servers.is_empty() && plain.resolve.is_empty() && plain.ca_certs.is_empty());
}

#[test]
fn bad_dns_server_resolve_and_ca_file_values_are_usage_errors() {
    for (args, mentions) in [
        (&["--dns-server", "localhost", "http://a/"][..], "localhost"),
        (&["--dns-server", "127.0.0.1:0", "http://a/"], "127.0.0.1:0"),
        (&["--dns-server", "1.2.3.4:99999", "http://a/"], "99999"),
        (&["--resolve", "a.example:80", "http://a/"], "a.example:80"),
        (
            &["--resolve", "a.example:x:127.0.0.1", "http://a/"],
            "--resolve",
        ),
        (&["--resolve", "a.example:80:nope", "http://a/"], "nope"),
        (
            &["--ca-file", "/nonexistent/ca.pem", "http://a/"],
            "/nonexistent/ca.pem",
        ),
    ] {
        let msg = usage(args);
        assert!(!msg.contains('\n'), "{args:?}: {msg}");
        assert!(msg.contains(mentions), "{args:?}: {msg}");
        assert!(msg.ends_with("(try 'fetch --help')"), "{msg}");
    }
}

#[test]
fn ca_file_without_a_certificate_is_a_usage_error_naming_it() {
    let path = std::env::temp_dir().join(format!("fetch-cli-ca-{}.pem", std::process::id()));
    std::fs::write(&path, "not a certificate\n").unwrap();
    let msg = usage(&["--ca-file", path.to_str().unwrap(), "http://a/"]);
    let _ = std::fs::remove_file(&path);
    assert!(msg.contains("invalid --ca-file"), "{msg}");
    assert!(msg.contains(path.to_str().unwrap()), "{msg}");
    assert!(msg.contains("no PEM certificate"), "{msg}");
}
