//! Opening a new connection: resolve the host and connect (Happy Eyeballs, see `dial.rs`), set
//! socket options, and for https run the TLS handshake with the client's [`TlsConnector`] (so all
//! connections share its session cache).
//!
//! Through a proxy (`origin.via`): connect to the proxy instead, and for https ask it for a
//! CONNECT tunnel before the TLS handshake with the origin (see [`crate::proxy`]).
//!
//! Time limits are the caller's: it bounds this whole future with the connect timeout.

use crate::connect::ConnectError;
use crate::dial::Dialer;
use crate::error::{Error, ErrorKind};
use crate::origin::Origin;
use crate::proxy;
use crate::tls::TlsConnector;

use super::Stream;

/// A connected stream to `origin`.
///
/// Errors are [`ErrorKind::Dns`] (the name did not resolve), [`ErrorKind::Connect`] (no address
/// accepted), or [`ErrorKind::Tls`] (the handshake failed; the message says why, e.g.
/// "certificate not trusted: unknown issuer"); through a proxy, failing to reach it or a refused
/// tunnel is [`ErrorKind::Proxy`]. `user_agent` and `max_head_bytes` are for the CONNECT request.
pub(crate) async fn open(
    dialer: &Dialer,
    origin: Origin<'_>,
    nodelay: bool,
    tls: &TlsConnector,
    user_agent: Option<&str>,
    max_head_bytes: usize,
) -> Result<Stream, Error> {
    let (host, port) = match origin.via {
        Some(proxy) => (proxy.host.as_str(), proxy.port),
        None => (origin.bare_host(), origin.port),
    };
    let tcp = dialer.dial(host, port).await.map_err(|e| {
        let error = match e {
            // The DNS error already names the host and what went wrong.
            ConnectError::Resolve(e) => Error::new(ErrorKind::Dns, e.to_string()).with_source(e),
            // "connection refused while connecting to 127.0.0.1:80 (after ...)".
            ConnectError::Connect(e) => {
                Error::new(ErrorKind::Connect, e.to_string()).with_source(e)
            }
        };
        match origin.via {
            Some(proxy) => Error::new(
                ErrorKind::Proxy,
                format!("proxy {proxy} could not be reached: {}", error.message()),
            )
            .with_source(error),
            None => error,
        }
    })?;
    if nodelay {
        // Best effort: a request/response client wants small writes sent at once.
        let _ = tcp.set_nodelay(true);
    }
    if !origin.https {
        return Ok(Stream::Plain(tcp));
    }
    if let Some(proxy) = origin.via {
        Box::pin(proxy::tunnel(
            &tcp,
            origin.bare_host(),
            origin.port,
            proxy,
            user_agent,
            max_head_bytes,
        ))
        .await?;
    }
    // SNI and certificate checks use the URL's host, not the address it resolved to.
    // Boxed: only https pays for the handshake future's size; plain connections stay small.
    match Box::pin(tls.connect(origin.bare_host(), tcp)).await {
        Ok(stream) => Ok(Stream::Tls(Box::new(stream))),
        Err(e) => Err(Error::new(ErrorKind::Tls, e.to_string())
            .with_source(e)
            .while_connecting()),
    }
}
