#!/usr/bin/env bash
# bench/fanout.sh [PIPEC] — run-time fan-out at scale: a producer lists N
# items (`lines(NODE.PORT)`), a loop makes a member per item and a gather
# reads them all. After the producer ran (`--to list`), a dry run expands
# the family from the producer's cached output and plans its N members:
# the time and peak memory of that plan, median of BENCH_REPS (default 5),
# for each N of BENCH_SIZES (default "10000 30000 100000"), and the time
# per member, which stays flat when expansion is linear in the family's
# size. (pipec only: ninja and make have no run-time fan-out; snakemake's
# checkpoints are its nearest, and take hours at 10^4 samples.)
# Needs: python3, /usr/bin/time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/lib.bash"
reps=${BENCH_REPS:-5}
sizes=${BENCH_SIZES:-10000 30000 100000}

printf '%-8s %10s %8s %14s\n' members seconds MB "us/member"
for n in $sizes; do
  d="$work/f$n"
  mkdir -p "$d"
  cat >"$d/p.pipe" <<PIPE
pipeline fan {
  node list = shell(command = "seq -f 'item%07g' 1 $n > {out}")
  for x in lines(list.out) {
    node each[x] = shell(command = "echo \${x} > {out}")
  }
  node all = shell(command = "cat {xs} | wc -l > {out}", xs = each[*].out)
}
PIPE
  (cd "$d" && "$pipec" run p.pipe -q --to list >/dev/null 2>&1)
  : >"$work/t"
  for ((k = 1; k <= reps; k++)); do
    bench_timed "$d" "$pipec" run p.pipe --dry-run >>"$work/t"
  done
  s=$(awk '{ print $1 }' "$work/t" | bench_median)
  m=$(awk '{ print $2 }' "$work/t" | bench_median)
  printf '%-8s %10s %8s %14s\n' "$n" "$s" "$m" \
    "$(awk -v s="$s" -v n="$n" 'BEGIN { printf "%.1f", s / n * 1e6 }')"
  rm -rf "$d"
done
