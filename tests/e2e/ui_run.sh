#!/usr/bin/env bash
# pipec ui in headless Chromium: actions. "Run pipeline" (confirmed, with
# --force) starts `pipec run` and the page goes to the run, which finishes
# and shows every node; "Re-run" on a node's panel runs exactly that node;
# the runs are the CLI's own (pipec runs / show see them).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

cp -r "$SRC/examples/calling" calling && cd calling
expect_exit 0 "$PIPEC" run calling.pipe -q && pass "calling runs" || fail "run: $OUT"
start_ui

browser run 1 && [ "$(json 'j["run"]')" = 2 ] &&
  [ "$(json 'j["status"]')" = succeeded ] && [ "$(json 'j["rows"]')" = 7 ] &&
  pass "Run pipeline from the page: run 2 starts, the page follows it to succeeded, 7 nodes listed" ||
  fail "run from the page: $OUT"
expect_exit 0 "$PIPEC" show 2 --json &&
  [ "$(grep -c '"status": "succeeded"' <<<"$OUT")" = 8 ] &&
  pass "pipec show 2: the page's run is the CLI's, 7 nodes ran (--force)" ||
  fail "show 2: $OUT"
expect_exit 0 "$PIPEC" snapshots --json && expect_in '"force":true' &&
  pass "its snapshot records --force" || fail "snapshots: $OUT"

# an action needs the CSRF token: curl with the token but without it
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/actions/run?pipeline=1")
[ "$code" = 403 ] && pass "POST without the CSRF token: 403" || fail "POST without CSRF: $code"
csrf=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/" | grep -o 'pipec-csrf" content="[0-9a-f]*' | grep -o '[0-9a-f]*$')
# --node on a family member, through the API as the page sends it
OUT=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H "X-Pipec-CSRF: $csrf" \
  "$BASE/api/actions/run?pipeline=1&node=aligned%5BS3%5D&force=1")
act=$(json 'j["action"]')
for i in $(seq 1 1200); do
  get "/api/action?id=$act"
  [ "$(json 'j["done"]')" = True ] && break
  sleep 0.1
done
[ "$(json 'j["exit_code"]')" = 0 ] && [ "$(json 'j["run"]')" = 3 ] &&
  pass "re-run aligned[S3] (--node, --force): run 3, exit 0" || fail "re-run: $OUT"
expect_exit 0 "$PIPEC" show 3 --json &&
  [ "$(grep -c '"name"' <<<"$OUT")" = 1 ] && expect_in '"aligned[S3]"' &&
  pass "run 3 ran exactly aligned[S3]" || fail "show 3: $OUT"

# a run that cannot start says why
OUT=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H "X-Pipec-CSRF: $csrf" \
  "$BASE/api/actions/run?pipeline=1&node=nosuch")
act=$(json 'j["action"]')
for i in $(seq 1 600); do
  get "/api/action?id=$act"; [ "$(json 'j["done"]')" = True ] && break; sleep 0.1
done
[ "$(json 'j["exit_code"]')" = 2 ] && expect_in "no node 'nosuch' in pipeline 'calling'" &&
  pass "--node nosuch: exit 2 and the CLI's message" ||
  fail "bad node: $OUT"
ls "$ART"/run-finished.png >/dev/null && pass "screenshots in $ART" || fail "no screenshots"
finish
