//! The `HOST:PORT:ADDR[,ADDR]...` syntax of curl's `--resolve`, which `fetch --resolve` accepts too:
//! parsing only, so the tool can report a bad argument before anything runs, and hand the result to
//! [`Resolver::pin`](super::Resolver::pin) or
//! [`ResolverBuilder::pin`](super::ResolverBuilder::pin).
//!
//! Accepted as curl does: a leading `+` (curl's "expire after a while" marker; pins here never
//! expire, so it is ignored), IPv6 addresses with or without brackets, several addresses separated by
//! commas. Unlike curl, a `*` host is refused (a wildcard pin would hide every DNS answer), as is the
//! `-HOST:PORT` removal form (there is nothing to remove at start-up).

use std::fmt;
use std::net::IpAddr;

use crate::wire::name::Name;

/// One parsed `--resolve` argument.
///
/// ```
/// use spool_dns::ResolvePin;
///
/// let pin: ResolvePin = "example.com:443:127.0.0.1,[::1]".parse().unwrap();
/// assert_eq!((pin.host.as_str(), pin.port), ("example.com", 443));
/// assert_eq!(pin.addrs, ["127.0.0.1".parse::<std::net::IpAddr>().unwrap(), "::1".parse().unwrap()]);
/// assert!("example.com:443".parse::<ResolvePin>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvePin {
    /// The host name (not an IP literal).
    pub host: String,
    /// The port the pin applies to.
    pub port: u16,
    /// The addresses, in the order given (never empty).
    pub addrs: Vec<IpAddr>,
}

/// Why a `--resolve` argument was refused; the message quotes it and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvePinError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for ResolvePinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid --resolve value {:?}: {} (expected HOST:PORT:ADDR[,ADDR]...)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for ResolvePinError {}

impl std::str::FromStr for ResolvePin {
    type Err = ResolvePinError;

    fn from_str(input: &str) -> Result<ResolvePin, ResolvePinError> {
        let err = |reason| ResolvePinError {
            input: input.to_owned(),
            reason,
        };
        let text = input.strip_prefix('+').unwrap_or(input);
        if text.starts_with('-') {
            return Err(err("the -HOST:PORT removal form is not supported"));
        }
        // HOST and PORT contain no colon; everything after the second colon is the address list,
        // which may itself contain colons (IPv6).
        let mut parts = text.splitn(3, ':');
        let (host, port, list) = match (parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(l)) => (h, p, l),
            _ => return Err(err("missing PORT or ADDR")),
        };
        if host == "*" {
            return Err(err("a wildcard host is not supported"));
        }
        if host.parse::<IpAddr>().is_ok() || Name::from_ascii(host).is_err() {
            return Err(err("HOST must be a host name"));
        }
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(err("PORT must be a number from 1 to 65535")),
        };
        let addrs = list
            .split(',')
            .map(|a| {
                let a = a.trim();
                let bare = a
                    .strip_prefix('[')
                    .and_then(|a| a.strip_suffix(']'))
                    .unwrap_or(a);
                bare.parse::<IpAddr>()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| err("ADDR must be IP addresses separated by commas"))?;
        Ok(ResolvePin {
            host: host.to_owned(),
            port,
            addrs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn accepted_forms() {
        let pin: ResolvePin = "+Api.Example:8080:2001:db8::1".parse().unwrap();
        assert_eq!(
            pin,
            ResolvePin {
                host: "Api.Example".into(),
                port: 8080,
                addrs: vec![ip("2001:db8::1")]
            }
        );
        let pin: ResolvePin = "h.test:80:[::1], 127.0.0.2".parse().unwrap();
        assert_eq!(pin.addrs, [ip("::1"), ip("127.0.0.2")]);
    }

    #[test]
    fn refused_forms_say_why() {
        for (bad, why) in [
            ("h.test", "missing PORT"),
            ("h.test:80", "missing PORT"),
            ("h.test:0:127.0.0.1", "PORT must be"),
            ("h.test:http:127.0.0.1", "PORT must be"),
            ("h.test:80:", "ADDR must be"),
            ("h.test:80:127.0.0.1,", "ADDR must be"),
            ("h.test:80:localhost", "ADDR must be"),
            ("*:80:127.0.0.1", "wildcard"),
            ("-h.test:80", "removal form"),
            ("127.0.0.1:80:127.0.0.2", "HOST must be"),
            ("bad host:80:127.0.0.1", "HOST must be"),
        ] {
            let e = bad.parse::<ResolvePin>().unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
