//! No network, provably: no networking crate in the dependency tree, and the
//! running binary cannot open any socket but a Unix one (a seccomp
//! allow-list), while Unix sockets work.

use std::process::Command;

/// Crates that speak HTTP/TLS/DNS, phone home, or open links.
const BANNED: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "h3",
    "ureq",
    "isahc",
    "curl",
    "curl-sys",
    "surf",
    "attohttpc",
    "rustls",
    "native-tls",
    "openssl-probe",
    "tokio-rustls",
    "trust-dns-resolver",
    "hickory-resolver",
    "hickory-proto",
    "webbrowser",
    "open",
    "sentry",
    "opentelemetry",
    "self_update",
    "tungstenite",
    "quinn",
];

#[test]
fn cargo_tree_has_no_networking_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--all-features",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.len() > 100,
        "the tree was read ({} lines)",
        names.len()
    );
    assert!(
        names.contains(&"rusqlite"),
        "sanity: known crates are listed"
    );
    let found: Vec<&&str> = BANNED.iter().filter(|b| names.contains(b)).collect();
    assert!(
        found.is_empty(),
        "networking crates in the dependency tree: {found:?}"
    );
}

/// Cargo.lock covers every target platform (Windows, macOS, Android…),
/// without needing their crates downloaded.
#[test]
fn cargo_lock_has_no_networking_crate_for_any_platform() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|n| n.trim_end_matches('"'))
        .collect();
    assert!(
        names.contains(&"eframe") && names.len() > 200,
        "{} packages read",
        names.len()
    );
    let found: Vec<&&str> = BANNED.iter().filter(|b| names.contains(b)).collect();
    assert!(
        found.is_empty(),
        "networking crates in Cargo.lock: {found:?}"
    );
}

