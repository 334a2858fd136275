#!/bin/bash
# make bench-48h: every reader of issue 16 on the 48-hour nightly pair (17,280 intervals a side,
# written once into .cache/g48 by TestWrite48h), one row per command: wall seconds, CPU seconds
# (user + system: the figure to read on a shared machine) and maximum resident set from
# /usr/bin/time. Prints a Markdown table; the commands' output is kept in .cache/g48/bench/
# (N.out, N.err, by row number). A command that fails still gets its row, marked.
set -u
tg=${TAILGATE:-$PWD/bin/tailgate}
g=${G48:-$PWD/.cache/g48}
b=$g/bench
rm -rf "$b" && mkdir -p "$b"
[ -f "$g/base/meta.json" ] && [ -f "$g/cand/meta.json" ] || { echo "bench-48h: no pair in $g (make bench-48h writes it)" >&2; exit 1; }

# The store: base promoted into a folder store (not timed).
"$tg" baseline promote "$g/base" --store "$b/store" --force --reason "bench-48h" > "$b/promote.out" 2>&1 ||
	{ cat "$b/promote.out" >&2; exit 1; }

# ci --profile nightly post-processing: a config whose suite's run folder is already measured by
# this job (checkpoint.json with the job $GITHUB_RUN_ID.$GITHUB_RUN_ATTEMPT), so ci reuses the
# 48-hour candidate and does what follows a measurement: compare, history, promotion, report,
# publish (--dry-run).
# It runs outside this checkout: ci takes the commit from the git repository it runs in, before
# $GITHUB_SHA.
sha=0123456789abcdef0123456789abcdef01234567
cidir=$(mktemp -d /tmp/tailgate-bench48h.XXXXXX)
trap 'rm -rf "$cidir"' EXIT
mkdir -p "$cidir/work"
cp -r "$b/store" "$cidir/store"
cat > "$cidir/tailgate.yaml" <<YAML
version: 1
suites:
  vision:
    backend: synthetic
    synthetic: "const:d=1ms"
    warmup: "1"
    sched: other
    duration: { pr: 2s, nightly: 48h }
    interval: { pr: 1s, nightly: 10s }
store: { kind: fs, path: store }
YAML
digest=$(sha256sum "$cidir/tailgate.yaml" | cut -d' ' -f1)
run=$cidir/work/vision-nightly-${sha:0:12}
cp -r "$g/cand" "$run"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat > "$run/checkpoint.json" <<JSON
{"suite":"vision","profile":"nightly","commit":"$sha","config_digest":"$digest","duration_ns":172800000000000,"state":"measured","job":"4242.1","created":"$now","updated":"$now"}
JSON

# row NAME COMMAND...: time one command (in $b, or in $cidir for ci).
printf '| command | wall s | cpu s | max RSS MB | exit |\n|---|---:|---:|---:|---:|\n'
# BENCH48H_ROWS, a grep -E pattern, keeps only the rows whose command matches it.
n=0
row() {
	local name=$1; shift
	n=$((n + 1))
	[[ -z ${BENCH48H_ROWS:-} ]] || grep -qE -- "$BENCH48H_ROWS" <<< "$name" || return 0
	/usr/bin/time -f "%e %M %U %S" -o "$b/$n.time" "$@" > "$b/$n.out" 2> "$b/$n.err"
	local rc=$?
	# time writes "Command exited with non-zero status N" first when the command fails.
	read -r wall kb usr sys < <(tail -n 1 "$b/$n.time")
	printf '| `%s` | %s | %.2f | %d | %s |\n' "$name" "$wall" "$(awk -v u="$usr" -v s="$sys" 'BEGIN{print u + s}')" $((kb / 1024)) "$rc"
}
cd "$b" || exit 1
row "compare base cand" "$tg" compare "$g/base" "$g/cand"
row "compare cand --store S" "$tg" compare "$g/cand" --store "$b/store"
row "baseline show vision --store S" "$tg" baseline show vision --store "$b/store"
row "report base cand --html r.html" "$tg" report "$g/base" "$g/cand" --html "$b/r.html"
row "report cand --store S --html rs.html" "$tg" report "$g/cand" --store "$b/store" --html "$b/rs.html"
row "wcet cand (gev)" "$tg" wcet "$g/cand"
row "wcet cand --method gpd" "$tg" wcet "$g/cand" --method gpd
row "compare base cand --threshold 'pwcet(1e-9) < 50ms'" "$tg" compare "$g/base" "$g/cand" --threshold 'pwcet(1e-9) < 50ms'
cd "$cidir" || exit 1
row "ci --profile nightly (post-processing, --dry-run)" env GITHUB_ACTIONS=true GITHUB_RUN_ID=4242 GITHUB_RUN_ATTEMPT=1 \
	GITHUB_SHA=$sha GITHUB_REF=refs/heads/main GITHUB_REPOSITORY=tailgate-ci/bench GITHUB_EVENT_NAME=schedule \
	"$tg" ci --profile nightly --config tailgate.yaml --work work --dry-run --quiet
