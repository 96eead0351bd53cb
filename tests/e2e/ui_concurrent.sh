#!/usr/bin/env bash
# pipec ui keeps serving while runs start and finish in other terminals
# and while `pipec cache gc` removes what it shows: every page and API
# answer during 6 runs and 6 gcs is a 200 (a removed output is said to be
# gone, not a failure), and the page shows the last run once they end.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

cat > c.pipe <<'PIPE'
pipeline c {
  param n : int = 0
  node a = shell(command = "sleep 0.3; seq 1 2000 > {out}; echo n={n}", n = n)
  for k in range(1, 9) {
    node b[k] = shell(command = "sed -n '{k}p' {x} > {out}", x = a.out, k = k)
  }
  node c = shell(command = "cat {xs} > {out}", xs = b[*].out)
}
PIPE
expect_exit 0 "$PIPEC" run c.pipe -q && pass "first run" || fail "run: $OUT"
start_ui
(
  for i in 1 2 3 4 5 6; do
    "$PIPEC" run c.pipe -q -p n=$i >/dev/null 2>&1
    "$PIPEC" cache gc --keep 0 >/dev/null 2>&1
  done
  touch "$T/done"
) &
others=$!
bad=0; asked=0
least=${PIPEC_VALGRIND:+60}; least=${least:-300}   # valgrind is slow
while { [ ! -e "$T/done" ] || [ $asked -lt $least ]; } && [ $asked -lt 5000 ]; do
  for p in / "/pipeline?id=1" "/api/status?pipeline=1" /runs "/run?id=1" \
           "/node?pipeline=1&name=a&fragment=1" "/node?pipeline=1&name=b&fragment=1" \
           "/api/runs" "/metrics?pipeline=1" "/snapshots"; do
    c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$p")
    asked=$((asked + 1))
    [ "$c" = 200 ] || { bad=$((bad + 1)); echo "$p: $c" >&2; }
  done
done
wait $others
[ $bad = 0 ] && [ $asked -gt 0 ] && pass "$asked requests during runs and gcs: all 200" ||
  fail "$bad of $asked requests failed"
get "/api/status?pipeline=1"
[ "$(json 'j["run"]')" = 7 ] && [ "$(json 'j["run_status"]')" = succeeded ] &&
  pass "afterwards the page shows run 7, succeeded" || fail "status: $OUT"
kill -0 "$UI_PID" && pass "the server is still up" || fail "the server died"
finish
