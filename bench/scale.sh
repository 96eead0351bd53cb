#!/usr/bin/env bash
# bench/scale.sh [PIPEC] — bench/run.sh's cases at 100k nodes, then what
# only pipec is asked at scale:
#   1. layered and wide graphs of 100k trivial nodes (`touch {out}`) at -j2:
#      a plan on a fresh tree, a full run, a no-op re-run, for pipec, ninja
#      and make; medians of BENCH_REPS (default 5) interleaved repetitions,
#      each in a fresh copy (bench/lib.bash), peak RSS, the ratios;
#   2. the plan of a wide graph of 1M nodes: `pipec run --dry-run` against
#      `ninja -n` (medians of BENCH_PLAN_REPS, default 5), time and memory;
#   3. the workspace database of the 100k layered graph after a full run
#      and after each of 10 no-op runs (the goal: under 10 MB added by 100
#      no-op runs, so about 1 MB by 10).
#
#   BENCH_SIZES="100000"  sizes of part 1;  BENCH_SHAPES="layered wide"
#   BENCH_BIG=1000000     the size of part 2 (0: skip it)
# Needs: python3, ninja, make, /usr/bin/time (.ci/install-deps --bench).
# Takes about an hour on a 2-core machine with the defaults.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.bash"
reps=${BENCH_REPS:-5}
sizes=${BENCH_SIZES:-100000}
shapes=${BENCH_SHAPES:-layered wide}
big=${BENCH_BIG:-1000000}
plan_reps=${BENCH_PLAN_REPS:-5}
tools=(pipec ninja make)
for t in ninja make python3; do
  command -v "$t" >/dev/null ||
    { echo "bench/scale.sh: $t is not installed (.ci/install-deps --bench)" >&2; exit 2; }
done

t0=$EPOCHREALTIME
for n in $sizes; do
  for shape in $shapes; do
    bench_case "$shape" "$n"
  done
done
bench_report

# ---- 2. the plan of 1M nodes --------------------------------------------
if [ "$big" -gt 0 ]; then
  echo "wide $big nodes: plan (pipec --dry-run, ninja -n) x $plan_reps ..." >&2
  tpl="$work/big"
  real=$(python3 "$here/gen_layered.py" "$big" "$tpl" --shape wide)
  mkdir -p "$tpl/out"
  : >"$work/big_results"
  for ((k = 1; k <= plan_reps; k++)); do
    for t in pipec ninja; do
      case $t in
        pipec) cmd=("$pipec" run p.pipe -j2 --dry-run) ;;
        ninja) cmd=(ninja -j2 -n) ;;
      esac
      echo "$t $(bench_timed "$tpl" "${cmd[@]}")" >>"$work/big_results"
    done
  done
  med() { awk -v t="$1" -v f="$2" '$1 == t && $f != "nan" { print $f }' "$work/big_results" | bench_median; }
  ps=$(med pipec 2) pm=$(med pipec 3) ns=$(med ninja 2) nm=$(med ninja 3)
  printf '\nplan of %s nodes (wide): pipec --dry-run %s s, %s MB; ninja -n %s s, %s MB; pipec/ninja time %s, memory %s\n' \
    "$real" "$ps" "$pm" "$ns" "$nm" \
    "$(awk -v a="$ps" -v b="$ns" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="$pm" -v b="$nm" 'BEGIN { printf "%.2f", a / b }')"
  rm -rf "$tpl"
fi

# ---- 3. the database over no-op runs --------------------------------------
n=${sizes%% *}
d="$work/db"
python3 "$here/gen_layered.py" "$n" "$d" >/dev/null
mkdir -p "$d/out"
# the database and its WAL (which pipec removes when it closes the store)
db_mb() {
  local f b=0
  for f in "$d/.pipec/pipec.db" "$d/.pipec/pipec.db-wal"; do
    [ -e "$f" ] && b=$((b + $(stat -c %s "$f")))
  done
  awk -v b="$b" 'BEGIN { printf "%.1f", b / 1048576 }'
}
(cd "$d" && "$pipec" run p.pipe -j2 -q >/dev/null)
first=$(db_mb)
for ((k = 1; k <= 10; k++)); do
  (cd "$d" && "$pipec" run p.pipe -j2 -q >/dev/null)
done
last=$(db_mb)
printf '\ndatabase of the layered %s-node graph: %s MB after the full run, %s MB after 10 no-op runs (+%s MB)\n' \
  "$n" "$first" "$last" "$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", b - a }')"

awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "\n(bench/scale.sh took %.0f s)\n", b - a }'
