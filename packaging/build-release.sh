#!/usr/bin/env bash
# Builds the release binary reproducibly: the same commit, toolchain
# (rust-toolchain.toml) and C compiler give the same bytes, wherever the
# checkout, the target directory and the Cargo cache are. Usage:
#   packaging/build-release.sh [--offline]
# --offline builds from vendor/ (a source tarball from packaging/vendor.sh)
# with `--frozen`. Prints the binary's path and SHA-256 on the last line.
#
# What it pins (README: "Building from source offline, and reproducibly"):
#  - SOURCE_DATE_EPOCH = the commit time (or the file SOURCE_DATE_EPOCH in a
#    source tarball, or, in a download without git, the newest source file's
#    time, which an archive sets to the commit's): OpenSSL writes its
#    "built on" date from it;
#  - --remap-path-prefix for the checkout, the target directory, the Cargo
#    registry cache and vendor/ (panic locations carry source paths);
#  - OpenSSL's ENGINESDIR/MODULESDIR (compiled-in directories, otherwise
#    inside the target directory) to fixed paths; this build loads neither;
#  - no RUSTFLAGS/CFLAGS/LDFLAGS from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -f "$HOME/.cargo/env" ] && ! command -v cargo >/dev/null 2>&1 && . "$HOME/.cargo/env"

cargo_args=(--release --locked)
if [ "${1:-}" = "--offline" ]; then
  cargo_args+=(--offline --frozen)
fi

target=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$target"
target=$(cd "$target" && pwd)
export CARGO_TARGET_DIR=$target
cargo_home=${CARGO_HOME:-$HOME/.cargo}

. packaging/source-date.sh

# Later prefixes win when several match (vendor/ and target/ may be inside
# the checkout).
flags=("--remap-path-prefix=$root=/sealtag" "--remap-path-prefix=$target=/target")
for d in "$cargo_home"/registry/src/*/; do
  [ -d "$d" ] && flags+=("--remap-path-prefix=${d%/}=/crates")
done
[ -d "$root/vendor" ] && flags+=("--remap-path-prefix=$root/vendor=/crates")
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; printf '%s' "${flags[*]}")
export CARGO_ENCODED_RUSTFLAGS
unset RUSTFLAGS CFLAGS CXXFLAGS CPPFLAGS LDFLAGS TARGET_CFLAGS HOST_CFLAGS \
      CFLAGS_x86_64_unknown_linux_gnu CFLAGS_aarch64_unknown_linux_gnu
# GNU make reads variable overrides from GNUMAKEFLAGS; only OpenSSL's build
# (openssl-src) runs make here.
export GNUMAKEFLAGS="ENGINESDIR=/usr/lib/sealtag/openssl-engines MODULESDIR=/usr/lib/sealtag/openssl-modules"

echo "build-release: cargo build ${cargo_args[*]} (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH, target $target)" >&2
cargo build "${cargo_args[@]}"
bin=$target/release/sealtag
echo "$bin $(sha256sum "$bin" | cut -d' ' -f1)"
