//! Forward proxies: which requests go through one, and how.
//!
//! # Layout
//! - `mod.rs` — [`Proxy`] (a proxy URL and the requests it is for), the settings the builder keeps,
//!   and `Proxies`, the table a client consults per request.
//! - `env.rs` — `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` (and lower-case forms).
//! - `no_proxy.rs` — [`NoProxy`], the bypass list.
//! - `tunnel.rs` — the CONNECT exchange on a socket (the bytes and the reply are decided by the
//!   sans-IO [`crate::proto::encode_connect`] / [`crate::proto::parse_connect_reply`]).
//!
//! # How a request goes through a proxy
//! - `http://` URLs: the connection is to the proxy, and each request names the whole URL
//!   (`GET http://host/path HTTP/1.1`) with `Proxy-Authorization` when the proxy URL has credentials.
//! - `https://` URLs: the connection to the proxy asks `CONNECT host:443`; once the proxy answers
//!   2xx, TLS to the origin runs inside the tunnel, so the proxy sees neither the request nor its
//!   credentials, and `Proxy-Authorization` only ever goes in the CONNECT.
//! - Pooled connections are keyed by origin *and* proxy, so a kept-alive connection to a proxy is
//!   reused for later requests to the same origin through it, never for a direct request.
//! - Failures to reach the proxy, a 407, or a CONNECT answered with anything but 2xx are
//!   [`crate::ErrorKind::Proxy`].

mod env;
mod no_proxy;
mod tunnel;

pub use no_proxy::NoProxy;
pub(crate) use tunnel::tunnel;

use std::fmt;
use std::rc::Rc;

use http::{HeaderValue, Uri};

use crate::error::{Error, ErrorKind};
use crate::proto::ProxyForm;

/// Which requests a [`Proxy`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    Http,
    Https,
}

/// A forward proxy for a client's requests: `http://[user:password@]host[:port]`.
///
/// A URL without a scheme is taken as `http://` and without a port as 1080, as curl does.
/// Credentials (percent-decoded) become `Proxy-Authorization: Basic …`, sent to the proxy only.
/// Proxies reached over TLS (`https://`) and SOCKS proxies are not supported.
///
/// ```
/// let proxy = spool_client::Proxy::all("http://user:p%40ss@127.0.0.1:3128")?
///     .no_proxy(spool_client::NoProxy::parse("localhost"));
/// let client = spool_client::Client::builder().proxy(proxy).build()?;
/// # drop(client);
/// # Ok::<(), spool_client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Proxy {
    scope: Scope,
    target: Rc<ProxyTarget>,
    bypass: Option<NoProxy>,
}

/// Where a proxy is and what to tell it (shared by every request that uses it).
#[derive(Debug)]
pub(crate) struct ProxyTarget {
    /// Bare host (no IPv6 brackets), as the dialer wants it.
    pub host: String,
    pub port: u16,
    /// `Basic …` from the URL's credentials.
    pub authorization: Option<HeaderValue>,
    /// `http://host:port`, for the pool key and messages (never the credentials).
    pub shown: String,
}

impl Proxy {
    /// A proxy for every request, http and https.
    pub fn all(url: &str) -> Result<Proxy, Error> {
        Proxy::new(Scope::All, url)
    }

    /// A proxy for `http://` requests only.
    pub fn http(url: &str) -> Result<Proxy, Error> {
        Proxy::new(Scope::Http, url)
    }

    /// A proxy for `https://` requests only (through CONNECT tunnels).
    pub fn https(url: &str) -> Result<Proxy, Error> {
        Proxy::new(Scope::Https, url)
    }

    /// Hosts reached directly rather than through this proxy.
    pub fn no_proxy(mut self, list: NoProxy) -> Proxy {
        self.bypass = Some(list);
        self
    }

    fn new(scope: Scope, url: &str) -> Result<Proxy, Error> {
        Ok(Proxy {
            scope,
            target: Rc::new(parse_target(url)?),
            bypass: None,
        })
    }
}

/// Checks a proxy URL the way [`Proxy::all`] does, for programs that want to report a bad one
/// (for example from the environment) before building a client.
///
/// ```
/// assert!(spool_client::proxy::check_proxy_url("127.0.0.1:3128").is_ok());
/// assert!(spool_client::proxy::check_proxy_url("socks5://127.0.0.1:1080").is_err());
/// ```
pub fn check_proxy_url(url: &str) -> Result<(), Error> {
    parse_target(url).map(drop)
}

fn parse_target(url: &str) -> Result<ProxyTarget, Error> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::Builder,
            format!(
                "invalid proxy URL {:?}: {why}",
                crate::redact_url(url.trim())
            ),
        )
    };
    let text = url.trim();
    let with_scheme;
    let text = if text.contains("://") {
        text
    } else {
        with_scheme = format!("http://{text}");
        &with_scheme
    };
    let uri: Uri = text.parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") => {}
        Some(s) if s.eq_ignore_ascii_case("https") => {
            return Err(bad("proxies reached over TLS (https://) are not supported"))
        }
        Some(s) => {
            return Err(bad(&format!(
                "the scheme {s:?} is not supported (use http://)"
            )))
        }
        None => return Err(bad("no scheme")),
    }
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return Err(bad("a proxy URL has no path"));
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?.as_str();
    let (host, port) = crate::proto::split_authority(authority);
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let has_port = if hostport.starts_with('[') {
        hostport.contains("]:")
    } else {
        hostport.contains(':')
    };
    let port = match (port, has_port) {
        (Some(p), _) if p != 0 => p,
        (None, false) => 1080,
        _ => return Err(bad("the port is not a number from 1 to 65535")),
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok(ProxyTarget {
        host: bare.to_string(),
        port,
        authorization: crate::auth::basic_from_url(&uri),
        shown: format!("http://{host}:{port}"),
    })
}

