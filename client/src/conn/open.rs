//! Opening a new connection: resolve the host, connect, set socket options, and for https run the
//! TLS handshake with the client's [`TlsConnector`] (so all connections share its session cache).
//!
//! Time limits are the caller's: it bounds this whole future with the connect timeout.

use crate::error::{describe_io, Error, ErrorKind};
use crate::resolve::{self, Resolver};
use crate::tls::TlsConnector;
use crate::url::Origin;

use super::Stream;

/// A connected stream to `origin`.
///
/// Errors are [`ErrorKind::Dns`] (the name did not resolve), [`ErrorKind::Connect`] (no address
/// accepted), or [`ErrorKind::Tls`] (the handshake failed; the message says why, e.g.
/// "certificate not trusted: unknown issuer").
pub(crate) async fn open(
    resolver: &Resolver,
    origin: Origin<'_>,
    nodelay: bool,
    tls: &TlsConnector,
) -> Result<Stream, Error> {
    let addrs = resolver
        .resolve(origin.bare_host(), origin.port)
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Dns,
                format!(
                    "could not resolve host {}: {}",
                    origin.bare_host(),
                    describe_io(&e)
                ),
            )
            .with_source(e)
        })?;
    let tcp = resolve::connect(addrs.as_slice()).await.map_err(|e| {
        let others = match e.tried {
            0 | 1 => String::new(),
            n => format!(" (after {} other addresses failed)", n - 1),
        };
        Error::new(
            ErrorKind::Connect,
            format!(
                "{} while connecting to {}{others}",
                describe_io(&e.error),
                e.addr
            ),
        )
        .with_source(e.error)
    })?;
    if nodelay {
        // Best effort: a request/response client wants small writes sent at once.
        let _ = tcp.set_nodelay(true);
    }
    if !origin.https {
        return Ok(Stream::Plain(tcp));
    }
    // SNI and certificate checks use the URL's host, not the address it resolved to.
    match tls.connect(origin.bare_host(), tcp).await {
        Ok(stream) => Ok(Stream::Tls(Box::new(stream))),
        Err(e) => Err(Error::new(ErrorKind::Tls, e.to_string())
            .with_source(e)
            .while_connecting()),
    }
}
