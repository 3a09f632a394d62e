//! The per-request access log the harness's nginx writes, parsed into [`LoggedRequest`]s.
//!
//! The format (`spool_harness` in nginx_conf.rs) is tab-separated; nginx escapes tabs and quotes
//! inside values as `\xHH`, so splitting on tabs is safe. nginx writes a line when a request ends,
//! which can be a moment after the client already has the response: callers that need every
//! request wait for the expected count ([`crate::support::Nginx::wait_for_requests`]).

/// One request as nginx logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// nginx's serial number of the TCP connection (`$connection`): equal numbers, same connection.
    pub connection: u64,
    /// Which request this was on its connection, from 1 (`$connection_requests`).
    pub connection_requests: u64,
    /// The listening port that received it (keep-alive, close or TLS port).
    pub port: u16,
    /// Request method, e.g. `GET`.
    pub method: String,
    /// Request target as sent, with query (`$request_uri`).
    pub uri: String,
    /// Protocol of the request line, e.g. `HTTP/1.1`.
    pub protocol: String,
    /// Response status code (499 when the client closed before the response was sent).
    pub status: u16,
    /// Body bytes sent after the head, chunked framing included (`$body_bytes_sent`).
    pub body_bytes: u64,
}

/// Parses the complete lines of `log`; a last line without `\n` (still being written) is ignored.
/// Panics on a line that does not have the harness's format: that is a harness bug.
pub fn parse(log: &str) -> Vec<LoggedRequest> {
    let complete = match log.rfind('\n') {
        Some(end) => &log[..end],
        None => "",
    };
    complete
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            parse_line(line).unwrap_or_else(|| panic!("unexpected access log line {line:?}"))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<LoggedRequest> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [connection, connection_requests, port, method, uri, protocol, status, body_bytes] =
        fields.as_slice()
    else {
        return None;
    };
    Some(LoggedRequest {
        connection: connection.parse().ok()?,
        connection_requests: connection_requests.parse().ok()?,
        port: port.parse().ok()?,
        method: method.to_string(),
        uri: uri.to_string(),
        protocol: protocol.to_string(),
        status: status.parse().ok()?,
        body_bytes: body_bytes.parse().ok()?,
    })
}
