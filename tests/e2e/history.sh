#!/usr/bin/env bash
# History of a workspace: runs, show, logs, cat, why, snapshots, diff,
# rollback (and that a run after a rollback is cached), cache verify and gc.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/data && cd proj
printf 'b\na\nc\n' > data/in.txt
cat > p.pipe <<'PIPE'
pipeline hist {
  param src : path = "data/in.txt"
  param n   : int = 2
  component sorted() -> (out: file) {
    param input : path
    command = "echo sorting >&2; sort {input} > {out}"
  }
  node s    = sorted(input = src)
  node head = shell(command = "head -n ${n} {x} > {out}", x = s.out)
}
PIPE

expect_exit 0 "$PIPEC" run p.pipe -q || exit 1
expect_exit 0 "$PIPEC" runs && expect_in "hist" && expect_in "succeeded" && pass "runs" || fail "runs"
expect_exit 0 "$PIPEC" runs --json
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r[0]["status"]=="succeeded" and r[0]["ran"]==2, r' "$OUT" && pass "runs --json" || fail "runs --json: $OUT"

expect_exit 0 "$PIPEC" show last --json
python3 - "$OUT" <<'PY' && pass "show --json has the documented fields" || fail "show --json: $OUT"
import json, sys
r = json.loads(sys.argv[1])
for n in r["nodes"]:
    for k in ("name", "status", "cache_key", "target", "job", "attempts", "exit_code", "started", "finished"):
        assert k in n, (k, n)
    assert n["status"] == "succeeded" and n["target"] == "local" and n["job"], n
    assert len(n["cache_key"]) == 32
PY
expect_exit 0 "$PIPEC" logs 1 s && expect_in "sorting" && pass "logs" || fail "logs"
expect_stdout 0 "$PIPEC" cat head && [ "$OUT" = $'a\nb' ] && pass "cat" || fail "cat: $OUT"
expect_exit 2 "$PIPEC" logs 1 hed && expect_in "did you mean 'head'" && pass "logs typo" || fail "logs typo"
expect_exit 2 "$PIPEC" show 99 && expect_in "no run 99" && pass "show unknown run" || fail "show unknown run"

# why: a param, a data file, never ran
expect_exit 0 "$PIPEC" why p.pipe head && expect_in "head is cached" && pass "why: cached" || fail "why: cached"
expect_exit 0 "$PIPEC" why p.pipe head -p n=3 && expect_in "head -n 2 {x} > {out}\" -> \"head -n 3" && pass "why: param" || fail "why: param"
printf 'z\n' >> data/in.txt
expect_exit 0 "$PIPEC" why p.pipe s && expect_in "file data/in.txt changed" && pass "why: data file" || fail "why: data file"
expect_exit 0 "$PIPEC" why p.pipe head && expect_in "upstream node 's' would run first" && pass "why: upstream" || fail "why: upstream"

# early cut-off: s re-runs with the same output? (no: content changed) -> head re-runs
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "2 ran" && pass "data change re-runs" || fail "data change re-runs"

# snapshots, diff, rollback
sed -i 's/param n   : int = 2/param n   : int = 1/' p.pipe
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "1 ran, 1 cached" && pass "edit re-runs one node" || fail "edit re-runs one node"
expect_exit 0 "$PIPEC" snapshots && expect_in "hist" && pass "snapshots" || fail "snapshots"
expect_exit 0 "$PIPEC" diff 2 3 && expect_in "param    n: 2 -> 1" && expect_in "head.command" && expect_in "p.pipe: changed" && pass "diff" || fail "diff"
expect_exit 0 "$PIPEC" rollback 2 --dry-run && expect_in "restore   p.pipe" && grep -q "int = 1" p.pipe && pass "rollback --dry-run writes nothing" || fail "rollback --dry-run writes nothing"
expect_exit 0 "$PIPEC" rollback 2 && expect_in "restored 1 file" && grep -q "int = 2" p.pipe && pass "rollback restores the file" || fail "rollback restores the file"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 2 cached" && pass "run after rollback is cached" || fail "run after rollback is cached"
saved=$("$PIPEC" snapshots --json | python3 -c 'import json,sys; print([s["snapshot"] for s in json.load(sys.stdin) if s["mode"]=="before-rollback"][0])')
expect_exit 0 "$PIPEC" rollback "$saved" && grep -q "int = 1" p.pipe && pass "a rollback can be undone" || fail "a rollback can be undone"

# cache verify finds damage and the producer re-runs
expect_exit 0 "$PIPEC" cache verify && expect_in "intact" && pass "verify clean" || fail "verify clean"
obj=$(find .pipec/objects -type f ! -path '*/tmp/*' | head -1)
chmod u+w "$obj"; echo damage >> "$obj"
expect_exit 1 "$PIPEC" cache verify && expect_in "damaged" && pass "verify reports damage" || fail "verify reports damage"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "1 ran" && pass "damaged output's producer re-runs" || fail "damaged output's producer re-runs"
expect_exit 0 "$PIPEC" cache gc --keep 1 && expect_in "removed" && pass "gc" || fail "gc"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran" && pass "gc keeps what the last run uses" || fail "gc keeps what the last run uses"
finish
