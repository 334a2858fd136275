#!/usr/bin/env bash
# make demo: the main job on the bundled fixture models, with the default local store.
#   1. int8 vs fp32 side by side (an A/B comparison: pins ignored, nothing gated)
#   2. the first vision-fp32 run becomes the stored baseline
#   3. a PR run of the same model is gated against it (expect a pass)
#   4. a PR that ships vision-slow.onnx (+16 % multiply-adds) is gated against it (expect a regression)
#   5. the same change measured interleaved (tailgate ab): both models in one process in
#      alternating rounds, gated on the paired rounds (expect a regression), with its page
#   6. the HTML and Markdown report
#   7. vision-fp32 through the Node.js worker (exec backend, onnxruntime-node) beside the
#      in-process run: the report labels each by runtime and device, with mean, p99 and jitter
#   8. the nightly dashboard
# The demo fails if tailgate errors, or if the slow model passes where the unchanged one passed.
# How the gate decides (docs/comparison.md): a relative rule is a regression when the slowdown is
# significant (its interval's lower end above 1, Holm across the rules) and beyond the limit; a
# pass when the interval's upper end is under the limit, or it is narrow enough to have caught
# twice the limit; "inconclusive" only when the interval is too wide to resolve the limit, with
# what it would take. On a loaded machine that is a common answer (the gate refuses to guess),
# and separate runs differ for reasons that are not the model (another process, the clock): that
# is what a hardened board, `tailgate doctor` and interleaved A/B runs are for, and the demo
# says so rather than failing.
set -euo pipefail
cd "$(dirname "$0")/.."
tg=./bin/tailgate
out=${DEMO_OUT:-demo-out}
dur=${DEMO_DURATION:-8s}
cpu=$(( $(nproc) - 1 ))
rm -rf "$out"
mkdir -p "$out"
store=$out/store   # a local folder store; the default outside the demo is .tailgate/

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { # run SUITE MODEL OUT
  "$tg" run --suite "$1" --model "fixtures/models/$2.onnx" --input x=1x3x96x96 \
    --duration "$dur" --warmup 1s --interval 100ms --cpus "$cpu" --quiet --out "$out/$3"
}
gate() { # gate NAME ARGS...: runs compare, prints its exit code, leaves it in $rc
  local name=$1; shift
  set +e; "$tg" compare "$@"; rc=$?; set -e
  echo "exit $rc ($name)"
}

"$tg" version

say "1. vision-int8 vs vision-fp32, side by side (A/B: --ignore-pins, nothing gated)"
run vision vision-fp32 fp32 && run vision-int8 vision-int8 int8
gate "A/B" "$out/fp32" "$out/int8" --ignore-pins \
  --threshold 'p50 < +5%' --threshold 'p99 < +5%' --threshold 'p99.9 < +10%'
case $rc in 0|1|4) ;; *) echo "demo: compare failed" >&2; exit 1 ;; esac

say "2. the first vision-fp32 run becomes the baseline"
"$tg" baseline promote "$out/fp32" --store "$store" --force --reason "demo bootstrap"
"$tg" baseline list --store "$store"

say "3. a PR run of the same model, gated against the stored baseline"
run vision vision-fp32 pr-same
gate "same model" "$out/pr-same" --store "$store"
same=$rc
case $rc in
  0) echo "pass, as expected" ;;
  4) echo "inconclusive: the interval is too wide to resolve the limit on this machine (the table says what it would take)" ;;
  1) echo "the unchanged model 'regressed': this machine's load changed between the two runs (see 'tailgate doctor')" ;;
  *) echo "demo: tailgate failed (exit $rc)" >&2; exit 1 ;;
esac

say "4. a PR that ships vision-slow.onnx, gated against the stored baseline"
run vision vision-slow pr-slow
gate "slow model" "$out/pr-slow" --store "$store"
slow=$rc
case $rc in
  1) echo "regression caught, as expected" ;;
  4) echo "inconclusive: too noisy here to call it; the gate refuses to guess" ;;
  0) if [ "$same" = 0 ]; then echo "demo: vision-slow passed on a machine steady enough to pass the unchanged model" >&2; exit 1; fi
     echo "vision-slow passed: this machine was too unsteady between runs to judge (see step 3)" ;;
  *) echo "demo: tailgate failed (exit $rc)" >&2; exit 1 ;;
esac
say "5. the same change interleaved: vision-fp32 (arm A) and vision-slow (arm B) in alternating rounds of one process"
"$tg" ab --suite vision --model-a fixtures/models/vision-fp32.onnx --model-b fixtures/models/vision-slow.onnx \
  --input x=1x3x96x96 --duration "$dur" --warmup 1s --cpus "$cpu" --quiet --out "$out/ab-slow"
gate "interleaved" "$out/ab-slow" --threshold 'p50 < +5%'
case $rc in
  1) echo "regression caught in the paired rounds: what the machine did between runs cannot fake or hide it here" ;;
  4) echo "inconclusive: the rounds disagree too much on this machine to call it" ;;
  0) echo "demo: vision-slow passed an interleaved A/B against vision-fp32" >&2; exit 1 ;;
  *) echo "demo: tailgate failed (exit $rc)" >&2; exit 1 ;;
esac
"$tg" report "$out/ab-slow" --threshold 'p50 < +5%' --no-wcet --html "$out/ab-report.html"
echo "wrote $out/ab-report.html (each round's p50 of both arms, and their ratio)"
say "6. the picture: percentile curves, intervals over time, pWCET, as one HTML file"
"$tg" report "$out/pr-slow" --store "$store" --html "$out/report.html" --format markdown > "$out/report.md"
echo "wrote $out/report.html and $out/report.md"
say "7. the same model through a Node.js worker (--backend exec), beside the in-process run"
./.ci/node-worker.sh >/dev/null
NODE_PATH=$PWD/.cache/node-worker/1.30.0/node_modules "$tg" run --suite vision-node --backend exec \
  --worker "node harness/execbackend/workers/ort_worker.js fixtures/models/vision-fp32.onnx" \
  --model fixtures/models/vision-fp32.onnx --duration "$dur" --warmup 1s --interval 100ms --cpus "$cpu" \
  --quiet --out "$out/node"
"$tg" report "$out/fp32" "$out/node" --ignore-pins --no-wcet --html "$out/node-vs-inprocess.html" --format markdown > "$out/node-vs-inprocess.md"
grep -E 'runtime|jitter|p50 / p99' "$out/node-vs-inprocess.md" || true
echo "wrote $out/node-vs-inprocess.html (in-process as the baseline side, the Node worker as the candidate)"
say "8. the nightly dashboard: the two PR runs recorded as nights, then the store as a static site"
verdict() { case $1 in 0) echo pass ;; 1) echo fail ;; *) echo inconclusive ;; esac; }
"$tg" baseline add "$out/pr-same" --store "$store" --nightly --verdict "$(verdict "$same")"
"$tg" baseline add "$out/pr-slow" --store "$store" --nightly --verdict "$(verdict "$slow")"
"$tg" site --store "$store" --out "$out/site"
say "done: results, the store, the reports and the site are under $out/; open $out/site/index.html"
