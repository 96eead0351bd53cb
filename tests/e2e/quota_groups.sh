#!/usr/bin/env bash
# Quota groups shared by the runs of a workspace: three runs started
# together, drawing from one group of cpus = 2, never have more than 2
# cpus of nodes running between them (proved from the recorded start and
# finish times of every node run); pipec targets shows the group's use
# across live runs; a run killed with kill -9 while it holds the whole
# group gives it up, and the waiting run goes on; nodes naming a group
# that does not exist, or asking more than it allows, do not compile.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj && mkdir .pipec
cat > .pipec/quotas.pipe <<'Q'
# the team's share of this machine
quota team on local default { cpus = 2 }
quota other on local { jobs = 1 }
Q
for i in 1 2 3; do
  cat > p$i.pipe <<PIPE
pipeline p$i {
  component work() -> (out: file) {
    param id : string
    command = "sleep 0.3; echo {id} > {out}"
  }
  node a = work(id = "$i.a") { resources { cpus = 1 } }
  node b = work(id = "$i.b") { resources { cpus = 1 } }
  node c = work(id = "$i.c") { resources { cpus = 2 } }
  node d = work(id = "$i.d")
}
PIPE
done
# -j 8 and no quota on the target: only the group bounds them
for i in 1 2 3; do "$PIPEC" run p$i.pipe -j 8 -q > run$i.out 2>&1 & eval "pid$i=\$!"; done
ok=yes
for i in 1 2 3; do eval "wait \$pid$i" || { ok=no; fail "run p$i failed: $(cat run$i.out)"; }; done
[ $ok = yes ] && pass "three concurrent runs in one group all succeed" || fail "three concurrent runs"
for r in 1 2 3; do "$PIPEC" show $r --json; echo; done > shows.json
python3 - shows.json <<'PY' && pass "at no moment were more than 2 cpus of nodes running across the three runs" || fail "cpus = 2 exceeded: $(cat shows.json)"
import json, sys
need = {"a": 1, "b": 1, "c": 2, "d": 1}
spans, runs = [], set()
text, at, dec = open(sys.argv[1]).read(), 0, json.JSONDecoder()
while text[at:].strip():
    run, end = dec.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
    at = end
    for n in run["nodes"]:
        assert n["status"] == "succeeded", n
        spans.append((n["started"], n["finished"], need[n["name"]], run["run"]))
        runs.add(run["run"])
assert len(spans) == 12 and len(runs) == 3, spans
for s, _, _, _ in spans:
    used = sum(c for a, b, c, _ in spans if a <= s < b)
    assert used <= 2, (s, used, sorted(spans))
# the runs did share the group: some node of one run ran while another's did
assert any(a < d and c < b and r1 != r2 for a, b, _, r1 in spans for c, d, _, r2 in spans), spans
PY

# a node that names an unknown group, or asks more than its group allows
cat > bad.pipe <<'PIPE'
pipeline bad {
  node x = shell(command = "true > {out}") { quota = teem }
  node y = shell(command = "true > {out}") { resources { cpus = 3 } }
}
PIPE
expect_exit 2 "$PIPEC" check bad.pipe && expect_in "unknown quota group 'teem'" && expect_in "did you mean 'team'?" &&
  expect_in "node 'y' asks for 3 cpus, but quota group 'team' allows 2" &&
  pass "compile-time checks against the workspace's groups" || fail "compile-time checks"

# one run holds the whole group (its nodes wait for GO); another waits
cat > hold.pipe <<'PIPE'
pipeline hold {
  component wait_go() -> (out: file) {
    param id : int
    command = "i=0; while [ ! -e GO ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done; echo {id} > {out}"
  }
  node h1 = wait_go(id = 1) { resources { cpus = 1 } }
  node h2 = wait_go(id = 2) { resources { cpus = 1 } }
}
PIPE
cat > after.pipe <<'PIPE'
pipeline after {
  node quick = shell(command = "echo done > {out}") { resources { cpus = 2 } }
}
PIPE
rm -f GO
"$PIPEC" run hold.pipe -q > hold.out 2>&1 &
hold_pid=$!
seen=no
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  OUT=$("$PIPEC" targets after.pipe 2>&1)
  grep -qE "^team +local +2 nodes of 1 run, cpus 2/2 +cpus=2 \(default\)" <<<"$OUT" && { seen=yes; break; }
  kill -0 $hold_pid 2>/dev/null || break
  sleep 0.1
done
[ $seen = yes ] && pass "pipec targets shows the group held by another pipeline's run" || fail "no group use seen: $OUT"
"$PIPEC" run after.pipe > after.out 2>&1 &
after_pid=$!
waiting=no
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  grep -q "waits for quota group 'team'" after.out && { waiting=yes; break; }
  kill -0 $after_pid 2>/dev/null || break
  sleep 0.1
done
[ $waiting = yes ] && kill -0 $after_pid 2>/dev/null && pass "the second run waits for the group, and says so" || fail "after did not wait: $(cat after.out)"
expect_exit 0 "$PIPEC" targets after.pipe && expect_in "2 nodes of 1 run, cpus 2/2, 1 waiting" &&
  pass "pipec targets shows the waiting node" || fail "targets while waiting"
expect_exit 0 "$PIPEC" targets after.pipe --json
python3 -c '
import json, sys
t = json.loads(sys.argv[1])
g = {x["name"]: x for x in t[0]["quota_groups"]}
assert g["team"]["default"] and g["team"]["limits"]["cpus"] == 2, g
assert g["team"]["in_use"]["cpus"] == 2 and g["team"]["in_use"]["waiting"] == 1, g
assert g["other"]["limits"]["jobs"] == 1 and g["other"]["limits"]["cpus"] is None, g
' "$OUT" && pass "pipec targets --json lists the groups and their use" || fail "targets --json: $OUT"
kill -9 $hold_pid
wait $hold_pid 2>/dev/null
deadline=$((SECONDS + 120))
while kill -0 $after_pid 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
if kill -0 $after_pid 2>/dev/null; then
  kill $after_pid; wait $after_pid
  fail "the waiting run still waits 2 minutes after the holder was killed: $(cat after.out)"
elif wait $after_pid; then
  pass "after kill -9 of the holder, the waiting run went on and succeeded"
else
  fail "after: $(cat after.out)"
fi
touch GO  # lets the killed run's orphaned node processes end
expect_stdout 0 "$PIPEC" cat quick && [ "$OUT" = done ] && pass "its output is right" || fail "quick: $OUT"
expect_exit 0 "$PIPEC" targets after.pipe && grep -qE "^team +local +- " <<<"$OUT" &&
  pass "the group is free again" || fail "group still in use: $OUT"
finish
