//! Process hardening at start-up: no core dumps (they would hold decrypted
//! media and keys) and, on Linux, a seccomp filter that allows only Unix
//! sockets, so not even a bug or a compromised dependency can reach a network.
//!
//! This is the one module with `unsafe`: `setrlimit`, `prctl` and `syncfs`
//! are plain libc calls with no Rust wrapper in our dependencies.

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

/// Makes everything written to the file system holding `dir` durable, in one
/// call: the batch import writes many blobs unsynced and then calls this once
/// before the transaction that refers to them, instead of two fsyncs per
/// blob. Elsewhere than Linux, the caller syncs each file itself.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn sync_filesystem(dir: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs takes an open descriptor, which `dir` keeps open for the call.
    let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// What the filter answers a refused call with. EACCES rather than
/// EAFNOSUPPORT: the kernel answers EAFNOSUPPORT itself for a family it
/// lacks, and a refusal that cannot be told apart from that could not be
/// tested (nor seen in `selftest network`, which looks for EACCES).
#[cfg(target_os = "linux")]
pub const FILTER_ERRNO: i32 = libc::EACCES;

/// Installs the no-network filter on every thread of the process, as an
/// allow-list: `socket` and `socketpair` work only for AF_UNIX (X11,
/// Wayland, D-Bus) and fail with [`FILTER_ERRNO`] for every other family,
/// including ones added to the kernel later (AF_VSOCK reaches a VM's host,
/// AF_XDP and AF_PACKET the wire). `io_uring_setup` is refused because a
/// ring creates sockets outside this filter. On x86_64 every x32-ABI call
/// (number with `__X32_SYSCALL_BIT`) is refused too: the x32 table has its
/// own `socket`, which a filter on the x86_64 numbers would never see.
#[cfg(target_os = "linux")]
pub fn forbid_network() -> Result<(), LockdownError> {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule,
    };
    use std::collections::BTreeMap;

    let err = |e: &dyn std::fmt::Display| LockdownError::Seccomp(e.to_string());
    // The rules say what is refused (the "match" action): a domain that is
    // not AF_UNIX. The kernel reads the domain as an int, so comparing the
    // low 32 bits (Dword) is comparing what the kernel sees.
    let domain_not_unix = || -> Result<Vec<SeccompRule>, LockdownError> {
        let cond = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(|e| err(&e))?;
        Ok(vec![SeccompRule::new(vec![cond]).map_err(|e| err(&e))?])
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_socket, domain_not_unix()?);
    rules.insert(libc::SYS_socketpair, domain_not_unix()?);
    // An empty rule list matches unconditionally.
    rules.insert(libc::SYS_io_uring_setup, vec![]);
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e: seccompiler::BackendError| err(&e))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(FILTER_ERRNO as u32),
        arch,
    )
    .map_err(|e| err(&e))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| err(&e))?;
    let program = [x32_guard(), program].concat();
    seccompiler::apply_filter_all_threads(&program).map_err(|e| err(&e))
}

/// Instructions run before seccompiler's program: on x86_64, refuse any
/// system call whose number has the x32 bit. seccompiler checks the audit
/// architecture, but x32 calls carry the same one (AUDIT_ARCH_X86_64) and
/// differ only in that bit, so it has no rule for them. Elsewhere: nothing.
#[cfg(target_os = "linux")]
fn x32_guard() -> Vec<seccompiler::sock_filter> {
    #[cfg(target_arch = "x86_64")]
    {
        use seccompiler::sock_filter;
        const X32_SYSCALL_BIT: u32 = 0x4000_0000;
        /// `offsetof(struct seccomp_data, nr)`.
        const SECCOMP_DATA_NR: u32 = 0;
        let code = |c: u32| c as u16;
        vec![
            // A = the system call number
            sock_filter {
                code: code(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS),
                jt: 0,
                jf: 0,
                k: SECCOMP_DATA_NR,
            },
            // if (A & X32_SYSCALL_BIT) fall through to refuse, else skip it
            sock_filter {
                code: code(libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K),
                jt: 0,
                jf: 1,
                k: X32_SYSCALL_BIT,
            },
            sock_filter {
                code: code(libc::BPF_RET | libc::BPF_K),
                jt: 0,
                jf: 0,
                k: libc::SECCOMP_RET_ERRNO | (FILTER_ERRNO as u32 & libc::SECCOMP_RET_DATA),
            },
        ]
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Vec::new()
    }
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
