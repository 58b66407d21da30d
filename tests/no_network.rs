//! No network, provably: no networking crate in the dependency tree, and the
//! running binary cannot open an IP socket (seccomp) while Unix sockets work.

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
