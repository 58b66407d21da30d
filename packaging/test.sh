#!/usr/bin/env bash
# Runs the whole Sealtag test suite on a fresh Debian/Ubuntu machine: installs
# what is missing (packaging/ensure-deps.sh), checks formatting, lints, proves
# the core builds without the GUI, then runs every test (unit, integration,
# CLI, GUI with egui_kittest, and the Xvfb smoke test of the real binary),
# and finally builds the release binary and the .deb and installs, runs and
# removes that package (packaging/test-deb.sh says how it installed).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/ensure-deps.sh
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

step() { printf '\n==> %s\n' "$*" >&2; }
step "cargo fmt --check"
cargo fmt --check
step "cargo check --no-default-features (core without the GUI)"
cargo check --locked --no-default-features --quiet
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets --quiet -- -D warnings
step "cargo test (all targets)"
cargo test --locked --all-targets
step "release build, .deb, install / run / remove of the package"
start=$SECONDS
packaging/build-release.sh
deb=$(packaging/build-deb.sh | tail -1)
packaging/test-deb.sh "$deb"
echo "release build + .deb + package test: $((SECONDS - start)) s" >&2
