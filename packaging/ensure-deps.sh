#!/usr/bin/env bash
# Installs what Sealtag needs on a fresh Debian/Ubuntu, and only what is missing:
# the Rust toolchain pinned in rust-toolchain.toml (via rustup), the C toolchain for
# the vendored SQLCipher/OpenSSL build, ALSA headers for audio playback, and the
# X11/Mesa runtime plus Xvfb used by the GUI smoke test (and named in the
# .deb's Depends, which the package test installs), lintian, desktop-file-utils
# and man-db for the package test, and fonts for Arabic and CJK text. Safe to run repeatedly.
set -euo pipefail

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
need_pkgs=()
for p in gcc libc6-dev pkg-config libasound2-dev perl make \
         xvfb xauth libxcursor1 libxi6 libxkbcommon-x11-0 libgl1-mesa-dri \
         libgl1 libx11-6 libx11-xcb1 binutils lintian desktop-file-utils man-db \
         fonts-dejavu-core fonts-wqy-microhei; do
  # Captured, not piped into grep -q: under pipefail an early grep exit can
  # fail the pipeline and send an installed package to apt.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || need_pkgs+=("$p")
done
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "sealtag: installing system packages: ${need_pkgs[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
  command -v curl >/dev/null 2>&1 || { $sudo_cmd apt-get install -y -qq curl ca-certificates >&2; }
  echo "sealtag: installing Rust with rustup" >&2
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
  . "$HOME/.cargo/env"
fi
