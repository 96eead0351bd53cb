#!/usr/bin/env bash
# pipec report: one run of examples/calling as one HTML file that opens in
# headless Chromium with the network off and fetches nothing, showing
# every node (its table), the timeline and the DAG; bad arguments are
# clear errors.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

cp -r "$SRC/examples/calling" calling && cd calling
expect_exit 0 "$PIPEC" run calling.pipe -q && pass "calling runs" || fail "run: $OUT"
expect_exit 0 "$PIPEC" report -o report.html && expect_in "wrote report.html" &&
  pass "pipec report -o report.html (the last run)" || fail "report: $OUT"
! grep -Eqi '(src|href)="?(https?:)?//|@import|url\([^#]' report.html &&
  pass "the report names no other resource (no src/href/url to anything)" ||
  fail "the report refers to something: $(grep -Eoi '(src|href)="?[^"]*' report.html | head)"
OUT=$(/usr/bin/python3 "$SRC/tests/e2e/ui_browser.py" report "$PWD/report.html" "$ART" \
  "aligned[S1],aligned[S2],aligned[S3],aligned[S4],aligned[S5],calls,idx") &&
  [ "$(json 'j["timeline"]')" = 7 ] && [ "$(json 'j["dag_boxes"]')" = 3 ] &&
  pass "offline in Chromium: all 7 nodes, 7 timeline bars, the DAG's 3 boxes, no request" ||
  fail "report in the browser: $OUT"
expect_stdout 0 "$PIPEC" report 1 && grep -q '<h1>Run 1' <<<"$OUT" &&
  pass "pipec report 1 writes to stdout" || fail "report 1: $ERR"
expect_exit 2 "$PIPEC" report 9 -o x.html && expect_in "no run 9 in this workspace" &&
  [ ! -e x.html ] && pass "report 9: no such run, exit 2, no file left" || fail "report 9: $OUT"
expect_exit 2 "$PIPEC" report abc && expect_in "RUN needs a whole number" &&
  pass "report abc: exit 2" || fail "report abc: $OUT"
# the peak memory column: what the last attempt peaked at, of what it asked
mkdir ../mem && cd ../mem
cat > mem.pipe <<'PIPE'
pipeline mem {
  node big = shell(command = "python3 -c 'b = bytearray(40 << 20); print(len(b))' > {out}") {
    resources { memory = "200M" }
  }
}
PIPE
expect_exit 0 "$PIPEC" run mem.pipe -q && expect_exit 0 "$PIPEC" report -o mem.html &&
  row=$(grep -o '<tr data-node="big">.*</tr>' mem.html | head -1) &&
  grep -Eq '<td class="num">[0-9.]+ MiB of 200 MiB</td></tr>' <<<"$row" &&
  pass "the report shows big's peak of its 200 MiB: $(grep -Eo '[0-9.]+ MiB of 200 MiB' <<<"$row")" ||
  fail "peak memory in the report: ${row:-$OUT}"
cd ../calling
ls "$ART"/report.png >/dev/null && pass "screenshot in $ART" || fail "no screenshot"
finish
