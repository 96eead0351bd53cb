#!/usr/bin/env bash
# bench/containers.sh [PIPEC] — what a container costs per node.
#
#   bare:     `podman run --rm --network=none IMAGE true` against `sh -c true`
#             (the runtime's own cost: create, start, remove)
#   pipec:    a pipeline of N independent trivial nodes (`echo i > {out}`),
#             with `image = ...` and without, run with -j 1 and -j 2
#             (--force, so every node runs; the cache is not measured)
#
# Builds the busybox-static test image offline (tests/containers/image.sh)
# with the project's containers.conf, and removes it after. Prints medians
# of REPS runs (default 3), N = $NODES (default 20). Wall times on a shared
# 2-core VM are noisy: read the ratios, not the last digit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
reps=${REPS:-3}
n=${NODES:-20}
export CONTAINERS_CONF=$here/../tests/containers/containers.conf
tag=localhost/pipec-bench-$$:1
work=$(mktemp -d)
id=
trap 'podman rmi -f "$tag" >/dev/null 2>&1; rm -rf "$work"' EXIT
id=$("$here/../tests/containers/image.sh" "$tag" pipec-bench)
cd "$work" && mkdir .pipec

median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR + 1) / 2; printf "%.3f", (a[int(m)] + a[int(m + 0.5)]) / 2 }'; }
secs() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || echo "  (failed: $*)" >&2
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.3f", (a - b) / n }'; }

# the runtime alone
bare_ctr=$(for _ in $(seq $((reps * 3))); do secs podman run --rm --network=none "$id" true; done | median)
bare_sh=$(for _ in $(seq $((reps * 3))); do secs sh -c true; done | median)
echo "podman run --rm true: ${bare_ctr}s   sh -c true: ${bare_sh}s"

gen() { # gen FILE WITH_IMAGE
  {
    echo "pipeline bench {"
    for i in $(seq "$n"); do
      if [ "$2" = 1 ]; then
        echo "  node n$i = shell(command = \"echo $i > {out}\") { image = \"$tag\" }"
      else
        echo "  node n$i = shell(command = \"echo $i > {out}\")"
      fi
    done
    echo "}"
  } > "$1"
}
gen plain.pipe 0
gen ctr.pipe 1
"$pipec" run ctr.pipe >/dev/null   # warm: the image, the workspace
"$pipec" run plain.pipe >/dev/null
for j in 1 2; do
  p=$(for _ in $(seq "$reps"); do secs "$pipec" run --force -j $j plain.pipe; done | median)
  c=$(for _ in $(seq "$reps"); do secs "$pipec" run --force -j $j ctr.pipe; done | median)
  echo "-j $j, $n nodes: bare ${p}s, in containers ${c}s: +$(per "$c" "$p" "$n")s per node"
done
[ -z "$(podman ps -aq --filter "label=pipec.workspace=$(pwd -P)/.pipec")" ] ||
  echo "containers left behind!" >&2
