//! [`Client`], the handle, and [`ClientInner`], what all its clones share: the settings, the
//! connection pool, the dialer (resolver and connector), the proxy table, the politeness state and
//! the TLS connector. Everything that sends requests (`request.rs`, `send.rs`) reaches the shared
//! parts through here; `client.rs` adds the methods a program calls.

use std::rc::Rc;

use crate::builder::Config;
use crate::dial::Dialer;
use crate::polite::Politeness;
use crate::pool::Pool;
use crate::proxy::Proxies;
use crate::tls::TlsConnector;

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
    /// Which requests go through a proxy (the environment was read when the client was built).
    pub proxies: Proxies,
    /// The per-origin rate limit and connection ramp.
    pub polite: Politeness,
    /// Makes every https connection; its one session cache lets them resume each other's sessions.
    pub tls: TlsConnector,
}

impl Client {
    pub(crate) fn from_config(config: Config, tls: TlsConnector) -> Client {
        let pool = Pool::new(config.pool.clone());
        let dialer = config.dns.build();
        let proxies = config.proxy.build();
        let polite = Politeness::new(config.polite);
        Client {
            inner: Rc::new(ClientInner {
                config,
                pool,
                dialer,
                proxies,
                polite,
                tls,
            }),
        }
    }
}
