//! The request and response helpers a reqwest user expects, checked on the wire of the in-process
//! server: `query`, `form`, `json` (feature `json`), `basic_auth`, `bearer_auth`, `body_file`,
//! `patch`, `build` + `Client::execute`, `error_for_status`.

mod server;

use std::time::Duration;

use server::{run, text_of, Reply, Server};
use spool_client::{Client, ErrorKind, Method, Request, StatusCode};

const LIMIT: Duration = Duration::from_secs(20);

/// Answers every request with its head and body, so the test reads what went on the wire.
fn echo() -> Server {
    Server::start(|req| {
        let mut body = req.head.clone().into_bytes();
        body.extend_from_slice(b"--body--");
        body.extend_from_slice(&req.body);
        match req.path.as_str() {
            "/missing" => Reply::status(404, &[], "no"),
            "/broken" => Reply::status(503, &[], "later"),
            "/json" => Reply::status(
                200,
                &["Content-Type: application/json"],
                r#"{"name":"spool","n":[1,2,3]}"#,
            ),
            _ => Reply::ok(body),
        }
    })
}

#[test]
fn query_form_and_auth_go_on_the_wire() {
    let server = echo();
    run(LIMIT, async {
        let client = Client::new();
        let text = text_of(
            client
                .get(server.url("/s?x=1"))
                .query(&[("q", "a b&c=d"), ("é", "/")])
                .basic_auth("ann", Some("pa:ss")),
        )
        .await;
        assert!(
            text.starts_with("GET /s?x=1&q=a+b%26c%3Dd&%C3%A9=%2F HTTP/1.1\r\n"),
            "{text}"
        );
        // base64("ann:pa:ss")
        assert!(
            text.contains("authorization: Basic YW5uOnBhOnNz\r\n"),
            "{text}"
        );

        let text = text_of(
            client
                .post(server.url("/f"))
                .form(&[("a", "1 2"), ("b", "x&y")])
                .bearer_auth("t0k3n"),
        )
        .await;
        assert!(
            text.contains("content-type: application/x-www-form-urlencoded\r\n"),
            "{text}"
        );
        assert!(text.contains("authorization: Bearer t0k3n\r\n"), "{text}");
        assert!(text.ends_with("--body--a=1+2&b=x%26y"), "{text}");

        let text = text_of(client.patch(server.url("/p")).body("x")).await;
        assert!(text.starts_with("PATCH /p HTTP/1.1\r\n"), "{text}");
    });
}

#[test]
fn body_file_sends_the_file_and_a_missing_one_is_a_builder_error() {
    let server = echo();
    let path = std::env::temp_dir().join(format!("spool-body-{}", std::process::id()));
    std::fs::write(&path, vec![b'z'; 70_000]).unwrap();
    run(LIMIT, async {
        let client = Client::new();
        let text = text_of(client.put(server.url("/u")).body_file(&path)).await;
        assert!(
            text.contains("content-length: 70000\r\n")
                || text.contains("Content-Length: 70000\r\n"),
            "{}",
            &text[..200]
        );
        assert!(text.ends_with(&"z".repeat(70_000)));
        let err = client
            .put(server.url("/u"))
            .body_file("/nonexistent/file")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Builder);
        assert!(err.to_string().contains("/nonexistent/file"), "{err}");
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_built_request_is_executed_cloned_and_changed() {
    let server = echo();
    run(LIMIT, async {
        let client = Client::new();
        let request = client
            .get(server.url("/one"))
            .header("x-a", "1")
            .build()
            .unwrap();
        assert_eq!(request.method(), Method::GET);
        let again = request.clone();
        let first = client.execute(request).await.unwrap().text().await.unwrap();
        assert!(first.contains("x-a: 1\r\n"), "{first}");
        let mut changed = again;
        *changed.method_mut() = Method::DELETE;
        changed.headers_mut().insert("x-b", "2".parse().unwrap());
        let second = client.execute(changed).await.unwrap().text().await.unwrap();
        assert!(
            second.starts_with("DELETE /one HTTP/1.1\r\n") && second.contains("x-b: 2\r\n"),
            "{second}"
        );
        let plain = Request::new(Method::HEAD, server.url("/h")).unwrap();
        assert_eq!(
            client.execute(plain).await.unwrap().status(),
            StatusCode::OK
        );
        // A bad request built by hand is refused by execute, before connecting.
        let mut bad = Request::new(Method::GET, server.url("/")).unwrap();
        bad.headers_mut()
            .insert("transfer-encoding", "chunked".parse().unwrap());
        assert_eq!(
            client.execute(bad).await.unwrap_err().kind(),
            ErrorKind::Builder
        );
    });
    assert_eq!(server.request_count(), 3);
}

#[test]
fn error_for_status_turns_4xx_and_5xx_into_errors() {
    let server = echo();
    run(LIMIT, async {
        let client = Client::new();
        let ok = client
            .get(server.url("/fine"))
            .send()
            .await
            .unwrap()
            .error_for_status();
        assert!(ok.is_ok());
        for (path, status) in [("/missing", 404), ("/broken", 503)] {
            let err = client
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Status);
            assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
            assert!(err.to_string().contains(&status.to_string()), "{err}");
            assert_eq!(err.url().unwrap().path(), path);
        }
    });
}

#[cfg(feature = "json")]
#[test]
fn json_in_and_out() {
    #[derive(serde::Serialize)]
    struct Ask<'a> {
        name: &'a str,
        tags: Vec<&'a str>,
    }
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Answer {
        name: String,
        n: Vec<u32>,
    }
    let server = echo();
    run(LIMIT, async {
        let client = Client::new();
        let text = text_of(client.post(server.url("/echo")).json(&Ask {
            name: "a\"b",
            tags: vec!["x"],
        }))
        .await;
        assert!(
            text.contains("content-type: application/json\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with(r#"--body--{"name":"a\"b","tags":["x"]}"#),
            "{text}"
        );
        let answer: Answer = client
            .get(server.url("/json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer,
            Answer {
                name: "spool".into(),
                n: vec![1, 2, 3]
            }
        );
        let err = client
            .get(server.url("/missing"))
            .send()
            .await
            .unwrap()
            .json::<Answer>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    });
}
