//! RESP2, the Redis wire format, sans-IO: commands to bytes, bytes to replies. No socket, no clock;
//! tested with byte slices.
//!
//! Why our own codec and not a crate: the worker speaks five reply types and sends only arrays of
//! bulk strings. That is about 150 lines here. `redis-protocol` with its default features off still
//! brings its parser stack (nom, cookie-factory, bytes-utils) and RESP3 types the worker never sees;
//! the `redis` crate is built on tokio and is ruled out for a shipped crate.
//!
//! ```text
//! command  *3\r\n$4\r\nXACK\r\n$1\r\ns\r\n$3\r\n1-0\r\n      (an array of bulk strings)
//! replies  +OK\r\n   -ERR text\r\n   :42\r\n   $3\r\nabc\r\n   $-1\r\n (nil)   *2\r\n…  *-1\r\n (nil)
//! ```
//!
//! [`decode`] works on whatever has arrived: it returns `Ok(None)` until a whole reply is in the buffer
//! (the caller reads more and calls again from the same start), then the reply and how many bytes it
//! took. A reply is re-scanned from its start on every call while incomplete; replies here are at most
//! a batch of queue entries (tens of KiB), so that costs less than a second buffer would.

use std::fmt;

/// Deepest nesting accepted (XAUTOCLAIM replies are 4 deep); deeper input is an error, not a stack overflow.
const MAX_DEPTH: usize = 8;
/// Largest bulk string accepted (Redis' own `proto-max-bulk-len` default).
const MAX_BULK: usize = 512 * 1024 * 1024;
/// Most elements in one array; a larger count is treated as a corrupt stream.
const MAX_ARRAY: usize = 1 << 24;

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR …`: the command failed; the text starts with an error code such as `NOSCRIPT`.
    Error(String),
    /// `:42`
    Int(i64),
    /// `$3 abc`
    Bulk(Vec<u8>),
    /// `$-1` or `*-1`
    Nil,
    /// `*2 …`
    Array(Vec<Value>),
}

impl Value {
    /// The bytes of a bulk or simple string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) => Some(b),
            Value::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The text of a bulk or simple string, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The elements of an array (a nil array is empty).
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) => Some(v),
            Value::Nil => Some(&[]),
            _ => None,
        }
    }

    /// Whether this is an error reply whose code is `code` (`NOSCRIPT`, `NOGROUP`, `BUSYGROUP`…).
    pub fn is_error(&self, code: &str) -> bool {
        matches!(self, Value::Error(e) if e.split(' ').next() == Some(code))
    }
}

/// The bytes received are not RESP2: the connection cannot be trusted any more and must be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// Append the command `args` (an array of bulk strings) to `out`.
pub fn encode<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The first whole reply in `buf` and the number of bytes it took; `Ok(None)` if it has not all arrived.
pub fn decode(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
    let mut at = 0;
    Ok(value(buf, &mut at, 0)?.map(|v| (v, at)))
}

/// The reply starting at `*at`, advancing `*at` past it.
fn value(buf: &[u8], at: &mut usize, depth: usize) -> Result<Option<Value>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError("replies nested too deep".into()));
    }
    let Some(line) = line(buf, *at) else {
        return Ok(None);
    };
    if line == *at {
        return Err(ProtocolError(
            "an empty line where a reply should start".into(),
        ));
    }
    let (kind, text) = (buf[*at], &buf[*at + 1..line]);
    let after = line + 2;
    let text_str = || {
        std::str::from_utf8(text)
            .map(str::to_owned)
            .map_err(|_| ProtocolError("a status line is not UTF-8".into()))
    };
    let v = match kind {
        b'+' => Value::Simple(text_str()?),
        b'-' => Value::Error(text_str()?),
        b':' => Value::Int(number(text)?),
        b'$' => {
            let n = number(text)?;
            if n < 0 {
                Value::Nil
            } else {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > MAX_BULK {
                    return Err(ProtocolError(format!("bulk string of {n} bytes")));
                }
                let end = after + n;
                if buf.len() < end + 2 {
                    return Ok(None);
                }
                if &buf[end..end + 2] != b"\r\n" {
                    return Err(ProtocolError("bulk string not followed by CRLF".into()));
                }
                *at = end + 2;
                return Ok(Some(Value::Bulk(buf[after..end].to_vec())));
            }
        }
        b'*' => {
            let n = number(text)?;
            if n < 0 {
                Value::Nil
            } else {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > MAX_ARRAY {
                    return Err(ProtocolError(format!("array of {n} elements")));
                }
                *at = after;
                // Not `with_capacity(n)`: a peer could announce 16M elements and send none.
                let mut items = Vec::new();
                for _ in 0..n {
                    match value(buf, at, depth + 1)? {
                        Some(v) => items.push(v),
                        None => return Ok(None),
                    }
                }
                return Ok(Some(Value::Array(items)));
            }
        }
        other => {
            return Err(ProtocolError(format!(
                "unexpected reply type byte 0x{other:02x}"
            )))
        }
    };
    *at = after;
    Ok(Some(v))
}

/// Index of the CR of the CRLF that ends the line starting at `from`, if it has arrived.
fn line(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let cr = rest.windows(2).position(|w| w == b"\r\n")?;
    Some(from + cr)
}

fn number(text: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ProtocolError(format!("not a number: {:?}", String::from_utf8_lossy(text))))
}

#[cfg(test)]
#[path = "resp_tests.rs"]
mod tests;
