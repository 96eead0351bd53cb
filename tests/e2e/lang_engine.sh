#!/usr/bin/env bash
# The engine half of language v2 on small pipelines: source files and
# directories as inputs, dir outputs read by other nodes, named output
# files, list inputs (in order, empty ones), publish (files and trees,
# never through a link, restored without a node running), equal keys run
# once, gc keeping the files a live tree names, an input tree edited in
# place is caught.
. "$(dirname "$0")/lib.bash"
mkdir proj && cd proj && git init -q .
mkdir -p data/ref data/samples
printf 'ACGT\n' > data/ref/genome.fa
printf 'x\n' > data/ref/extra.txt
for s in b a c; do echo "sample $s" > "data/samples/$s.txt"; done

cat > p.pipe <<'PIPE'
pipeline eng {
  component index(ref: dir) -> (idx: dir) {
    command = "cp -r {ref}/. {idx}/ && mkdir {idx}/sub && ls {ref} > {idx}/sub/listing"
  }
  component tag(idx: dir, s: file) -> (out: file "tagged.txt") {
    param name : string
    command = "cat {s} {idx}/sub/listing > {out} && echo {name} >> {out} && basename {out} >> {out}"
  }
  component join(parts: [file]) -> (all: file) {
    command = "for f in {parts}; do cat \"$f\"; done > {all}; echo {parts} | wc -w >> {all}"
  }
  node idx = index(ref = dir("data/ref"))
  for s in glob("data/samples/{s}.txt") {
    node t[s] = tag(idx = idx.idx, s = file("data/samples/${s}.txt"), name = s)
  }
  node all = join(parts = t[*].out)
  node twin1 = shell(command = "date +%s%N > {out}; sleep 0.2")
  node twin2 = shell(command = "date +%s%N > {out}; sleep 0.2")
  publish all.all = "results/all.txt"
  publish idx.idx = "results/index"
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe -q -j2 && expect_in "6 ran, 1 cached" &&
  pass "runs; of two nodes with equal keys one runs, the other takes its outputs" || fail "first run: $OUT"
expect_stdout 0 "$PIPEC" cat twin1 && a=$OUT && expect_stdout 0 "$PIPEC" cat twin2 && [ "$a" = "$OUT" ] &&
  pass "the twins have the same bytes" || fail "twins: $a / $OUT"
expect_stdout 0 "$PIPEC" cat 't[a]' &&
  [ "$OUT" = "$(printf 'sample a\nextra.txt\ngenome.fa\na\ntagged.txt')" ] &&
  pass "a source dir and a dir output reach the command; a named output ends in its name" || fail "t[a]: $OUT"
expect_stdout 0 "$PIPEC" cat all && [ "$(head -n 1 <<<"$OUT")" = "sample a" ] &&
  [ "$(sed -n 6p <<<"$OUT")" = "sample b" ] && [ "$(sed -n 11p <<<"$OUT")" = "sample c" ] && [ "$(sed -n 16p <<<"$OUT")" = 3 ] &&
  pass "a list input gets its items in SOURCE order (glob: sorted)" || fail "all: $OUT"
[ -f results/all.txt ] && [ -f results/index/genome.fa ] && [ -f results/index/sub/listing ] &&
  [ "$(stat -c %a results/index/genome.fa)" = 644 ] && [ "$(stat -c %a results/index/sub)" = 755 ] &&
  [ "$(stat -c %h results/index/genome.fa)" = 1 ] &&
  pass "a published tree is a copy the user owns (not links into the store)" || fail "published tree: $(ls -lR results)"

# a published file or tree changed by hand comes back, no node runs
echo mine > results/index/sub/listing && rm results/all.txt
expect_exit 0 "$PIPEC" run p.pipe && expect_in "0 ran, 7 cached" && expect_in "published results/index" &&
  expect_in "published results/all.txt" && [ "$(cat results/index/sub/listing)" = "$(printf 'extra.txt\ngenome.fa')" ] &&
  pass "edited and deleted published outputs are restored without running" || fail "restore: $OUT"

# a link at a published path is replaced, never written through
echo "not yours" > ../victim.txt && rm results/all.txt && ln -s ../../victim.txt results/all.txt
expect_exit 0 "$PIPEC" run p.pipe -q && [ "$(cat ../victim.txt)" = "not yours" ] && [ ! -L results/all.txt ] &&
  [ -f results/all.txt ] && pass "a symlink at the destination is replaced, its target untouched" || fail "symlink publish: $(ls -l results)"

# a source edited: exactly what reads it runs again
echo y >> data/ref/extra.txt
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "4 ran, 3 cached" &&
  pass "editing a file of a source dir re-runs the index and its readers; their bytes are the same, so the gather stays cached" || fail "source edit: $OUT"
expect_exit 0 "$PIPEC" why p.pipe idx && expect_in "is cached" && pass "why: cached after" || fail "why: $OUT"

# an empty list: no words
sed 's|glob("data/samples/{s}.txt")|glob("data/none/{s}.txt")|' p.pipe > empty.pipe
expect_exit 0 "$PIPEC" run empty.pipe -q && expect_stdout 0 "$PIPEC" cat all && [ "$OUT" = 0 ] &&
  pass "an empty family gathers to an empty list: {parts} expands to no word" || fail "empty list: $OUT"

# gc keeps what a live tree names: the next consumer still finds its files
expect_exit 0 "$PIPEC" cache gc --keep 0 && expect_exit 0 "$PIPEC" run p.pipe -q --force --node 't[b]' &&
  expect_stdout 0 "$PIPEC" cat 't[b]' && expect_in "genome.fa" &&
  pass "gc keeps the files of a live tree" || fail "gc and trees: $OUT"
expect_exit 0 "$PIPEC" cache verify && pass "verify: intact after gc" || fail "verify: $OUT"

# a node that edits a file of its input tree in place fails, and nothing
# wrong is kept
cat > bad.pipe <<'PIPE'
pipeline bad {
  component index(ref: dir) -> (idx: dir) { command = "cp -r {ref}/. {idx}/" }
  node idx = index(ref = dir("data/ref"))
  node evil = shell(command = "chmod u+w {i}/genome.fa 2>/dev/null; echo EVIL >> {i}/genome.fa; cat {i}/genome.fa > {out}", i = idx.idx)
  node good = shell(command = "cat {i}/genome.fa > {out}", i = idx.idx)
  node after = shell(command = "cat {x} > {out}", x = good.out)
}
PIPE
expect_exit 1 "$PIPEC" run bad.pipe -q -j1 -k && expect_in "changed its input 'i'" &&
  pass "editing an input tree's file in place fails the node, naming the input" || fail "in-place tree edit: $OUT"
expect_exit 0 "$PIPEC" cache verify && pass "the store is intact afterwards" || fail "verify after the edit: $OUT"
if "$PIPEC" cat good >/dev/null 2>&1; then
  expect_stdout 0 "$PIPEC" cat good && ! grep -q EVIL <<<"$OUT" && pass "no node kept the edited bytes" || fail "good read EVIL: $OUT"
else
  pass "no node kept the edited bytes (good did not succeed)"
fi
finish
