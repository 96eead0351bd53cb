#!/usr/bin/env bash
# pipec ui in headless Chromium: snapshots, diff and rollback. Two runs
# with different files; the diff page shows what `pipec diff` says; "Roll
# back" on the first snapshot (confirmed) restores its files byte for
# byte, and records the files it replaced, so the rollback can be undone.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

mkdir scripts
cat > p.pipe <<'PIPE'
pipeline p {
  param n : int = 1
  component gen() -> (out: file) {
    command = "sh scripts/gen.sh {n} > {out}"
    param n : int
    code = ["scripts/gen.sh"]
  }
  node a = gen(n = n)
}
PIPE
echo 'echo "v1 $1"' > scripts/gen.sh
cp p.pipe p.v1; cp scripts/gen.sh gen.v1
expect_exit 0 "$PIPEC" run p.pipe -q && pass "run 1" || fail "run 1: $OUT"
sed -i 's/= 1/= 2/' p.pipe; echo 'echo "v2 $1"' > scripts/gen.sh
expect_exit 0 "$PIPEC" run p.pipe -q && pass "run 2 (edited)" || fail "run 2: $OUT"
start_ui

browser diff 1 2 && expect_in "param    n: 1 -> 2" && expect_in "scripts/gen.sh" &&
  pass "the diff page shows pipec diff 1 2 (param n, the code file)" || fail "diff: $OUT"
cli=$("$PIPEC" diff 1 2)
get "/api/diff?a=1&b=2"
[ "$(json 'j["text"]')" = "$cli" ] && pass "/api/diff's text is pipec diff's, byte for byte" ||
  fail "api diff: $OUT"

# drafts: the two revisions of p.pipe, what the second changed
get "/api/drafts"
[ "$(/usr/bin/python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(a == b)' "$OUT" "$("$PIPEC" drafts --json)")" = True ] &&
  pass "/api/drafts is pipec drafts --json" || fail "api drafts: $OUT"
get "/draft?id=2"
[ "$CODE" = 200 ] && grep -q -- "-  param n : int = 1" <<<"$OUT" && grep -q -- "+  param n : int = 2" <<<"$OUT" &&
  pass "the draft page shows what draft 2 changed (the unified diff)" || fail "draft page: $CODE $OUT"
get "/drafts"
[ "$(grep -o '<tr data-draft=' <<<"$OUT" | wc -l)" = 2 ] && pass "the drafts page lists 2 drafts" || fail "drafts page: $OUT"

browser rollback 1 && [ "$(json 'j["exit"]')" = 0 ] && expect_in "restored" &&
  pass "Roll back to snapshot 1 from the page: exit 0, 'restored'" || fail "rollback: $OUT"
cmp -s p.pipe p.v1 && cmp -s scripts/gen.sh gen.v1 &&
  pass "p.pipe and scripts/gen.sh are snapshot 1's again" || fail "files not restored: $(cat p.pipe scripts/gen.sh)"
expect_exit 0 "$PIPEC" snapshots --json && expect_in '"mode":"before-rollback"' &&
  pass "the files it replaced are a before-rollback snapshot" || fail "snapshots: $OUT"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 1 cached" &&
  pass "a run after the rollback hits the cache" || fail "run after rollback: $OUT"
ls "$ART"/snapshots.png "$ART"/diff.png >/dev/null && pass "screenshots in $ART" || fail "no screenshots"
finish
