#!/usr/bin/env bash
# AIR-GAPPED step: builds the release binary and the .deb from a source
# tarball made by packaging/vendor.sh, without any network access
# (cargo --offline --frozen from vendor/). Run from the unpacked tarball:
#   tar -xzf sealtag-VERSION.tar.gz && cd sealtag-VERSION && packaging/build-offline.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && ! command -v cargo >/dev/null 2>&1 && . "$HOME/.cargo/env"

die() { echo "build-offline: $*" >&2; exit 1; }
[ -d vendor ] || die "no vendor/ here: unpack a source tarball made by packaging/vendor.sh (see OFFLINE-BUILD.txt)"
grep -q 'directory = "vendor"' .cargo/config.toml 2>/dev/null ||
  die ".cargo/config.toml does not point Cargo at vendor/"
for tool in cargo rustc cc make perl dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (OFFLINE-BUILD.txt lists what to install)"
done
want=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
have=$(rustc --version | cut -d' ' -f2)
if [ "$have" != "$want" ]; then
  echo "build-offline: warning: rustc $have, but this release is built and checked with $want;" >&2
  echo "               it should build (rust-version in Cargo.toml), but the binary will not match the published hash" >&2
fi

export CARGO_NET_OFFLINE=true
packaging/build-release.sh --offline
packaging/build-deb.sh --offline
