//! Transparent decompression against the in-process server: each coding, stacked codings, bodies
//! split into small chunks, the decoded-size limit against a bomb, corrupt and unknown codings, and
//! the switch that turns it off. Real servers (nginx's gzip, Python) are in the root package's
//! tests/compression_real_servers.rs.

mod server;

use std::io::Write;
use std::time::Duration;

use server::{run, Reply, Server};
use spool_client::{Client, ErrorKind};

const LIMIT: Duration = Duration::from_secs(30);

fn sample(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0u32;
    while out.len() < len {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        writeln!(
            out,
            "<li id=\"{}\">item {} of the list</li>",
            i >> 16,
            i % 977
        )
        .unwrap();
    }
    out.truncate(len);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// `body` as a chunked response with `Content-Encoding: coding`, in chunks of `chunk` bytes.
fn chunked(coding: &str, body: &[u8], chunk: usize) -> Reply {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    Reply::raw(out)
}

fn encoded_server(plain: Vec<u8>) -> Server {
    Server::start(move |req| {
        let (coding, wire) = match req.path.as_str() {
            "/gzip" => ("gzip", gzip(&plain)),
            "/x-gzip" => ("x-gzip", gzip(&plain)),
            "/deflate" => ("deflate", zlib(&plain)),
            "/br" => ("br", br(&plain)),
            "/zstd" => ("zstd", zst(&plain)),
            // Gzipped first, then brotli: undone brotli first.
            "/stacked" => ("gzip, br", br(&gzip(&plain))),
            "/chunked-zstd" => return chunked("zstd", &zst(&plain), 7),
            _ => return Reply::ok(plain.clone()),
        };
        let header = format!("Content-Encoding: {coding}");
        Reply::status(200, &[&header, "Content-Type: text/html"], wire)
    })
}

#[test]
fn every_coding_is_decoded_with_bytes_and_with_chunk() {
    let plain = sample(300_000);
    let server = encoded_server(plain.clone());
    run(LIMIT, async {
        let client = Client::new();
        for path in [
            "/gzip",
            "/x-gzip",
            "/deflate",
            "/br",
            "/zstd",
            "/stacked",
            "/chunked-zstd",
        ] {
            let response = client.get(server.url(path)).send().await.unwrap();
            assert!(response.is_decoded(), "{path}");
            // The wire's length and coding do not describe the decoded body.
            assert_eq!(response.content_length(), None, "{path}");
            assert!(
                response.headers().get("content-encoding").is_none(),
                "{path}"
            );
            if path != "/chunked-zstd" {
                assert_eq!(response.headers()["content-type"], "text/html");
            }
            assert_eq!(
                response.bytes().await.unwrap(),
                plain,
                "{path} with bytes()"
            );

            let mut response = client.get(server.url(path)).send().await.unwrap();
            let mut got = Vec::new();
            let mut pieces = 0;
            while let Some(piece) = response.chunk().await.unwrap() {
                // A chunk is about the budget (64 KiB) plus one decoding step, never the whole;
                // in a stack, the inner stage decodes each 32 KiB piece of the outer one whole.
                let most = if path == "/stacked" {
                    1 << 20
                } else {
                    64 * 1024 + 128 * 1024
                };
                assert!(piece.len() <= most, "{path}: {}", piece.len());
                got.extend_from_slice(&piece);
                pieces += 1;
            }
            assert_eq!(got, plain, "{path} with chunk()");
            assert!(pieces >= 2, "{path}: 300 kB came in {pieces} piece(s)");
            let wire = response.wire_bytes();
            assert!(
                wire > 0 && wire < plain.len() as u64 / 2,
                "{path}: wire {wire}"
            );
        }
        // Plain bodies are untouched and count their wire bytes too.
        let mut response = client.get(server.url("/plain")).send().await.unwrap();
        assert!(!response.is_decoded());
        assert_eq!(response.content_length(), Some(plain.len() as u64));
        while response.chunk().await.unwrap().is_some() {}
        assert_eq!(response.wire_bytes(), plain.len() as u64);
    });
    // Every request asked for the four codings.
    for req in server.requests() {
        assert_eq!(
            req.header("accept-encoding").as_deref(),
            Some("gzip, deflate, br, zstd"),
            "{}",
            req.head
        );
    }
}

#[test]
fn decompress_off_sends_no_accept_encoding_and_returns_the_bytes_as_sent() {
    let plain = sample(10_000);
    let server = encoded_server(plain.clone());
    run(LIMIT, async {
        let client = Client::builder().decompress(false).build().unwrap();
        let response = client.get(server.url("/gzip")).send().await.unwrap();
        assert!(!response.is_decoded());
        assert_eq!(response.headers()["content-encoding"], "gzip");
        let wire = gzip(&plain);
        assert_eq!(response.content_length(), Some(wire.len() as u64));
        assert_eq!(response.bytes().await.unwrap(), wire);
    });
    assert_eq!(server.requests()[0].header("accept-encoding"), None);
}

#[test]
fn a_caller_accept_encoding_or_range_replaces_the_default() {
    let plain = sample(1000);
    let server = encoded_server(plain.clone());
    run(LIMIT, async {
        let client = Client::new();
        let r = client
            .get(server.url("/gzip"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        // Still decoded: the client decodes what it knows, whoever asked for it.
        assert_eq!(r.bytes().await.unwrap(), plain);
        let r = client
            .get(server.url("/plain"))
            .header("range", "bytes=0-9")
            .send()
            .await
            .unwrap();
        drop(r);
    });
    let reqs = server.requests();
    assert_eq!(reqs[0].header("accept-encoding").as_deref(), Some("gzip"));
    assert_eq!(reqs[1].header("accept-encoding"), None, "{}", reqs[1].head);
}

#[test]
fn a_bomb_stops_at_max_body_bytes_with_too_large_and_streams_in_bounded_pieces() {
    // 1 GiB of zeros, in about a megabyte of gzip and a few kilobytes of brotli and zstd.
    let zeros = vec![0u8; 1 << 20];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut brw = Vec::new();
    let mut zw = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    {
        let mut b = brotli::CompressorWriter::new(&mut brw, 1 << 16, 5, 22);
        for _ in 0..1024 {
            gz.write_all(&zeros).unwrap();
            b.write_all(&zeros).unwrap();
            zw.write_all(&zeros).unwrap();
        }
    }
    let bombs = vec![
        ("gzip", gz.finish().unwrap()),
        ("br", brw),
        ("zstd", zw.finish().unwrap()),
    ];
    for (_, wire) in &bombs {
        eprintln!("bomb: {} compressed bytes for 1 GiB", wire.len());
    }
    let served = bombs.clone();
    let server = Server::start(move |req| {
        let (coding, wire) = served
            .iter()
            .find(|(c, _)| req.path == format!("/{c}"))
            .unwrap();
        Reply::status(200, &[&format!("Content-Encoding: {coding}")], wire.clone())
    });
    run(Duration::from_secs(120), async {
        let limit = 4 << 20;
        let client = Client::builder().max_body_bytes(limit).build().unwrap();
        for (coding, _) in &bombs {
            let response = client
                .get(server.url(&format!("/{coding}")))
                .send()
                .await
                .unwrap();
            let err = response.bytes().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{coding}: {err}");
            assert!(err.to_string().contains("decoded"), "{coding}: {err}");
            // Streaming: bounded pieces; stop after 16 MiB (the test bounds its own loop).
            let mut response = client
                .get(server.url(&format!("/{coding}")))
                .send()
                .await
                .unwrap();
            let mut total = 0usize;
            while total < 16 << 20 {
                let piece = response.chunk().await.unwrap().expect("the bomb goes on");
                assert!(
                    piece.len() <= 64 * 1024 + 128 * 1024,
                    "{coding}: {}",
                    piece.len()
                );
                total += piece.len();
            }
        }
    });
}

#[test]
fn corrupt_truncated_and_unknown_codings_are_decode_errors() {
    let plain = sample(50_000);
    let good = gzip(&plain);
    let cut = good[..good.len() / 2].to_vec();
    let server = Server::start(move |req| match req.path.as_str() {
        "/garbage" => Reply::status(200, &["Content-Encoding: br"], "this is not brotli at all"),
        "/cut" => Reply::status(200, &["Content-Encoding: gzip"], cut.clone()),
        "/compress" => Reply::status(200, &["Content-Encoding: compress"], "whatever"),
        _ => Reply::status(200, &["Content-Encoding: identity"], "as is"),
    });
    run(LIMIT, async {
        let client = Client::new();
        for (path, needle) in [
            ("/garbage", "br body is corrupt"),
            ("/cut", "cut short"),
            ("/compress", "\"compress\""),
        ] {
            let response = client.get(server.url(path)).send().await.unwrap();
            let err = response.text().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{path}: {err}");
            assert!(err.to_string().contains(needle), "{path}: {err}");
        }
        // `identity` is no coding: the header stays and the body is as sent.
        let response = client.get(server.url("/identity")).send().await.unwrap();
        assert!(!response.is_decoded());
        assert_eq!(response.text().await.unwrap(), "as is");
    });
}

#[test]
fn a_head_response_keeps_its_encoding_headers() {
    let server = Server::start(|_| {
        Reply::raw("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 1234\r\n\r\n")
    });
    run(LIMIT, async {
        let response = Client::new().head(server.url("/")).send().await.unwrap();
        assert!(!response.is_decoded());
        assert_eq!(response.content_length(), Some(1234));
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_eq!(response.bytes().await.unwrap().len(), 0);
    });
}

#[test]
fn keep_alive_survives_decoded_bodies() {
    let plain = sample(5_000);
    let server = encoded_server(plain.clone());
    run(LIMIT, async {
        let client = Client::new();
        for path in ["/gzip", "/br", "/zstd", "/deflate", "/gzip"] {
            let text = client
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(text, plain);
        }
    });
    assert_eq!(server.accepted(), 1);
}
