#!/usr/bin/env bash
# Rollback of a multi-file pipeline (imports, a nested directory): every
# file comes back byte for byte, the next run is fully cached, and rolling
# back the rollback returns to the edited state.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/lib/more && cd proj
cat > main.pipe <<'PIPE'
import "lib/steps.pipe"
pipeline multi {
  param n : int = 3
  node gen = numbers(count = n)
  node up  = double(x = gen.out)
}
PIPE
cat > lib/steps.pipe <<'PIPE'
import "more/gen.pipe"
component double(x: file) -> (y: file) {
  command = "awk '{ print $1 * 2 }' {x} > {y}"
}
PIPE
cat > lib/more/gen.pipe <<'PIPE'
component numbers() -> (out: file) {
  param count : int
  command = "seq {count} > {out}"
}
PIPE
expect_exit 0 "$PIPEC" run main.pipe -q || finish
snap1=$("$PIPEC" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["snapshot"])')
tar cf orig.tar main.pipe lib/steps.pipe lib/more/gen.pipe

# edit all three files, run
sed -i 's/int = 3/int = 5/' main.pipe
sed -i 's/\$1 \* 2/$1 * 3/' lib/steps.pipe
printf '# a comment\n' >> lib/more/gen.pipe
expect_exit 0 "$PIPEC" run main.pipe -q && expect_in "2 ran" || finish
tar cf edited.tar main.pipe lib/steps.pipe lib/more/gen.pipe

expect_exit 0 "$PIPEC" rollback "$snap1" --dry-run && expect_in "3 files would change" && pass "dry run lists 3 files" || fail "dry run lists 3 files"
expect_exit 0 "$PIPEC" rollback "$snap1" && expect_in "restored 3 files" || finish
mkdir o && tar xf orig.tar -C o
for f in main.pipe lib/steps.pipe lib/more/gen.pipe; do
  cmp -s "$f" "o/$f" || fail "$f is not restored byte for byte"
done
pass "every file restored byte for byte"
expect_exit 0 "$PIPEC" run main.pipe -q && expect_in "0 ran, 2 cached" && pass "the run after a rollback is fully cached" || fail "the run after a rollback is fully cached"

saved=$("$PIPEC" snapshots --json | python3 -c 'import json,sys; print([s["snapshot"] for s in json.load(sys.stdin) if s["mode"]=="before-rollback"][0])')
expect_exit 0 "$PIPEC" rollback "$saved" || finish
mkdir e && tar xf edited.tar -C e
for f in main.pipe lib/steps.pipe lib/more/gen.pipe; do
  cmp -s "$f" "e/$f" || fail "$f is not back to the edited state"
done
pass "rolling back the rollback returns to the edited state"
expect_exit 0 "$PIPEC" run main.pipe -q && expect_in "0 ran, 2 cached" && pass "and that state is cached too" || fail "and that state is cached too"
expect_exit 0 "$PIPEC" diff "$snap1" "$saved" && expect_in "param    n: 3 -> 5" && expect_in "lib/steps.pipe: changed" && pass "diff across files" || fail "diff across files"
finish
