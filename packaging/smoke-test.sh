#!/usr/bin/env bash
# GUI smoke test: runs the real sealtag binary in a virtual X display on the
# demo project, unlocks it with the demo passphrase, lets it render for a few
# seconds, saves a screenshot and exits. Usage: smoke-test.sh BINARY OUT.png
# (Install xvfb first: packaging/ensure-deps.sh.) The screenshot shows only
# the public demo media; it is the one file the app writes in the clear, and
# only because this test hook asks it to.
set -euo pipefail
bin=${1:?usage: smoke-test.sh BINARY OUT.png}
out=${2:?usage: smoke-test.sh BINARY OUT.png}
secs=${SMOKE_SECONDS:-5}
command -v xvfb-run >/dev/null || { echo "smoke-test: xvfb-run missing; run packaging/ensure-deps.sh" >&2; exit 2; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
rm -f "$out"
SEALTAG_PASSPHRASE=demo-annotator timeout 120 \
  xvfb-run -a -s "-screen 0 1280x800x24" \
  "$bin" --home "$home" demo --exit-after-secs "$secs" --screenshot "$out"
[ -s "$out" ] || { echo "smoke-test: no screenshot written" >&2; exit 1; }
echo "smoke-test: screenshot in $out"
