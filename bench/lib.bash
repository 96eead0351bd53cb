# bench/lib.bash — what bench/run.sh and bench/scale.sh share: fresh
# project copies, timed runs, medians, the table of results and the ratios.
#
# Measuring on a shared, noisy machine:
#   - every tool runs in a fresh copy of the project made before any timing
#     (never `rm -rf` of the last run's outputs right before a timed run:
#     on ext4 that slows the next run of whichever tool comes after it);
#   - dirty pages are written back (sync) before each timed run, so no
#     tool pays for the writeback of what was copied or run before it;
#   - repetitions are interleaved (rep 1 of every tool, then rep 2 ...,
#     the order of the tools rotating), and medians are printed;
#   - wall time from the shell's clock, peak RSS from /usr/bin/time.
#
# The caller sets: here (bench/), work (a scratch directory), pipec, reps,
# tools (an array), and calls bench_case SHAPE N for each case, then
# bench_report.

# median of the numbers on stdin
bench_median() {
  sort -g | awk '{ a[NR] = $1 } END { if (!NR) { print "-"; exit }
    m = (NR + 1) / 2; printf "%.3f", (a[int(m)] + a[int(m + 0.5)]) / 2 }'
}

# bench_timed DIR CMD...: appends "seconds maxrss_MB" of one run of CMD in
# DIR to stdout; a failure is said on stderr and gives "nan nan"
bench_timed() {
  local dir=$1; shift
  sync
  local t0=$EPOCHREALTIME rc=0
  (cd "$dir" && /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err") || rc=$?
  local t1=$EPOCHREALTIME
  if [ $rc -ne 0 ]; then
    echo "  (failed with $rc in $dir: $* -- $(tail -2 "$work/err" | tr '\n' ' '))" >&2
    echo "nan nan"
    return
  fi
  awk -v a="$t0" -v b="$t1" -v m="$(tail -1 "$work/rss")" \
    'BEGIN { printf "%.4f %.1f\n", b - a, m / 1024 }'
}

# The commands of a tool: full run, dry run (plan).
bench_cmds() {
  case $1 in
    pipec) run=("$pipec" run p.pipe -j2 -q); dry=("$pipec" run p.pipe -j2 --dry-run) ;;
    pipec-base) run=("$baseline" run p.pipe -j2 -q); dry=("$baseline" run p.pipe -j2 --dry-run) ;;
    ninja) run=(ninja -j2); dry=(ninja -j2 -n) ;;
    make) run=(make -j2); dry=(make -j2 -n) ;;
    snakemake) run=(snakemake -j2 -q --nolock); dry=(snakemake -j2 -n -q --nolock) ;;
  esac
}

# bench_case SHAPE N [TOOLS...]: reps fresh copies per tool, then per rep
# and tool (rotating): plan on the fresh copy, a full run, a no-op re-run.
# Results go to $work/results: "shape n tool what seconds MB" lines.
bench_case() {
  local shape=$1 n=$2; shift 2
  local ts=("$@")
  [ ${#ts[@]} -eq 0 ] && ts=("${tools[@]}")
  local tpl="$work/tpl-$shape-$n" real
  real=$(python3 "$here/gen_layered.py" "$n" "$tpl" --shape "$shape")
  mkdir -p "$tpl/out"
  # make's first layer need not make the directory in every recipe
  sed -i 's/@mkdir -p out && touch/touch/' "$tpl/Makefile"
  local k t i
  for ((k = 1; k <= reps; k++)); do
    for t in "${ts[@]}"; do
      cp -r "$tpl" "$work/$shape-$n-$t-$k"
    done
  done
  echo "$shape $real nodes: ${ts[*]} x $reps ..." >&2
  for ((k = 1; k <= reps; k++)); do
    for ((i = 0; i < ${#ts[@]}; i++)); do
      t=${ts[$(((i + k) % ${#ts[@]}))]}
      local d="$work/$shape-$n-$t-$k"
      bench_cmds "$t"
      echo "$shape $real $t plan $(bench_timed "$d" "${dry[@]}")" >>"$work/results"
      echo "$shape $real $t full $(bench_timed "$d" "${run[@]}")" >>"$work/results"
      echo "$shape $real $t noop $(bench_timed "$d" "${run[@]}")" >>"$work/results"
    done
  done
  for ((k = 1; k <= reps; k++)); do
    for t in "${ts[@]}"; do
      rm -rf "$work/$shape-$n-$t-$k" &
    done
  done
  wait
  rm -rf "$tpl"
}

# bench_med SHAPE N TOOL WHAT FIELD: the median of field 5 (seconds) or 6 (MB)
bench_med() {
  awk -v s="$1" -v n="$2" -v t="$3" -v w="$4" -v f="$5" \
    '$1 == s && $2 == n && $3 == t && $4 == w && $f != "nan" { print $f }' \
    "$work/results" | bench_median
}

# The table of medians, then pipec's ratio to each other tool.
bench_report() {
  printf '\n%-8s %-8s %-11s %9s %8s %9s %8s %9s %8s\n' shape nodes tool \
    full_s full_MB noop_s noop_MB plan_s plan_MB
  local cases
  cases=$(awk '{ print $1, $2 }' "$work/results" | awk '!seen[$0]++')
  while read -r s n; do
    local present
    present=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n { print $3 }' "$work/results" | awk '!seen[$0]++')
    for t in $present; do
      printf '%-8s %-8s %-11s %9s %8s %9s %8s %9s %8s\n' "$s" "$n" "$t" \
        "$(bench_med "$s" "$n" "$t" full 5)" "$(bench_med "$s" "$n" "$t" full 6)" \
        "$(bench_med "$s" "$n" "$t" noop 5)" "$(bench_med "$s" "$n" "$t" noop 6)" \
        "$(bench_med "$s" "$n" "$t" plan 5)" "$(bench_med "$s" "$n" "$t" plan 6)"
    done
  done <<<"$cases"
  printf '\nratios of medians, pipec / tool (time; < 1: pipec is faster; mem: peak RSS)\n'
  while read -r s n; do
    local present
    present=$(awk -v s="$s" -v n="$n" '$1 == s && $2 == n { print $3 }' "$work/results" | awk '!seen[$0]++')
    for t in $present; do
      [ "$t" = pipec ] && continue
      awk -v s="$s" -v n="$n" -v t="$t" \
          -v pf="$(bench_med "$s" "$n" pipec full 5)" -v tf="$(bench_med "$s" "$n" "$t" full 5)" \
          -v pn="$(bench_med "$s" "$n" pipec noop 5)" -v tn="$(bench_med "$s" "$n" "$t" noop 5)" \
          -v pp="$(bench_med "$s" "$n" pipec plan 5)" -v tp="$(bench_med "$s" "$n" "$t" plan 5)" \
          -v pm="$(bench_med "$s" "$n" pipec noop 6)" -v tm="$(bench_med "$s" "$n" "$t" noop 6)" '
        function r(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
        BEGIN { printf "%-8s %-8s pipec/%-10s full %5s   no-op %5s   plan %5s   no-op mem %5s\n",
                s, n, t, r(pf, tf), r(pn, tn), r(pp, tp), r(pm, tm) }'
    done
  done <<<"$cases"
}