/// The builder's proxy settings (turned into [`Proxies`] when the client is built).
#[derive(Debug, Clone)]
pub(crate) struct ProxySettings {
    /// From [`ClientBuilder::proxy`](crate::ClientBuilder::proxy), in order: the first that
    /// applies wins.
    pub explicit: Vec<Proxy>,
    /// Read the environment when no proxy is given explicitly (the default).
    pub env: bool,
    /// Replaces every proxy's bypass list (curl's `--noproxy`).
    pub bypass: Option<NoProxy>,
}

impl Default for ProxySettings {
    fn default() -> Self {
        ProxySettings {
            explicit: Vec::new(),
            env: true,
            bypass: None,
        }
    }
}

impl ProxySettings {
    /// The table the client consults, the environment read now if it is to be.
    pub(crate) fn build(&self) -> Proxies {
        let mut list = if !self.explicit.is_empty() {
            self.explicit.clone()
        } else if self.env {
            env::proxies(|name| std::env::var(name).ok())
        } else {
            Vec::new()
        };
        if let Some(bypass) = &self.bypass {
            for proxy in &mut list {
                proxy.bypass = Some(bypass.clone());
            }
        }
        Proxies { list }
    }
}

/// Which proxy, if any, each request goes through.
#[derive(Debug, Clone, Default)]
pub(crate) struct Proxies {
    list: Vec<Proxy>,
}

impl Proxies {
    /// The proxy for a request to `host` (over TLS when `https`), if one applies. Costs nothing
    /// when there is none.
    pub(crate) fn for_request(&self, https: bool, host: &str) -> Option<&ProxyTarget> {
        self.list
            .iter()
            .find(|p| {
                let scope = match p.scope {
                    Scope::All => true,
                    Scope::Http => !https,
                    Scope::Https => https,
                };
                scope && !p.bypass.as_ref().is_some_and(|b| b.matches(host))
            })
            .map(|p| &*p.target)
    }
}

impl ProxyTarget {
    /// A plain-http request answered 407 by this proxy: a proxy failure, not a response.
    pub(crate) fn refused_407(&self) -> Error {
        let proxy = &self.shown;
        Error::new(
            ErrorKind::Proxy,
            if self.authorization.is_some() {
                format!("proxy {proxy} answered 407 Proxy Authentication Required: it did not accept the credentials of the proxy URL")
            } else {
                format!("proxy {proxy} answered 407 Proxy Authentication Required: it wants credentials (give them in the proxy URL, user:password@)")
            },
        )
    }

    /// What a plain-http connection through this proxy sends with every request.
    pub(crate) fn form(&self) -> ProxyForm {
        ProxyForm {
            authorization: self.authorization.clone(),
        }
    }
}

impl fmt::Display for ProxyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let t = parse_target("http://us%3Aer:p%40ss@Proxy.test:3128").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("Proxy.test", 3128));
        // base64("us:er:p@ss")
        assert_eq!(
            t.authorization.unwrap().to_str().unwrap(),
            "Basic dXM6ZXI6cEBzcw=="
        );
        assert_eq!(t.shown, "http://Proxy.test:3128");
        let t = parse_target("10.0.0.1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("10.0.0.1", 1080));
        let t = parse_target("http://[::1]:8080/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8080));
        assert_eq!(parse_target("[::1]").unwrap().port, 1080);
        for bad in [
            "https://p:1",
            "socks5://p:1",
            "http://p:99999",
            "http://p:0",
            "http://p:x",
            "http://p/path",
            "http://",
            "",
        ] {
            let e = parse_target(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Builder, "{bad}");
            assert!(e.to_string().contains("invalid proxy URL"), "{bad}: {e}");
        }
        // The password never shows in the message.
        let e = parse_target("ftp://u:secret@p:1").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn scopes_and_bypass() {
        let http: Uri = "http://a.test/".parse().unwrap();
        let https: Uri = "https://a.test/".parse().unwrap();
        let local: Uri = "http://localhost:8080/".parse().unwrap();
        let settings = ProxySettings {
            explicit: vec![
                Proxy::http("p1:1").unwrap(),
                Proxy::all("p2:2")
                    .unwrap()
                    .no_proxy(NoProxy::parse("a.test")),
            ],
            env: true,
            bypass: None,
        };
        let table = settings.build();
        let via = |u: &Uri| {
            let https = u.scheme_str() == Some("https");
            table.for_request(https, u.host().unwrap()).map(|t| t.port)
        };
        assert_eq!(via(&http), Some(1));
        assert_eq!(via(&https), None);
        assert_eq!(via(&local), Some(1));
        let table = ProxySettings {
            bypass: Some(NoProxy::parse("localhost")),
            ..settings
        }
        .build();
        assert_eq!(table.for_request(false, "localhost").map(|t| t.port), None);
        assert_eq!(table.for_request(false, "a.test").map(|t| t.port), Some(1));
    }
}
