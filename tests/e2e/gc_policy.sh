#!/usr/bin/env bash
# `pipec cache gc` frees what no kept run needs (docs/cli.md, "The object
# store"): the outputs and logs of runs older than the newest N go, unless
# they are a pipeline's newest run, a labeled snapshot's newest run, or the
# newest success of a node of the pipeline's newest configuration (so a
# partial run still finds its upstream inputs). Measured in bytes (du) and
# objects, not by the word "removed".
. "$(dirname "$0")/lib.bash"

objects() { find .pipec/objects -path '*/tmp' -prune -o -type f -print | wc -l; }
kib() { du -sk "$1" | cut -f1; }
statuses() { "$PIPEC" show last --json | python3 -c '
import json,sys; print(" ".join(n["name"]+"="+n["status"] for n in json.load(sys.stdin)["nodes"]))'; }

# ---- five runs of a 1 MB node: --keep 1 frees four of them ----------------
mkdir big && cd big
cat > big.pipe <<'PIPE'
pipeline big {
  node blob = shell(command = "head -c 1000000 /dev/urandom > {out}; head -c 200000 /dev/zero | tr '\\0' x") { cache = false }
}
PIPE
for i in 1 2 3 4 5; do expect_exit 0 "$PIPEC" run big.pipe -q || finish; done
[ "$(objects)" = 5 ] && pass "five runs stored five 1 MB objects" || fail "objects: $(objects)"
[ "$(ls .pipec/logs | wc -l)" = 5 ] && pass "and five runs of logs" || fail "logs: $(ls .pipec/logs)"
before=$(kib .pipec/objects); logs_before=$(kib .pipec/logs)
last=$("$PIPEC" cat blob | cksum)
expect_exit 0 "$PIPEC" cache gc --keep 1
after=$(kib .pipec/objects); logs_after=$(kib .pipec/logs)
[ "$(objects)" = 1 ] && pass "gc --keep 1 leaves one object" || fail "after gc: $(objects) objects; $OUT"
[ $((before - after)) -ge 3800 ] && pass "gc --keep 1 freed $((before - after)) KiB of objects (4 x 1 MB)" ||
  fail "freed only $((before - after)) KiB: $OUT"
[ "$(ls .pipec/logs)" = 5 ] && [ $((logs_before - logs_after)) -ge 700 ] &&
  pass "the logs of the four collected runs went too ($((logs_before - logs_after)) KiB)" || fail "logs left: $(ls .pipec/logs) ($logs_before -> $logs_after KiB)"
expect_in "removed 4 objects (4.0 MB) and 4 logs (0.8 MB)" && pass "gc says what it freed" || fail "gc said: $OUT"
[ "$("$PIPEC" cat blob | cksum)" = "$last" ] && pass "the newest run's output is still served" || fail "newest output changed"
expect_stdout 0 "$PIPEC" logs blob
[ "${#OUT}" -ge 200000 ] && pass "and its log kept" || fail "log: ${#OUT} bytes"
expect_exit 0 "$PIPEC" cache gc --keep 1
expect_in "removed 0 objects" && [ "$(objects)" = 1 ] && pass "a second gc has nothing left to free" || fail "second gc: $OUT"

# ---- what stays: upstream of partial runs, other pipelines, labels -------
cd "$T" && mkdir keep && cd keep
cat > p.pipe <<'PIPE'
pipeline p {
  param n : int = 1
  node src  = shell(command = "head -c 300000 /dev/urandom > {out}")
  node mid  = shell(command = "cat {x} {x} > {out}", x = src.out)
  node leaf = shell(command = "head -c ${n}000 {x} > {out}", x = mid.out)
}
PIPE
cat > q.pipe <<'PIPE'
pipeline q {
  node other = shell(command = "head -c 100000 /dev/urandom > {out}")
}
PIPE
expect_exit 0 "$PIPEC" run q.pipe -q
expect_exit 0 "$PIPEC" run p.pipe -q
for n in 2 3 4 5 6; do expect_exit 0 "$PIPEC" run p.pipe -q --node leaf -p n=$n || finish; done
[ "$(objects)" = 9 ] && pass "runs of two pipelines stored 9 objects" || fail "objects: $(objects)"
expect_exit 0 "$PIPEC" cache gc --keep 2
# kept: leaf of the newest 2 runs (n=5, n=6); src and mid (the newest
# success of nodes of p's newest configuration); q's newest run
[ "$(objects)" = 5 ] && pass "gc --keep 2 keeps the newest two leaves, their upstream and the other pipeline's run" || fail "after gc: $(objects); $OUT"
expect_exit 0 "$PIPEC" run p.pipe -q --node leaf -p n=7
[ "$(statuses)" = "leaf=succeeded" ] && pass "a partial run after gc still finds its upstream outputs" || fail "partial run: $OUT"
expect_exit 0 "$PIPEC" run q.pipe -q
[ "$(statuses)" = "other=cached" ] && pass "another pipeline's newest run stays cached" || fail "q: $(statuses)"
expect_exit 0 "$PIPEC" run p.pipe -q -p n=7
[ "$(statuses)" = "src=cached mid=cached leaf=cached" ] && pass "the whole pipeline re-run is cached" || fail "p: $(statuses)"

finish
