//! Setting up the ring and asking the kernel whether it offers everything the driver needs.
//!
//! `Driver::IoUring` must never fall back silently: when the kernel refuses, `Builder::build` fails with an
//! error that names the reason. `Driver::Auto` runs the same probe and takes epoll on any refusal. What is
//! checked, in order:
//! 1. `io_uring_setup` itself: ENOSYS (a kernel without io_uring), EPERM (a seccomp filter, a container
//!    policy, or `kernel.io_uring_disabled`), ENOMEM (locked-memory limits);
//! 2. the features the loop relies on: `EXT_ARG` (a timeout passed with the wait, 5.11), `NODROP`
//!    (completions never lost on overflow), `FAST_POLL` (socket operations wait on an internal poll, not
//!    on a worker thread);
//! 3. every opcode the driver submits (`IORING_REGISTER_PROBE`);
//! 4. the provided-buffer ring is registered by the driver right after this (5.19); its failure is a
//!    refusal too.
//!
//! Multishot receive (6.0) has no probe bit of its own; it arrived in the same release as
//! `IORING_OP_SEND_ZC`, so that opcode's presence is taken as the sign.

use std::io;

use io_uring::{opcode, IoUring, Probe};

/// What the kernel granted.
pub(super) struct Setup {
    pub(super) ring: IoUring,
    pub(super) multishot_recv: bool,
}

/// The opcodes the driver submits, with the names the error message uses.
const NEEDED: &[(u8, &str)] = &[
    (opcode::Recv::CODE, "RECV"),
    (opcode::Send::CODE, "SEND"),
    (opcode::RecvMsg::CODE, "RECVMSG"),
    (opcode::SendMsg::CODE, "SENDMSG"),
    (opcode::Connect::CODE, "CONNECT"),
    (opcode::Accept::CODE, "ACCEPT"),
    (opcode::Shutdown::CODE, "SHUTDOWN"),
    (opcode::Close::CODE, "CLOSE"),
    (opcode::AsyncCancel::CODE, "ASYNC_CANCEL"),
    (opcode::Read::CODE, "READ"),
];

/// The environment variable that makes setup fail as a seccomp filter would (EPERM), so tests and users
/// can see the refusal and `Auto`'s fallback without changing the machine.
pub(super) const SIMULATE_REFUSAL: &str = "SPOOL_IO_URING_SIMULATE_REFUSAL";

/// The error `Builder::build` returns when the kernel refuses the io_uring driver.
pub(crate) fn refused(kind: io::ErrorKind, reason: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        kind,
        format!("spool: the io_uring driver is not available: {reason} (choose Driver::Epoll or Driver::Auto, or SPOOL_DRIVER=epoll)"),
    )
}

/// Explain a failed `io_uring_setup`.
pub(super) fn explain_setup_error(e: &io::Error) -> io::Error {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let why = match e.raw_os_error() {
        Some(libc::ENOSYS) => {
            "io_uring_setup failed with ENOSYS: this kernel has no io_uring (built without CONFIG_IO_URING, or older than 5.1)".to_string()
        }
        Some(libc::EPERM) => format!(
            "io_uring_setup failed with EPERM: blocked by a seccomp filter or container policy, or by the sysctl kernel.io_uring_disabled (now {disabled})"
        ),
        Some(libc::ENOMEM) => {
            "io_uring_setup failed with ENOMEM: the ring could not be allocated (memory or RLIMIT_MEMLOCK limits)".to_string()
        }
        _ => format!("io_uring_setup failed: {e}"),
    };
    let kind = match e.raw_os_error() {
        Some(libc::ENOSYS) | Some(libc::EINVAL) => io::ErrorKind::Unsupported,
        Some(libc::EPERM) => io::ErrorKind::PermissionDenied,
        _ => e.kind(),
    };
    refused(kind, why)
}

