#!/usr/bin/env bash
# Regenerates docs/screenshots/ from the real binary under Xvfb: the demo
# project with one label of every kind, the help overlay, the schema editor,
# the shortcut settings, the quality and privacy screens, and the
# governance screens (report an item, incidents, access review, retention).
# Usage: packaging/screenshots.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/sealtag}
out=docs/screenshots
mkdir -p "$out"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
"$bin" --home "$home" demo --setup-only >/dev/null
proj="$home/demo/projects/demo.sealtag"
admin() { SEALTAG_PASSPHRASE=demo-admin "$bin" --home "$home/demo/admin" "$@" >/dev/null; }
admin label add --project "$proj" --item 1 --class face --bbox 170,55,115,125 --attr occluded=false
admin label add --project "$proj" --item 1 --class logo --polygon 132,385,170,347,211,380,190,424,150,424
admin label add --project "$proj" --item 1 --class text --polyline 282,350,330,350,330,376
admin label add --project "$proj" --item 1 --class other --point 420,60
admin label add --project "$proj" --item 1 --class other --tag
# A person skeleton (head, shoulders, hips) through the schema's keypoints.
SEALTAG_PASSPHRASE=demo-admin "$bin" --home "$home/demo/admin" label add --project "$proj" --item 1 --class person --bbox 90,40,330,470 >/dev/null
admin label add --project "$proj" --item 5 --class person --segment 0.35,4.2 --transcript "hello, I moved"
admin label add --project "$proj" --item 5 --class face --segment 5,9.5
admin label add --project "$proj" --item 6 --class other --span 30,68
admin label add --project "$proj" --item 6 --class person --span 11,16
admin label add --project "$proj" --item 6 --class document --tag
shot() { # NAME HOME PASS [extra args…]
  local name=$1 who=$2 pass=$3; shift 3
  SEALTAG_PASSPHRASE=$pass timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" \
    "$bin" --home "$who" --exit-after-secs 4 --screenshot "$out/$name.png" "$@" >/dev/null 2>&1
  echo "$out/$name.png"
}
shot workspace "$home" demo-annotator demo --run select_all
shot help "$home" demo-annotator demo --run toggle_help
shot audio "$home" demo-annotator demo --run next_item --run next_item --run next_item --run next_item
shot text "$home" demo-annotator demo --run next_item --run next_item --run next_item --run next_item --run next_item
shot shortcuts "$home" demo-annotator demo --run settings
shot schema-editor "$home/demo/admin" demo-admin open "$proj" --run schema_editor
shot make-work-package "$home/demo/admin" demo-admin open "$proj" --run make_work_package
# Privacy decisions, made before the work package so its header shows the
# package that carried them: the contract's e-mails and phones accepted (the
# rest left as proposals), the astronaut's face label as a blur region and a
# crop around the person.
admin mask propose --project "$proj" --items 12
admin mask accept --project "$proj" --type email --item 12
admin mask accept --project "$proj" --type phone --item 12
admin settings --project "$proj" mask_region_style blur
admin mask from-labels --project "$proj" --classes face --items 1
admin mask window --project "$proj" --item 1 --rect 60,20,400,480
# The demo annotator's laptop: a work package from the demo admin, opened.
admin assign --project "$proj" --to "Demo Annotator" >/dev/null || true
admin package work --project "$proj" --to "Demo Annotator" --out "$home/work.sealpkg"
SEALTAG_PASSPHRASE=demo-annotator "$bin" --home "$home/demo" package open "$home/work.sealpkg" --project "$home/laptop.sealtag" >/dev/null
shot send-results "$home/demo" demo-annotator open "$home/laptop.sealtag" --run send_results
# Review and quality: a second annotator labels the first images too, both
# submit, the admin decides; then the admin's review view and quality screen.
second="$home/second"
SEALTAG_PASSPHRASE=second-pass "$bin" --home "$second" identity new --name "Sam Second" >/dev/null
key=$(SEALTAG_PASSPHRASE=second-pass "$bin" --home "$second" identity show --json | sed -n 's/.*"public_key": "\(.*\)".*/\1/p')
admin user add --project "$proj" --key "$key" --role annotator --name "Sam Second"
admin assign --project "$proj" --to "Sam Second" --ids 1,2,3
ann() { SEALTAG_PASSPHRASE=demo-annotator "$bin" --home "$home/demo" "$@" >/dev/null; }
sam() { SEALTAG_PASSPHRASE=second-pass "$bin" --home "$second" "$@" >/dev/null; }
ann label add --project "$proj" --item 2 --class vehicle --bbox 40,60,300,180 --attr type=car
sam label add --project "$proj" --item 2 --class vehicle --bbox 46,58,290,186 --attr type=car
sam label add --project "$proj" --item 1 --class face --bbox 172,60,110,118
sam label add --project "$proj" --item 3 --class vehicle --bbox 100,20,120,400 --attr type=car
ann label add --project "$proj" --item 3 --class vehicle --bbox 95,30,130,380 --attr type=car
for i in 1 2 3; do ann submit --project "$proj" --item "$i"; sam submit --project "$proj" --item "$i"; done
admin review approve --project "$proj" --item 1 --annotator "Demo Annotator"
admin review reject --project "$proj" --item 1 --annotator "Sam Second" --comment "The face box cuts the chin"
admin review approve --project "$proj" --item 2 --annotator "Sam Second"
admin review approve --project "$proj" --item 3 --annotator "Sam Second"
shot review "$home/demo/admin" demo-admin open "$proj" --run next_item --run next_item
shot quality "$home/demo/admin" demo-admin open "$proj" --run quality
shot privacy "$home/demo/admin" demo-admin open "$proj" $(printf -- '--run next_item %.0s' $(seq 11)) --run privacy
shot privacy-image "$home/demo/admin" demo-admin open "$proj" --run privacy
# Governance: the annotator's report dialog; then reports by both
# annotators (one released by the admin), the admin's incident queue, the
# access review and the retention dialog.
shot report "$home" demo-annotator demo --run flag_item
ann incident flag --project "$proj" --item 4 --kind pii --reason "A name badge is readable on the left"
ann incident flag --project "$proj" --item 7 --kind wrong_data --reason "This is a duplicate of item 6"
sam incident flag --project "$proj" --item 3 --kind disturbing --reason "Accident scene in the background"
admin incident resolve --project "$proj" 2 --as release --note "Checked: not a duplicate"
shot incidents "$home/demo/admin" demo-admin open "$proj" --run incidents
shot access-review "$home/demo/admin" demo-admin open "$proj" --run access_review
admin settings --project "$proj" retention_days 365
shot retention "$home/demo/admin" demo-admin open "$proj" --run retention_purge
