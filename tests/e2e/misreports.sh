#!/usr/bin/env bash
# What pipec prints is what happened: floats as the language writes them
# (10.0, not 1e+01), miss reasons joined by "; ", the snapshot list and its
# JSON structured (overrides and selection as objects, not strings of
# JSON), and a timed-out node with no exit code and the reason "timed out
# after 1s".
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
cat > p.pipe <<'PIPE'
pipeline mis {
  param x    : float = 10.0
  param word : string = "a"
  node a = shell(command = "echo ${word} > {out}")
  node b = shell(command = "cat {i} > {out}; echo {k} >> {out}", i = a.out, k = x)
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe -q || finish
expect_exit 0 "$PIPEC" run p.pipe -q -p x=20.0 -p word=b --nodes a,b || finish

expect_exit 0 "$PIPEC" diff 1 2 && [ "$OUT" = 'param    x: 10.0 -> 20.0
param    word: "a" -> "b"
param    a.command: "echo a > {out}" -> "echo b > {out}"
param    b.k: 10.0 -> 20.0
-p       x: (not given) -> 20.0
-p       word: (not given) -> b' ] && pass "diff prints 10.0 -> 20.0 and the -p values" || fail "diff: $OUT"

expect_exit 0 "$PIPEC" show 2 --json
python3 - "$OUT" <<'PY' && pass "miss reasons are joined with '; ' and floats read 10.0" || fail "reasons: $OUT"
import json, sys
nodes = {n["name"]: n for n in json.loads(sys.argv[1])["nodes"]}
want = ("param 'k' changed: 10.0 -> 20.0; input 'i' changed "
        "(produced by node 'a': its output changed)")
assert nodes["b"]["reason"] == want, nodes["b"]["reason"]
PY
expect_exit 0 "$PIPEC" cat b 2 && [ "$OUT" = $'b\n20.0' ] && pass "the command got 20.0" || fail "cat b: $OUT"

expect_exit 0 "$PIPEC" run p.pipe -q --from b --force || finish
expect_exit 0 "$PIPEC" snapshots
python3 - "$OUT" <<'PY' && pass "snapshots shows overrides and the selection as typed" || fail "snapshots: $OUT"
import sys
lines = sys.argv[1].split("\n")
assert lines[0].split() == ["SNAP", "PIPELINE", "CREATED", "MODE", "RUN", "PARAMS", "/", "SELECTION"], lines[0]
rows = [l.split(None, 6) for l in lines[1:]]
got = [(r[0], r[4], r[5], r[6] if len(r) > 6 else None) for r in rows]
assert got == [("3", "from", "3", "--from b --force"),
               ("2", "nodes", "2", "-p x=20.0 -p word=b --nodes a,b"),
               ("1", "full", "1", None)], got
assert all(not l.endswith(" ") for l in lines), lines
PY

expect_exit 0 "$PIPEC" snapshots --json
python3 - "$OUT" <<'PY' && pass "snapshots --json: overrides and selection are objects" || fail "snapshots --json: $OUT"
import json, sys
s = {x["snapshot"]: x for x in json.loads(sys.argv[1])}
assert s[2]["overrides"] == {"x": "20.0", "word": "b"}, s[2]["overrides"]
assert s[2]["selection"] == {"nodes": ["a", "b"], "from": None, "to": None, "force": False}, s[2]["selection"]
assert s[3]["selection"] == {"nodes": [], "from": "b", "to": None, "force": True}, s[3]["selection"]
assert s[1]["overrides"] == {} and s[1]["mode"] == "full" and s[1]["run"] == 1, s[1]
PY

# a node that times out
cat > slow.pipe <<'PIPE'
pipeline slow {
  node nap = shell(command = "sleep 30; echo late > {out}") { timeout = "1s" }
}
PIPE
expect_exit 1 "$PIPEC" run slow.pipe && expect_in "failed    nap" && expect_in "timed out after 1s" && pass "the run says 'timed out after 1s'" || fail "run slow: $OUT"
expect_exit 0 "$PIPEC" show --json
python3 - "$OUT" <<'PY' && pass "show --json: a timed-out node has exit_code null" || fail "show --json timeout: $OUT"
import json, sys
n = json.loads(sys.argv[1])["nodes"][0]
assert n["status"] == "failed" and n["exit_code"] is None, n
assert n["message"] == "timed out after 1s", n["message"]
PY
expect_exit 0 "$PIPEC" show
row=$(grep '^nap ' <<<"$OUT" | awk '{print $1, $2, $5, $6}')
[ "$row" = "nap failed 1 -" ] && [[ "$OUT" == *"  timed out after 1s" ]] && pass "show: EXIT is '-', WHY 'timed out after 1s'" || fail "show timeout: $OUT"
finish
