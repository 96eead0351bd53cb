#!/usr/bin/env bash
# kill -9 of pipec in the middle of a run, at many moments (seeded random
# delays), then a re-run: the database passes PRAGMA integrity_check, no
# stored object is partial (pipec cache verify), finished nodes stay
# cached, and the final outputs equal those of an uninterrupted run.
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }

KILLS=${PIPEC_CRASH_KILLS:-20}
RANDOM=42
mkdir proj && cd proj
cat > p.pipe <<'PIPE'
pipeline crash {
  node a = shell(command = "seq 1 200000 > {out}")
  node b = shell(command = "sleep 0.05; awk '{ s += $1 } END { print s }' {x} > {out}", x = a.out)
  node c = shell(command = "sleep 0.08; sort -rn {x} | head -n 1000 > {out}", x = a.out)
  node d = shell(command = "sleep 0.03; cat {x} {y} > {out}", x = b.out, y = c.out)
  node e = shell(command = "sleep 0.06; wc -c < {x} > {out}", x = d.out)
  node f = shell(command = "sleep 0.04; sha256sum {x} {y} | cut -c1-64 > {out}", x = d.out, y = e.out)
}
PIPE
# the reference outputs, in a separate workspace
mkdir ../ref && cp p.pipe ../ref/ && (cd ../ref && "$PIPEC" run p.pipe -q >/dev/null && "$PIPEC" cat f > f.out && "$PIPEC" cat e > e.out) || fail "reference run"

ok=0
for i in $(seq "$KILLS"); do
  [ "$i" -gt 1 ] && sed -i "s/^pipeline crash {/pipeline crash {\n  # round $i/" p.pipe
  # change a's output every few rounds so there is work to interrupt
  sed -i "s/seq 1 [0-9]*/seq 1 $((200000 + i % 3))/" p.pipe
  "$PIPEC" run p.pipe -q >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 400)))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  # processes of the killed run's nodes may linger: give them a moment
  sleep 0.2
  # killed before the workspace existed: nothing to check
  [ -f .pipec/pipec.db ] || { ok=$((ok + 1)); continue; }
  check=$(sqlite3 .pipec/pipec.db 'PRAGMA integrity_check' 2>&1)
  [ "$check" = ok ] || { fail "round $i: integrity_check: $check"; continue; }
  "$PIPEC" cache verify >/dev/null 2>&1 || { fail "round $i: a stored object is damaged"; continue; }
  ok=$((ok + 1))
done
[ $ok = "$KILLS" ] && pass "$KILLS kill -9 rounds: database intact, every object whole" || fail "$KILLS kill -9 rounds: database intact, every object whole"

# back to the reference configuration: resume and compare
sed -i "s/seq 1 [0-9]*/seq 1 200000/" p.pipe
expect_exit 0 "$PIPEC" run p.pipe -q && pass "the run after the kills completes" || fail "the run after the kills completes"
"$PIPEC" cat f > f.out; "$PIPEC" cat e > e.out
cmp -s f.out ../ref/f.out && cmp -s e.out ../ref/e.out && pass "final outputs equal an uninterrupted run's" || fail "outputs differ from the reference run"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran" && pass "and everything is cached now" || fail "and everything is cached now"
expect_exit 0 "$PIPEC" runs && ! grep -q " running " <<<"$OUT" && pass "killed runs are not left 'running'" || fail "a killed run still shows as running: $OUT"
finish
