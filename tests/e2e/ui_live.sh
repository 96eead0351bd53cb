#!/usr/bin/env bash
# pipec ui in headless Chromium: the live view. A run started in another
# terminal turns its node's box "running" on the open pipeline page, then
# "succeeded", without reloading the page. The node waits for a file the
# test writes once the browser saw it running: no timing is assumed.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

cat > live.pipe <<'PIPE'
pipeline live {
  node first = shell(command = "echo one > {out}")
  node wait  = shell(command = "while [ ! -e go ]; do sleep 0.05; done; cat {x} > {out}", x = first.out) { cache = false }
}
PIPE
expect_exit 0 "$PIPEC" run live.pipe -q --node first && pass "a first run records the pipeline" ||
  fail "first run: $OUT"
start_ui
(
  # once the page is open, start a run in "another terminal"; once the
  # browser has seen `wait` running, let it finish
  for i in $(seq 1 1200); do [ -e "$ART/live-ready" ] && break; sleep 0.1; done
  "$PIPEC" run live.pipe -q > run.out 2>&1
) &
runner=$!
(
  for i in $(seq 1 2400); do [ -e "$ART/live-running.png" ] && break; sleep 0.1; done
  touch go
) &
browser live 1 wait && expect_in "st-running" && expect_in '"final": "n st-succeeded' &&
  pass "the wait box turned running, then succeeded, with no reload" ||
  fail "live view: $OUT"
wait $runner
grep -q "1 ran, 1 cached" run.out && pass "the run in the other terminal finished" ||
  fail "run: $(cat run.out)"
finish