#[test]
fn the_binary_cannot_open_ip_sockets_but_unix_sockets_work() {
    let out = Command::new(env!("CARGO_BIN_EXE_sealtag"))
        .args(["selftest", "network"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tcp_blocked_by_filter"], true, "{report}");
    assert_eq!(report["unix_socketpair"], "ok", "{report}");
    // Control: this test process has no filter, and connecting to a port
    // nobody listens on fails differently (refused, not permission denied).
    let plain = std::net::TcpStream::connect("127.0.0.1:9")
        .err()
        .map(|e| e.kind());
    assert_ne!(plain, Some(std::io::ErrorKind::PermissionDenied));
}

/// Set in the child run of [`every_socket_family_but_unix_is_refused_in_a_locked_child`].
#[cfg(target_os = "linux")]
const LOCKED_CHILD: &str = "SEALTAG_NO_NETWORK_LOCKED_CHILD";
/// How the child reports one attempt on stdout: `probe <what> <outcome>`.
#[cfg(target_os = "linux")]
const PROBE: &str = "probe ";
/// Address families tried: every one Linux defines (its AF_MAX is 46 in
/// 6.x) and then some, so a family added later is covered too.
#[cfg(target_os = "linux")]
const FAMILIES: std::ops::Range<i32> = 0..64;
/// What the filter answers: EACCES. The kernel itself answers
/// EAFNOSUPPORT (or EINVAL, EPERM…) for a family it does not have, so
/// only EACCES proves the filter refused the call.
#[cfg(target_os = "linux")]
const FILTER_ERRNO: i32 = libc::EACCES;
/// `__X32_SYSCALL_BIT`: x86_64 system call numbers with this bit set go to
/// the x32 ABI's table, which a filter on the x86_64 numbers would miss.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;

/// `Ok` or the errno of a raw call's result (closing any descriptors).
#[cfg(target_os = "linux")]
fn outcome(ret: libc::c_long, fds: &[libc::c_int]) -> Result<(), i32> {
    if ret < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    for fd in fds {
        // SAFETY: the descriptor was just returned to us and is closed once.
        #[allow(unsafe_code)]
        unsafe {
            libc::close(*fd);
        }
    }
    Ok(())
}

/// Every attempt the child makes, by name: `socket`/`socketpair` for each
/// family and type, an x32-ABI `socket(AF_INET)`, and `io_uring_setup`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn attempts() -> Vec<(String, Result<(), i32>)> {
    let mut out = Vec::new();
    for family in FAMILIES {
        for (type_name, ty) in [("stream", libc::SOCK_STREAM), ("dgram", libc::SOCK_DGRAM)] {
            // SAFETY: plain system calls with integer arguments; `pair`
            // is a valid two-int buffer the kernel fills.
            let fd = unsafe { libc::socket(family, ty, 0) };
            out.push((
                format!("socket/{family}/{type_name}"),
                outcome(fd.into(), &[fd]),
            ));
            let mut pair = [-1; 2];
            let ret = unsafe { libc::socketpair(family, ty, 0, pair.as_mut_ptr()) };
            out.push((
                format!("socketpair/{family}/{type_name}"),
                outcome(ret.into(), &pair),
            ));
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: as above; the kernel answers ENOSYS where x32 is off.
        let ret = unsafe {
            libc::syscall(
                X32_SYSCALL_BIT | libc::SYS_socket,
                libc::AF_INET,
                libc::SOCK_STREAM,
                0,
            )
        };
        let fd = ret as libc::c_int;
        out.push(("x32-socket/inet".to_string(), outcome(ret, &[fd])));
    }
    let mut params = [0u8; 120]; // struct io_uring_params, zeroed
    // SAFETY: `params` is larger than struct io_uring_params and writable.
    let ret = unsafe { libc::syscall(libc::SYS_io_uring_setup, 1, params.as_mut_ptr()) };
    out.push((
        "io_uring_setup".to_string(),
        outcome(ret, &[ret as libc::c_int]),
    ));
    out
}

/// The network filter as an allow-list: in a child process that installs
/// it exactly as `main` does, `socket` and `socketpair` succeed for AF_UNIX
/// and are refused by the filter (EACCES, not the kernel's own answer) for
/// every other family; an x32-ABI `socket` call and `io_uring_setup` are
/// refused the same way.
#[cfg(target_os = "linux")]
#[test]
fn every_socket_family_but_unix_is_refused_in_a_locked_child() {
    if std::env::var_os(LOCKED_CHILD).is_some() {
        sealtag::platform::forbid_network().expect("the filter installs");
        for (what, result) in attempts() {
            match result {
                Ok(()) => println!("{PROBE}{what} ok"),
                Err(errno) => println!("{PROBE}{what} errno={errno}"),
            }
        }
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "every_socket_family_but_unix_is_refused_in_a_locked_child",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(LOCKED_CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the locked child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let probes: Vec<(String, String)> = stdout
        .lines()
        // libtest may have started the line ("test … ... ").
        .filter_map(|l| l.split_once(PROBE))
        .filter_map(|(_, p)| p.split_once(' '))
        .map(|(what, outcome)| (what.to_string(), outcome.to_string()))
        .collect();
    let expected = attempts().len();
    assert_eq!(probes.len(), expected, "one line per attempt:\n{stdout}");
    let unix = libc::AF_UNIX;
    let denied = format!("errno={FILTER_ERRNO}");
    let wrong: Vec<String> = probes
        .iter()
        .filter(|(what, outcome)| {
            let is_unix = what.starts_with(&format!("socket/{unix}/"))
                || what.starts_with(&format!("socketpair/{unix}/"));
            if is_unix {
                outcome != "ok"
            } else {
                *outcome != denied
            }
        })
        .map(|(what, outcome)| format!("{what}: {outcome}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "expected AF_UNIX to work and everything else to get {denied} from the filter; got:\n{}",
        wrong.join("\n")
    );
    // Control: without the filter (this process), an IP socket opens, so
    // the refusals above are the filter's doing.
    let here = attempts();
    let inet = format!("socket/{}/stream", libc::AF_INET);
    assert!(
        here.iter().any(|(what, r)| *what == inet && r.is_ok()),
        "an unfiltered process can open {inet}"
    );
}
