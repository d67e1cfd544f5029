#!/usr/bin/env bash
# Smoke test of the desktop bundle (make bundle): run from an empty folder, with an empty
# environment and no Python on PATH, it must print its version, find cells in a bundled
# sample with the bundled default model, and render the window offscreen.
#   bash packaging/bundle_smoke.sh [dist/bloodview]
set -euo pipefail
BUNDLE="$(cd "${1:-dist/bloodview}" && pwd)"
EXE="$BUNDLE/bloodview"
SAMPLES="$BUNDLE/_internal/bloodview/resources/samples"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/bin"
cd "$WORK"
run() {
    env -i HOME="$WORK" PATH="$WORK/bin" QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 "$EXE" "$@"
}
fail() { echo "bundle smoke: FAILED: $*" >&2; exit 1; }

version="$(run --version)"
[[ "$version" == "bloodview "* ]] || fail "--version printed '$version'"
echo "ok: $version"

run predict "$SAMPLES/pbc_neutrophil_BNE_67131.jpg" --out cells.json 2> predict.log || { cat predict.log >&2; fail predict; }
cells="$(grep -o '"category_id"' cells.json | wc -l)"
(( cells > 0 )) || fail "predict found no cells"
echo "ok: predict found $cells cell(s) ($(grep '^device:' predict.log))"

run gui "$SAMPLES" --screenshot window.png > gui.log 2>&1 || { cat gui.log >&2; fail "gui --screenshot"; }
[[ "$(head -c 4 window.png | od -An -c | tr -d ' ')" == "211PNG" ]] || fail "window.png is not a PNG"
echo "ok: gui --screenshot wrote $(stat -c %s window.png) bytes"

run doctor | grep -q "installed with the package" || fail "doctor does not see the bundled model"
echo "bundle smoke: passed"
