#!/usr/bin/env bash
# pipec run on real pipelines: outputs, the cache, partial runs, dry runs,
# failures and what they leave behind.
# with fsync on: the synced paths are the ones users run
PIPEC_FSYNC=1
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
cat > p.pipe <<'PIPE'
pipeline demo {
  param n    : int = 5
  param word : string = "hello"

  component numbers() -> (out: file) {
    param count : int
    command = "seq {count} > {out}"
  }
  component total(nums: file) -> (sum: file) {
    command = "awk '{ s += $1 } END { print s }' {nums} > {sum}"
  }
  node nums  = numbers(count = n)
  node sum   = total(nums = nums.out)
  node greet = shell(command = "echo ${word} > {out}")
  node both  = shell(command = "cat {a} {b} > {out}", a = sum.sum, b = greet.out)
}
PIPE

expect_exit 0 "$PIPEC" run p.pipe && expect_in "4 ran" && pass "first run" || fail "first run"
expect_exit 0 "$PIPEC" run p.pipe && expect_in "4 cached" && pass "second run is fully cached" || fail "second run is fully cached"

# the output is in the object store, reachable from `pipec show`
expect_exit 0 "$PIPEC" cat both.out && expect_in "15" && expect_in "hello" && pass "show an output" || fail "show an output"

# changing a param re-runs what depends on it, and only that
expect_exit 0 "$PIPEC" run p.pipe -p n=10 --json
ran=$(grep -c '"status":"succeeded"' <<<"$OUT")
[ "$ran" = 3 ] && pass "param change re-runs 3 nodes" || fail "param change ran $ran nodes, expected 3"
grep -q '"node":"greet".*"status":"cached"' <<<"$OUT" && pass "greet stays cached" || fail "greet not cached: $OUT"

# dry run says why and runs nothing
expect_exit 0 "$PIPEC" run p.pipe -p n=7 --dry-run && expect_in "would run  nums" && expect_in "param 'count'" && pass "dry run explains" || fail "dry run explains"
expect_exit 0 "$PIPEC" run p.pipe -p n=7 --dry-run && expect_in "would run  nums" && pass "dry run ran nothing" || fail "dry run ran nothing"

# --node re-runs one node from stored inputs; --force ignores the cache
expect_exit 0 "$PIPEC" run p.pipe --node sum --force && expect_in "1 ran" && pass "--node --force" || fail "--node --force"
expect_exit 2 "$PIPEC" run p.pipe --node sun && expect_in "did you mean 'sum'" && pass "--node typo" || fail "--node typo"
expect_exit 0 "$PIPEC" run p.pipe --to sum && expect_in "2 cached" && pass "--to" || fail "--to"

# a failing node: exit 1, its log tail shown, downstream skipped, others run
cat > bad.pipe <<'PIPE'
pipeline bad {
  node ok1  = shell(command = "echo fine > {out}")
  node boom = shell(command = "echo about to fail >&2; exit 3")
  node after = shell(command = "cat {x} > {out}", x = boom.out)
}
PIPE
expect_exit 1 "$PIPEC" run bad.pipe -k && expect_in "exit code 3" && expect_in "about to fail" && expect_in "skipped" && pass "failure: exit 1, log tail, skipped" || fail "failure: exit 1, log tail, skipped"

# a command that exits 0 without writing its output fails clearly
cat > noout.pipe <<'PIPE'
pipeline noout {
  component lazy() -> (result: file) { command = "true" }
  node l = lazy()
}
PIPE
expect_exit 1 "$PIPEC" run noout.pipe && expect_in "did not write output 'result'" && pass "missing output is an error" || fail "missing output is an error"
cat > dirout.pipe <<'PIPE'
pipeline dirout {
  node d = shell(command = "mkdir {out} && echo x > {out}/f")
  node f = shell(command = "mkfifo {out}")
}
PIPE
expect_exit 1 "$PIPEC" run --keep-going dirout.pipe &&
  expect_in "output 'out' is a directory, but a port holds one file: declare it \`out: dir\`, or write an archive of it (tar -cf {out} -C DIR .)" &&
  expect_in "output 'out' is not a regular file" && pass "a directory or a FIFO as output is a clear error" ||
  fail "a directory or a FIFO as output is a clear error"

# compile errors exit 2 and run nothing
printf 'pipeline x {\n  node a = shel(command = "true")\n}\n' > err.pipe
expect_exit 2 "$PIPEC" run err.pipe && expect_in "did you mean 'shell'" && pass "compile error exits 2" || fail "compile error exits 2"
finish
