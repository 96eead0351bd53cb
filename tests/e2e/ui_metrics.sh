#!/usr/bin/env bash
# pipec ui in headless Chromium: metrics. examples/sweep's score[seed, l2]
# family writes ml.metrics json: the metrics page has its table with 9 rows
# (3 seeds x 3 l2s), the numeric keys as columns (the string "kind" is
# left out), sortable, with a bar per member; /api/metrics says the same.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

cp -r "$SRC/examples/sweep" sweep && cd sweep
expect_exit 0 "$PIPEC" run sweep.pipe -q && expect_in "26 ran" && pass "sweep runs" ||
  fail "sweep: $OUT"
start_ui
browser metrics 1 "score[*]" && [ "$(json 'j["rows"]')" = 9 ] &&
  [ "$(json 'j["bars"]')" = 9 ] && [ "$(json '"accuracy" in j["columns"] and "kind" not in j["columns"]')" = True ] &&
  pass "score[*]: 9 rows, 9 bars, accuracy a column, kind (a string) not; sorted on click" ||
  fail "metrics page: $OUT"
get "/api/metrics?pipeline=1"
[ "$CODE" = 200 ] && [ "$(json '[len(t["rows"]) for t in j if t["title"]=="score[*].out"][0]')" = 9 ] &&
  [ "$(json '[t["across"] for t in j if t["title"]=="score[*].out"][0]')" = members ] &&
  pass "/api/metrics: score[*].out across its 9 members" || fail "api metrics: $CODE $OUT"
want=$("$PIPEC" cat 'score[2,0.1]' 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
[ "$(json '[r["values"][t["columns"].index("accuracy")] for t in j if t["title"]=="score[*].out" for r in t["rows"] if r["label"]=="2,0.1"][0]')" = "$want" ] &&
  pass "the accuracy of score[2,0.1] is the one pipec cat shows ($want)" || fail "value: want $want, $OUT"
ls "$ART"/metrics.png >/dev/null && pass "screenshot in $ART" || fail "no screenshot"
finish
