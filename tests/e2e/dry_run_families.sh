#!/usr/bin/env bash
# --dry-run of a family: more than 10 members are one line of counts (as
# `pipec show` lists them), 10 or fewer one line each; --dry-run --json is
# JSON lines with every member.
. "$(dirname "$0")/lib.bash"

mkdir -p data
for i in $(seq -w 1 12); do echo "sample $i" > "data/s$i.txt"; done
cat > p.pipe <<'PIPE'
pipeline fam {
  for s in glob("data/{s}.txt") {
    node count[s] = shell(command = "wc -c < {f} > {out}", f = file("data/${s}.txt"))
  }
  for k in range(3) {
    node small[k] = shell(command = "echo ${k} > {out}")
  }
  node all = shell(command = "cat {xs} {ys} > {out}", xs = count[*].out, ys = small[*].out)
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe --dry-run &&
  expect_in "would run  count[*]         (12 members: 12 would run, 0 cached)" &&
  expect_in "would run  small[0]         (never ran)" &&
  expect_in "16 would run, 0 cached (dry run: nothing was run)" &&
  [ "$(grep -c '^would run  count\[' <<<"$OUT")" = 1 ] &&
  pass "a family of 12: one line; a family of 3: a line each" || fail "first dry run: $OUT"

expect_exit 0 "$PIPEC" run p.pipe -q || finish
echo "sample 07 edited" > data/s07.txt
expect_exit 0 "$PIPEC" run p.pipe --dry-run &&
  expect_in "would run  count[*]         (12 members: 1 would run, 11 cached)" &&
  expect_in "cached     small[2]" && expect_in "would run  all" &&
  pass "one member edited: the family's line counts it" || fail "edited: $OUT"

expect_exit 0 "$PIPEC" run p.pipe --dry-run --json &&
  python3 - "$OUT" <<'PY' && pass "--dry-run --json: JSON lines, every member, a finished event" || fail "json: $OUT"
import json, sys
ev = [json.loads(l) for l in sys.argv[1].splitlines()]
plan = [e for e in ev if e["event"] == "plan"]
assert len(plan) == 16, len(plan)
assert sum(e["node"].startswith("count[") for e in plan) == 12
assert [e["status"] for e in plan if e["node"] == "count[s07]"] == ["would run"]
end = ev[-1]
assert end == {"event": "finished", "dry_run": True, "would_run": 2, "cached": 14, "would_fail": 0}, end
PY
finish
