//! Time limits: connect, whole request (body included), read idle. Every limit here is short and
//! every server delay far longer (or far shorter), so the outcome never depends on machine speed.

mod server;

use std::net::SocketAddr;
use std::time::Duration;

use server::{run, Reply, Server};
use socket2::{Domain, Socket, Type};
use spool_client::{Client, ErrorKind};

const LIMIT: Duration = Duration::from_secs(30);

/// A listener whose accept queue is full, so further connection attempts get no answer at all.
/// Returns the address and what must stay alive meanwhile; `None` if the kernel did not cooperate.
fn unanswering_listener() -> Option<(SocketAddr, Socket, Vec<std::net::TcpStream>)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..64 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(_) => return Some((addr, socket, fillers)),
        }
    }
    None
}

#[test]
fn connect_timeout_fires() {
    let Some((addr, _listener, _fillers)) = unanswering_listener() else {
        eprintln!("skipped: this kernel answers connections beyond the backlog");
        return;
    };
    run(LIMIT, async {
        let client = Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let e = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.is_connect() && e.is_timeout());
        assert!(e.to_string().contains("connect timeout"), "{e}");
    });
}

#[test]
fn request_timeout_fires_when_the_server_never_answers() {
    let server = Server::start(|_| Reply::hang());
    run(LIMIT, async {
        let client = Client::new();
        let e = client
            .get(server.url("/"))
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(!e.is_connect());
        assert!(
            e.to_string().contains("did not complete within 200ms"),
            "{e}"
        );
        assert_eq!(
            client.pool_status().open,
            0,
            "the timed-out connection was closed"
        );
    });
}

#[test]
fn client_timeout_covers_reading_the_body() {
    // Head and a first piece at once, then a byte every 50 ms for a long time.
    let server = Server::start(|_| {
        let mut reply =
            Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nstart").then_hang();
        for _ in 0..200 {
            reply = reply.then_after(Duration::from_millis(50), "x");
        }
        reply
    });
    run(LIMIT, async {
        let client = Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let response = client.get(server.url("/")).send().await.unwrap();
        let e = response.bytes().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.to_string().contains("did not complete"), "{e}");
    });
}

#[test]
fn read_timeout_fires_when_the_body_stalls() {
    let server = Server::start(|_| {
        Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst").then_hang()
    });
    run(LIMIT, async {
        let client = Client::builder()
            .read_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let mut response = client.get(server.url("/")).send().await.unwrap();
        assert_eq!(&response.chunk().await.unwrap().unwrap()[..], b"first");
        let e = response.chunk().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.to_string().contains("read timeout"), "{e}");
        // The body stays failed.
        assert!(response.chunk().await.is_err());
    });
}

#[test]
fn read_timeout_restarts_whenever_bytes_arrive() {
    // Ten gaps of 20 ms against a 1 s read timeout: progress keeps the exchange alive.
    let server = Server::start(|_| {
        let mut reply = Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        for _ in 0..10 {
            reply = reply.then_after(Duration::from_millis(20), "y");
        }
        reply
    });
    run(LIMIT, async {
        let client = Client::builder()
            .read_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let body = client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&body[..], b"yyyyyyyyyy");
    });
}

#[test]
fn read_timeout_fires_while_waiting_for_the_head() {
    let server = Server::start(|_| Reply::hang());
    run(LIMIT, async {
        let client = Client::builder()
            .read_timeout(Duration::from_millis(150))
            .build()
            .unwrap();
        let e = client.get(server.url("/")).send().await.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(e.to_string().contains("sent nothing for 150ms"), "{e}");
    });
}

#[test]
fn read_timeout_does_not_count_the_wait_for_a_pool_slot() {
    // Each answer takes 700 ms, under the 1 s read timeout. The second request first waits ~700 ms
    // for the only connection: that wait must not count against its read timeout.
    let server = Server::start(|_| Reply::ok("x").delayed(Duration::from_millis(700)));
    run(LIMIT, async {
        let client = Client::builder()
            .read_timeout(Duration::from_secs(1))
            .max_connections_per_host(1)
            .build()
            .unwrap();
        let first = {
            let (client, url) = (client.clone(), server.url("/"));
            spool_runtime::spawn(async move { client.get(url).send().await?.bytes().await })
        };
        // Let the first request take the connection.
        spool_runtime::yield_now().await;
        assert_eq!(client.pool_status().open, 1);
        let second = client.get(server.url("/")).send().await.unwrap();
        assert!(second.info().reused);
        assert_eq!(&second.bytes().await.unwrap()[..], b"x");
        first.await.unwrap().unwrap();
    });
}
