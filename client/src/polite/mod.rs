//! Politeness per origin: a request rate ([`rate`]) and a connection ramp ([`ramp`]), both off
//! by default in the library (`fetch` turns the ramp on).
//!
//! ```text
//!  execute ─► Rate::wait(origin)        one request per 1/R s per origin, in arrival order
//!          ─► pool checkout ─► "open a new one" ─► Ramp::enter(origin)
//!                at most N new connections to an origin waiting for their first answer;
//!                lifted for good once one answers and stays open (a keep-alive server)
//!          ─► connect, send, response head ─► RampPermit::answered
//! ```
//!
//! Why a ramp: a server with a short listen backlog (Python's `http.server`: 5) drops connections
//! it cannot accept yet, and a client that opens hundreds at once waits on the dropped ones until
//! its timeout. Opening a few, and more as they answer, is what curl's ramp-up amounts to.
//!
//! Both are keyed like the pool (scheme, host, port, proxy) and keep state only for origins with
//! requests in flight (the rate keeps its next slot until that time has passed).

mod ramp;
mod rate;

pub(crate) use ramp::{Ramp, RampPermit};
pub(crate) use rate::Rate;

use std::time::{Duration, Instant};

use spool_runtime::time::timeout_at;

use crate::error::{Error, ErrorKind};
use crate::origin::Origin;

/// The builder's politeness settings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PoliteConfig {
    /// Requests per second per origin (`None`: no limit).
    pub rate: Option<f64>,
    /// New connections per origin awaiting their first answer (0: no ramp).
    pub ramp: usize,
}

/// A client's politeness state.
#[derive(Debug, Default)]
pub(crate) struct Politeness {
    pub rate: Option<Rate>,
    pub ramp: Option<Ramp>,
}

impl Politeness {
    pub(crate) fn new(config: PoliteConfig) -> Politeness {
        Politeness {
            rate: config.rate.map(Rate::per_second),
            ramp: (config.ramp > 0).then(|| Ramp::new(config.ramp)),
        }
    }

    /// Waits for `origin`'s next request slot under the rate limit, within the request's deadline.
    pub(crate) async fn pace(
        &self,
        origin: &Origin<'_>,
        deadline: Option<(Instant, Duration)>,
    ) -> Result<(), Error> {
        let Some(rate) = &self.rate else {
            return Ok(());
        };
        bounded(
            rate.wait(origin),
            deadline,
            "waiting for its turn under the rate limit",
        )
        .await
    }

    /// A ramp permit for a new connection to `origin` (`None`: no ramp), within the deadline.
    pub(crate) async fn ramp<'a>(
        &'a self,
        origin: &Origin<'_>,
        deadline: Option<(Instant, Duration)>,
    ) -> Result<Option<RampPermit<'a>>, Error> {
        let Some(ramp) = &self.ramp else {
            return Ok(None);
        };
        let permit = bounded(
            ramp.enter(origin),
            deadline,
            "waiting for the connection ramp (other new connections to this host had not answered yet)",
        )
        .await?;
        Ok(Some(permit))
    }
}

async fn bounded<T>(
    wait: impl std::future::Future<Output = T>,
    deadline: Option<(Instant, Duration)>,
    doing: &str,
) -> Result<T, Error> {
    match deadline {
        None => Ok(wait.await),
        Some((at, limit)) => timeout_at(at, wait).await.map_err(|_| {
            Error::new(
                ErrorKind::Timeout,
                format!("the request did not complete within {limit:?} (timeout) while {doing}"),
            )
        }),
    }
}
