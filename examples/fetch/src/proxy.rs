//! `--proxy`, `--noproxy` and the proxy environment, checked up front (a bad proxy URL is a usage
//! error, exit 2, before anything is fetched) and then handed to the client builder.
//!
//! As in curl: `--proxy URL` overrides `http_proxy`, `https_proxy` and `all_proxy` (lower case
//! first, then upper), `--proxy ""` turns proxies off, `--noproxy LIST` overrides `no_proxy`.
//! The client reads the environment itself; this module only makes sure what it will read is usable.

use std::io;

use spool_client::{ClientBuilder, NoProxy, Proxy};

use crate::cli::UsageError;

/// What the command line and environment chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyChoice {
    /// Whatever the environment says (the client reads it), with `--noproxy` if given.
    Env { bypass: Option<String> },
    /// `--proxy URL`, with `--noproxy` if given.
    Url { url: String, bypass: Option<String> },
    /// `--proxy ""`.
    None,
}

/// The environment variables a proxy URL may come from, in the order they are reported.
const VARS: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// Checks `--proxy`, `--noproxy` and (without `--proxy`) the proxy variables read through `env`.
pub fn choose(
    proxy: Option<String>,
    noproxy: Option<String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ProxyChoice, UsageError> {
    if let Some(list) = &noproxy {
        if list
            .split(',')
            .any(|e| e.trim().contains(char::is_whitespace))
        {
            return Err(UsageError(format!(
                "invalid --noproxy {list:?}: entries are separated by commas and hold no spaces"
            )));
        }
    }
    match proxy {
        Some(url) if url.trim().is_empty() => Ok(ProxyChoice::None),
        Some(url) => {
            spool_client::proxy::check_proxy_url(&url)
                .map_err(|e| UsageError(format!("--proxy: {}", e.message())))?;
            Ok(ProxyChoice::Url {
                url,
                bypass: noproxy,
            })
        }
        None => {
            for var in VARS {
                let Some(value) = env(var).filter(|v| !v.trim().is_empty()) else {
                    continue;
                };
                spool_client::proxy::check_proxy_url(&value).map_err(|e| {
                    UsageError(format!(
                        "environment variable {var}: {} (unset it or give --proxy)",
                        e.message()
                    ))
                })?;
            }
            Ok(ProxyChoice::Env { bypass: noproxy })
        }
    }
}

/// Applies `choice` to `builder`.
pub fn configure(builder: ClientBuilder, choice: &ProxyChoice) -> io::Result<ClientBuilder> {
    let bypass = |b: ClientBuilder, list: &Option<String>| match list {
        Some(list) => b.proxy_bypass(NoProxy::parse(list)),
        None => b,
    };
    Ok(match choice {
        ProxyChoice::None => builder.no_proxy(),
        ProxyChoice::Env { bypass: list } => bypass(builder, list),
        ProxyChoice::Url { url, bypass: list } => {
            let proxy = Proxy::all(url).map_err(|e| io::Error::other(e.to_string()))?;
            bypass(builder.proxy(proxy), list)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_override_the_environment() {
        let bad_env = [("https_proxy", "socks5://x:1")];
        assert_eq!(
            choose(Some(String::new()), None, env(&bad_env)),
            Ok(ProxyChoice::None)
        );
        assert_eq!(
            choose(Some("p:1".into()), Some("a.test".into()), env(&bad_env)),
            Ok(ProxyChoice::Url {
                url: "p:1".into(),
                bypass: Some("a.test".into())
            })
        );
        let e = choose(None, None, env(&bad_env)).unwrap_err();
        assert!(e.0.contains("https_proxy"), "{}", e.0);
        assert!(choose(None, None, env(&[("HTTP_PROXY", "p:3128")])).is_ok());
    }

    #[test]
    fn bad_flags_name_themselves() {
        let e = choose(Some("https://p:1".into()), None, env(&[])).unwrap_err();
        assert!(e.0.starts_with("--proxy: invalid proxy URL"), "{}", e.0);
        let e = choose(None, Some("a.test b.test".into()), env(&[])).unwrap_err();
        assert!(e.0.contains("--noproxy"), "{}", e.0);
    }
}
