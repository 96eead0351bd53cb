#!/usr/bin/env bash
# bench/run.sh [PIPEC] — scheduling overhead: a layered DAG of trivial nodes
# (`touch {out}`, two inputs each) at -j2, run by pipec, ninja, make and
# (if installed) snakemake. For 1k and 10k nodes it prints the wall time
# and peak RSS of a full run, a no-op re-run, and planning only (dry run),
# and pipec's ratio to each peer. Needs: python3, ninja, make, /usr/bin/time;
# snakemake is optional (Debian package snakemake).
#
# A no-op re-run is where pipec's cache-hit checks cost most (one lstat per
# output compared with the stat recorded in the store, joined into the
# cache lookup): BENCH_BASELINE=OLD_PIPEC adds a row for another pipec
# binary (say, one built before a change) and prints the ratio of the two,
# which must stay within 1.10. BENCH_TOOLS="pipec ninja" picks the tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=${BENCH_SIZES:-1000 10000}

# timed DIR CMD...: "seconds maxrss_MB" of one run of CMD in DIR
timed() {
  local dir=$1; shift
  local t0=$EPOCHREALTIME
  (cd "$dir" && /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1) || echo "  (failed: $*)" >&2
  awk -v a="$t0" -v b="$EPOCHREALTIME" -v m="$(cat "$work/rss")" \
    'BEGIN { printf "%.3f %.1f", b - a, m / 1024 }'
}

tools=(pipec ninja make)
command -v snakemake >/dev/null && tools+=(snakemake)
[ -n "${BENCH_TOOLS:-}" ] && read -r -a tools <<<"$BENCH_TOOLS"
baseline=${BENCH_BASELINE:+$(realpath "$BENCH_BASELINE")}
[ -n "$baseline" ] && tools=(pipec pipec-base "${tools[@]:1}")

printf '%-7s %-10s %10s %9s %10s %9s %10s %9s\n' nodes tool full_s full_MB noop_s noop_MB plan_s plan_MB
for n in $sizes; do
  declare -A full noop plan
  for tool in "${tools[@]}"; do
    d="$work/$n-$tool"
    python3 "$here/gen_layered.py" "$n" "$d" >/dev/null
    case $tool in
      pipec) run=("$pipec" run p.pipe -j2 -q); dry=("$pipec" run p.pipe -j2 --dry-run) ;;
      pipec-base) run=("$baseline" run p.pipe -j2 -q); dry=("$baseline" run p.pipe -j2 --dry-run) ;;
      ninja) mkdir -p "$d/out"; run=(ninja -j2); dry=(ninja -j2 -n) ;;
      make) run=(make -j2); dry=(make -j2 -n) ;;
      snakemake) run=(snakemake -j2 -q); dry=(snakemake -j2 -n -q) ;;
    esac
    full[$tool]=$(timed "$d" "${run[@]}")
    noop[$tool]=$(timed "$d" "${run[@]}")
    plan[$tool]=$(timed "$d" "${dry[@]}")
    printf '%-7s %-10s %10s %9s %10s %9s %10s %9s\n' "$n" "$tool" \
      ${full[$tool]} ${noop[$tool]} ${plan[$tool]}
  done
  for tool in "${tools[@]}"; do
    [ "$tool" = pipec ] && continue
    if [ "$tool" = pipec-base ]; then
      awk -v n="$n" -v pf="${full[pipec]%% *}" -v bf="${full[$tool]%% *}" \
          -v pn="${noop[pipec]%% *}" -v bn="${noop[$tool]%% *}" \
        'BEGIN { printf "%-7s pipec/baseline  full %.2fx   no-op %.2fx  (the no-op ratio must stay <= 1.10)\n", n, pf / bf, pn / bn }'
      continue
    fi
    awk -v n="$n" -v t="$tool" -v pf="${full[pipec]%% *}" -v tf="${full[$tool]%% *}" \
        -v pn="${noop[pipec]%% *}" -v tn="${noop[$tool]%% *}" \
        -v pp="${plan[pipec]%% *}" -v tp="${plan[$tool]%% *}" \
      'BEGIN { printf "%-7s pipec/%-9s full %.2fx   no-op %.2fx   plan %.2fx  (time; < 1 means pipec is faster)\n", n, t, pf / tf, pn / tn, pp / tp }'
  done
  unset full noop plan
done
