#!/usr/bin/env bash
# Smoke test of the desktop bundle (make bundle): run from an empty folder, with an empty
# environment and no Python on PATH, as a lab's user would. It checks
#   - every bloodview module imports inside the bundle (the GUI and CLI import most lazily),
#   - predict (bundled default model, bundled samples), count, convert (labelme, via, project),
#     evaluate, models, doctor,
#   - train --classes-only started the way the app's Retrain dialog starts it (`-m bloodview`),
#   - bootstrap with two worker processes (multiprocessing "spawn" in a frozen program),
#   - the window rendered offscreen, once plain and once after Detect,
# and fails on a non-zero exit, a missing output, or a Python traceback in any output (an error on
# a worker thread or at exit still exits 0).
#   bash packaging/bundle_smoke.sh [dist/bloodview]
set -euo pipefail
BUNDLE="$(cd "${1:-dist/bloodview}" && pwd)"
EXE="$BUNDLE/bloodview"
SAMPLES="$BUNDLE/_internal/bloodview/resources/samples"
MODEL="$BUNDLE/_internal/bloodview/resources/models/default"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/bin"
cd "$WORK"
START=$SECONDS
# run [VAR=VALUE...] -- ARGS...: the bundle in an empty environment, at most 5 minutes a command.
run_env() {
    local vars=()
    while [[ "$1" != "--" ]]; do vars+=("$1"); shift; done
    shift
    timeout 300 env -i HOME="$WORK" PATH="$WORK/bin" QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 \
        "${vars[@]}" "$EXE" "$@"
}
run() { run_env -- "$@"; }
fail() { echo "bundle smoke: FAILED: $*" >&2; exit 1; }
# check NAME COMMAND...: run the bundle with COMMAND, output in NAME.log; fail on exit status or traceback.
check() {
    local name="$1"
    shift
    local status=0
    run "$@" > "$name.log" 2>&1 || status=$?
    (( status == 0 )) || { tail -40 "$name.log" >&2; fail "bloodview $* (exit status $status)"; }
    if grep -q "^Traceback (most recent call last)" "$name.log"; then
        grep -B2 -A20 "^Traceback" "$name.log" | head -60 >&2
        fail "bloodview $* printed a traceback"
    fi
}
is_png() { [[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == "211PNG" ]]; }

version="$(run --version)"
[[ "$version" == "bloodview "* ]] || fail "--version printed '$version'"
echo "ok: $version"

run_env BLOODVIEW_BUNDLE_SELFTEST=imports -- > imports.log 2>&1 || { tail -60 imports.log >&2; fail "bloodview modules missing from the bundle"; }
echo "ok: $(tail -1 imports.log)"

check predict predict "$SAMPLES/pbc_neutrophil_BNE_67131.jpg" "$SAMPLES/bccd_BloodImage_00007.jpg" --out cells.json
cells="$(grep -o '"category_id"' cells.json | wc -l)"
(( cells > 0 )) || fail "predict found no cells"
echo "ok: predict found $cells cell(s) ($(grep '^device:' predict.log))"

check count count cells.json --images "$SAMPLES" --out counts.csv
[[ -s counts.csv ]] || fail "count wrote no counts.csv"
for target in labelme:as-labelme via:as-via.json project:as-project; do
    fmt="${target%%:*}" out="${target#*:}"
    check "convert-$fmt" convert cells.json "$out" --to "$fmt" --images "$SAMPLES"
    [[ -e "$out" ]] || fail "convert --to $fmt wrote no $out"
    check "count-$fmt" count "$out" --images "$SAMPLES"
done
echo "ok: count, convert to labelme / via / project and read back"

check evaluate evaluate --gt as-labelme --pred cells.json --out report
for file in report.md report.json confusion_matrix.png; do
    [[ -s "report/$file" ]] || fail "evaluate wrote no $file"
done
echo "ok: evaluate wrote report/report.md"

# The Retrain dialog runs `sys.executable -m bloodview train ...`: in the bundle, this program.
check train -m bloodview train --init "$MODEL" --classes-only --data cells.json --images "$SAMPLES" --out retrained
[[ -s retrained/model.json ]] || fail "train --classes-only wrote no model"
check predict-retrained predict "$SAMPLES/pbc_neutrophil_BNE_67131.jpg" --model retrained --out cells2.json
echo "ok: -m bloodview train --classes-only, and predict with the model it wrote"

mkdir -p folders/neutrophil folders/lymphocyte
cp "$SAMPLES"/pbc_neutrophil_*.jpg folders/neutrophil/
cp "$SAMPLES"/pbc_lymphocyte_*.jpg folders/lymphocyte/
check bootstrap bootstrap folders --workers 2 --out bootstrap.json
[[ -s bootstrap.json ]] || fail "bootstrap wrote nothing"
echo "ok: bootstrap with 2 worker processes"

check models models
grep -qF "default model: $MODEL" models.log || fail "models does not list the bundled default model"
check doctor doctor
grep -q "installed with the package" doctor.log || fail "doctor does not see the bundled model"
grep -Eq "^  tensorflow +[0-9]" doctor.log || fail "doctor reads no TensorFlow version"
echo "ok: models, doctor"

check gui gui "$SAMPLES" --screenshot window.png
is_png window.png || fail "window.png is not a PNG"
check gui-detect gui "$SAMPLES/pbc_neutrophil_BNE_67131.jpg" "$SAMPLES/bccd_BloodImage_00007.jpg" --detect \
    --screenshot detected.png
is_png detected.png || fail "detected.png is not a PNG"
grep -q "cells added" gui-detect.log || fail "gui --detect added no cells"
if grep -q "AutoGraph could not transform" gui-detect.log; then
    fail "AutoGraph found no source in the bundle (module_collection_mode in bloodview.spec)"
fi
echo "ok: gui --screenshot wrote $(stat -c %s window.png) bytes, after Detect $(stat -c %s detected.png)"

echo "bundle smoke: passed in $((SECONDS - START)) s"
