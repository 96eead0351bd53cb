#!/usr/bin/env bash
# pipec ui's guards: every request needs the token (403 without, the
# printed URL's token becomes a cookie); the Host must be the server's;
# no request path reaches the file system (../, encoded, double-encoded,
# in the path or in a node or port name: never a byte from outside the
# workspace); an action needs the page's CSRF token and no other origin,
# and a page of another origin in the same browser cannot start a run;
# --read-only has no action at all; names, params and logs that hold HTML
# are shown as text (no script runs).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

echo "SECRET-OUTSIDE-THE-WORKSPACE" > "$T/secret.txt"
mkdir w && cd w
mkdir in
echo one > 'in/<img src=x onerror=window.__pwned=true>.txt'; echo two > in/ok.txt
cat > h.pipe <<'PIPE'
pipeline hostile {
  param tag : string = "<script>window.__pwned=true</script>"
  for s in glob("in/{s}.txt") {
    node m[s] = shell(command = "echo '<b>bold</b> & <script>window.__pwned=true</script>' > {out}; echo '<img src=x onerror=window.__pwned=true>' >&2", x = file("in/${s}.txt"))
  }
  node tagged = shell(command = "echo {t} > {out}", t = tag)
}
PIPE
expect_exit 0 "$PIPEC" run h.pipe -q && pass "a pipeline with hostile keys, params and logs runs" ||
  fail "run: $OUT"
start_ui

# ---- the token ---------------------------------------------------------------------
wrong() { case ${1: -1} in 0) echo "${1%?}1" ;; *) echo "${1%?}0" ;; esac; }
for p in / /api/runs /static/app.js "/run?id=1" "/log?run=1&node=tagged"; do
  c=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$p")
  [ "$c" = 403 ] || fail "$p without the token: $c"
done && pass "no token: 403 for pages, API, assets, logs"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(wrong "$TOKEN")" "$BASE/api/runs")
[ "$c" = 403 ] && pass "a wrong token: 403" || fail "wrong token: $c"
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/api/actions/run?pipeline=1")
[ "$c" = 403 ] && pass "an action without the token: 403" || fail "action, no token: $c"
hdr=$(curl -s -D - -o /dev/null "$BASE/runs?token=$TOKEN")
grep -q "^Set-Cookie: pipec_ui_[0-9]*=$TOKEN; Path=/; HttpOnly; SameSite=Strict" <<<"$hdr" &&
  grep -qi '^Location: /runs' <<<"$hdr" &&
  pass "the printed URL's token: a HttpOnly SameSite=Strict cookie, and a redirect without it" ||
  fail "token redirect: $hdr"
