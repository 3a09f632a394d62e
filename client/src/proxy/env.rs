//! Proxies from the environment, as curl and reqwest read it.
//!
//! | variable (lower case first, then upper) | used for |
//! |---|---|
//! | `http_proxy` / `HTTP_PROXY` | `http://` URLs |
//! | `https_proxy` / `HTTPS_PROXY` | `https://` URLs |
//! | `all_proxy` / `ALL_PROXY` | either, when the variable above is unset |
//! | `no_proxy` / `NO_PROXY` | hosts reached directly (see [`NoProxy`]) |
//!
//! An empty value counts as unset. `HTTP_PROXY` in upper case is ignored when `REQUEST_METHOD` is
//! set, since a CGI program gets it from a request's `Proxy:` header ("httpoxy"). A value that is
//! not a usable proxy URL is ignored (a client must still build); programs that want to report it
//! check it with [`check_proxy_url`](super::check_proxy_url).

use super::{NoProxy, Proxy};

/// The proxies the environment asks for: http first, then https (each with `NO_PROXY`).
pub(super) fn proxies(get: impl Fn(&str) -> Option<String>) -> Vec<Proxy> {
    let var = |lower: &str, upper: &str| {
        let value = get(lower).filter(|v| !v.trim().is_empty());
        let cgi = upper == "HTTP_PROXY" && get("REQUEST_METHOD").is_some();
        value.or_else(|| {
            if cgi {
                None
            } else {
                get(upper).filter(|v| !v.trim().is_empty())
            }
        })
    };
    let all = var("all_proxy", "ALL_PROXY");
    let bypass = var("no_proxy", "NO_PROXY").map(|list| NoProxy::parse(&list));
    let mut out = Vec::new();
    let http = var("http_proxy", "HTTP_PROXY").or_else(|| all.clone());
    let https = var("https_proxy", "HTTPS_PROXY").or(all);
    type Make = fn(&str) -> Result<Proxy, crate::Error>;
    for (url, make) in [(http, Proxy::http as Make), (https, Proxy::https as Make)] {
        if let Some(Ok(mut proxy)) = url.map(|u| make(&u)) {
            proxy.bypass = bypass.clone();
            out.push(proxy);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Scope;
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Vec<(Scope, String, Option<NoProxy>)> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        proxies(|name| map.get(name).cloned())
            .into_iter()
            .map(|p| (p.scope, p.target.shown.clone(), p.bypass))
            .collect()
    }

    #[test]
    fn lower_case_wins_and_all_proxy_fills_in() {
        let got = read(&[
            ("http_proxy", "lower:1"),
            ("HTTP_PROXY", "upper:2"),
            ("ALL_PROXY", "all:3"),
            ("NO_PROXY", "localhost"),
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].0, got[0].1.as_str()),
            (Scope::Http, "http://lower:1")
        );
        assert_eq!(
            (got[1].0, got[1].1.as_str()),
            (Scope::Https, "http://all:3")
        );
        assert!(got[1].2.as_ref().unwrap().matches("localhost"));
    }

    #[test]
    fn empty_invalid_and_cgi_values_are_ignored() {
        assert!(read(&[("http_proxy", " "), ("https_proxy", "socks5://x:1")]).is_empty());
        let cgi = read(&[("HTTP_PROXY", "evil:1"), ("REQUEST_METHOD", "GET")]);
        assert!(cgi.is_empty());
        let cgi_lower = read(&[("http_proxy", "ok:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(cgi_lower.len(), 1);
        assert!(read(&[]).is_empty());
    }
}
