#!/usr/bin/env bash
# Ctrl-C with many jobs on an ssh host that never answers: the host
# accepts TCP and stays silent (a listener here), so every ssh call, the
# jobs' own and the cancels', hangs in the banner exchange until its
# connect_timeout. pipec runs those calls on its event loop, so the
# cancel takes effect within connect_timeout + 5 s in all, not per job
# (20 jobs one after another would take 20 x connect_timeout). Both with
# a shared workspace (20 ssh clients to cancel) and staged (20 jobs
# waiting for the remote workdir).
. "$(dirname "$0")/lib.bash"
mkdir proj && cd proj && mkdir .pipec

CT=5    # connect_timeout, s; the bound checked is CT + 15 s (a noisy machine)
python3 - > listener.log 2>&1 <<'PY' &
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(256)
with open("port.tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename("port.tmp", "port")
held = []
while True:
    c, _ = s.accept()
    held.append(c)            # say nothing, never close
    with open("accepted", "a") as f:
        f.write("x\n")
PY
listener=$!
trap 'kill $listener 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
port=$(cat port)

# how many nodes of the last `show --json` have status $1
count_status() {
  python3 -c 'import json, sys; print(sum(n["status"] == sys.argv[1] for n in json.load(sys.stdin)["nodes"]))' "$1" <<<"$OUT"
}

accepted() { [ -f accepted ] && wc -l < accepted || echo 0; }

# interrupt RUN_PIPE once the listener has accepted WANT more connections
ctrl_c_when() {
  local pipe=$1 want=$2 name=$3 before
  before=$(accepted)
  "$PIPEC" run "$pipe" -j 20 > "$name.out" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do
    [ $(( $(accepted) - before )) -ge "$want" ] && break
    sleep 0.05
  done
  local t0 t1 rc
  t0=$(date +%s%N)
  kill -INT $pid
  wait $pid; rc=$?
  t1=$(date +%s%N)
  ELAPSED_MS=$(( (t1 - t0) / 1000000 ))
  RC=$rc
  echo "$name: Ctrl-C took effect in $ELAPSED_MS ms (connect_timeout ${CT}s, bound $((CT + 15))s)"
}

nodes() {
  for i in $(seq 20); do
    echo "  node n$i = shell(command = \"sleep 60; echo $i > {out}\") on dead"
  done
}

{
  echo "pipeline shared {"
  echo "  target dead = ssh { host = \"127.0.0.1\", port = $port, shared_fs = true, connect_timeout = \"${CT}s\", slots = 20 }"
  nodes
  echo "}"
} > shared.pipe
ctrl_c_when shared.pipe 20 shared
[ "$RC" = 130 ] && [ "$ELAPSED_MS" -lt $(( (CT + 15) * 1000 )) ] &&
  pass "Ctrl-C with 20 ssh jobs on a silent host: exit 130 within connect_timeout + 15 s" ||
  fail "rc $RC after $ELAPSED_MS ms: $(cat shared.out)"
expect_exit 0 "$PIPEC" show 1 --json
[ "$(count_status cancelled)" = 20 ] &&
  pass "and every node is recorded cancelled" || fail "show: $OUT"

{
  echo "pipeline staged {"
  echo "  target dead = ssh { host = \"127.0.0.1\", port = $port, connect_timeout = \"${CT}s\", slots = 20 }"
  nodes
  echo "}"
} > staged.pipe
ctrl_c_when staged.pipe 1 staged
[ "$RC" = 130 ] && [ "$ELAPSED_MS" -lt $(( (CT + 15) * 1000 )) ] &&
  pass "staged: Ctrl-C while 20 jobs wait for the remote workdir: exit 130 within the bound" ||
  fail "rc $RC after $ELAPSED_MS ms: $(cat staged.out)"
expect_exit 0 "$PIPEC" show 2 --json
[ "$(count_status cancelled)" = 20 ] &&
  pass "and every node is recorded cancelled" || fail "show: $OUT"
finish
