#!/usr/bin/env bash
# The database grows by what changed (docs/reliability.md): a re-run that
# changes nothing adds no row per node (its cached nodes are references to
# their last records) and no copy of the compiled configuration (stored
# once per distinct one); yet show, runs, cat, logs, why and gc see every
# node of every run as before, in the pipeline's order.
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }

mkdir proj && cd proj
cat > p.pipe <<'PIPE'
pipeline grow {
  param n : int = 1
  node first = shell(command = "echo first; echo 1 > {out}")
  for i in range(300) {
    node m[i] = shell(command = "cat {x} > {out}; echo ${i} >> {out}", x = first.out)
  }
  node last = shell(command = "cat {xs} | wc -l > {out}; echo n=${n} >> {out}", xs = m[*].out)
}
PIPE
db=.pipec/pipec.db
q() { sqlite3 "$db" "$1"; }
shown() { "$PIPEC" show "$1" --json --members | python3 -c '
import json,sys; d=json.load(sys.stdin)["nodes"]
print(len(d), sum(n["status"]=="cached" for n in d), d[0]["name"], d[-1]["name"])'; }

expect_exit 0 "$PIPEC" run p.pipe -q
rows=$(q "SELECT count(*) FROM node_runs")
[ "$rows" = 302 ] && pass "a first run records a row per node" || fail "rows: $rows"
for i in 1 2 3 4 5; do "$PIPEC" run p.pipe -q >/dev/null 2>&1 || fail "no-op run $i"; done
q "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
pages=$(q "PRAGMA page_count")
for i in 1 2 3 4 5 6 7 8 9 10; do "$PIPEC" run p.pipe -q >/dev/null 2>&1 || fail "no-op run $i"; done
q "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
[ "$(q "SELECT count(*) FROM node_runs")" = 302 ] &&
  pass "15 no-op runs add no node run rows" || fail "rows after no-op runs: $(q "SELECT count(*) FROM node_runs")"
[ "$(q "SELECT count(*) FROM run_cached")" = 15 ] &&
  pass "each records its cached nodes as one range" || fail "ranges: $(q "SELECT run_id, first, last FROM run_cached")"
[ "$(q "SELECT count(*) FROM configs")" = 1 ] && [ "$(q "SELECT count(*) FROM snapshots WHERE config <> ''")" = 0 ] &&
  pass "the compiled configuration is stored once for 16 snapshots" || fail "configs: $(q "SELECT count(*) FROM configs")"
[ "$(q "SELECT count(*) FROM pipeline_states s, state_gen g WHERE s.gen = g.n")" = 1 ] &&
  pass "the pipeline's state is kept packed, current" || fail "packed state: $(q "SELECT pipeline_id, gen FROM pipeline_states"), gen $(q "SELECT n FROM state_gen")"
[ "$(q "SELECT count(*) FROM config_loads")" = 1 ] &&
  pass "one compile's configuration is named once" || fail "config_loads: $(q "SELECT count(*) FROM config_loads")"
grown=$(( $(q "PRAGMA page_count") - pages ))
[ "$grown" -le 8 ] && pass "10 no-op runs grew the database by $grown pages" || fail "10 no-op runs grew it by $grown pages"

# every node is there, cached, in the pipeline's order
[ "$(shown last)" = "302 302 first last" ] && pass "show lists every node of a no-op run, cached, in order" || fail "show: $(shown last)"
"$PIPEC" runs --json | python3 -c '
import json,sys; r=json.load(sys.stdin)[0]; assert r["cached"] == 302 and r["ran"] == 0, r' &&
  pass "runs counts them" || fail "runs: $("$PIPEC" runs | head -3)"
expect_stdout 0 "$PIPEC" cat 'm[7]' && [ "$OUT" = "$(printf '1\n7')" ] && pass "cat of a member" || fail "cat: $OUT"
expect_stdout 0 "$PIPEC" logs first && [ "$OUT" = first ] && [[ "$ERR" == *"run 1 "* ]] &&
  pass "logs finds the run it ran in" || fail "logs: $OUT / $ERR"
"$PIPEC" show 16 --json --members | python3 -c '
import json,sys; n={x["name"]: x for x in json.load(sys.stdin)["nodes"]}["m[7]"]
assert n["status"] == "cached" and n["attempts"] == 0 and n["log"] is None and n["cache_key"], n' &&
  pass "show --json of a no-op run: a member cached, no log, its key" || fail "show 16"

# a change re-runs what it changes, and records just that
sed -i 's/param n : int = 1/param n : int = 2/' p.pipe
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "1 ran, 301 cached" && pass "a param change runs one node" || fail "change: $OUT"
[ "$(q "SELECT count(*) FROM node_runs")" = 303 ] && pass "and records one row" || fail "rows: $(q "SELECT count(*) FROM node_runs")"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 302 cached" && pass "then all cached" || fail "after change: $OUT"
[ "$(shown last)" = "302 302 first last" ] && pass "the last node's newest record is named" || fail "show: $(shown last)"
expect_exit 0 "$PIPEC" why p.pipe last && expect_in "cached" && pass "why says cached" || fail "why: $OUT"

# gc keeps what the kept runs' cached nodes name
expect_exit 0 "$PIPEC" cache gc --keep 1 && expect_stdout 0 "$PIPEC" cat 'm[299]' && [ "$OUT" = "$(printf '1\n299')" ] &&
  pass "gc keeps the outputs a cached run names" || fail "gc: $OUT"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 302 cached" && pass "and the next run is cached" || fail "after gc: $OUT"
# a reference names a record whose outputs are the cache entry's: after
# cache verify dropped a damaged entry and another pipeline refilled the
# key with other bytes, the next run records a row of its own, and cat
# prints the bytes the entry holds now, not the old record's
mkdir ../two && cd ../two
cat > a.pipe <<'PIPE'
pipeline a { node r = shell(command = "head -c 8 /dev/urandom | od -An -tx1 > {out}") }
PIPE
sed 's/pipeline a/pipeline b/' a.pipe > b.pipe
expect_exit 0 "$PIPEC" run a.pipe -q && first=$("$PIPEC" cat r 2>/dev/null)
obj=$(find .pipec/objects -type f | head -1)
chmod u+w "$obj" && printf 'X' | dd of="$obj" bs=1 seek=1 conv=notrunc 2>/dev/null
"$PIPEC" cache verify >/dev/null 2>&1
expect_exit 0 "$PIPEC" run b.pipe -q && now=$("$PIPEC" cat r 1 2>/dev/null; "$PIPEC" cat r 2>/dev/null)
expect_exit 0 "$PIPEC" run a.pipe -q && expect_in "0 ran, 1 cached" &&
  expect_stdout 0 "$PIPEC" cat r && [ "$OUT" = "$("$PIPEC" cat r 2 2>/dev/null)" ] && [ "$OUT" != "$first" ] &&
  pass "a refilled entry is served as it is now, not as the old record had it" ||
  fail "after a refill: cat '$OUT', b's '$("$PIPEC" cat r 2 2>/dev/null)', first '$first'"

# what a compile read names its configuration: an imported file edited
# (the .pipe file itself unchanged) is another configuration; edited back,
# the first one again
mkdir ../three && cd ../three
cat > lib.pipe <<'PIPE'
component say(x: file) -> (out: file) {
  param k : int = 1
  command = "cat {x} > {out}; echo {k} >> {out}"
}
PIPE
cat > p.pipe <<'PIPE'
import "lib.pipe"
pipeline imp {
  node a = shell(command = "echo a > {out}")
  node b = say(x = a.out)
}
PIPE
cp lib.pipe lib.v1
expect_exit 0 "$PIPEC" run p.pipe -q || fail "import run 1"
sed -i 's/param k : int = 1/param k : int = 2/' lib.pipe
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "1 ran, 1 cached" || fail "import run 2: $OUT"
cp lib.v1 lib.pipe
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 2 cached" || fail "import run 3: $OUT"
cfg() { sqlite3 .pipec/pipec.db "SELECT group_concat(config_id, ' ') FROM (SELECT config_id FROM snapshots ORDER BY id)"; }
[ "$(cfg)" = "1 2 1" ] && [ "$(sqlite3 .pipec/pipec.db "SELECT count(*) FROM configs")" = 2 ] &&
  pass "an edited import is another configuration, and back the first" || fail "configs of the snapshots: $(cfg)"
expect_stdout 0 "$PIPEC" diff 1 2 && [[ "$OUT" == *"b.k: 1 -> 2"* ]] &&
  pass "diff shows the import's edit" || fail "diff 1 2: $OUT"
finish
