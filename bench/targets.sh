#!/usr/bin/env bash
# bench/targets.sh [PIPEC] — what pipec adds per remote job.
#
#  Slurm: one job of `sleep S` (S = 1, 3) run by `pipec run` on a slurm
#         target, next to a bare `sbatch --wait` of the same command; and a
#         batch of 20 one-second jobs (pipec: 20 independent nodes;
#         bare: 20 `sbatch --parsable` then polling `squeue` until all end).
#  ssh:   a chain of N trivial nodes on an ssh target (shared workspace, and
#         staged) next to N bare multiplexed `ssh host true`.
#
# Starts its own sshd and one-node Slurm cluster (tests/services/up.sh; the
# Debian packages come from `.ci/install-deps --test`) and stops them after.
# Prints medians of REPS runs (default 5). Wall times on a shared 2-core VM
# are noisy: read the ratios, not the last digit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
reps=${REPS:-5}
svc=$(mktemp -d /tmp/pipec-bench.XXXXXX)
work=$(mktemp -d)
trap '"$here/../tests/services/down.sh" "$svc" >/dev/null 2>&1; rm -rf "$svc" "$work"' EXIT
"$here/../tests/services/up.sh" "$svc" 2>/dev/null
. "$svc/env"
cd "$work" && mkdir .pipec

# median of the numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR + 1) / 2; printf "%.3f", (a[int(m)] + a[int(m + 0.5)]) / 2 }'; }
# secs CMD...: wall seconds of CMD
secs() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || echo "  (failed: $*)" >&2
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }'; }

# warm up: slurmctld's first scheduling pass, the ssh master connection
sbatch --wait --wrap true >/dev/null
ssh -F "$PIPEC_SSH_CONFIG" pipec-test-mux true

# the best a client can do: sbatch, then squeue every 0.2 s until it ends
sbatch_poll() {
  local id; id=$(sbatch --parsable --wrap "$1")
  while squeue -h -j "$id" -t pending,running,completing -o %i 2>/dev/null | grep -q .; do sleep 0.2; done
}

echo "== Slurm: one job: sbatch --wait, sbatch + squeue every 0.2 s, pipec run (median of $reps) =="
printf '%-10s %10s %10s %10s %12s %12s\n' job wait_s poll_s pipec_s "vs --wait" "vs poll"
for s in 1 3 10; do
  cat > one.pipe <<PIPE
pipeline one {
  target hpc = slurm { }
  node job = shell(command = "sleep $s; echo done > {out}") on hpc
}
PIPE
  bare=$(for _ in $(seq "$reps"); do secs sbatch --wait --wrap "sleep $s; echo done > /dev/null"; done | median)
  poll=$(for _ in $(seq "$reps"); do secs sbatch_poll "sleep $s; echo done > /dev/null"; done | median)
  ours=$(for _ in $(seq "$reps"); do secs "$pipec" run one.pipe --force -q; done | median)
  printf '%-10s %10s %10s %10s %12s %12s\n' "sleep $s" "$bare" "$poll" "$ours" \
    "$(ratio "$ours" "$bare")" "$(ratio "$ours" "$poll")"
done

echo "== Slurm: 20 one-second jobs at once (median of $reps) =="
{
  echo 'pipeline many {'
  echo '  target hpc = slurm { }'
  for i in $(seq 20); do echo "  node j$i = shell(command = \"sleep 1; echo $i > {out}\") on hpc"; done
  echo '}'
} > many.pipe
bare_batch() {
  local ids=()
  for i in $(seq 20); do ids+=("$(sbatch --parsable --wrap "sleep 1; echo $i > /dev/null")"); done
  local list; list=$(IFS=,; echo "${ids[*]}")
  while squeue -h -j "$list" -t pending,running,completing -o %i 2>/dev/null | grep -q .; do sleep 0.2; done
}
bare=$(for _ in $(seq "$reps"); do secs bare_batch; done | median)
ours=$(for _ in $(seq "$reps"); do secs "$pipec" run many.pipe --force -q; done | median)
printf '%-10s %10s %10s %10s\n' "20 jobs" "$bare" "$ours" "$(ratio "$ours" "$bare")"

n=${SSH_NODES:-20}
echo "== ssh: $n trivial nodes in a chain vs $n bare multiplexed ssh (median of $reps) =="
for kind in shared staged; do
  opt='shared_fs = true'
  [ $kind = staged ] && opt="workdir = \"$work/remote\""
  {
    echo 'pipeline chain {'
    echo "  target box = ssh { host = \"pipec-test\", $opt }"
    echo '  node n1 = shell(command = "echo 1 > {out}") on box'
    for i in $(seq 2 "$n"); do echo "  node n$i = shell(command = \"cat {x} > {out}; echo $i >> {out}\", x = n$((i - 1)).out) on box"; done
    echo '}'
  } > chain-$kind.pipe
done
bare_ssh() { for _ in $(seq "$n"); do ssh -F "$PIPEC_SSH_CONFIG" pipec-test-mux true; done; }
bare=$(for _ in $(seq "$reps"); do secs bare_ssh; done | median)
shared=$(for _ in $(seq "$reps"); do secs "$pipec" run chain-shared.pipe --force -q; done | median)
staged=$(for _ in $(seq "$reps"); do secs "$pipec" run chain-staged.pipe --force -q; done | median)
printf '%-16s %10s %12s\n' what total_s per_node_ms
for row in "bare-ssh $bare" "pipec-shared $shared" "pipec-staged $staged"; do
  set -- $row
  printf '%-16s %10s %12.0f\n' "$1" "$2" "$(awk -v t="$2" -v n="$n" 'BEGIN { print t / n * 1000 }')"
done
echo "pipec (shared fs) per node vs bare ssh: $(ratio "$shared" "$bare")"
echo "(staged: still one ssh call per node, with tar at both ends for the inputs and outputs)"
