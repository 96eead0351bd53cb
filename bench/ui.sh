#!/usr/bin/env bash
# bench/ui.sh [PIPEC] — how fast `pipec ui` answers on big workspaces:
#   - a pipeline of N nodes (a source and one family of N-1 members that
#     read it; N = 10^3, 10^4, 10^5), run once, then its pipeline page,
#     run page and runs page;
#   - a workspace with 10^4 runs (of a small pipeline), its runs page
#     (paginated: 50 a page) and the pipeline page.
# For each page: time to first byte (ttfb: the server's time, on
# loopback) and full load (the page, its stylesheet and script and the
# first live poll, /api/status, fetched in turn), the first request
# (cold: the pipeline compiled and laid out) and the median of 5 after it
# (warm). The goal is under 200 ms of server time at 10^5 nodes, warm.
# Needs curl. BENCH_SIZES="1000 10000" and BENCH_RUNS=1000 make it
# shorter.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
work=$(mktemp -d)
ui_pid=
trap '[ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null; rm -rf "$work"' EXIT
sizes=${BENCH_SIZES:-1000 10000 100000}
n_runs=${BENCH_RUNS:-10000}

start_ui() {
  "$pipec" ui --port 0 >"$work/ui.out" 2>&1 &
  ui_pid=$!
  for _ in $(seq 1 300); do
    url=$(grep -o 'http://[^ ]*token=[0-9a-f]*' "$work/ui.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  base=${url%%/?token=*}
  token=${url##*token=}
}

stop_ui() { kill "$ui_pid"; wait "$ui_pid" 2>/dev/null || true; ui_pid=; }

# fetch PATH: "ttfb_ms total_ms bytes" of one request
fetch() {
  curl -s -o /dev/null -H "Authorization: Bearer $token" \
    -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$base$1" |
    awk '{ printf "%.1f %.1f %d\n", $1 * 1000, $2 * 1000, $3 }'
}

# load PATH: "ttfb_ms full_ms bytes": the page, then what a browser gets
# before the page is complete (stylesheet, script, the first live poll)
load() {
  local p=$1 poll=$2 r t=0
  r=$(fetch "$p")
  t=$(awk '{ print $2 }' <<<"$r")
  for q in /static/app.css /static/app.js $poll; do
    t=$(awk -v a="$t" -v b="$(fetch "$q" | awk '{ print $2 }')" 'BEGIN { printf "%.1f", a + b }')
  done
  echo "$(awk '{ print $1 }' <<<"$r") $t $(awk '{ print $3 }' <<<"$r")"
}

# row LABEL PATH POLL: cold, then the median of 5 warm loads
row() {
  local label=$1 p=$2 poll=$3 cold warm=()
  cold=$(load "$p" "$poll")
  for _ in 1 2 3 4 5; do warm+=("$(load "$p" "$poll")"); done
  local med
  med=$(printf '%s\n' "${warm[@]}" | sort -n -k1,1 | sed -n 3p)
  printf '%-26s %10s %10s %12s %12s %10s\n' "$label" \
    "$(cut -d' ' -f1 <<<"$cold")" "$(cut -d' ' -f2 <<<"$cold")" \
    "$(cut -d' ' -f1 <<<"$med")" "$(cut -d' ' -f2 <<<"$med")" \
    "$(cut -d' ' -f3 <<<"$med")"
}

printf '%-26s %10s %10s %12s %12s %10s\n' page cold_ttfb cold_full warm_ttfb warm_full bytes
for n in $sizes; do
  d="$work/fam$n"
  mkdir -p "$d"
  members=$((n - 1))
  cat >"$d/big.pipe" <<PIPE
pipeline big {
  node src = shell(command = "echo x > {out}")
  node m[i] = shell(command = "echo {i} > {out}", i = i, x = src.out) for i in range($members)
}
PIPE
  t0=$EPOCHREALTIME
  (cd "$d" && "$pipec" run big.pipe -q -j4 >/dev/null 2>&1) || echo "  (the run of $n nodes failed)" >&2
  run_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

  cd "$d"; start_ui; cd - >/dev/null
  row "pipeline, $n nodes" "/pipeline?id=1" "/api/status?pipeline=1"
  row "run page, $n nodes" "/run?id=1" "/api/status?pipeline=1&run=1"
  row "runs page, $n nodes" "/runs" ""
  stop_ui
  echo "  ($n nodes: the run took ${run_s} s)" >&2
done

d="$work/runs"
mkdir -p "$d"
cat >"$d/small.pipe" <<'PIPE'
pipeline small {
  param n : int = 0
  node a = shell(command = "echo a > {out}")
  node b = shell(command = "cat {x} > {out}", x = a.out)
}
PIPE
t0=$EPOCHREALTIME
(cd "$d" && for i in $(seq 1 "$n_runs"); do "$pipec" run small.pipe -q >/dev/null 2>&1; done)
echo "  ($n_runs runs took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s)" >&2
cd "$d"; start_ui; cd - >/dev/null
row "runs page, $n_runs runs" "/runs" ""
row "runs page 100, $n_runs runs" "/runs?before=$((n_runs - 5000))" ""
row "pipeline, $n_runs runs" "/pipeline?id=1" "/api/status?pipeline=1"
row "workspace, $n_runs runs" "/" ""
stop_ui
