//! Process hardening at start-up: no core dumps (they would hold decrypted
//! media and keys) and, on Linux, a seccomp filter that forbids IP sockets so
//! not even a bug or a compromised dependency can reach a network.
//!
//! This is the one module with `unsafe`: `setrlimit` and `prctl` are plain
//! libc calls with no Rust wrapper in our dependencies.

#[derive(Debug, thiserror::Error)]
pub enum LockdownError {
    #[error("could not install the no-network seccomp filter: {0}")]
    Seccomp(String),
}

/// Disables core dumps and ptrace-style memory reads by other processes of
/// the same user. Failure is not fatal: the call is best effort by design.
#[allow(unsafe_code)]
pub fn disable_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads a valid, fully initialised struct.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
        }
        #[cfg(target_os = "linux")]
        // SAFETY: PR_SET_DUMPABLE takes one integer argument; no pointers.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
    }
}

/// Installs the no-network filter on every thread of the process: `socket`
/// and `socketpair` fail with EACCES for AF_INET, AF_INET6, AF_PACKET and
/// AF_NETLINK; Unix sockets (X11, Wayland, D-Bus) keep working. `io_uring`
/// is refused too because it could create sockets outside this filter.
#[cfg(target_os = "linux")]
pub fn forbid_network() -> Result<(), LockdownError> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule,
    };
    use std::collections::BTreeMap;

    let err = |e: &dyn std::fmt::Display| LockdownError::Seccomp(e.to_string());
    let domain_is = |af: i32| -> Result<SeccompRule, LockdownError> {
        let cond = SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, af as u64)
            .map_err(|e| err(&e))?;
        SeccompRule::new(vec![cond]).map_err(|e| err(&e))
    };
    let families = [
        libc::AF_INET,
        libc::AF_INET6,
        libc::AF_PACKET,
        libc::AF_NETLINK,
    ];
    let rules_for = || -> Result<Vec<SeccompRule>, LockdownError> {
        families.iter().map(|af| domain_is(*af)).collect()
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_socket, rules_for()?);
    rules.insert(libc::SYS_socketpair, rules_for()?);
    // An empty rule list matches unconditionally.
    rules.insert(libc::SYS_io_uring_setup, vec![]);
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e: seccompiler::BackendError| err(&e))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        arch,
    )
    .map_err(|e| err(&e))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| err(&e))?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| err(&e))
}

#[cfg(not(target_os = "linux"))]
pub fn forbid_network() -> Result<(), LockdownError> {
    Ok(())
}

/// Tries an IPv4 TCP connect and a Unix socket pair; used by the
/// `sealtag selftest network` command and its test to prove the filter works.
pub fn network_probe() -> (std::io::Result<()>, std::io::Result<()>) {
    let tcp = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 9)),
        std::time::Duration::from_millis(500),
    )
    .map(|_| ());
    #[cfg(unix)]
    let unix = std::os::unix::net::UnixStream::pair().map(|_| ());
    #[cfg(not(unix))]
    let unix = Ok(());
    (tcp, unix)
}
