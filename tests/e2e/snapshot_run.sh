#!/usr/bin/env bash
# Going back to a snapshot's data as well as its code:
# - `pipec run FILE --snapshot N` runs snapshot N's configuration (its .pipe
#   and code files, -p values and data files, all from the store) in
#   .pipec/checkout/N; it is cached, publishes there, and leaves the working
#   files alone.
# - `pipec rollback N --data` also restores the data files the snapshot read
#   (a glob's matches, file() and path params, directories): byte for byte,
#   the next run cached; files the snapshot did not have are left alone.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/data/reads proj/data/ref && cd proj
printf 'a\nb\n' > data/in.txt
printf 'r1\n' > data/reads/s1.txt
printf 'r2\n' > data/reads/s2.txt
printf 'ACGT\n' > data/ref/genome.fa
cat > p.pipe <<'PIPE'
pipeline sr {
  param src : path = "data/in.txt"
  param k   : int = 1
  node load = shell(command = "head -n {k} {f} > {out}", f = src, k = k)
  node ref  = shell(command = "cat {d}/genome.fa > {out}", d = dir("data/ref"))
  for s in glob("data/reads/{s}.txt") {
    node count[s] = shell(command = "wc -l < {f} > {out}", f = file("data/reads/${s}.txt"))
  }
  node all = shell(command = "cat {xs} {r} {l} > {out}", xs = count[*].out, r = ref.out, l = load.out)
  publish all.out = "results/all.txt"
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "5 ran" || finish
cp results/all.txt all.v1
mkdir v1 && cp -rp data p.pipe v1/

# snapshot 2: every kind of input changed
printf 'x\ny\nz\n' > data/in.txt
printf 'r2\nmore\n' > data/reads/s2.txt
printf 'r3\n' > data/reads/s3.txt
printf 'TTTT\n' > data/ref/genome.fa
sed -i 's/int = 1/int = 2/' p.pipe
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "run 2:" || finish
cp results/all.txt all.v2
cmp -s all.v1 all.v2 && fail "the edits changed nothing"
mkdir v2 && cp -rp data p.pipe v2/

# --- run --snapshot 1 ------------------------------------------------------
expect_exit 0 "$PIPEC" run p.pipe --snapshot 1 &&
  expect_in "0 ran, 5 cached" && expect_in "running snapshot 1 in $T/proj/.pipec/checkout/1" &&
  expect_in "published .pipec/checkout/1/results/all.txt" &&
  pass "run --snapshot 1: every node cached, published in the checkout" || fail "run --snapshot 1: $OUT"
cmp -s .pipec/checkout/1/results/all.txt all.v1 && pass "the checkout's result is snapshot 1's" ||
  fail "checkout result: $(cat .pipec/checkout/1/results/all.txt)"
cmp -s results/all.txt all.v2 && diff -r data v2/data >/dev/null && cmp -s p.pipe v2/p.pipe &&
  pass "the working files and results are untouched" || fail "working files changed"
diff -r .pipec/checkout/1/data v1/data >/dev/null && cmp -s .pipec/checkout/1/p.pipe v1/p.pipe &&
  pass "the checkout holds snapshot 1's .pipe and data files" || fail "checkout differs: $(diff -r .pipec/checkout/1/data v1/data)"

expect_exit 0 "$PIPEC" snapshots && grep -q -- "--snapshot 1\$" <<<"$(sed -n 2p <<<"$OUT")" &&
  pass "the snapshots list names the snapshot a run replayed" || fail "snapshots: $OUT"

# it really runs: a node forced to run again reads snapshot 1's data
expect_exit 0 "$PIPEC" run p.pipe --snapshot 1 --node load --force -q && expect_in "1 ran" &&
  "$PIPEC" cat load.out > load.out 2>/dev/null && [ "$(cat load.out)" = "a" ] &&
  pass "a forced node of the snapshot reads its data (head -n 1 of the old file)" || fail "forced: $OUT / $(cat load.out)"

# the checkout is rebuilt from the store: a tampered checkout file is replaced
printf 'tampered\n' > .pipec/checkout/1/data/in.txt
expect_exit 0 "$PIPEC" run p.pipe --snapshot 1 -q && expect_in "0 ran" &&
  cmp -s .pipec/checkout/1/data/in.txt v1/data/in.txt &&
  pass "an edited checkout file is restored before the run" || fail "tampered checkout: $OUT"

# refusals
expect_exit 2 "$PIPEC" run p.pipe --snapshot 1 -p k=3 && expect_in "give no -p" &&
  pass "--snapshot with -p: refused" || fail "-p: $OUT"
cp p.pipe other.pipe && sed -i 's/pipeline sr/pipeline other/' other.pipe
expect_exit 2 "$PIPEC" run other.pipe --snapshot 1 && expect_in "snapshot 1 is of p.pipe, not other.pipe" &&
  pass "--snapshot of another pipeline's file: refused" || fail "other file: $OUT"
expect_exit 2 "$PIPEC" run p.pipe --snapshot 99 && expect_in "99" &&
  pass "an unknown snapshot: refused" || fail "unknown: $OUT"
expect_exit 2 "$PIPEC" run p.pipe --snapshot x && pass "--snapshot x: a usage error" || fail "--snapshot x: $OUT"

# --- rollback --data -------------------------------------------------------
# without --data only the .pipe/code files come back
expect_exit 0 "$PIPEC" rollback 1 --dry-run && expect_in "restore   p.pipe" &&
  ! grep -q data/ <<<"$OUT" && pass "rollback without --data leaves data files out" || fail "no --data: $OUT"
expect_exit 0 "$PIPEC" rollback 1 --data --dry-run &&
  [ "$OUT" = "restore   p.pipe
restore   data/in.txt
unchanged data/reads/s1.txt
restore   data/reads/s2.txt
restore   data/ref/genome.fa
4 files would change (dry run: nothing was written)" ] &&
  pass "rollback --data --dry-run lists the data files" || fail "dry run --data: $OUT"
diff -r data v2/data >/dev/null && pass "the dry run wrote nothing" || fail "dry run wrote"

expect_exit 0 "$PIPEC" rollback 1 --data && expect_in "restored 4 files of snapshot 1" && ROLLED=$OUT &&
  pass "rollback 1 --data" || fail "rollback --data: $OUT"
cmp -s p.pipe v1/p.pipe && cmp -s data/in.txt v1/data/in.txt && cmp -s data/ref/genome.fa v1/data/ref/genome.fa &&
  cmp -s data/reads/s2.txt v1/data/reads/s2.txt && pass "the data files are snapshot 1's, byte for byte" || fail "data differs"
[ -e data/reads/s3.txt ] && pass "a file snapshot 1 did not have is left alone" || fail "s3 removed"
rm data/reads/s3.txt
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 5 cached" && cmp -s results/all.txt all.v1 &&
  pass "the run after rollback --data is cached and gives snapshot 1's result" || fail "after: $OUT"

# undo: the files before are a snapshot too, data included
undo=$(sed -n 's/.*the files before are snapshot \([0-9]*\).*/\1/p' <<<"$ROLLED")
expect_exit 0 "$PIPEC" rollback "$undo" --data && cmp -s data/in.txt v2/data/in.txt && cmp -s p.pipe v2/p.pipe &&
  pass "rolling back to the snapshot taken before undoes it" || fail "undo: $OUT"

# a damaged object: refused before anything is written
h=$(sqlite3 .pipec/pipec.db "SELECT hash FROM snapshot_files WHERE snapshot_id = 1 AND path = 'data/in.txt'")
obj=.pipec/objects/${h:0:2}/${h:2}
[ -f "$obj" ] || fail "no object $obj for data/in.txt"
chmod u+w "$obj" && printf 'evil\n' > "$obj"
expect_exit 1 "$PIPEC" rollback 1 --data && expect_in "data/in.txt" &&
  cmp -s data/in.txt v2/data/in.txt && cmp -s p.pipe v2/p.pipe &&
  pass "a damaged snapshot object: refused, nothing written" || fail "damaged: $OUT"
rm -rf .pipec/checkout
expect_exit 1 "$PIPEC" run p.pipe --snapshot 1 && expect_in "data/in.txt" && [ ! -e .pipec/checkout/1/data/in.txt ] &&
  pass "run --snapshot of a damaged object: refused, not checked out" || fail "damaged run: $OUT"
finish
