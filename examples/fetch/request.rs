//! One URL through the HTTP client. (Work in progress: waiting for `spool_client::Client`.)

use crate::cli::Config;
use crate::outcome::{Kind, Outcome};
use crate::run::{Attempt, Settings};
use std::io;
use std::rc::Rc;

/// Sends requests.
pub struct Requester {}

impl Requester {
    /// A requester for `config`.
    pub fn new(_config: &Config, _settings: &Settings) -> io::Result<Requester> {
        Ok(Requester {})
    }

    /// Fetch `url`.
    pub async fn fetch(self: Rc<Self>, index: u64, url: Rc<str>) -> Attempt {
        Attempt::Done(Outcome::failed(
            index,
            url,
            Kind::Other,
            "the HTTP client is not wired in yet",
        ))
    }
}
