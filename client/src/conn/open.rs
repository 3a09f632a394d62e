//! Opening a new connection: resolve the host and connect (Happy Eyeballs, see `resolve`), (later:
//! TLS handshake), set socket options.
//!
//! Time limits are the caller's: it bounds this whole future with the connect timeout.

use crate::connect::ConnectError;
use crate::error::{Error, ErrorKind};
use crate::resolve::Resolver;
use crate::url::Origin;

use super::Stream;

/// A connected stream to `origin`.
///
/// Errors are [`ErrorKind::Dns`] (the name did not resolve), [`ErrorKind::Connect`] (no address
/// accepted), or [`ErrorKind::Tls`] for https, which is not built in yet.
pub(crate) async fn open(
    resolver: &Resolver,
    origin: Origin<'_>,
    nodelay: bool,
) -> Result<Stream, Error> {
    if origin.https {
        return Err(Error::new(
            ErrorKind::Tls,
            format!("cannot connect to {origin}: https support is not built in yet"),
        )
        .while_connecting());
    }
    let tcp = resolver
        .connect(origin.bare_host(), origin.port)
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
    Ok(Stream::Plain(tcp))
}
