//! `fetch` through a forward proxy (`--proxy`, the proxy environment, `--noproxy`), against nginx
//! behind the in-process proxy of `tests/support/forward_proxy.rs` and behind a real `tinyproxy`
//! (`tests/support/tinyproxy.rs`); bad proxy input is exit 2.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::{assert_one_per_index, run, run_with};
use std::time::Duration;
use support::{free_port, ForwardProxy, Nginx, NginxOptions, TinyProxy};

fn nginx() -> Option<Nginx> {
    Nginx::start(NginxOptions::new().file("a.txt", "alpha"))
}

fn with_env(prefix: &str, args: &[&str]) -> fetch_util::Ran {
    run_with(args, None, Some(prefix), Duration::from_secs(60))
}

#[test]
fn proxy_flag_and_environment_route_requests_through_the_proxy() {
    let Some(nginx) = nginx() else { return };
    let proxy = ForwardProxy::require_auth("Basic dTpw");
    let url = nginx.url("/a.txt");
    let flag = format!("http://u:p@{}", proxy.addr());
    let ran = run(&["--no-progress", "--proxy", &flag, &url, &url]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let lines = ran.lines();
    assert!(lines.iter().all(|l| l["status"] == 200), "{lines:?}");
    assert!(!ran.stdout.contains("u:p@") && !ran.stderr.contains(":p@"));
    assert_eq!(proxy.seen().len(), 2);
    assert_eq!(proxy.seen()[0].line, format!("GET {url} HTTP/1.1"));

    // The same from the environment; --noproxy and --proxy "" turn it off.
    let env = format!("export http_proxy={flag} &&");
    let ran = with_env(&env, &["--no-progress", &url]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert_eq!(proxy.seen().len(), 3);
    let ran = with_env(
        &env,
        &["--no-progress", "--noproxy", "localhost,127.0.0.1", &url],
    );
    assert_eq!(ran.code(), 0, "{ran:?}");
    let ran = with_env(&env, &["--no-progress", "--proxy", "", &url]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let env_bypass = format!("export http_proxy={flag} NO_PROXY=127.0.0.0/8 &&");
    let ran = with_env(&env_bypass, &["--no-progress", &url]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert_eq!(proxy.seen().len(), 3, "bypassed requests went direct");
}

#[test]
fn many_urls_through_tinyproxy_each_get_one_whole_result() {
    // tinyproxy closes the client connection after every response (HTTP/1.0 to the client), so
    // every one of these requests needs a fresh proxy connection, eight at a time.
    let body = "x".repeat(10_000);
    let Some(nginx) = Nginx::start(NginxOptions::new().file("a.txt", body.clone())) else {
        return;
    };
    let Some(proxy) = TinyProxy::start_with_auth("fetch", "s3cret") else {
        return;
    };
    let n = 60;
    let urls: Vec<String> = (0..n).map(|i| nginx.url(&format!("/a.txt?{i}"))).collect();
    let mut args = vec!["--no-progress", "-c", "8", "--per-host", "8", "--proxy"];
    let flag = proxy.url(Some("fetch:s3cret"));
    args.push(&flag);
    args.extend(urls.iter().map(String::as_str));
    let ran = run(&args);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, n);
    assert!(
        lines
            .iter()
            .all(|l| l["status"] == 200 && l["bytes"] == 10_000),
        "{lines:?}"
    );
    assert!(!ran.stdout.contains("s3cret") && !ran.stderr.contains("s3cret"));
    assert_eq!(
        proxy.requests().len(),
        n,
        "every request went through tinyproxy"
    );
}

#[test]
fn a_failing_proxy_is_kind_proxy() {
    let Some(nginx) = nginx() else { return };
    let closed = format!("127.0.0.1:{}", free_port());
    let ran = run(&["--no-progress", "-x", &closed, &nginx.url("/a.txt")]);
    assert_eq!(ran.code(), 1, "{ran:?}");
    let line = &ran.lines()[0];
    assert_eq!(line["kind"], "proxy", "{line}");
    assert!(line["error"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
    assert_eq!(ran.summary()["proxy"], "1", "{}", ran.stderr);
    let wants_auth = ForwardProxy::require_auth("Basic x");
    let ran = run(&[
        "--no-progress",
        "-x",
        &wants_auth.url(),
        &nginx.url("/a.txt"),
    ]);
    assert_eq!(ran.lines()[0]["kind"], "proxy", "{ran:?}");
    assert!(ran.lines()[0]["error"].as_str().unwrap().contains("407"));
}

#[test]
fn bad_proxy_input_exits_2_naming_it() {
    let url = "http://127.0.0.1:9/";
    for (args, mentions) in [
        (vec!["--proxy", "socks5://127.0.0.1:1080", url], "--proxy"),
        (vec!["--proxy", "https://127.0.0.1:3128", url], "--proxy"),
        (vec!["--proxy", "http://p:99999", url], "--proxy"),
        (vec!["--noproxy", "a.test b.test", url], "--noproxy"),
    ] {
        let ran = run(&args);
        assert_eq!(ran.code(), 2, "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(mentions), "{args:?}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    }
    let ran = with_env("export HTTPS_PROXY=ftp://x:1 &&", &[url]);
    assert_eq!(ran.code(), 2, "{ran:?}");
    assert!(ran.stderr.contains("HTTPS_PROXY"), "{}", ran.stderr);
}
