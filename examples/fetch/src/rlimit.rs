//! File descriptors: each request in flight holds a socket, so thousands at once need more than the
//! usual soft limit of 1024. At start the soft `RLIMIT_NOFILE` is raised to the hard limit (allowed
//! without privileges), through the `rlimit` crate's safe wrappers.
//!
//! When even the hard limit is low (`ulimit -n 64`), [`Budget`] plans within it: fewer requests in
//! flight than `--concurrency` asked for, and a connection pool that closes idle connections before
//! the limit is reached, so the tool slows down instead of failing URLs. Should the plan be off (a
//! descriptor the estimate did not count), the scheduler still slows down and retries when a request
//! runs out; [`is_exhaustion`] recognises that error.

use spool_dns::DnsError;
use std::io;

/// Raise the soft limit on open files to the hard limit if possible; returns the soft limit in force
/// afterwards (`u64::MAX` if it cannot even be read, which leaves planning to the retry path), and
/// the error that prevented raising it, if any.
pub fn raise_nofile_or_keep() -> (u64, Option<io::Error>) {
    match raise_nofile() {
        Ok(soft) => (soft, None),
        Err(e) => {
            let soft =
                rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(u64::MAX, |(soft, _)| soft);
            (soft, Some(e))
        }
    }
}

/// Raise the soft limit on open files to the hard limit; returns the soft limit in force afterwards.
pub fn raise_nofile() -> io::Result<u64> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    let mut target = hard;
    if target == rlimit::INFINITY {
        // Linux refuses a soft limit above fs.nr_open even when the hard limit is "unlimited".
        target = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20);
    }
    if soft >= target {
        return Ok(soft);
    }
    rlimit::setrlimit(rlimit::Resource::NOFILE, target, hard)?;
    Ok(target)
}

/// Descriptors kept aside for everything that is not a request: stdio, the input and output files,
/// the poller, DNS sockets, the demo's listener, a spare or two.
const RESERVE: u64 = 32;

/// How many requests and connections fit in the open-files limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests in flight at most: `--concurrency`, or fewer when descriptors are short.
    pub concurrency: usize,
    /// Connections (in use and idle) the client may keep open at most: at least `concurrency`;
    /// more, up to 4 × concurrency (at least 1024), so that lists spread over many hosts keep their
    /// idle connections, as long as descriptors allow.
    pub connections: usize,
}

impl Budget {
    /// Plan for `limit` open files, `concurrency` asked for, and whether each request also holds a
    /// `--save-dir` file and (in the demo) the server's end of its connection.
    pub fn plan(limit: u64, concurrency: usize, save_files: bool, demo: bool) -> Budget {
        let usable = limit.saturating_sub(RESERVE).max(1);
        let per_request = 1 + u64::from(save_files) + u64::from(demo);
        let fit = usize::try_from(usable / per_request)
            .unwrap_or(usize::MAX)
            .max(1);
        let concurrency = concurrency.min(fit);
        let files = if save_files { concurrency as u64 } else { 0 };
        let for_connections = (usable.saturating_sub(files) / (1 + u64::from(demo))) as usize;
        let wanted = concurrency.saturating_mul(4).max(1024);
        Budget {
            concurrency,
            connections: wanted.min(for_connections).max(concurrency),
        }
    }
}

/// Whether `err`, or an error it was caused by, says the process or system ran out of file descriptors
/// (`EMFILE`, `ENFILE`): a reason to wait and retry, not to fail the URL. Matched by OS code, never by
/// text: a connect error keeps the socket call's `io::Error` in its source chain, and a failed DNS
/// lookup (a [`DnsError`] in the chain) keeps the code of the resolver socket's error.
pub fn is_exhaustion(err: &(dyn std::error::Error + 'static)) -> bool {
    let exhausted = |code: Option<i32>| matches!(code, Some(libc::EMFILE) | Some(libc::ENFILE));
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if exhausted(io.raw_os_error()) {
                return true;
            }
        }
        if let Some(dns) = e.downcast_ref::<DnsError>() {
            if exhausted(dns.raw_os_error()) {
                return true;
            }
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use spool_dns::DnsErrorKind;

    #[test]
    fn raising_keeps_or_grows_the_soft_limit() {
        let (before, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let after = raise_nofile().unwrap();
        assert!(after >= before);
        assert!(after <= hard);
    }

    #[test]
    fn budget_plans_within_the_limit() {
        // Plenty: what was asked for, and idle room for many hosts.
        assert_eq!(
            Budget::plan(20_000, 50, false, false),
            Budget {
                concurrency: 50,
                connections: 1024
            }
        );
        assert_eq!(
            Budget::plan(20_000, 10_000, false, false),
            Budget {
                concurrency: 10_000,
                connections: 19_968
            }
        );
        // `ulimit -n 64`: 32 usable.
        assert_eq!(
            Budget::plan(64, 500, false, false),
            Budget {
                concurrency: 32,
                connections: 32
            }
        );
        assert_eq!(
            Budget::plan(64, 500, true, false),
            Budget {
                concurrency: 16,
                connections: 16
            }
        );
        assert_eq!(
            Budget::plan(64, 500, false, true),
            Budget {
                concurrency: 16,
                connections: 16
            }
        );
        // Absurdly low: still one at a time.
        assert_eq!(
            Budget::plan(3, 10, true, true),
            Budget {
                concurrency: 1,
                connections: 1
            }
        );
    }

    #[test]
    fn recognises_emfile_through_a_source_chain() {
        #[derive(Debug)]
        struct Wrapper(io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connect failed")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert!(is_exhaustion(&Wrapper(io::Error::from_raw_os_error(
            libc::EMFILE
        ))));
        assert!(is_exhaustion(&io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!is_exhaustion(&Wrapper(io::Error::from_raw_os_error(
            libc::ECONNREFUSED
        ))));
    }

    #[test]
    fn recognises_exhaustion_of_a_dns_lookup_by_its_os_code() {
        let failed = |code: i32| {
            let e = io::Error::from_raw_os_error(code);
            DnsError::new(
                "a.test",
                DnsErrorKind::Io {
                    kind: e.kind(),
                    os_error: e.raw_os_error(),
                    message: format!("cannot reach DNS server 127.0.0.1:53: {e}"),
                },
            )
        };
        assert!(is_exhaustion(&failed(libc::EMFILE)));
        #[derive(Debug)]
        struct Request(DnsError);
        impl std::fmt::Display for Request {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("request failed")
            }
        }
        impl std::error::Error for Request {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert!(is_exhaustion(&Request(failed(libc::ENFILE))));
        assert!(!is_exhaustion(&failed(libc::ENETUNREACH)));
        // The same words without the code (say, a server's text) are not taken for it.
        let text = DnsError::new(
            "a.test",
            DnsErrorKind::BadResponse {
                reason: "Too many open files (os error 24)".into(),
                server: "127.0.0.1:53".parse().unwrap(),
            },
        );
        assert!(!is_exhaustion(&text));
    }
}
