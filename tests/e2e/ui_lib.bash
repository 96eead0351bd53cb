# ui_lib.bash — for the tests of `pipec ui` (tests/e2e/ui_*.sh), after
# lib.bash: start the server on a free port and stop it, ask it with curl,
# drive headless Chromium (ui_browser.py). Screenshots go under the build
# directory: $ART (build/ui-artifacts/TEST/).

UI_NAME=$(basename "$0" .sh)
ART=$(dirname "$PIPEC_BIN")/ui-artifacts/$UI_NAME
rm -rf "$ART"; mkdir -p "$ART"
UI_PID=

# start_ui [ARGS...]: `pipec ui --port 0 ARGS` in the current directory;
# sets URL (with the token), BASE (without), TOKEN.
start_ui() {
  local log=$T/.ui.$$.$RANDOM
  "$PIPEC" ui --port 0 "$@" >"$log" 2>&1 &
  UI_PID=$!
  local i
  for i in $(seq 1 600); do
    URL=$(grep -o 'http://[^ ]*token=[0-9a-f]*' "$log" 2>/dev/null | head -1)
    [ -n "$URL" ] && break
    kill -0 "$UI_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$URL" ]; then
    echo "FAIL: pipec ui did not start:" >&2; cat "$log" >&2; exit 1
  fi
  BASE=${URL%%/?token=*}
  TOKEN=${URL##*token=}
  UI_LOG=$log
}

# stop_ui: SIGTERM, as Ctrl-C would; the server must stop cleanly (exit
# 0: under the sanitizers a leak or error would show here).
stop_ui() {
  [ -n "$UI_PID" ] || return 0
  kill -TERM "$UI_PID" 2>/dev/null
  wait "$UI_PID" 2>/dev/null
  local rc=$?
  UI_PID=
  if [ $rc != 0 ] || ! grep -q "pipec ui: stopped" "$UI_LOG"; then
    fail "pipec ui exited $rc when stopped:"; cat "$UI_LOG" >&2
    return 1
  fi
}
# a test ends with finish: stop the server first, so its exit counts
eval "$(declare -f finish | sed '1s/finish/ui_finish_checks/')"
finish() { stop_ui; ui_finish_checks; }
trap 'stop_ui >/dev/null 2>&1; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# get PATH: curl with the token; body in $OUT, status in $CODE.
get() {
  OUT=$(curl -s -H "Authorization: Bearer $TOKEN" -w '\n%{http_code}' "$BASE$1")
  CODE=${OUT##*$'\n'}; OUT=${OUT%$'\n'*}
}

# browser SCENARIO ARGS...: ui_browser.py against the server; its JSON in
# $OUT.
browser() {
  OUT=$(/usr/bin/python3 "$SRC/tests/e2e/ui_browser.py" "$1" "$URL" "$ART" "${@:2}")
}

# json EXPR: evaluate a Python expression on $OUT parsed as `j`.
json() {
  /usr/bin/python3 -c 'import json,sys; j=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$1" <<<"$OUT"
}
