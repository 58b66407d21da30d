#!/usr/bin/env bash
# ONLINE step, on a connected machine: the only step that may use the
# network. Makes the self-contained source tarball sealtag-VERSION.tar.gz
# that packaging/build-offline.sh builds on an air-gapped machine:
#   the committed tree (git archive HEAD), vendor/ (every crate of
#   Cargo.lock, `cargo vendor --locked --versioned-dirs`), .cargo/config.toml
#   pointing Cargo at vendor/, SOURCE_DATE_EPOCH and SOURCE_COMMIT, and
#   OFFLINE-BUILD.txt (toolchain and system packages needed).
# Usage: packaging/vendor.sh [--offline] [OUTDIR]   (default OUTDIR: dist/)
# --offline vendors from the local Cargo cache only (after `cargo fetch`).
# The tarball itself is reproducible: sorted, fixed owners and times, gzip -n.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -f "$HOME/.cargo/env" ] && ! command -v cargo >/dev/null 2>&1 && . "$HOME/.cargo/env"

offline=()
if [ "${1:-}" = "--offline" ]; then
  offline=(--offline)
  shift
fi
out=${1:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^version = "\(.*\)"$/\1/p;T;q' Cargo.toml)
toolchain=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
name=sealtag-$version
commit=$(git rev-parse HEAD)
sde=$(git log -1 --format=%ct)
if ! git diff --quiet HEAD --; then
  echo "vendor: warning: uncommitted changes are NOT in the tarball (it is made from HEAD $commit)" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
git archive --format=tar --prefix="$name/" HEAD | tar -x -C "$stage"
src=$stage/$name
echo "vendor: cargo vendor --locked --versioned-dirs ${offline[*]} (all platforms' crates of Cargo.lock)" >&2
(cd "$src" && cargo vendor --locked --versioned-dirs "${offline[@]}" vendor >"$stage/config.toml")
mkdir -p "$src/.cargo"
{
  echo "# Written by packaging/vendor.sh: build from vendor/, never from the network."
  cat "$stage/config.toml"
  printf '\n[net]\noffline = true\n'
} >"$src/.cargo/config.toml"
echo "$sde" >"$src/SOURCE_DATE_EPOCH"
echo "$commit" >"$src/SOURCE_COMMIT"
cat >"$src/OFFLINE-BUILD.txt" <<EOF
Sealtag $version, source commit $commit, with every Rust dependency in vendor/.

Build on an air-gapped Debian 12 / Ubuntu machine (README: "Building from
source offline, and reproducibly"):

  tar -xzf $name.tar.gz && cd $name && packaging/build-offline.sh

Needs, installed beforehand from your own mirror or media:
  - Rust $toolchain (rust-toolchain.toml). With rustup: install it on a
    connected machine and copy ~/.rustup, or use the standalone installer
    https://static.rust-lang.org/dist/rust-$toolchain-x86_64-unknown-linux-gnu.tar.xz
    (verify its .sha256 and .asc signature), then ./install.sh;
  - gcc, libc6-dev, make, perl, pkg-config, libasound2-dev (the C parts:
    SQLCipher, OpenSSL, ALSA headers), and dpkg-deb (in dpkg) for the .deb.

Output: target/release/sealtag and target/deb/sealtag_${version}_<arch>.deb.
EOF
tarball=$out/$name.tar.gz
tar --sort=name --mtime="@$sde" --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$stage" -cf - "$name" | gzip -9n >"$tarball"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "vendor: $(du -h "$tarball" | cut -f1) $tarball" >&2
echo "$tarball"
