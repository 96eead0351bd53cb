#!/usr/bin/env bash
# bench/compile.sh [PIPEC] — compile time and peak memory of `pipec check`
# on layered pipelines of 1k, 10k and 100k nodes (each node with two
# inputs), next to `ninja -n` on the equivalent build.ninja; then a
# family of N items (two nodes each) next to the same nodes written out.
#
# Prints one row per size: wall time of the fastest of 3 runs, and its peak
# RSS from /usr/bin/time. Needs: python3, ninja, /usr/bin/time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# best_of CMD...: prints "seconds maxrss_kb" of the fastest of 3 runs
best_of() {
  local best_t=999999 best_m=0 t m
  for _ in 1 2 3; do
    local t0=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>&1 || true
    t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.4f", b - a}')
    read -r m < "$work/time"
    if awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_m=$m; fi
  done
  echo "$best_t $best_m"
}

printf '%-8s %12s %12s %12s %12s %8s %8s\n' nodes pipec_s pipec_MB ninja_s ninja_MB time_x mem_x
for n in 1000 10000 100000; do
  d="$work/$n"
  real=$(python3 "$here/gen_layered.py" "$n" "$d")
  read -r pt pm <<<"$(cd "$d" && best_of "$pipec" check p.pipe)"
  read -r nt nm <<<"$(cd "$d" && best_of ninja -n -f build.ninja)"
  awk -v n="$real" -v pt="$pt" -v pm="$pm" -v nt="$nt" -v nm="$nm" 'BEGIN {
    printf "%-8d %12.3f %12.1f %12.3f %12.1f %8.2f %8.2f\n", n, pt, pm/1024, nt, nm/1024,
      (nt > 0 ? pt/nt : 0), (nm > 0 ? pm/nm : 0) }'
done
echo "(time_x, mem_x: pipec / ninja; goal at 10k: time_x <= 1, mem_x < 2)"

# A family: one `for i in range(N)` with two nodes per item, next to the
# same 2N nodes written out one by one. Expansion must stay linear: time
# and memory per node no worse than the plain nodes'.
printf '\n%-8s %10s %12s %12s %12s %12s\n' items nodes family_s family_MB plain_s plain_MB
for n in 10000 100000 1000000; do
  d="$work/fam$n"
  mkdir -p "$d"
  cat > "$d/family.pipe" <<PIPE
pipeline family {
  for i in range($n) {
    node a[i] = shell(command = "echo \${i} > {out}")
    node b[i] = shell(command = "cat {x} > {out}", x = a[i].out)
  }
}
PIPE
  awk -v n="$n" 'BEGIN {
    print "pipeline plain {"
    for (i = 0; i < n; i++) {
      printf "  node a%d = shell(command = \"echo %d > {out}\")\n", i, i
      printf "  node b%d = shell(command = \"cat {x} > {out}\", x = a%d.out)\n", i, i
    }
    print "}" }' > "$d/plain.pipe"
  read -r ft fm <<<"$(cd "$d" && best_of "$pipec" check family.pipe)"
  read -r pt pm <<<"$(cd "$d" && best_of "$pipec" check plain.pipe)"
  awk -v n="$n" -v ft="$ft" -v fm="$fm" -v pt="$pt" -v pm="$pm" 'BEGIN {
    printf "%-8d %10d %12.3f %12.1f %12.3f %12.1f\n", n, 2 * n, ft, fm/1024, pt, pm/1024 }'
  rm -rf "$d"
done
echo "(a family's member costs no more than a plain node: family_s <= plain_s, family_MB <= plain_MB)"
