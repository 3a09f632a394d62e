//! spool-client through a forward proxy: plain http in absolute form and https through CONNECT
//! tunnels, to nginx (plain and TLS) behind the in-process proxy of `support/forward_proxy.rs`.
//!
//! Checks what reached the proxy (request lines, `Proxy-Authorization`), that the connection to the
//! proxy is kept alive and pooled apart from direct ones, that bypassed hosts go direct without the
//! proxy's credentials, and that each way a proxy fails is `ErrorKind::Proxy`.
//!
//! Skips with a notice when nginx or openssl is missing, unless `CI=true`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use spool_client::tls::Certificate;
use spool_client::{Client, ErrorKind, NoProxy, Proxy};
use support::{run, ForwardProxy, Nginx, NginxOptions, TestCerts};

/// base64("user:p@ss"), what `user:p%40ss@` in the proxy URL must become.
const CREDS: &str = "Basic dXNlcjpwQHNz";

fn nginx() -> Option<Nginx> {
    Nginx::start(
        NginxOptions::new()
            .file("a.txt", "alpha")
            .file("b.txt", "bravo"),
    )
}

fn through(proxy: &str) -> Client {
    Client::builder()
        .proxy(Proxy::all(proxy).unwrap())
        .build()
        .unwrap()
}

#[test]
fn plain_http_goes_in_absolute_form_over_one_kept_alive_proxy_connection() {
    let Some(nginx) = nginx() else { return };
    let proxy = ForwardProxy::require_auth(CREDS);
    let client = through(&format!("http://user:p%40ss@{}", proxy.addr()));
    run(async {
        for i in 0..4 {
            let path = if i % 2 == 0 { "/a.txt" } else { "/b.txt" };
            let r = client.get(nginx.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let text = r.text().await.unwrap();
            assert_eq!(text, if i % 2 == 0 { "alpha" } else { "bravo" });
        }
    });
    let seen = proxy.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(
        seen[0].line,
        format!("GET http://127.0.0.1:{}/a.txt HTTP/1.1", nginx.port())
    );
    assert!(seen
        .iter()
        .all(|s| s.authorization.as_deref() == Some(CREDS)));
    assert_eq!(proxy.accepted(), 1, "the proxy connection is reused");
    assert_eq!(nginx.wait_for_requests(4).len(), 4);
}

#[test]
fn https_goes_through_a_connect_tunnel_with_tls_to_the_origin() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let Some(nginx) = Nginx::start(
        NginxOptions::new()
            .tls(certs.cert(), certs.key())
            .file("a.txt", "alpha"),
    ) else {
        return;
    };
    let proxy = ForwardProxy::require_auth(CREDS);
    let client = Client::builder()
        .add_root_certificate(Certificate::from_pem(&certs.ca_pem()).unwrap())
        .proxy(Proxy::https(&format!("user:p%40ss@{}", proxy.addr())).unwrap())
        .build()
        .unwrap();
    run(async {
        for _ in 0..3 {
            let r = client.get(nginx.tls_url("/a.txt")).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "alpha");
        }
    });
    let seen = proxy.seen();
    let port = nginx.tls_port().unwrap();
    assert_eq!(seen.len(), 1, "one tunnel, kept alive: {seen:?}");
    assert_eq!(seen[0].line, format!("CONNECT 127.0.0.1:{port} HTTP/1.1"));
    assert_eq!(seen[0].authorization.as_deref(), Some(CREDS));
    assert_eq!(nginx.distinct_connections(3), 1);
}

#[test]
fn direct_and_proxied_connections_are_pooled_apart() {
    let Some(nginx) = nginx() else { return };
    let proxy = ForwardProxy::start();
    let direct = Client::builder().no_proxy().build().unwrap();
    let proxied = through(&proxy.url());
    run(async {
        let r = direct.get(nginx.url("/a.txt")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "alpha");
        let r = proxied.get(nginx.url("/a.txt")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "alpha");
    });
    assert_eq!(proxy.seen().len(), 1);
    // And within one client: a bypassed request does not ride the proxy connection.
    let proxy = ForwardProxy::start();
    let client = Client::builder()
        .proxy(Proxy::http(&proxy.url()).unwrap())
        .build()
        .unwrap();
    let bypassing = Client::builder()
        .proxy(Proxy::http(&proxy.url()).unwrap())
        .proxy_bypass(NoProxy::parse("127.0.0.1"))
        .build()
        .unwrap();
    run(async {
        let r = client.get(nginx.url("/b.txt")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "bravo");
        let r = bypassing.get(nginx.url("/b.txt")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "bravo");
    });
    assert_eq!(proxy.seen().len(), 1, "the bypassed request went direct");
}

/// An origin that records each request head and answers `ok`.
fn recording_origin() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if line == "\r\n" {
                    seen.lock().unwrap().push(std::mem::take(&mut head));
                    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    continue;
                }
                head.push_str(&line);
            }
        }
    });
    (format!("http://{addr}/x"), heads)
}

#[test]
fn bypassed_hosts_never_see_the_proxy_credentials() {
    let (url, heads) = recording_origin();
    let client = Client::builder()
        .proxy(Proxy::all("http://user:secret@127.0.0.1:9").unwrap())
        .proxy_bypass(NoProxy::parse("localhost, 127.0.0.0/8"))
        .build()
        .unwrap();
    run(async {
        let r = client.get(&*url).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "ok");
    });
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 1);
    assert!(heads[0].starts_with("GET /x HTTP/1.1\r\n"), "{heads:?}");
    assert!(
        !heads[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization"),
        "{heads:?}"
    );
}

#[test]
fn proxy_failures_are_their_own_kind() {
    let Some(nginx) = nginx() else { return };
    let closed = support::free_port();
    run(async {
        // Nothing listens where the proxy should be.
        let e = through(&format!("127.0.0.1:{closed}"))
            .get(nginx.url("/a.txt"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("could not be reached"), "{e}");
        assert!(e.is_connect());

        // The proxy wants credentials: a plain request's 407 and a CONNECT's 407.
        let proxy = ForwardProxy::require_auth(CREDS);
        let e = through(&proxy.url())
            .get(nginx.url("/a.txt"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("407"), "{e}");
        let e = through(&proxy.url())
            .get(format!("https://127.0.0.1:{}/", nginx.port()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("407"), "{e}");
        // Wrong credentials say so, without the password.
        let e = through(&format!("http://user:wrong@{}", proxy.addr()))
            .get(format!("https://127.0.0.1:{}/", nginx.port()))
            .send()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("did not accept"), "{e}");
        assert!(!e.to_string().contains("wrong"), "{e}");

        // CONNECT refused.
        let refusing = ForwardProxy::refusing_connect(403);
        let e = through(&refusing.url())
            .get(format!("https://127.0.0.1:{}/", nginx.port()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("CONNECT refused with 403"), "{e}");
    });
}

#[test]
fn bad_proxy_urls_are_builder_errors() {
    for bad in [
        "https://127.0.0.1:1",
        "socks5://127.0.0.1:1080",
        "http://h:70000",
    ] {
        let e = Proxy::all(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Builder, "{bad}");
    }
}
