#!/usr/bin/env bash
# Builds Sealtag (release) and opens the GUI on the embedded demo project.
# Installs missing system packages and Rust first (packaging/ensure-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/ensure-deps.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo build --locked --release
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: running in a virtual X display (xvfb-run); nothing will be visible." >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" target/release/sealtag demo "$@"
fi
exec target/release/sealtag demo "$@"
