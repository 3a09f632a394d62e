//! One URL through `spool_client`: send the request with the command line's method, headers and body,
//! then stream the body chunk by chunk, counting it, saving it under `--save-dir`, and stopping past
//! `--max-body`. Nothing buffers a whole body.
//!
//! Time limits are the client's: `--timeout` is its whole-request limit (connecting, sending,
//! redirects, reading the body to its end), `--connect-timeout` its connect limit. The client's
//! separate idle-read limit is turned off, so `--timeout` alone decides how long a slow body may take.

use crate::cli::Config;
use crate::outcome::{Failure, Kind, Outcome, Timings};
use crate::rlimit;
use crate::run::{Attempt, Settings};
use spool_client::tls::HandshakeStats;
use spool_client::{header, Bytes, Client, ErrorKind, HeaderValue, Method, Response};
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// What every request shares: the client and the request's shape.
pub struct Requester {
    client: Client,
    method: Method,
    /// `-H` headers, names and values checked once here rather than per request.
    headers: Vec<(String, HeaderValue)>,
    /// `-d`; `Bytes`, so each request shares the one copy.
    body: Option<Bytes>,
    max_body: Option<u64>,
    save_dir: Option<PathBuf>,
}

impl Requester {
    /// A client set up from `config`, with the limits of `settings` (which may differ from the
    /// config's: the demo lifts the per-host limit, a low open-files limit lowers concurrency) and
    /// at most `connections` connections open, idle ones included.
    pub fn new(config: &Config, settings: &Settings, connections: usize) -> io::Result<Requester> {
        let mut builder = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .read_timeout(None)
            // Room for idle connections to many hosts, within the descriptor budget: past it the
            // pool closes an idle connection to make room instead of running out of descriptors.
            .max_connections(connections)
            .max_connections_per_host(settings.per_host);
        for cert in &config.ca_certs {
            builder = builder.add_root_certificate(cert.clone());
        }
        if !config.dns_servers.is_empty() {
            builder = builder.dns_servers(config.dns_servers.iter().copied());
        }
        for pin in &config.resolve {
            builder = builder.resolve_pin(pin.clone());
        }
        let client = builder
            .build()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let method = Method::from_bytes(config.method.as_bytes()).map_err(io::Error::other)?;
        let mut headers = Vec::with_capacity(config.headers.len() + 1);
        for h in &config.headers {
            let value = HeaderValue::from_str(&h.value).map_err(io::Error::other)?;
            headers.push((h.name.clone(), value));
        }
        // Like curl: a body given with -d is a form unless the user says otherwise.
        let has_type = config
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("content-type"));
        if config.data.is_some() && !has_type {
            headers.push((
                header::CONTENT_TYPE.as_str().to_string(),
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            ));
        }
        Ok(Requester {
            client,
            method,
            headers,
            body: config.data.clone().map(Bytes::from),
            max_body: config.max_body,
            save_dir: config.save_dir.clone(),
        })
    }

    /// How many TLS handshakes the client made, full and resumed.
    pub fn tls_stats(&self) -> HandshakeStats {
        self.client.tls_handshake_stats()
    }

    /// Fetch `url` (input position `index`) and read its whole body.
    pub async fn fetch(self: Rc<Self>, index: u64, url: Rc<str>) -> Attempt {
        // The save file is opened before anything is sent, so that running out of descriptors here
        // can still be retried without having sent the request twice.
        let mut save = match &self.save_dir {
            None => None,
            Some(dir) => {
                let path = dir.join(index.to_string());
                match File::create(&path) {
                    Ok(f) => Some((f, path)),
                    Err(e) if rlimit::is_exhaustion(&e) => {
                        return Attempt::OutOfDescriptors(e.to_string())
                    }
                    Err(e) => {
                        let message = format!("cannot create {}: {e}", path.display());
                        return Attempt::Done(Outcome::failed(index, url, Kind::Save, message));
                    }
                }
            }
        };
        let mut request = self.client.request(self.method.clone(), &*url);
        for (name, value) in &self.headers {
            request = request.header(name, value.clone());
        }
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                if let Some((_, path)) = save.take() {
                    // No response, no body: leave no empty file behind to be mistaken for one.
                    let _ = std::fs::remove_file(path);
                }
                // The client keeps the socket call's own error (EMFILE) in the source chain, even
                // when its message summarises several connection attempts; a failed DNS lookup keeps
                // its resolver socket's OS code.
                let no_fd = rlimit::is_exhaustion(&e);
                if no_fd {
                    return Attempt::OutOfDescriptors(e.message().to_string());
                }
                let message = describe(&e, &url);
                return Attempt::Done(Outcome::failed(index, url, classify(e.kind()), message));
            }
        };
        let mut outcome = Outcome {
            index,
            url,
            elapsed: Duration::ZERO,
            status: Some(response.status().as_u16()),
            bytes: 0,
            failure: None,
            reused: Some(response.info().reused),
            timings: Some(Timings {
                connect: response.info().connect,
                first_byte: response.info().first_byte,
            }),
        };
        outcome.failure = self
            .read_body(&mut response, save.as_mut().map(|(f, _)| f), &mut outcome)
            .await;
        Attempt::Done(outcome)
    }

    /// Read the body to its end, counting it into `outcome.bytes`; the failure, if any.
    async fn read_body(
        &self,
        response: &mut Response,
        mut save: Option<&mut File>,
        outcome: &mut Outcome,
    ) -> Option<Failure> {
        let limit = self.max_body.unwrap_or(u64::MAX);
        if response.content_length().is_some_and(|n| n > limit) {
            return Some(too_big(limit));
        }
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return None,
                Err(e) => {
                    return Some(Failure {
                        kind: classify(e.kind()),
                        message: describe(&e, &outcome.url),
                    })
                }
            };
            // Keep at most `limit` bytes: the rest of an over-long body is neither counted nor saved.
            let room = limit - outcome.bytes;
            let keep = &chunk[..chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX))];
            outcome.bytes += keep.len() as u64;
            if let Some(file) = save.as_deref_mut() {
                if let Err(e) = file.write_all(keep) {
                    return Some(Failure {
                        kind: Kind::Save,
                        message: format!("cannot write the body to --save-dir: {e}"),
                    });
                }
            }
            if keep.len() < chunk.len() {
                return Some(too_big(limit));
            }
        }
    }
}

