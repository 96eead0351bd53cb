#!/usr/bin/env bash
# Runner control: -j, --keep-going vs fail-fast, retries, timeouts, Ctrl-C
# (first cancels and exits 130, the run resumes from the cache).
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj

# -j 2 with four 1 s nodes: two waves, never more than 2 at once
cat > par.pipe <<'PIPE'
pipeline par {
  node a = shell(command = "date +%s.%N > {out}; sleep 1; date +%s.%N >> {out}")
  node b = shell(command = "date +%s.%N > {out}; sleep 1; date +%s.%N >> {out}; echo b >> {out}")
  node c = shell(command = "date +%s.%N > {out}; sleep 1; date +%s.%N >> {out}; echo c >> {out}")
  node d = shell(command = "date +%s.%N > {out}; sleep 1; date +%s.%N >> {out}; echo d >> {out}")
}
PIPE
expect_exit 0 "$PIPEC" run par.pipe -j 2 -q || exit 1
for n in a b c d; do "$PIPEC" cat $n | head -2 | tr '\n' ' '; echo; done > spans
python3 - spans <<'PY' && pass "-j 2 never runs more than 2 nodes at once" || fail "-j 2 overlap: $(cat spans)"
import sys
spans = [tuple(map(float, l.split()[:2])) for l in open(sys.argv[1]) if l.strip()]
for s, _ in spans:
    assert sum(1 for a, b in spans if a <= s < b) <= 2, spans
PY

# fail-fast stops starting nodes; --keep-going runs independent ones
cat > ff.pipe <<'PIPE'
pipeline ff {
  node bad  = shell(command = "exit 1")
  node slow = shell(command = "sleep 1; echo x > {out}")
  node late = shell(command = "cat {s} > {out}", s = slow.out)
}
PIPE
expect_exit 1 "$PIPEC" run ff.pipe -j 1 && pass "fail-fast exits 1" || fail "fail-fast exits 1"
"$PIPEC" show last --json > show.json; python3 -c 'import json,sys; n={x["name"]:x["status"] for x in json.load(sys.stdin)["nodes"]}; assert n["late"]=="skipped", n' < show.json \
  && pass "fail-fast skips what did not start" || fail "fail-fast: $("$PIPEC" show last)"
expect_exit 1 "$PIPEC" run ff.pipe -j 1 --keep-going
"$PIPEC" show last --json | python3 -c 'import json,sys; n={x["name"]:x["status"] for x in json.load(sys.stdin)["nodes"]}; assert n["late"] in ("succeeded","cached") and n["bad"]=="failed", n' \
  && pass "--keep-going finishes independent branches" || fail "keep-going: $("$PIPEC" show last)"

# retries: fails twice, then succeeds on the third attempt
cat > retry.pipe <<'PIPE'
pipeline retry {
  node flaky = shell(command = "n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ] && echo ok > {out}") {
    retries = 2
    cache = false
  }
}
PIPE
rm -f count
expect_exit 0 "$PIPEC" run retry.pipe && [ "$(cat count)" = 3 ] && pass "retries: third attempt succeeds" || fail "retries: count=$(cat count)"
"$PIPEC" show last --json > show.json; grep -q '"attempts": 3' show.json && pass "attempts recorded" || fail "attempts: $("$PIPEC" show last)"

# timeout kills the node and fails it
cat > to.pipe <<'PIPE'
pipeline to {
  node hang = shell(command = "sleep 30; echo > {out}") { timeout = "1s" }
}
PIPE
start=$(date +%s)
expect_exit 1 "$PIPEC" run to.pipe && expect_in "timed out" && [ $(( $(date +%s) - start )) -lt 15 ] && pass "timeout" || fail "timeout took too long or did not fail"

# Ctrl-C: running nodes are cancelled, exit 130, the finished node is kept
cat > int.pipe <<'PIPE'
pipeline int {
  node quick = shell(command = "echo q > {out}")
  node long  = shell(command = "sleep 31; cat {q} > {out}", q = quick.out)
}
PIPE
"$PIPEC" run int.pipe -q > int.out 2>&1 &
pid=$!
for _ in $(seq 600); do pgrep -f "sleep 31" >/dev/null && break; sleep 0.1; done
kill -INT $pid
wait $pid; rc=$?
[ $rc = 130 ] && pass "Ctrl-C exits 130" || fail "Ctrl-C exit $rc: $(cat int.out)"
"$PIPEC" show last --json | python3 -c 'import json,sys; n={x["name"]:x["status"] for x in json.load(sys.stdin)["nodes"]}; assert n["long"]=="cancelled" and n["quick"]=="succeeded", n' \
  && pass "cancelled node recorded" || fail "after Ctrl-C: $("$PIPEC" show last)"
for _ in $(seq 20); do pgrep -f "sleep 31" >/dev/null || break; sleep 0.1; done
pgrep -f "sleep 31" >/dev/null && fail "the cancelled node's process is still running" || pass "no process left behind"
sed -i 's/sleep 31; //' int.pipe
expect_exit 0 "$PIPEC" run int.pipe -q && expect_in "1 ran, 1 cached" && pass "the next run resumes from the cache" || fail "the next run resumes from the cache"
finish
