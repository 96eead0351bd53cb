#!/usr/bin/env bash
# How a run stops and what bounds it: a node waiting on its retry when
# another node fails (no --keep-going) is recorded cancelled, saying which
# failure stopped the run and which attempt did not start; and a -j above
# what `ulimit -n` leaves room for is lowered once, with a message, instead
# of nodes failing for want of file descriptors.
. "$(dirname "$0")/lib.bash"
mkdir proj && cd proj && mkdir .pipec

# the status, attempts and message of node $1 in the last `show --json`
node_field() {
  python3 -c 'import json, sys
for n in json.load(sys.stdin)["nodes"]:
    if n["name"] == sys.argv[1]:
        print(n[sys.argv[2]])' "$1" "$2" <<<"$OUT"
}

# ---- a pending retry when the run stops -----------------------------------
# bad fails once pipec has said flaky will retry (it then waits 1 s)
cat > stop.pipe <<'PIPE'
pipeline stop {
  node flaky = shell(command = "exit 1") { retries = 2 }
  node bad   = shell(command = "until grep -q 'retrying[ ]*flaky' stop.out; do sleep 0.05; done; exit 3")
}
PIPE
"$PIPEC" run stop.pipe -j 2 > stop.out 2>&1; rc=$?
OUT=$(cat stop.out)
[ "$rc" = 1 ] || fail "exit $rc, expected 1: $OUT"
expect_in "failed    bad" && expect_in "exit code 3" &&
  expect_in "cancelled flaky" && expect_in ": run stopped after node 'bad' failed; attempt" &&
  pass "a retry pending when another node fails is cancelled, and says why"
expect_exit 0 "$PIPEC" show 1 --json
status=$(node_field flaky status); attempts=$(node_field flaky attempts)
msg=$(node_field flaky message)
[ "$status" = cancelled ] && [ "$(node_field bad status)" = failed ] &&
  grep -qE "^run stopped after node 'bad' failed; attempt $((attempts + 1)) of 3 not started$" <<<"$msg" &&
  pass "show --json: flaky cancelled after $attempts attempt(s): $msg" ||
  fail "flaky: $status, $attempts attempt(s), '$msg'"

# ---- -j above the file descriptor limit -------------------------------------
{
  echo "pipeline many {"
  for i in $(seq 32); do
    echo "  node n$i = shell(command = \"sleep 0.3; echo $i > {out}\")"
  done
  echo "}"
} > many.pipe
OUT=$(ulimit -n 32 && "$PIPEC" run many.pipe -j 32 2>&1); rc=$?
# (under valgrind the program sees fewer: valgrind keeps some for itself)
lowered=$(grep -c "^pipec: -j 32 lowered to [0-9]*: only [0-9]* file descriptors (ulimit -n)$" <<<"$OUT")
[ "$rc" = 0 ] && [ "$lowered" = 1 ] && expect_in "32 ran" &&
  pass "ulimit -n 32, -j 32: -j is lowered once ($(grep -o 'lowered to [0-9]*' <<<"$OUT")) and every node succeeds" ||
  fail "rc $rc: $OUT"
expect_exit 0 "$PIPEC" show 2 --json
[ "$(node_field n32 status)" = succeeded ] && pass "and the run records them" || fail "$OUT"
finish