cookie=$(grep -o 'pipec_ui_[0-9]*=[0-9a-f]*' <<<"$hdr")
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$BASE/runs")
[ "$c" = 200 ] && pass "the cookie is enough afterwards" || fail "cookie: $c"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Host: evil.example:${BASE##*:}" "$BASE/")
[ "$c" = 403 ] && pass "another Host (DNS rebinding): 403" || fail "Host: $c"

# ---- paths ---------------------------------------------------------------------------
leak=0
for p in /../../../../../../etc/passwd /static/../../../../etc/passwd \
         /%2e%2e/%2e%2e/%2e%2e/etc/passwd /%252e%252e/%252e%252e/etc/passwd \
         /static/..%2f..%2f..%2f..%2fetc%2fpasswd /static/%2e%2e%252f%2e%2e%252fsecret.txt \
         "/log?run=1&node=../../../../../etc/passwd" \
         "/log?run=1&node=%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt" \
         "/log?run=1&node=..%252f..%252f..%252fsecret.txt&raw=1" \
         "/api/log?run=1&node=../../secret.txt" \
         "/output?run=1&node=tagged&port=../../../secret.txt" \
         "/output?run=1&node=../../secret.txt&port=out" \
         "/node?pipeline=1&name=../../../secret.txt" \
         "/pipeline/dag?id=1&expand=../../secret.txt" \
         "/snapshots?pipeline=../../secret.txt" "/diff?a=1&b=../../secret.txt"; do
  body=$(curl -s --path-as-is -H "Authorization: Bearer $TOKEN" -w '\n%{http_code}' "$BASE$p")
  code=${body##*$'\n'}
  if grep -q -e 'root:x:0' -e SECRET-OUTSIDE <<<"$body" || [ "$code" = 200 ] && [ "${p%%\?*}" != /node ] && [ "${p%%\?*}" != /pipeline/dag ]; then
    leak=1; fail "$p: $code $(head -c 300 <<<"$body")"
  fi
  grep -q -e 'root:x:0' -e SECRET-OUTSIDE <<<"$body" && { leak=1; fail "$p leaked a file"; }
done
[ $leak = 0 ] && pass "../ in paths and names, plain, encoded, double-encoded: 404/400, nothing from outside" ||
  fail "path checks"

# ---- actions ----------------------------------------------------------------------------
csrf=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/" | grep -o 'pipec-csrf" content="[0-9a-f]*' | grep -o '[0-9a-f]*$')
[ ${#csrf} = 48 ] && pass "pages carry a CSRF token" || fail "csrf: '$csrf'"
runs_before=$("$PIPEC" runs --json | grep -o '"run":' | wc -l)
post() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$@" "$BASE/api/actions/run?pipeline=1"; }
[ "$(post)" = 403 ] && [ "$(post -H "X-Pipec-CSRF: $(wrong "$csrf")")" = 403 ] &&
  [ "$(post -H "X-Pipec-CSRF: $csrf" -H 'Origin: http://evil.example')" = 403 ] &&
  [ "$(post -H "X-Pipec-CSRF: $csrf" -H 'Sec-Fetch-Site: cross-site')" = 403 ] &&
  pass "an action without the CSRF token, with a wrong one, from another Origin or site: 403" ||
  fail "csrf checks"
c=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/api/actions/run?pipeline=1")
[ "$c" = 405 ] && pass "an action by GET: 405" || fail "GET action: $c"

# another origin in the same browser: a form and a fetch to the action
mkdir "$T/evil"
cat > "$T/evil/evil.html" <<HTML
<!DOCTYPE html><html><body>
<form id="f" method="post" action="$BASE/api/actions/run?pipeline=1&force=1"></form>
<script>
fetch("$BASE/api/actions/run?pipeline=1&force=1", {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"X-Pipec-CSRF": "guess"}}).catch(() => 0).finally(() => document.getElementById("f").submit());
</script></body></html>
HTML
evil_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -m http.server "$evil_port" --bind 127.0.0.1 --directory "$T/evil" >/dev/null 2>&1 &
evil_pid=$!
for i in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$evil_port/evil.html" && break; sleep 0.1; done
browser evil "http://127.0.0.1:$evil_port/evil.html" && expect_in "403" &&
  pass "a page of another origin (form and fetch, with the cookie): 403" || fail "evil page: $OUT"
kill "$evil_pid"; wait "$evil_pid" 2>/dev/null
runs_after=$("$PIPEC" runs --json | grep -o '"run":' | wc -l)
[ "$runs_before" = "$runs_after" ] && pass "no run was started by any of it ($runs_after runs)" ||
  fail "runs: $runs_before -> $runs_after"

# ---- hostile text --------------------------------------------------------------------------
browser text "/pipeline?id=1" "m[*]" && pass "pipeline page: no script runs" || fail "pipeline page: $OUT"
browser text "/node?pipeline=1&name=m%5B%3Cimg%20src%3Dx%20onerror%3Dwindow.__pwned%3Dtrue%3E%5D" \
  "m[<img src=x onerror=window.__pwned=true>]" "<b>bold</b> & <script>window.__pwned=true</script>" &&
  pass "a member named <img ...>: its panel shows the name and its output as text" || fail "node panel: $OUT"
browser text "/node?pipeline=1&name=tagged" "<script>window.__pwned=true</script>" &&
  pass "a param holding <script>: shown as text" || fail "param: $OUT"
browser text "/log?run=1&node=m%5Bok%5D" "<img src=x onerror=window.__pwned=true>" &&
  pass "a log line holding <img onerror>: shown as text" || fail "log: $OUT"
browser text "/run?id=1" "m[<img src=x onerror=window.__pwned=true>]" &&
  pass "run page: the hostile name as text" || fail "run page: $OUT"
get "/api/run?id=1"
/usr/bin/python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$OUT" && ! grep -q '<' <<<"$OUT" &&
  pass "/api/run: valid JSON, < escaped" || fail "api json: $OUT"
stop_ui

# ---- read-only ---------------------------------------------------------------------------------
start_ui --read-only
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" -H "X-Pipec-CSRF: anything" "$BASE/api/actions/run?pipeline=1")
c2=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/actions/rollback?snapshot=1")
get "/pipeline?id=1"
[ "$c" = 404 ] && [ "$c2" = 404 ] && ! grep -q 'class="act"' <<<"$OUT" && grep -q 'read-only' <<<"$OUT" &&
  pass "--read-only: no action routes (404), no buttons" || fail "read-only: $c $c2"
finish
