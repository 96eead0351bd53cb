#!/usr/bin/env bash
# Work in flight is shared (docs/cache.md): two runs on one workspace that
# need the same cache key at the same time compute it once — the second
# waits for the first's result; a node of another pipeline with the same
# key (another name) too. A first run killed with kill -9 releases its
# claim at once and the second computes the node itself; a waiting run
# stopped with Ctrl-C stops at once.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj && mkdir .pipec
# gen NAME N: n0 waits for the file GO (at most 2 minutes), then a chain
# and fan-out of N small nodes
gen() {
  printf 'pipeline %s {\n  node n0 = shell(command = "%s; seq 1000 > {out}")\n' "$1" \
    'i=0; while [ ! -e GO ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i + 1)); done'
  for i in $(seq 1 "$2"); do
    printf '  node n%d = shell(command = "sleep 0.02; awk %s{ print $1 + %d }%s {x} > {out}", x = n%d.out)\n' \
      "$i" "'" "$i" "'" $((i / 2))
  done
  printf '}\n'
}
gen one 30 > one.pipe
# wait_for FILE TEXT: until FILE holds TEXT (at most 2 minutes)
wait_for() {
  local deadline=$((SECONDS + 120))
  until grep -qF -- "$2" "$1" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
  grep -qF -- "$2" "$1"
}
# wait_either A B TEXT: until file A or B holds TEXT
wait_either() {
  local deadline=$((SECONDS + 120))
  until grep -qF -- "$3" "$1" "$2" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
}
# ran RUN: the names of the nodes that ran (succeeded) in RUN, one a line
ran() {
  "$PIPEC" show "$1" --json | python3 -c "import json,sys; [print(n['name']) for n in json.load(sys.stdin)['nodes'] if n['status'] == 'succeeded']"
}

"$PIPEC" run one.pipe > a.out 2>&1 & a=$!
"$PIPEC" run one.pipe > b.out 2>&1 & b=$!
wait_either a.out b.out "waits for another run computing the same work"
grep -hq "node 'n0' waits for another run computing the same work (pid [0-9]* on " a.out b.out &&
  pass "the second run says it waits for the first's n0" || fail "no wait was said: $(cat a.out b.out)"
touch GO
wait $a; ra=$?; wait $b; rb=$?
[ $ra = 0 ] && [ $rb = 0 ] && pass "both runs succeed" || fail "exits $ra $rb: $(cat a.out b.out)"
both=$( (ran 1; ran 2) | sort)
[ "$(wc -l <<<"$both")" = 31 ] && [ -z "$(uniq -d <<<"$both")" ] &&
  pass "every one of the 31 nodes ran once in total (recorded node runs)" ||
  fail "node runs between the two runs: $(tr '\n' ' ' <<<"$both")"
expect_exit 0 "$PIPEC" show 2 && [ "$(grep -cE 'succeeded|cache hit' <<<"$OUT")" -ge 31 ] &&
  pass "the other nodes of each run are cached" || fail "show 2: $OUT"
[ -z "$(claims_left .pipec/claims)" ] && pass "no claim is left behind" || fail "claims left: $(claims_left .pipec/claims)"
expect_exit 0 "$PIPEC" cache verify && pass "every object whole" || fail "every object whole"

# the key, not the name: another pipeline's node with the same work
rm -f GO
gen two 0 | sed 's/node n0 =/node first =/' > two.pipe
sed -i 's/seq 1000/seq 2000/' two.pipe
cp two.pipe three.pipe && sed -i 's/pipeline two/pipeline three/; s/node first =/node other =/' three.pipe
"$PIPEC" run two.pipe > c.out 2>&1 & c=$!
"$PIPEC" run three.pipe > d.out 2>&1 & d=$!
wait_either c.out d.out "waits for another run"
touch GO
wait $c; rc=$?; wait $d; rd=$?
[ $rc = 0 ] && [ $rd = 0 ] && [ "$( (ran 3; ran 4) | wc -l)" = 1 ] &&
  pass "nodes of two pipelines with one key (other names) compute it once" ||
  fail "two pipelines, one key: exits $rc $rd, ran: $( (ran 3; ran 4) | tr '\n' ' ')"

# ---- kill -9 of the first releases the claim ------------------------------------
cat > k.pipe <<'PIPE'
pipeline k {
  node slow = shell(command = "if [ -e FIRST ]; then rm FIRST; echo $$ > slow.pid; sleep 300; fi; echo done > {out}")
  node after = shell(command = "cat {x} > {out}", x = slow.out)
}
PIPE
touch FIRST
"$PIPEC" run k.pipe > k1.out 2>&1 & k1=$!
deadline=$((SECONDS + 120))
until [ -s slow.pid ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
"$PIPEC" run k.pipe > k2.out 2>&1 & k2=$!
wait_for k2.out "node 'slow' waits for another run computing the same work" &&
  pass "the second run waits for the first's node" || fail "the second run waits: $(cat k2.out)"
kill -9 $k1
wait $k2; r2=$?
orphan=$(cat slow.pid)
[ $r2 = 0 ] && kill -0 "$orphan" 2>/dev/null &&
  pass "after kill -9 of the first, the second computes the node itself (the first's command is still sleeping)" ||
  fail "after kill -9: exit $r2: $(cat k2.out)"
kill "$orphan" 2>/dev/null
expect_stdout 0 "$PIPEC" cat after && [ "$OUT" = done ] && pass "with the right output" || fail "after: $OUT"
last=$("$PIPEC" runs --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['run'])")
[ "$(ran "$last" | tr '\n' ' ')" = "slow after " ] && pass "the second run recorded both nodes as run" ||
  fail "ran in run $last: $(ran "$last")"

# ---- Ctrl-C while waiting ----------------------------------------------------------
rm -f GO
sed 's/seq 1000/seq 3000/' one.pipe > w.pipe
"$PIPEC" run w.pipe > w1.out 2>&1 & w1=$!
wait_for w1.out "started   n0"
"$PIPEC" run w.pipe > w2.out 2>&1 & w2=$!
wait_for w2.out "waits for another run computing the same work"
kill -INT $w2
wait $w2; r2=$?
[ $r2 = 130 ] && pass "a run waiting for another's node stops at Ctrl-C (exit 130)" ||
  fail "waiting run after SIGINT: exit $r2: $(cat w2.out)"
w2run=$("$PIPEC" runs --json | python3 -c "import json,sys; print([r['run'] for r in json.load(sys.stdin) if r['status'] != 'running'][0])")
expect_exit 0 "$PIPEC" show "$w2run" && expect_in "cancelled" &&
  expect_in "the run stopped while it waited for the same work in another run" &&
  pass "its waiting node is recorded cancelled, saying why" || fail "show of the stopped run: $OUT"
touch GO
wait $w1; r1=$?
[ $r1 = 0 ] && pass "the first run finishes undisturbed" || fail "first run: exit $r1: $(cat w1.out)"
finish
