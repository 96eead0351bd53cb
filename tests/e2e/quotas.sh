#!/usr/bin/env bash
# Local quotas: with cpus = 2 and four 1-cpu nodes, never more than two run
# at once (from their recorded start/finish times), whatever -j says; gpus
# are handed out by device id and never shared; a node that can never fit
# is a compile error.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
cat > cpus.pipe <<'PIPE'
pipeline cpus {
  target local = local { cpus = 2 }
  component work() -> (out: file) {
    param id : int
    command = "sh -c 'date +%s.%N; sleep 0.6; date +%s.%N' > {out}"
  }
  node a = work(id = 1) { resources { cpus = 1 } }
  node b = work(id = 2) { resources { cpus = 1 } }
  node c = work(id = 3) { resources { cpus = 1 } }
  node d = work(id = 4) { resources { cpus = 1 } }
  node e = work(id = 5) { resources { cpus = 2 } }
}
PIPE
expect_exit 0 "$PIPEC" run cpus.pipe -j 8 -q || finish
for n in a b c d e; do printf '%s ' "$n"; "$PIPEC" cat $n | tr '\n' ' '; echo; done > spans
python3 - spans <<'PY' && pass "cpus = 2: never more than 2 cpus in use" || fail "cpu quota exceeded: $(cat spans)"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
need = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 2}
spans = [(float(r[1]), float(r[2]), need[r[0]]) for r in rows]
for s, _, _ in spans:
    used = sum(c for a, b, c in spans if a <= s < b)
    assert used <= 2, (s, used, spans)
PY

cat > gpus.pipe <<'PIPE'
pipeline gpus {
  target local = local { gpus = [0, 3] }
  component train() -> (out: file) {
    param id : int
    command = "sh -c 'echo $CUDA_VISIBLE_DEVICES; date +%s.%N; sleep 0.5; date +%s.%N' > {out}"
  }
  node g1 = train(id = 1) { resources { gpus = 1 } }
  node g2 = train(id = 2) { resources { gpus = 1 } }
  node g3 = train(id = 3) { resources { gpus = 1 } }
  node g4 = train(id = 4) { resources { gpus = 2 } }
  node none = train(id = 5)
}
PIPE
expect_exit 0 "$PIPEC" run gpus.pipe -j 8 -q || finish
for n in g1 g2 g3 g4 none; do printf '%s ' "$n"; "$PIPEC" cat $n | tr '\n' ' '; echo; done > gspans
python3 - gspans <<'PY' && pass "gpus are never shared; each node sees only its own" || fail "gpu sharing: $(cat gspans)"
import sys
rows = {}
for l in open(sys.argv[1]):
    p = l.split()
    if p[0] == "none":
        assert len(p) == 3, p          # CUDA_VISIBLE_DEVICES is empty
        continue
    rows[p[0]] = (set(p[1].split(",")), float(p[2]), float(p[3]))
assert len(rows["g4"][0]) == 2 and rows["g4"][0] <= {"0", "3"}
for x, (gx, a, b) in rows.items():
    assert gx <= {"0", "3"}, gx
    for y, (gy, c, d) in rows.items():
        if x < y and a < d and c < b:
            assert not (gx & gy), (x, y, gx, gy)
PY

cat > never.pipe <<'PIPE'
pipeline never {
  target local = local { cpus = 2, gpus = 1 }
  node big = shell(command = "true > {out}") { resources { cpus = 4 } }
  node gpu = shell(command = "true > {out}") { resources { gpus = 2 } }
}
PIPE
expect_exit 2 "$PIPEC" check never.pipe && expect_in "asks for 4 cpus, but target 'local' has 2" && expect_in "asks for 2 gpus" && pass "a node that can never fit is a compile error" || fail "a node that can never fit is a compile error"
expect_exit 0 "$PIPEC" targets cpus.pipe && expect_in "local        local      5  -" && expect_in " cpus=2" && pass "pipec targets lists kinds, nodes and quotas" || fail "pipec targets lists kinds, nodes and quotas"
# during a run: what its running nodes hold. The nodes wait for GO (at
# most 2 minutes), so the check does not depend on how fast pipec is.
cat > hold.pipe <<'PIPE'
pipeline hold {
  target local = local { cpus = 2 }
  component wait_go() -> (out: file) {
    param id : int
    command = "i=0; while [ ! -e GO ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done; echo {id} > {out}"
  }
  node a = wait_go(id = 1) { resources { cpus = 1 } }
  node b = wait_go(id = 2) { resources { cpus = 1 } }
  node c = wait_go(id = 3) { resources { cpus = 1 } }
}
PIPE
rm -f GO
"$PIPEC" run hold.pipe -q > hold.out 2>&1 &
run_pid=$!
seen=no
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  OUT=$("$PIPEC" targets hold.pipe 2>&1)
  grep -qE "local +local +3  2 nodes, cpus 2/2" <<<"$OUT" && { seen=yes; break; }
  kill -0 $run_pid 2>/dev/null || break
  sleep 0.1
done
touch GO
wait $run_pid || fail "the held run failed: $(cat hold.out)"
[ $seen = yes ] && pass "pipec targets shows what a run holds" || fail "no IN USE seen: $OUT"
expect_exit 0 "$PIPEC" targets gpus.pipe --json
python3 -c 'import json,sys; t=json.loads(sys.argv[1]); assert t[0]["options"]["gpus"] == [0, 3], t' "$OUT" && pass "pipec targets --json" || fail "targets --json: $OUT"
finish
