//! Opening a new connection: resolve the host, connect, (later: TLS handshake), set socket options.
//!
//! Time limits are the caller's: it bounds this whole future with the connect timeout.

use crate::error::{describe_io, Error, ErrorKind};
use crate::origin::Origin;
use crate::resolve::{self, Resolver};

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
    // TLS plugs in here: connect as below, then run the handshake with the server name
    // `origin.bare_host()` and return `Stream::Tls(..)`; handshake failures are `ErrorKind::Tls`.
    if origin.https {
        return Err(Error::new(
            ErrorKind::Tls,
            format!("cannot connect to {origin}: https support is not built in yet"),
        )
        .while_connecting());
    }
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
    Ok(Stream::Plain(tcp))
}
