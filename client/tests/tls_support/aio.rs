//! `write_all`, `flush`, `close`, `read_some` and `read_to_end` for any
//! `futures_io::AsyncRead + AsyncWrite` (the tests have no futures-util), and a helper to connect
//! a [`TlsStream`] to a local server.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};
use spool_client::tls::{TlsConnector, TlsError, TlsStream};
use spool_runtime::net::TcpStream;

/// Connects TCP to `addr`, then TLS as `host`.
pub async fn connect(
    connector: &TlsConnector,
    addr: SocketAddr,
    host: &str,
) -> Result<TlsStream, TlsError> {
    let tcp = TcpStream::connect(addr)
        .await
        .expect("TCP connect to the test server");
    connector.connect(host, tcp).await
}

pub async fn write_all<S: AsyncWrite + Unpin>(stream: &mut S, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, bytes)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
    }
    Ok(())
}

pub async fn flush<S: AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await
}

pub async fn close<S: AsyncWrite + Unpin>(stream: &mut S) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_close(cx)).await
}

pub async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, buf)).await
}

/// Reads until `Ok(0)`. On an error, returns it together with what was read before it.
pub async fn read_to_end<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Vec<u8>, (Vec<u8>, io::Error)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match read_some(stream, &mut buf).await {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return Err((out, e)),
        }
    }
}
