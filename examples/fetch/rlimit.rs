//! File descriptors: each request in flight holds a socket, so thousands at once need more than the
//! usual soft limit of 1024. At start the soft `RLIMIT_NOFILE` is raised to the hard limit (allowed
//! without privileges), through the `rlimit` crate's safe wrappers.
//!
//! Running out anyway (a low hard limit, `ulimit -n 64`) is handled by the scheduler, which slows down
//! and retries rather than failing URLs; [`is_exhaustion`] recognises the error.

use std::io;

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

/// Whether `err`, or an error it was caused by, says the process or system ran out of file descriptors
/// (`EMFILE`, `ENFILE`): a reason to wait and retry, not to fail the URL.
pub fn is_exhaustion(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if matches!(io.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE)) {
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

    #[test]
    fn raising_keeps_or_grows_the_soft_limit() {
        let (before, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let after = raise_nofile().unwrap();
        assert!(after >= before);
        assert!(after <= hard);
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
}
