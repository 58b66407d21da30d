//! `sealtag selftest …` (hidden): probes of the running binary's own
//! protections, printed as JSON for the tests that check them.

use anyhow::Result;
use serde_json::json;

use super::args::SelftestCommand;
use super::{Exit, print_json};

pub fn run(cmd: &SelftestCommand) -> Result<Exit> {
    match cmd {
        SelftestCommand::Network => {
            let (tcp, unix) = crate::platform::network_probe();
            print_json(&json!({
                "tcp_connect": tcp.as_ref().map(|_| "connected".to_string()).unwrap_or_else(|e| format!("refused: {e}")),
                "tcp_blocked_by_filter": tcp.as_ref().err().is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied),
                "unix_socketpair": unix.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| format!("failed: {e}")),
            }))?;
            Ok(Exit::Ok)
        }
    }
}
