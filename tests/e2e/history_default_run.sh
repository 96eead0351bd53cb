#!/usr/bin/env bash
# With two pipelines in one workspace, `pipec cat NODE` and `pipec logs
# NODE` without a run number take the newest run that has the node (for
# logs: in which it ran) and name it on stderr, so stdout holds exactly the
# bytes. An explicit run, or 'last', means that run.
. "$(dirname "$0")/lib.bash"

cat > churn.pipe <<'PIPE'
pipeline churn {
  param fail : bool = false
  node metrics = shell(command = "echo computing >&2; if ${fail}; then exit 3; fi; printf 'auc=0.91\n' > {out}")
}
PIPE
cat > other.pipe <<'PIPE'
pipeline other {
  node load = shell(command = "echo other > {out}")
}
PIPE
# split stdout and stderr of a command: $STDOUT, $STDERR, $RC
run_split() { "$@" >"$T/.out" 2>"$T/.err"; RC=$?; STDOUT=$(cat "$T/.out"); STDERR=$(cat "$T/.err"); }

"$PIPEC" run churn.pipe -q >/dev/null 2>&1 && "$PIPEC" run other.pipe -q >/dev/null 2>&1 ||
  fail "the first two runs"
run_split "$PIPEC" cat metrics
[ $RC = 0 ] && [ "$STDOUT" = "auc=0.91" ] &&
  [ "$STDERR" = "pipec: node 'metrics' of run 1 (pipeline churn)" ] &&
  pass "cat NODE takes the newest run that has the node, named on stderr" ||
  fail "cat NODE takes the newest run that has the node: rc=$RC out=$STDOUT err=$STDERR"
run_split "$PIPEC" logs metrics
[ $RC = 0 ] && [ "$STDOUT" = "computing" ] &&
  [ "$STDERR" = "pipec: node 'metrics' of run 1 (pipeline churn)" ] &&
  pass "logs NODE likewise" || fail "logs NODE likewise: rc=$RC out=$STDOUT err=$STDERR"

# run 3: churn, cached; run 4: other
"$PIPEC" run churn.pipe -q >/dev/null 2>&1 && "$PIPEC" run other.pipe -q >/dev/null 2>&1 ||
  fail "runs 3 and 4"
run_split "$PIPEC" cat metrics
[ $RC = 0 ] && [ "$STDOUT" = "auc=0.91" ] &&
  [ "$STDERR" = "pipec: node 'metrics' of run 3 (pipeline churn)" ] &&
  pass "a cached node's output is served from the newest run" ||
  fail "a cached node's output is served from the newest run: $STDERR"
run_split "$PIPEC" logs metrics
[ $RC = 0 ] && [ "$STDOUT" = "computing" ] &&
  [ "$STDERR" = "pipec: node 'metrics' of run 1 (pipeline churn)" ] &&
  pass "logs NODE takes the newest run in which the node ran" ||
  fail "logs NODE takes the newest run in which the node ran: $STDERR"

# run 5: metrics fails; cat does not serve the old output silently
"$PIPEC" run churn.pipe -q -p fail=true >/dev/null 2>&1
run_split "$PIPEC" cat metrics
[ $RC = 2 ] && [ -z "$STDOUT" ] &&
  grep -qxF "pipec: node 'metrics' of run 5 (pipeline churn)" <<<"$STDERR" &&
  grep -qxF "pipec cat: node 'metrics' has no outputs in run 5 (failed)" <<<"$STDERR" &&
  grep -qxF "  its newest outputs are from run 3: pipec cat metrics 3" <<<"$STDERR" &&
  pass "a node that failed in the newest run has no output there, and the message says where one is" ||
  fail "a node that failed in the newest run: rc=$RC out=$STDOUT err=$STDERR"
run_split "$PIPEC" logs metrics
[ $RC = 0 ] && [ "$STDOUT" = "computing" ] &&
  [ "$STDERR" = "pipec: node 'metrics' of run 5 (pipeline churn)" ] &&
  pass "logs NODE shows the failed run's log" || fail "logs NODE shows the failed run's log: $STDERR"

# explicit runs mean exactly those runs, with nothing on stderr
run_split "$PIPEC" cat metrics 3
[ $RC = 0 ] && [ "$STDOUT" = "auc=0.91" ] && [ -z "$STDERR" ] &&
  pass "cat NODE RUN" || fail "cat NODE RUN: $STDERR"
"$PIPEC" run other.pipe -q >/dev/null 2>&1
expect_exit 2 "$PIPEC" cat metrics last && expect_in "pipec cat: run 6 has no node 'metrics'" &&
  pass "'last' is the newest run of any pipeline" || fail "'last' is the newest run of any pipeline"
expect_exit 0 "$PIPEC" show && expect_in "run 6 of other (snapshot 6)" &&
  pass "show without a run names the run it shows" || fail "show without a run names the run it shows"
expect_exit 2 "$PIPEC" cat metrix && expect_in "pipec cat: no run has a node 'metrix'" &&
  expect_in "did you mean 'metrics'?" &&
  pass "an unknown node gets a suggestion from every run" || fail "an unknown node gets a suggestion from every run"
finish