fn too_big(limit: u64) -> Failure {
    Failure {
        kind: Kind::MaxBody,
        message: format!("body exceeds --max-body ({limit} bytes)"),
    }
}

/// The client's error kinds, folded into the summary's.
fn classify(kind: ErrorKind) -> Kind {
    match kind {
        ErrorKind::InvalidUrl => Kind::InvalidUrl,
        ErrorKind::Dns => Kind::Dns,
        ErrorKind::Connect => Kind::Connect,
        ErrorKind::Tls => Kind::Tls,
        ErrorKind::Timeout => Kind::Timeout,
        ErrorKind::Protocol | ErrorKind::IncompleteBody | ErrorKind::TooLarge => Kind::Protocol,
        ErrorKind::TooManyRedirects | ErrorKind::Redirect => Kind::Redirect,
        ErrorKind::Io => Kind::Io,
        _ => Kind::Other,
    }
}

/// The client's message; the URL it happened on only when that is not the input URL (a redirect).
fn describe(e: &spool_client::Error, input: &str) -> String {
    match e.url().map(|u| u.to_string()) {
        // The client writes URLs normalised ("http://h" as "http://h/"): compare without the slash.
        Some(at) if at.trim_end_matches('/') != input.trim_end_matches('/') => {
            format!("{} (at {at})", e.message())
        }
        _ => e.message().to_string(),
    }
}
