//! More [`ClientBuilder`] settings: forward proxies, retries and politeness, kept apart
//! from `builder.rs` so each file stays one screenful of settings.

use crate::builder::ClientBuilder;
use crate::proxy::{NoProxy, Proxy};
use crate::retry::RetryPolicy;

impl ClientBuilder {
    /// Sends requests through `proxy` (repeat for several: the first that applies to a request
    /// wins). Once any proxy is given, the environment is no longer read, as in reqwest.
    ///
    /// By default a client reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (and
    /// their lower-case forms, which win) when it is built, as reqwest and curl do; see
    /// [`Proxy`] for what is supported.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.config.proxy.explicit.push(proxy);
        self
    }

    /// No proxy at all: neither the environment's nor any given with [`proxy`](Self::proxy).
    pub fn no_proxy(mut self) -> Self {
        self.config.proxy.explicit.clear();
        self.config.proxy.env = false;
        self
    }

    /// Whether to read proxies from the environment when none is given (default true).
    pub fn proxy_from_env(mut self, enabled: bool) -> Self {
        self.config.proxy.env = enabled;
        self
    }

    /// Hosts reached directly, for every proxy (the environment's included), replacing `NO_PROXY`
    /// and the lists given with [`Proxy::no_proxy`], as curl's `--noproxy` does.
    pub fn proxy_bypass(mut self, hosts: NoProxy) -> Self {
        self.config.proxy.bypass = Some(hosts);
        self
    }

    /// Retries transient failures per `policy` (default: none). The whole-request
    /// [`timeout`](Self::timeout) covers every attempt and the waits between them.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// At most `requests_per_second` requests to one origin (scheme, host, port), spaced evenly
    /// (a token bucket of one token: no bursts), in arrival order. Retries and redirects count.
    /// `None`: no limit (the default). Must be positive and finite.
    pub fn rate_limit_per_host(mut self, requests_per_second: impl Into<Option<f64>>) -> Self {
        self.config.polite.rate = requests_per_second.into();
        self
    }

    /// At most `new_connections` new connections to one origin waiting for their first answer
    /// at once; the ramp is lifted for an origin once a response arrives on a connection that
    /// stays open. 0 (the default) opens as many as the connection limits allow. A server with a
    /// short listen backlog that closes every connection (HTTP/1.0) needs it when many requests
    /// go to it at once.
    pub fn connection_ramp(mut self, new_connections: usize) -> Self {
        self.config.polite.ramp = new_connections;
        self
    }
}
