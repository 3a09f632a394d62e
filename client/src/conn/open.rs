//! Opening a new connection: resolve the host and connect (Happy Eyeballs, see `dial.rs`), set
//! socket options, and for https run the TLS handshake with the client's [`TlsConnector`] (so all
//! connections share its session cache).
//!
//! Time limits are the caller's: it bounds this whole future with the connect timeout.

use crate::connect::ConnectError;
use crate::dial::Dialer;
use crate::error::{Error, ErrorKind};
use crate::origin::Origin;
use crate::tls::TlsConnector;

use super::Stream;

/// A connected stream to `origin`.
///
/// Errors are [`ErrorKind::Dns`] (the name did not resolve), [`ErrorKind::Connect`] (no address
/// accepted), or [`ErrorKind::Tls`] (the handshake failed; the message says why, e.g.
/// "certificate not trusted: unknown issuer").
pub(crate) async fn open(
    dialer: &Dialer,
    origin: Origin<'_>,
    nodelay: bool,
    tls: &TlsConnector,
) -> Result<Stream, Error> {
    let tcp = dialer
        .dial(origin.bare_host(), origin.port)
        .await
        .map_err(|e| match e {
            // The DNS error already names the host and what went wrong.
            ConnectError::Resolve(e) => Error::new(ErrorKind::Dns, e.to_string()).with_source(e),
            // "connection refused while connecting to 127.0.0.1:80 (after ...)".
            ConnectError::Connect(e) => {
                Error::new(ErrorKind::Connect, e.to_string()).with_source(e)
            }
        })?;
    if nodelay {
        // Best effort: a request/response client wants small writes sent at once.
        let _ = tcp.set_nodelay(true);
    }
    if !origin.https {
        return Ok(Stream::Plain(tcp));
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
