//! Redirects end to end: method and body rules per status, relative locations, credentials across
//! origins, hop limits, and what `url()` reports.

mod server;

use std::time::Duration;

use server::{run, text_of, Reply, Server};
use spool_client::redirect::Policy;
use spool_client::{Client, ErrorKind, Method, StatusCode};

const LIMIT: Duration = Duration::from_secs(30);

/// Port 0 and port 1 are two origins of one server.
/// - `/r/<code>?to=<location>` answers `<code>` with that Location (default `/echo`);
/// - `/echo` describes the request it got;
/// - `/loop` redirects to itself; `/chain/<n>` goes down to `/chain/0`, which echoes.
fn start() -> Server {
    Server::start_ports(2, |req| {
        let path = req.path.split('?').next().unwrap_or("");
        let query = req.path.split_once('?').map(|(_, q)| q).unwrap_or("");
        if let Some(code) = path.strip_prefix("/r/") {
            let to = query.strip_prefix("to=").unwrap_or("/echo");
            if req.method == "HEAD" {
                return Reply::raw(format!(
                    "HTTP/1.1 {code} Moved\r\nLocation: {to}\r\nContent-Length: 5\r\n\r\n"
                ));
            }
            return Reply::redirect(code.parse().unwrap(), to);
        }
        if path == "/loop" {
            return Reply::redirect(302, "/loop");
        }
        if let Some(n) = path.strip_prefix("/chain/") {
            let n: u32 = n.parse().unwrap();
            if n > 0 {
                return Reply::redirect(301, &format!("/chain/{}", n - 1));
            }
        }
        let body = format!(
            "{} {} body={} auth={} cookie={} ctype={}",
            req.method,
            req.path,
            String::from_utf8_lossy(&req.body),
            req.header("authorization").unwrap_or_default(),
            req.header("cookie").unwrap_or_default(),
            req.header("content-type").unwrap_or_default(),
        );
        if req.method == "HEAD" {
            Reply::raw(format!(
                "HTTP/1.1 200 OK\r\nX-Echo: {body}\r\nContent-Length: 0\r\n\r\n"
            ))
        } else {
            Reply::ok(body)
        }
    })
}

#[test]
fn method_and_body_follow_rfc9110() {
    let server = start();
    run(LIMIT, async {
        let client = Client::new();
        let cases = [
            (Method::POST, 301, "GET /echo body= "),
            (Method::POST, 302, "GET /echo body= "),
            (Method::POST, 303, "GET /echo body= "),
            (Method::PUT, 303, "GET /echo body= "),
            (Method::POST, 307, "POST /echo body=payload "),
            (Method::POST, 308, "POST /echo body=payload "),
            (Method::PUT, 301, "PUT /echo body=payload "),
            (Method::GET, 302, "GET /echo body=payload "),
        ];
        for (method, code, want) in cases {
            let response = client
                .request(method.clone(), server.url(&format!("/r/{code}")))
                .header("content-type", "text/plain")
                .body("payload")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.info().redirects, 1);
            assert_eq!(response.url().path(), "/echo");
            let text = response.text().await.unwrap();
            assert!(text.starts_with(want), "{method} {code}: {text}");
            let body_kept = want.contains("payload");
            assert_eq!(
                text.ends_with("ctype=text/plain"),
                body_kept,
                "{method} {code}: {text}"
            );
        }
        let head = client.head(server.url("/r/303")).send().await.unwrap();
        let echo = head.headers()["x-echo"].to_str().unwrap().to_string();
        assert!(echo.starts_with("HEAD /echo"), "{echo}");
    });
    // All of it on one connection per origin: redirect bodies were consumed, connections reused.
    assert_eq!(server.accepted(), 1);
}

#[test]
fn relative_locations_resolve_against_the_current_url() {
    let server = start();
    run(LIMIT, async {
        let client = Client::new();
        let other = server.addr_on(1);
        let cases = [
            ("/r/302?to=../echo".to_string(), "/echo", 1),
            ("/r/302?to=./../echo?q=1".to_string(), "/echo?q=1", 1),
            ("/r/302?to=?x=1".to_string(), "/echo", 2),
            ("/r/302?to=/echo%20x".to_string(), "/echo%20x", 1),
            (format!("/r/302?to=//{other}/echo"), "/echo", 1),
        ];
        for (start, want, hops) in cases {
            let response = client.get(server.url(&start)).send().await.unwrap();
            assert_eq!(
                response.url().path_and_query().unwrap().as_str(),
                want,
                "{start}"
            );
            assert_eq!(response.info().redirects, hops, "{start}");
        }
    });
}

#[test]
fn credentials_are_not_sent_to_another_origin() {
    let server = start();
    run(LIMIT, async {
        let client = Client::new();
        let same = text_of(
            client
                .get(server.url_on(0, "/r/302?to=/echo"))
                .header("authorization", "Bearer secret")
                .header("cookie", "session=1"),
        )
        .await;
        assert!(
            same.contains("auth=Bearer secret cookie=session=1"),
            "{same}"
        );

        let other = server.url_on(1, "/echo");
        let moved = client
            .get(server.url_on(0, &format!("/r/307?to={other}")))
            .header("authorization", "Bearer secret")
            .header("cookie", "session=1")
            .send()
            .await
            .unwrap();
        assert_eq!(moved.url().port_u16(), Some(server.addr_on(1).port()));
        let text = moved.text().await.unwrap();
        assert!(text.contains("auth= cookie= "), "{text}");
    });
}

#[test]
fn hop_limits() {
    let server = start();
    run(LIMIT, async {
        let client = Client::new();
        let response = client.get(server.url("/chain/10")).send().await.unwrap();
        assert_eq!(response.info().redirects, 10);
        assert_eq!(response.url().path(), "/chain/0");

        let e = client
            .get(server.url("/chain/11"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyRedirects, "{e}");
        assert!(e.is_redirect());
        let e = client.get(server.url("/loop")).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyRedirects, "{e}");

        let strict = Client::builder()
            .redirect(Policy::limited(2))
            .build()
            .unwrap();
        let e = strict.get(server.url("/chain/3")).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyRedirects, "{e}");

        let none = Client::builder().redirect(Policy::none()).build().unwrap();
        let response = none.get(server.url("/r/301")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(response.headers()["location"], "/echo");
        assert_eq!(response.info().redirects, 0);
    });
    // 10 hops + the final one, then 11 for chain/11 (the 12th is refused), loop: 11.
    assert_eq!(server.request_count(), 11 + 11 + 11 + 3 + 1);
}

#[test]
fn unusable_locations_are_errors_and_other_3xx_are_returned() {
    let server = start();
    run(LIMIT, async {
        let client = Client::new();
        let e = client
            .get(server.url("/r/302?to=ftp://example.com/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Redirect, "{e}");
        assert!(e.to_string().contains("ftp"), "{e}");
        for code in [300, 304] {
            let response = client
                .get(server.url(&format!("/r/{code}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), code);
        }
    });
}
