#!/usr/bin/env bash
# bench/run.sh [PIPEC] — scheduling overhead: graphs of trivial nodes
# (`touch {out}`) at -j2, layered (sqrt(N) wide, two inputs each) and wide
# (N independent nodes), of 1k and 10k nodes, run by pipec, ninja, make and
# (if installed, at 1k) snakemake. For each: a plan on a fresh tree
# (`--dry-run`, `ninja -n`, `make -n`), a full run, a no-op re-run; the
# medians of BENCH_REPS (default 5) interleaved repetitions, each in a fresh
# copy of the project (bench/lib.bash), with peak RSS, then pipec's ratio
# to each tool. bench/scale.sh does 100k and 1M.
#
#   BENCH_SIZES="1000 10000"   sizes;  BENCH_SHAPES="layered wide"
#   BENCH_TOOLS="pipec ninja"  tools (default: pipec ninja make [snakemake])
#   BENCH_BASELINE=OLD_PIPEC   adds pipec-base: another pipec binary (say,
#                              one built before a change), with its ratio
# Needs: python3, ninja, make, /usr/bin/time (.ci/install-deps --bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
work=$(mktemp -d)
trap '[ -n "${BENCH_KEEP:-}" ] && cp "$work/results" "$BENCH_KEEP"; rm -rf "$work"' EXIT
. "$here/lib.bash"
reps=${BENCH_REPS:-5}
sizes=${BENCH_SIZES:-1000 10000}
shapes=${BENCH_SHAPES:-layered wide}
baseline=${BENCH_BASELINE:+$(realpath "$BENCH_BASELINE")}

tools=(pipec ninja make)
[ -n "${BENCH_TOOLS:-}" ] && read -r -a tools <<<"$BENCH_TOOLS"
[ -n "$baseline" ] && tools=(pipec pipec-base "${tools[@]:1}")
for t in "${tools[@]}"; do
  case $t in pipec|pipec-base) ;; *) command -v "$t" >/dev/null ||
    { echo "bench/run.sh: $t is not installed (.ci/install-deps --bench)" >&2; exit 2; } ;;
  esac
done

t0=$EPOCHREALTIME
for n in $sizes; do
  for shape in $shapes; do
    ts=("${tools[@]}")
    # snakemake takes minutes beyond 1k nodes
    if [ "$n" -le 1000 ] && [ -z "${BENCH_TOOLS:-}" ] && command -v snakemake >/dev/null; then
      ts+=(snakemake)
    fi
    bench_case "$shape" "$n" "${ts[@]}"
  done
done
bench_report
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "\n(bench/run.sh took %.0f s)\n", b - a }'
