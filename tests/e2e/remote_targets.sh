#!/usr/bin/env bash
# One pipeline whose nodes run on all three target kinds in one run: local,
# ssh (shared workspace, and staged to a remote workdir) and Slurm, with
# built-in and custom components on each. Checks the outputs, the recorded
# job ids, a fully cached re-run, the Slurm max_jobs bound and that remote
# job directories are tidied up. Needs the `services` fixture.
. "$(dirname "$0")/lib.bash"
use_services

mkdir proj && cd proj && mkdir .pipec
printf 'x,y\n1,10\n2,20\n3,30\n4,40\n' > in.csv
cat > total.sh <<'SH'
#!/bin/sh
# total.sh TABLE OUT: the sum of column x
awk -F, 'NR > 1 { s += $1 } END { print s }' "$1" > "$2"
SH
REMOTE=$T/remote-workdir
cat > all.pipe <<PIPE
pipeline all_kinds {
  target box    = ssh { host = "pipec-test", shared_fs = true }
  target staged = ssh { host = "pipec-test", workdir = "$REMOTE" }
  target hpc    = slurm { max_jobs = 2, time = "5m", extra = "--comment=pipec-e2e --nice=0" }

  component total(t: table) -> (out: file) {
    code = ["total.sh"]
    command = "sh total.sh {t} {out}"
  }
  component span() -> (out: file) {
    param id : int
    command = "sh -c 'date +%s.%N; sleep 1; date +%s.%N' > {out}"
  }

  node raw     = table.read_csv(path = "in.csv")
  node big     = table.filter(input = raw.out, where = "x > 1") on box
  node sorted  = table.sort(input = big.out, by = ["y"], descending = true) on staged
  node sum_ssh = total(t = sorted.out) on staged
  node sum_hpc = total(t = raw.out) on hpc
  node rows    = table.describe(input = sorted.out) on hpc
  node joined  = shell(command = "cat {a} {b} > {out}", a = sum_ssh.out, b = sum_hpc.out) on box
  node s1 = span(id = 1) on hpc
  node s2 = span(id = 2) on hpc
  node s3 = span(id = 3) on hpc
  node s4 = span(id = 4) on hpc
}
PIPE

expect_exit 0 "$PIPEC" check all.pipe && pass "the pipeline compiles" || fail "the pipeline compiles"
expect_exit 0 "$PIPEC" targets all.pipe
expect_in "hpc          slurm" && expect_in "staged       ssh" && pass "pipec targets lists every kind" || fail "pipec targets lists every kind"

expect_exit 0 "$PIPEC" run all.pipe -j 4 || finish
expect_in "started   big on box" && expect_in "started   sum_hpc on hpc" &&
  expect_in "started   sorted on staged" && pass "nodes start on their targets" || fail "nodes start on their targets"

expect_stdout 0 "$PIPEC" cat joined
[ "$OUT" = "$(printf '9\n10')" ] && pass "outputs from ssh (staged) and Slurm are correct" ||
  fail "joined: '$OUT'"
expect_stdout 0 "$PIPEC" cat sorted
[ "$(printf '%s\n' "$OUT" | sed -n 2p)" = "4,40" ] && pass "a built-in ran on a staged ssh host" ||
  fail "sorted: $OUT"
expect_stdout 0 "$PIPEC" cat rows
expect_in "x" && pass "a built-in ran under Slurm" || fail "a built-in ran under Slurm"

# job ids: Slurm's numbers, ssh's host:directory
"$PIPEC" show --json > show.json
python3 - show.json <<'PY' && pass "job ids are recorded per kind" || fail "job ids: $(cat show.json)"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
assert nodes["sum_hpc"]["job"].isdigit(), nodes["sum_hpc"]
assert nodes["big"]["job"].startswith("pipec-test:big."), nodes["big"]
assert nodes["sorted"]["job"].startswith("pipec-test:sorted."), nodes["sorted"]
assert nodes["raw"]["job"].isdigit()
for n in nodes.values():
    assert n["status"] == "succeeded", n
