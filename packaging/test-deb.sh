#!/usr/bin/env bash
# Installs the built .deb, runs what it installed, and removes it again.
# Usage: packaging/test-deb.sh PATH.deb
# How it installs (said on the first line of output):
#  - as root: dpkg -i, then dpkg --purge;
#  - otherwise with sudo, if sudo works without a password;
#  - otherwise (or when a sealtag package is already installed, which this
#    test must not replace): dpkg-deb -x into a temporary root, run from
#    there, delete it. dpkg's own install and removal are then NOT exercised.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:?usage: test-deb.sh PATH.deb}
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version)
fail() { echo "test-deb: FAILED: $*" >&2; exit 1; }
# `cmd | grep -q` is wrong under pipefail: grep exits at the first match, the
# writer then gets EPIPE and the pipeline fails although the line was there
# (CI failed exactly so on `selftest network`). Capture first, then match.
contains() { local pattern=$1 out; shift; out=$("$@") || return 1; grep -q -- "$pattern" <<<"$out"; }
say() { echo "test-deb: $*" >&2; }

sudo_cmd=()
if contains "install ok installed" dpkg-query -W -f='${Status}' sealtag 2>/dev/null; then
  mode=extract
  say "a sealtag package is already installed here; not touching it: dpkg-deb -x into a temporary root"
elif [ "$(id -u)" -eq 0 ]; then
  mode=dpkg
  say "installing with dpkg -i as root"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  mode=dpkg
  sudo_cmd=(sudo -n)
  say "installing with sudo dpkg -i"
else
  mode=extract
  say "not root and no password-less sudo: dpkg-deb -x into a temporary root (dpkg install/remove not exercised)"
fi

# The package's Depends must be installable here: each group has an
# installed alternative (the CI machine gets them from ensure-deps.sh).
depends=$(dpkg-deb -f "$deb" Depends)
IFS=',' read -ra groups <<<"$depends"
provides=$(dpkg-query -W -f='${Provides}\n' 2>/dev/null | tr ',' '\n' | sed 's/(.*)//; s/ //g')
for g in "${groups[@]}"; do
  ok=no
  IFS='|' read -ra alts <<<"$g"
  for a in "${alts[@]}"; do
    pkg=$(echo "$a" | sed 's/(.*)//; s/ //g')
    status=$(dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null || true)
    grep -q "install ok installed" <<<"$status" && ok=yes
    # A virtual package (libasound2 on Ubuntu 24.04 is provided by libasound2t64).
    grep -qx -- "$pkg" <<<"$provides" && ok=yes
  done
  [ "$ok" = yes ] || fail "Depends group '$g' has no installed package"
done
say "Depends satisfied: $depends"

# Debian's own checker: errors fail the test, warnings are shown. (Its
# version differs between releases; a new warning should not stop a build.)
# A check whose tool is missing fails: a skipped check must not read as run.
for tool in lintian man desktop-file-validate xvfb-run; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed, so its check cannot run (packaging/ensure-deps.sh installs it)"
done
report=$(lintian --tag-display-limit 0 "$deb" 2>/dev/null || true)
[ -z "$report" ] || printf '%s\n' "$report" >&2
! grep -q '^E: ' <<<"$report" || fail "lintian reports errors (above)"
say "lintian: $(grep -c '^E: ' <<<"$report" || true) errors, $(grep -c '^W: ' <<<"$report" || true) warnings"

tmp=$(mktemp -d)
cleanup() {
  rm -rf "$tmp"
  if [ "${installed:-no}" = yes ]; then "${sudo_cmd[@]}" dpkg --purge sealtag >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ "$mode" = dpkg ]; then
  "${sudo_cmd[@]}" dpkg -i "$deb" >&2 || fail "dpkg -i"
  installed=yes
  prefix=
  contains "install ok installed $version" dpkg-query -W -f='${Status} ${Version}\n' sealtag ||
    fail "dpkg does not list sealtag $version as installed"
  say "installed: $(dpkg -L sealtag | wc -l) paths"
else
  dpkg-deb -x "$deb" "$tmp/root"
  prefix=$tmp/root
