//! The CONNECT exchange on a freshly connected socket to a proxy: write the request the sans-IO
//! core encodes, read until it says the reply is complete. On success the socket is a tunnel to
//! `host:port`, and the caller runs TLS over it.
//!
//! Time is the caller's: the whole exchange is part of connecting, bounded by the connect timeout.

use spool_runtime::net::TcpStream;

use super::ProxyTarget;
use crate::error::{describe_io, Error, ErrorKind};
use crate::proto::{encode_connect, parse_connect_reply, ConnectReply};

/// Asks `proxy` (already connected as `tcp`) for a tunnel to `host:port`.
///
/// Errors are [`ErrorKind::Proxy`]: the proxy refused (its status and reason in the message: a
/// 407 says the proxy wants credentials), closed the connection, or answered something that is
/// not HTTP.
pub(crate) async fn tunnel(
    tcp: &TcpStream,
    host: &str,
    port: u16,
    proxy: &ProxyTarget,
    user_agent: Option<&str>,
    max_head_bytes: usize,
) -> Result<(), Error> {
    let fail = |what: String| {
        Error::new(
            ErrorKind::Proxy,
            format!("proxy {proxy}: {what} (asking for a tunnel to {host}:{port})"),
        )
    };
    let mut request = Vec::with_capacity(128);
    let authorization = proxy.authorization.as_ref().map(|v| v.as_bytes());
    encode_connect(host, port, authorization, user_agent, &mut request)
        .map_err(|e| Error::new(ErrorKind::Builder, e.to_string()).with_source(e))?;
    tcp.write_all(&request)
        .await
        .map_err(|e| fail(format!("sending CONNECT failed: {}", describe_io(&e))).with_source(e))?;
    let mut reply = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        let n = tcp.read(&mut chunk).await.map_err(|e| {
            fail(format!("reading its reply failed: {}", describe_io(&e))).with_source(e)
        })?;
        if n == 0 {
            return Err(fail(
                "it closed the connection before answering CONNECT".into(),
            ));
        }
        reply.extend_from_slice(&chunk[..n]);
        match parse_connect_reply(&reply, max_head_bytes) {
            Ok(None) => continue,
            Ok(Some(ConnectReply::Established)) => return Ok(()),
            Ok(Some(ConnectReply::Refused { status, reason })) => {
                // 407 is the status RFC 9110 gives a proxy wanting credentials; some proxies
                // (tinyproxy 1.11) answer wrong ones with 401, which to a CONNECT can only mean
                // the proxy's own credentials, as no origin has been reached.
                let sent = proxy.authorization.is_some();
                let hint = match status {
                    407 | 401 if sent => ": it did not accept the credentials of the proxy URL",
                    407 => ": it wants credentials (give them in the proxy URL, user:password@)",
                    _ => "",
                };
                return Err(fail(format!(
                    "CONNECT refused with {status} {reason}{hint}"
                )));
            }
            Err(e) => return Err(fail(e.to_string()).with_source(e)),
        }
    }
}
