#!/usr/bin/env bash
# Builds the Debian package from a release binary with plain dpkg-deb (no
# cargo-deb): stages the tree, asks the binary itself for its man pages,
# shell completions, SBOM and the licence texts of every dependency
# (`sealtag generate`, hidden), writes DEBIAN/control and md5sums.
# Usage: packaging/build-deb.sh [--offline] [BINARY]
#   BINARY defaults to $CARGO_TARGET_DIR/release/sealtag (target/ by default);
#   the .deb goes to $CARGO_TARGET_DIR/deb/ and its path is printed last.
# Deterministic: file times are SOURCE_DATE_EPOCH, owners root, sorted.
#
# Installs:
#   /usr/bin/sealtag
#   /usr/share/applications/sealtag.desktop
#   /usr/share/icons/hicolor/256x256/apps/sealtag.png
#   /usr/share/man/man1/sealtag.1.gz, sealtag-SUBCOMMAND.1.gz
#   /usr/share/bash-completion/completions/sealtag
#   /usr/share/zsh/vendor-completions/_sealtag
#   /usr/share/fish/vendor_completions.d/sealtag.fish
#   /usr/share/doc/sealtag/{copyright,README.md.gz,sbom.cdx.json}
#   /usr/share/doc/sealtag/licenses/NAME-VERSION/…, licenses/INDEX
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -f "$HOME/.cargo/env" ] && ! command -v cargo >/dev/null 2>&1 && . "$HOME/.cargo/env"

offline=()
if [ "${1:-}" = "--offline" ]; then
  offline=(--offline)
  shift
fi
target=${CARGO_TARGET_DIR:-$root/target}
bin=${1:-$target/release/sealtag}
[ -x "$bin" ] || { echo "build-deb: no binary at $bin (run packaging/build-release.sh)" >&2; exit 1; }
out_dir=$target/deb
mkdir -p "$out_dir"

. packaging/source-date.sh

version=$(sed -n 's/^version = "\(.*\)"$/\1/p;T;q' Cargo.toml)
arch=$(dpkg --print-architecture)
triple=$(rustc -vV | sed -n 's/^host: //p')
[ "$("$bin" --version)" = "sealtag $version" ] ||
  { echo "build-deb: $bin is not sealtag $version" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/root
doc=$stage/usr/share/doc/sealtag
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/applications" \
         "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/man/man1" \
         "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
         "$stage/usr/share/fish/vendor_completions.d" "$doc"

install -m 0755 "$bin" "$stage/usr/bin/sealtag"
# Symbols off, as dh_strip does (the release profile keeps them for the
# build machine's backtraces); the SBOM below records this stripped file.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/sealtag"
install -m 0644 packaging/deb/sealtag.desktop "$stage/usr/share/applications/sealtag.desktop"
install -m 0644 assets/icon/sealtag.png "$stage/usr/share/icons/hicolor/256x256/apps/sealtag.png"

gen() { "$stage/usr/bin/sealtag" generate "$@" 2>>"$work/generate.log"; }
gen man --out "$work/man"
for page in "$work"/man/*.1; do
  gzip -9n <"$page" >"$stage/usr/share/man/man1/$(basename "$page").gz"
done
gen completions bash zsh fish --out "$work/completions"
install -m 0644 "$work/completions/sealtag.bash" "$stage/usr/share/bash-completion/completions/sealtag"
install -m 0644 "$work/completions/_sealtag" "$stage/usr/share/zsh/vendor-completions/_sealtag"
install -m 0644 "$work/completions/sealtag.fish" "$stage/usr/share/fish/vendor_completions.d/sealtag.fish"

# What the binary is built from: this platform's resolve, no dev-dependencies.
cargo metadata --format-version 1 --locked "${offline[@]}" --filter-platform "$triple" >"$work/metadata.json"
gen sbom --metadata "$work/metadata.json" --lock Cargo.lock --binary "$stage/usr/bin/sealtag" \
    --out "$doc/sbom.cdx.json"
gen licenses --metadata "$work/metadata.json" --out "$doc/licenses"
gzip -9n <README.md >"$doc/README.md.gz"
commit=$( [ -f SOURCE_COMMIT ] && cat SOURCE_COMMIT || git rev-parse HEAD 2>/dev/null || echo unknown)
crates=$(grep -vc '^#' "$doc/licenses/INDEX")
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sealtag
Comment: Built from source commit $commit.

Files: *
Copyright: 2025-$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y) The Sealtag authors
License: MIT or Apache-2.0
 The full texts are in /usr/share/doc/sealtag/licenses/sealtag-$version/
 (LICENSE-MIT, LICENSE-APACHE).

Files: usr/bin/sealtag
Copyright: The authors of each bundled package
License: various, see licenses/INDEX
 The binary statically links Rust crates and C libraries compiled from
 source (OpenSSL, SQLCipher/SQLite). licenses/INDEX lists all $crates packages
 of the build (this program included) with their SPDX expressions; each
 package's licence files are in licenses/NAME-VERSION/. The CycloneDX SBOM
 sbom.cdx.json lists the same packages with versions, hashes and the
 dependency graph.
 .
 It also embeds a subset of the Symbola 2.60 font, Copyright (C)
 2007-2015 George Douros, to draw emoji and symbols in texts. Its licence,
 as Debian's fonts-symbola records it: "Fonts are free for any use; they
 may be opened, edited, modified, regenerated, packaged and
 redistributed." How the subset was made is in assets/fonts/README.md of
 the source.
EOF

# Debian policy 12.7: every package ships a changelog. The version has no
# Debian revision (a native package), so it is changelog.gz; dated with
# SOURCE_DATE_EPOCH so the .deb stays reproducible.
maintainer=${SEALTAG_DEB_MAINTAINER:-Sealtag maintainers <sealtag@example.invalid>}
cat >"$work/changelog" <<EOF
sealtag ($version) unstable; urgency=medium

  * Release $version, built from source commit
    $commit.
    What changed is in the source's git history and README.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
gzip -9n <"$work/changelog" >"$doc/changelog.gz"

# Shared libraries: the binary links libc, libm, libgcc_s and libasound and
# loads the X11/GL ones at run time (winit, glutin); Wayland and EGL only in a
# Wayland session (Recommends).
glibc=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
depends="libc6 (>= $glibc), libgcc-s1, libasound2t64 | libasound2, libgl1, libx11-6, libx11-xcb1, libxcursor1, libxi6, libxkbcommon-x11-0"
recommends="fonts-dejavu-core, fonts-wqy-microhei, libgl1-mesa-dri, libegl1, libwayland-client0, libwayland-egl1"

find "$stage" -path "$stage/DEBIAN" -prune -o -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
chmod 0755 "$stage/usr/bin/sealtag"
installed_kb=$(du -sk --apparent-size "$stage/usr" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: sealtag
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: $depends
Recommends: $recommends
Section: science
Priority: optional
Description: offline labelling of sensitive images, audio and text
 Sealtag labels sensitive images, audio and text on air-gapped workstations:
 encrypted project bundles (SQLCipher, XChaCha20-Poly1305), a hash-chained,
 signed audit trail, and sealed, signed work packages between the site and
 annotators' laptops. It contains no network code, and on Linux the running
 process forbids itself IP sockets.
 .
 The licence texts of every bundled package and a CycloneDX SBOM are in
 /usr/share/doc/sealtag/.
EOF
(cd "$stage" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb=$out_dir/sealtag_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "build-deb: $(du -h "$deb" | cut -f1) $deb, installs $((installed_kb / 1024)) MiB; sha256 $(sha256sum "$deb" | cut -d' ' -f1)" >&2
echo "$deb"