fi
bin=$prefix/usr/bin/sealtag
doc=$prefix/usr/share/doc/sealtag

# Files in place.
for f in usr/bin/sealtag usr/share/applications/sealtag.desktop \
         usr/share/icons/hicolor/256x256/apps/sealtag.png usr/share/man/man1/sealtag.1.gz \
         usr/share/man/man1/sealtag-export.1.gz usr/share/bash-completion/completions/sealtag \
         usr/share/zsh/vendor-completions/_sealtag usr/share/fish/vendor_completions.d/sealtag.fish \
         usr/share/doc/sealtag/copyright usr/share/doc/sealtag/changelog.gz usr/share/doc/sealtag/sbom.cdx.json \
         usr/share/doc/sealtag/licenses/INDEX; do
  [ -s "$prefix/$f" ] || fail "/$f missing"
done
[ "$mode" = extract ] || (cd / && md5sum --quiet -c /var/lib/dpkg/info/sealtag.md5sums) || fail "md5sums"

# It runs: version, the no-network self-test, a headless identity and
# project round trip, the man page, completions, and the GUI under Xvfb.
[ "$("$bin" --version)" = "sealtag $version" ] || fail "--version"
contains '"tcp_blocked_by_filter": true' "$bin" selftest network || fail "the IP socket filter is not active"
home=$tmp/home
export SEALTAG_PASSPHRASE=test-deb-passphrase
"$bin" --home "$home" identity new --name deb-test >/dev/null || fail "identity new"
"$bin" --home "$home" project create "$tmp/project" --name deb-test >/dev/null || fail "project create"
"$bin" --home "$home" project check --project "$tmp/project" >/dev/null || fail "project check"
unset SEALTAG_PASSPHRASE
contains "^sealtag ($version) " zcat "$doc/changelog.gz" || fail "changelog.gz"
contains '^\.TH sealtag 1' zcat "$prefix/usr/share/man/man1/sealtag.1.gz" || fail "man page"
contains '--format' env MANWIDTH=80 man -l "$prefix/usr/share/man/man1/sealtag-export.1.gz" || fail "man -l"
bash -c "source '$prefix/usr/share/bash-completion/completions/sealtag' && complete -p sealtag" >/dev/null ||
  fail "bash completion"
grep -q '^Exec=sealtag$' "$prefix/usr/share/applications/sealtag.desktop" || fail "desktop entry"
desktop-file-validate "$prefix/usr/share/applications/sealtag.desktop" >&2 || fail "desktop-file-validate"
sha=$(sha256sum "$bin" | cut -d' ' -f1)
grep -q "\"content\": \"$sha\"" "$doc/sbom.cdx.json" || fail "the SBOM does not record the installed binary's SHA-256"
# The reproducible-build flags took effect: no path of this build machine
# (checkout, Cargo cache) is left in the binary.
for p in "$PWD" "${CARGO_HOME:-$HOME/.cargo}"; do
  if [ "${#p}" -ge 8 ] && grep -q -a -F -- "$p/" "$bin"; then
    fail "the binary contains the build path $p/ (was it built by packaging/build-release.sh?)"
  fi
done
packaging/smoke-test.sh "$bin" "$tmp/shot.png" >&2 || fail "GUI smoke test of the installed binary"
say "ran $bin: --version, selftest network, identity/project round trip, man, completions, GUI"

if [ "$mode" = dpkg ]; then
  "${sudo_cmd[@]}" dpkg --purge sealtag >&2 || fail "dpkg --purge"
  installed=no
  ! contains "install ok installed" dpkg-query -W -f='${Status}' sealtag 2>/dev/null || fail "still installed"
  for p in /usr/bin/sealtag /usr/share/doc/sealtag /usr/share/applications/sealtag.desktop \
           /usr/share/man/man1/sealtag.1.gz /usr/share/icons/hicolor/256x256/apps/sealtag.png; do
    [ ! -e "$p" ] || fail "$p left behind after dpkg --purge"
  done
  say "removed with dpkg --purge: nothing left behind"
else
  rm -rf "$tmp/root"
  say "temporary root deleted"
fi
say "OK ($mode)"
