//! What a program does with a [`Client`]: make one ([`Client::new`], [`ClientBuilder::build`]) and
//! start requests on it (`get`, `post`, ... return a [`RequestBuilder`]). The handle itself and
//! what its clones share are in `handle.rs`, below everything that uses them.

use std::fmt;

use http::Method;

use crate::builder::ClientBuilder;
use crate::error::Error;
use crate::handle::Client;
use crate::pool::PoolStatus;
use crate::request::RequestBuilder;
use crate::tls::HandshakeStats;
use crate::url::IntoUrl;

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

impl ClientBuilder {
    /// Checks the settings and creates the client.
    ///
    /// Fails with [`ErrorKind::Builder`](crate::ErrorKind::Builder) for a user agent containing CR,
    /// LF, NUL or another control character, a head limit too small to hold a status line, or
    /// unusable TLS settings (a malformed root certificate, no trusted root at all).
    pub fn build(self) -> Result<Client, Error> {
        let (config, tls) = self.checked()?;
        Ok(Client::from_config(config, tls))
    }
}