/// Create the ring (`entries` submission slots) and check features and opcodes.
pub(super) fn setup(entries: u32) -> io::Result<Setup> {
    if std::env::var_os(SIMULATE_REFUSAL).is_some_and(|v| !v.is_empty() && v != "0") {
        let e = io::Error::from_raw_os_error(libc::EPERM);
        let inner = explain_setup_error(&e);
        return Err(io::Error::new(
            inner.kind(),
            format!("{inner} [simulated by {SIMULATE_REFUSAL}]"),
        ));
    }
    let entries = entries.clamp(64, 4096).next_power_of_two();
    let ring = create(entries).map_err(|e| explain_setup_error(&e))?;
    let params = ring.params();
    let mut missing_features = Vec::new();
    if !params.is_feature_ext_arg() {
        missing_features.push("EXT_ARG (5.11)");
    }
    if !params.is_feature_nodrop() {
        missing_features.push("NODROP (5.5)");
    }
    if !params.is_feature_fast_poll() {
        missing_features.push("FAST_POLL (5.7)");
    }
    if !missing_features.is_empty() {
        return Err(refused(
            io::ErrorKind::Unsupported,
            format!(
                "the kernel lacks io_uring features {}",
                missing_features.join(", ")
            ),
        ));
    }
    let mut probe = Probe::new();
    if let Err(e) = ring.submitter().register_probe(&mut probe) {
        return Err(refused(
            io::ErrorKind::Unsupported,
            format!("IORING_REGISTER_PROBE failed ({e}), so the supported operations are unknown"),
        ));
    }
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(code, _)| !probe.is_supported(*code))
        .map(|(_, name)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(refused(
            io::ErrorKind::Unsupported,
            format!(
                "the kernel lacks io_uring operations {}",
                missing.join(", ")
            ),
        ));
    }
    let multishot_recv = probe.is_supported(opcode::SendZc::CODE);
    Ok(Setup {
        ring,
        multishot_recv,
    })
}

/// The best ring this kernel accepts: deferred task work on one issuer thread (6.1), else cooperative
/// task work (5.19), else plain. Each step falls back only on EINVAL (an unknown flag).
fn create(entries: u32) -> io::Result<IoUring> {
    let cq = entries * 4;
    let attempts: [fn(&mut io_uring::Builder); 3] = [
        |b| {
            b.setup_single_issuer()
                .setup_defer_taskrun()
                .setup_taskrun_flag()
                .setup_submit_all();
        },
        |b| {
            b.setup_coop_taskrun()
                .setup_taskrun_flag()
                .setup_submit_all();
        },
        |_| {},
    ];
    let mut last = io::Error::from_raw_os_error(libc::EINVAL);
    for configure in attempts {
        let mut b = IoUring::builder();
        b.setup_cqsize(cq).setup_clamp();
        configure(&mut b);
        match b.build(entries) {
            Ok(ring) => return Ok(ring),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Install `if nr == io_uring_setup { return EPERM } else { allow }` for the calling thread only (what a
/// container runtime's default seccomp profile does to io_uring): the honest way to see a refusal on a
/// machine that has io_uring. Tests only.
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn deny_io_uring_setup_on_this_thread() {
    {
        const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
        let stmt = |code: u16, k: u32| libc::sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        let jump = |k: u32, jt: u8, jf: u8| libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt,
            jf,
            k,
        };
        let ld = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
        let ret = (libc::BPF_RET | libc::BPF_K) as u16;
        let mut prog = [
            stmt(ld, 4), // seccomp_data.arch
            jump(AUDIT_ARCH_X86_64, 0, 3),
            stmt(ld, 0), // seccomp_data.nr
            jump(libc::SYS_io_uring_setup as u32, 0, 1),
            stmt(ret, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
            stmt(ret, libc::SECCOMP_RET_ALLOW),
        ];
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_mut_ptr(),
        };
        // SAFETY: plain prctl calls on the current thread: NO_NEW_PRIVS takes no pointer, and the filter
        // program `fprog` points at `prog`, which outlives the call (the kernel copies it).
        let rc = unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                -1
            } else {
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &fprog as *const libc::sock_fprog,
                )
            }
        };
        assert_eq!(
            rc,
            0,
            "installing the seccomp filter failed: {}",
            io::Error::last_os_error()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_errors_name_their_cause() {
        let eperm = explain_setup_error(&io::Error::from_raw_os_error(libc::EPERM)).to_string();
        assert!(
            eperm.contains("EPERM") && eperm.contains("seccomp"),
            "{eperm}"
        );
        assert!(eperm.contains("io_uring_disabled"), "{eperm}");
        let enosys = explain_setup_error(&io::Error::from_raw_os_error(libc::ENOSYS));
        assert_eq!(enosys.kind(), io::ErrorKind::Unsupported);
        assert!(enosys.to_string().contains("no io_uring"), "{enosys}");
    }

    /// A real refusal: a seccomp filter on this thread only makes `io_uring_setup` fail with EPERM, as a
    /// container runtime's default profile does.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_seccomp_filter_refusing_io_uring_setup_is_reported_as_eperm() {
        let outcome = std::thread::spawn(|| {
            deny_io_uring_setup_on_this_thread();
            match setup(64) {
                Ok(_) => {
                    Err("setup succeeded under a filter that denies io_uring_setup".to_string())
                }
                Err(e) => Ok((e.kind(), e.to_string())),
            }
        })
        .join()
        .unwrap();
        let (kind, msg) = outcome.unwrap();
        assert_eq!(kind, io::ErrorKind::PermissionDenied, "{msg}");
        assert!(msg.contains("EPERM") && msg.contains("seccomp"), "{msg}");
        eprintln!("refusal message: {msg}");
    }
}