PY
id=$(python3 -c 'import json,sys; print([n["job"] for n in json.load(open("show.json"))["nodes"] if n["name"]=="sum_hpc"][0])')
expect_exit 0 "$PIPEC" show
expect_in "$id" && pass "pipec show prints the Slurm job id" || fail "pipec show prints the Slurm job id"
job=$(scontrol show job "$id" 2>/dev/null)
grep -q "JobName=pipec:sum_hpc" <<<"$job" && pass "Slurm knows job $id as pipec:sum_hpc" ||
  fail "Slurm has no job $id named pipec:sum_hpc: $job"
grep -q "Comment=pipec-e2e" <<<"$job" && grep -q "TimeLimit=00:05:00" <<<"$job" &&
  pass "the target's time and extra flags reach sbatch" || fail "job $id: $job"

# max_jobs = 2: never more than two span jobs at once
for n in s1 s2 s3 s4; do printf '%s ' "$n"; "$PIPEC" cat $n | tr '\n' ' '; echo; done > spans
python3 - spans <<'PY' && pass "max_jobs = 2 holds" || fail "max_jobs exceeded: $(cat spans)"
import sys
spans = [tuple(map(float, l.split()[1:3])) for l in open(sys.argv[1]) if l.strip()]
assert len(spans) == 4
for s, _ in spans:
    assert sum(1 for a, b in spans if a <= s < b) <= 2, spans
PY

# tidy: no job directory left on the host, no batch script left beside logs
left=$(find "$REMOTE" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
[ "$left" = 0 ] && pass "remote job directories removed" || fail "left in $REMOTE: $(ls "$REMOTE")"
ls .pipec/logs/1/ | grep -qE '\.(sbatch|rc|ssh)$' && fail "control files left: $(ls .pipec/logs/1)" ||
  pass "no control files left beside the logs"

expect_exit 0 "$PIPEC" run all.pipe
expect_in "0 ran, 11 cached" && pass "the re-run is fully cached" || fail "the re-run is fully cached"

# a param change re-runs exactly the nodes downstream, remote ones included
sed -i 's/"x > 1"/"x > 2"/' all.pipe
expect_exit 0 "$PIPEC" run all.pipe
expect_in "5 ran, 6 cached" && pass "an edit re-runs the remote nodes downstream" || fail "an edit re-runs the remote nodes downstream"
expect_stdout 0 "$PIPEC" cat joined
[ "$OUT" = "$(printf '7\n10')" ] && pass "and their outputs change" || fail "joined: '$OUT'"

# -j bounds local targets only: with -j 1 and three slow local nodes
# ready first, the Slurm nodes still start at once
cat > busy.pipe <<'PIPE'
pipeline busy {
  target hpc = slurm { }
  node l1 = shell(command = "sleep 1; echo 1 > {out}") { retries = 0 }
  node l2 = shell(command = "sleep 1; echo 2 > {out}")
  node l3 = shell(command = "sleep 1; echo 3 > {out}")
  node h1 = shell(command = "echo h1 > {out}") on hpc
  node h2 = shell(command = "echo h2 > {out}") on hpc
}
PIPE
expect_exit 0 "$PIPEC" run busy.pipe -j 1 -q
"$PIPEC" show --json > busy.json
python3 - busy.json <<'PY' && pass "a busy local target does not hold back Slurm nodes" || fail "busy: $(cat busy.json)"
import json, sys
n = {x["name"]: x for x in json.load(open(sys.argv[1]))["nodes"]}
last_local = max(n[k]["started"] for k in ("l1", "l2", "l3"))
assert n["h1"]["started"] < last_local and n["h2"]["started"] < last_local, n
PY

# examples/remote runs as its comment says
mkdir "$T/ex" && cp -r "$SRC/examples/remote" "$SRC/examples/cancer" "$T/ex/" && mkdir "$T/ex/.pipec"
(cd "$T/ex" && "$PIPEC" run remote/remote.pipe -q > run.out 2>&1) && OUT=$(cd "$T/ex" && "$PIPEC" cat compare)
[ "$(grep -c accuracy <<<"$OUT")" = 3 ] && pass "examples/remote runs: $(tr '\n' ' ' <<<"$OUT")" ||
  fail "examples/remote: $(cat "$T/ex/run.out") $OUT"
finish
