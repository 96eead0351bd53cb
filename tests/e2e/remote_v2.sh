#!/usr/bin/env bash
# Language v2 on every target kind: a source directory, a dir output, a
# named output file and a list input, each node on local, a shared ssh
# host, a staged ssh host (inputs and outputs travel by tar) and Slurm.
# The results equal a local run's. Needs the `services` fixture.
. "$(dirname "$0")/lib.bash"
use_services

mkdir proj && cd proj && mkdir .pipec
mkdir -p data/ref data/s
printf 'ACGT\n' > data/ref/genome.fa
printf 'x\n' > data/ref/extra.txt
for s in a b c; do echo "sample $s" > "data/s/$s.txt"; done
REMOTE=$T/remote-workdir

gen() { # gen TARGET: the pipeline with every step on TARGET
  cat <<PIPE
pipeline v2remote {
  target box    = ssh { host = "pipec-test", shared_fs = true }
  target staged = ssh { host = "pipec-test", workdir = "$REMOTE" }
  target hpc    = slurm { time = "5m" }
  component index(ref: dir) -> (idx: dir) {
    command = "cp -r {ref}/. {idx}/ && mkdir {idx}/sub && ls {ref} > {idx}/sub/listing"
  }
  component tag(idx: dir, s: file) -> (out: file "tagged.txt") {
    param name : string
    command = "cat {s} {idx}/sub/listing > {out} && echo {name} >> {out} && basename {out} >> {out}"
  }
  component join(parts: [file]) -> (all: file) {
    command = "cat {parts} > {all}"
  }
  node idx = index(ref = dir("data/ref")) $1
  for s in glob("data/s/{s}.txt") {
    node t[s] = tag(idx = idx.idx, s = file("data/s/\${s}.txt"), name = s) $1
  }
  node all = join(parts = t[*].out) $1
}
PIPE
}

gen "" > local.pipe
expect_exit 0 "$PIPEC" run local.pipe -q || fail "the local run: $OUT"
expect_stdout 0 "$PIPEC" cat all && want=$OUT
[ "$(head -n 1 <<<"$want")" = "sample a" ] && [ "$(grep -c tagged.txt <<<"$want")" = 3 ] ||
  fail "the local result: $want"

for t in box staged hpc; do
  gen "on $t" | sed "s/pipeline v2remote/pipeline v2_$t/" > "$t.pipe"
  # another command in the shell of every step, so nothing is cached
  sed -i "s/> {all}\"/> {all}; true $t\"/; s/> {out}\"/> {out}; true $t\"/; s|{idx}/sub/listing\"|{idx}/sub/listing; true $t\"|" "$t.pipe"
  expect_exit 0 "$PIPEC" run "$t.pipe" -q && expect_in "5 ran, 0 cached" || { fail "run on $t: $OUT"; continue; }
  expect_stdout 0 "$PIPEC" cat all && [ "$OUT" = "$want" ] &&
    pass "on $t: a source dir, a dir output, named outputs and a list input give the local result" ||
    fail "on $t: $OUT"
done
finish
