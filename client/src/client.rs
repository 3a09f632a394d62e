//! [`Client`]: the handle a program keeps, holding the settings, the connection pool and the
//! resolver that every request shares.

use std::fmt;
use std::rc::Rc;

use http::Method;

use crate::builder::{ClientBuilder, Config};
use crate::dial::Dialer;
use crate::pool::{Pool, PoolStatus};
use crate::request::RequestBuilder;
use crate::tls::{HandshakeStats, TlsConnector};
use crate::url::IntoUrl;

/// An HTTP/1.1 client with a keep-alive connection pool, for one spool runtime thread.
///
/// Cloning is cheap (a reference count) and clones share the pool, so keep one client and clone it
/// into tasks. A client is single-threaded (`!Send`), like the runtime it runs on; its pooled
/// connections belong to the runtime they were opened in, so use one client per runtime.
///
/// ```no_run
/// spool_runtime::block_on(async {
///     let client = spool_client::Client::new();
///     let response = client.get("http://127.0.0.1:8080/").send().await?;
///     println!("{} {:?}", response.status(), response.headers().get("content-type"));
///     let body = response.text().await?;
///     println!("{body}");
///     Ok::<(), spool_client::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Rc<ClientInner>,
}

/// What all clones of a client share.
pub(crate) struct ClientInner {
    pub config: Config,
    pub pool: Pool,
    pub dialer: Dialer,
    /// Makes every https connection; its one session cache lets them resume each other's sessions.
    pub tls: TlsConnector,
}

impl Client {
    /// A client with the default settings (see [`ClientBuilder`]).
    pub fn new() -> Client {
        ClientBuilder::new()
            .build()
            .expect("the default client settings are valid")
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_config(config: Config, tls: TlsConnector) -> Client {
        let pool = Pool::new(config.pool.clone());
        let dialer = config.dns.build();
        Client {
            inner: Rc::new(ClientInner {
                config,
                pool,
                dialer,
                tls,
            }),
        }
    }

    /// Starts a `GET` request.
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a `POST` request.
    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Starts a `PUT` request.
    pub fn put(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// Starts a `DELETE` request.
    pub fn delete(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// Starts a `HEAD` request (its response never has a body).
    pub fn head(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// Starts a request with any method except `CONNECT`.
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url.into_url())
    }

    /// TLS handshakes this client has completed, full and resumed: how well the session cache
    /// works (`resumed_share()`).
    pub fn tls_handshake_stats(&self) -> HandshakeStats {
        self.inner.tls.handshake_stats()
    }

    /// Connection counts of the pool right now, for diagnostics and tests.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.pool.status()
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("pool", &self.pool_status())
            .finish_non_exhaustive()
    }
}
