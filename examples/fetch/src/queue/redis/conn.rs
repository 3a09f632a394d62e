//! One connection to a Redis server on spool's own [`TcpStream`]: where to connect (`redis://` URLs),
//! the handshake (`AUTH`, `SELECT`), and pipelined round trips — write every command of a batch, then
//! read one reply per command.
//!
//! Any failure here ([`ConnError`]) means the connection is in an unknown state (a reply may be half
//! read), so the caller drops it and opens a new one; it never reuses a connection after an error.
//! Error *replies* (`-ERR …`) are not failures of the connection: they come back as [`Value::Error`].

use super::resp::{self, ProtocolError, Value};
use spool_runtime::net::TcpStream;
use spool_runtime::time::timeout;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 64 * 1024;

/// A Redis server and how to log in: `redis://[[user]:password@]host[:port][/db]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address literal (IPv6 without brackets).
    pub host: String,
    /// Port (default 6379).
    pub port: u16,
    /// `AUTH` user (Redis 6 ACLs), if any.
    pub user: Option<String>,
    /// `AUTH` password, if any.
    pub password: Option<String>,
    /// Database number for `SELECT`, if not 0.
    pub db: Option<u32>,
}

impl fmt::Debug for Target {
    // Never print the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis://{}:{}", self.host, self.port)?;
        if let Some(db) = self.db {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        let bad = |why: &str| {
            format!("invalid --redis {text:?}: {why}; expected redis://HOST[:PORT][/DB]")
        };
        let rest = text
            .strip_prefix("redis://")
            .ok_or_else(|| bad("it must start with redis://"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pw)) => (
                    (!user.is_empty()).then(|| user.to_string()),
                    Some(pw.to_string()),
                ),
                None => (None, Some(u.to_string())),
            },
        };
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            (h, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None | Some("") => 6379,
            Some(p) => p
                .parse()
                .map_err(|_| bad("the port is not a number from 0 to 65535"))?,
        };
        let db = match path {
            "" => None,
            p => Some(p.parse().map_err(|_| bad("the database is not a number"))?),
        };
        Ok(Target {
            host: host.to_string(),
            port,
            user,
            password,
            db: db.filter(|&d| d != 0),
        })
    }
}

/// Why a connection is no longer usable.
#[derive(Debug)]
pub enum ConnError {
    /// Connecting, reading or writing failed, or the server closed the connection.
    Io(io::Error),
    /// The server sent bytes that are not RESP2.
    Protocol(ProtocolError),
    /// No complete answer within the time allowed.
    Timeout,
    /// The handshake (`AUTH`, `SELECT`) was refused; reconnecting will not help.
    Refused(String),
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "redis connection: {e}"),
            ConnError::Protocol(e) => e.fmt(f),
            ConnError::Timeout => f.write_str("redis did not answer in time"),
            ConnError::Refused(e) => write!(f, "redis refused the login: {e}"),
        }
    }
}

/// An open, logged-in connection.
pub struct Conn {
    stream: TcpStream,
    /// Received bytes; `buf[start..]` is not yet decoded.
    buf: Vec<u8>,
    start: usize,
}

impl Conn {
    /// Resolve, connect and log in, all within `limit`.
    pub async fn open(target: &Target, limit: Duration) -> Result<Conn, ConnError> {
        let addr = resolve(target).await?;
        let stream = timeout(limit, TcpStream::connect(addr))
            .await
            .map_err(|_| ConnError::Timeout)?
            .map_err(ConnError::Io)?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
        };
        let mut out = Vec::new();
        let mut expected = 0;
        if let Some(pw) = &target.password {
            match &target.user {
                Some(u) => resp::encode(&mut out, &["AUTH", u, pw]),
                None => resp::encode(&mut out, &["AUTH", pw]),
            }
            expected += 1;
        }
        if let Some(db) = target.db {
            resp::encode(&mut out, &["SELECT", &db.to_string()]);
            expected += 1;
        }
        if expected > 0 {
            for reply in conn.round_trip(&out, expected, limit).await? {
                if let Value::Error(e) = reply {
                    return Err(ConnError::Refused(e));
                }
            }
        }
        Ok(conn)
    }

    /// Send the already-encoded commands in `out` and read `replies` replies, all within `limit`.
    pub async fn round_trip(
        &mut self,
        out: &[u8],
        replies: usize,
        limit: Duration,
    ) -> Result<Vec<Value>, ConnError> {
        timeout(limit, self.exchange(out, replies))
            .await
            .map_err(|_| ConnError::Timeout)?
    }

    async fn exchange(&mut self, out: &[u8], replies: usize) -> Result<Vec<Value>, ConnError> {
        self.stream.write_all(out).await.map_err(ConnError::Io)?;
        let mut values = Vec::with_capacity(replies);
        while values.len() < replies {
            match resp::decode(&self.buf[self.start..]).map_err(ConnError::Protocol)? {
                Some((v, used)) => {
                    self.start += used;
                    values.push(v);
                }
                None => self.fill().await?,
            }
        }
        Ok(values)
    }

    /// Read more bytes, first moving the undecoded tail to the front.
    async fn fill(&mut self) -> Result<(), ConnError> {
        self.buf.drain(..self.start);
        self.start = 0;
        let have = self.buf.len();
        self.buf.resize(have + READ_CHUNK, 0);
        let n = self.stream.read(&mut self.buf[have..]).await;
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(have);
                return Err(ConnError::Io(e));
            }
        };
        self.buf.truncate(have + n);
        if n == 0 {
            return Err(ConnError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )));
        }
        Ok(())
    }
}

/// The address to connect to: a literal at once, a name on a helper thread (the system resolver blocks).
async fn resolve(target: &Target) -> Result<SocketAddr, ConnError> {
    if let Ok(ip) = target.host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, target.port));
    }
    let (host, port) = (target.host.clone(), target.port);
    let found = spool_runtime::spawn_blocking(move || {
        (host.as_str(), port)
            .to_socket_addrs()
            .map(|mut a| a.next())
    })
    .await;
    match found {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(ConnError::Io(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} has no address", target.host),
        ))),
        Err(e) => Err(ConnError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t: Target = "redis://127.0.0.1:7000".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("127.0.0.1", 7000, None));
        let t: Target = "redis://u:p%@[::1]/3".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("::1", 6379, Some(3)));
        assert_eq!(
            (t.user.as_deref(), t.password.as_deref()),
            (Some("u"), Some("p%"))
        );
        let t: Target = "redis://:secret@h:1/0".parse().unwrap();
        assert_eq!(
            (t.user.as_deref(), t.password.as_deref(), t.db),
            (None, Some("secret"), None)
        );
        assert_eq!(format!("{t:?}"), "redis://h:1");
        for bad in [
            "127.0.0.1:6379",
            "redis://",
            "redis://h:x",
            "redis://h/a",
            "redis://[::1",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }
}
