#!/usr/bin/env bash
# Two pipec runs on one workspace at once (the same pipeline and a
# different one): both finish, nothing is corrupted, and `pipec runs` /
# `pipec show` work while they go; `pipec cache gc` refuses to run then;
# a command that waits for another one's write lock says so.
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }

mkdir proj && cd proj
# gen NAME N: a pipeline of N small nodes in a chain plus fan-out; its
# first node waits for GO (at most 2 minutes), so the runs are surely going
# while the history is read, however slow the machine
gen() {
  printf 'pipeline %s {\n  node n0 = shell(command = "%s; seq 1000 > {out}")\n' "$1" \
    'i=0; while [ ! -e GO ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done'
  for i in $(seq 1 "$2"); do
    printf '  node n%d = shell(command = "sleep 0.0%d; awk %s{ print $1 + %d }%s {x} > {out}", x = n%d.out)\n' \
      "$i" $((i % 9)) "'" "$i" "'" $((i / 2))
  done
  printf '}\n'
}
gen one 30 > one.pipe
gen two 30 > two.pipe
"$PIPEC" run one.pipe -q > a.out 2>&1 & a=$!
"$PIPEC" run one.pipe -q > b.out 2>&1 & b=$!
"$PIPEC" run two.pipe -q > c.out 2>&1 & c=$!
# all three get going at once: none holds the database while its nodes run
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  [ "$("$PIPEC" runs 2>/dev/null | grep -c running)" = 3 ] && break
  sleep 0.1
done
expect_exit 0 "$PIPEC" runs && [ "$(grep -c running <<<"$OUT")" = 3 ] && pass "pipec runs works during runs, all three running" || fail "pipec runs works during runs, all three running: $OUT"
lock=$(sqlite3 .pipec/pipec.db 'PRAGMA busy_timeout = 1000; BEGIN IMMEDIATE; ROLLBACK;' 2>&1 >/dev/null)
[ -z "$lock" ] && pass "no write transaction is held while nodes run" || fail "the database is held while nodes run: $lock"
# gc cannot know what a running run has stored but not yet recorded
expect_exit 1 "$PIPEC" cache gc && expect_in "is still going; run gc when it has finished" &&
  pass "cache gc waits for the runs to finish" || fail "cache gc waits for the runs to finish"
expect_exit 0 "$PIPEC" show last && expect_in "running" && pass "pipec show works during runs" || fail "pipec show works during runs"
touch GO
wait $a; ra=$?; wait $b; rb=$?; wait $c; rc=$?
[ $ra = 0 ] && [ $rb = 0 ] && [ $rc = 0 ] && pass "three concurrent runs all succeed" || fail "exits $ra $rb $rc: $(cat a.out b.out c.out)"
[ "$(sqlite3 .pipec/pipec.db 'PRAGMA integrity_check')" = ok ] && pass "database intact" || fail "integrity_check"
expect_exit 0 "$PIPEC" cache verify && pass "every object whole" || fail "every object whole"
expect_exit 0 "$PIPEC" run one.pipe -q && expect_in "0 ran" && pass "afterwards one.pipe is fully cached" || fail "afterwards one.pipe is fully cached"
expect_exit 0 "$PIPEC" run two.pipe -q && expect_in "0 ran" && pass "and two.pipe too" || fail "and two.pipe too"

# a command that has to wait for another writer says so, then goes on
sqlite3 .pipec/pipec.db 'BEGIN IMMEDIATE;' '.shell sleep 6' 'COMMIT;' > /dev/null 2>&1 &
holder=$!
sleep 0.5
expect_exit 0 "$PIPEC" run one.pipe -q --node n1 --force &&
  expect_in "pipec: waiting for another pipec that is writing to the workspace (at most 30 s)" &&
  pass "a run waiting for the lock says so, then runs" || fail "a run waiting for the lock says so, then runs"
wait $holder
finish
