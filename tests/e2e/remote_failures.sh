#!/usr/bin/env bash
# Remote targets when things go wrong: a failing command on ssh and Slurm,
# an unreachable host, a Slurm job cancelled from outside, sshd stopped in
# the middle of a node (the retry succeeds once it is back), Ctrl-C killing
# the remote process group, and a node timeout cancelling its Slurm job.
# Needs the `services` fixture; starts a second sshd of its own to stop.
. "$(dirname "$0")/lib.bash"
use_services

mkdir proj && cd proj && mkdir .pipec

# ---- failing commands ----------------------------------------------------
cat > fail.pipe <<'PIPE'
pipeline fail {
  target box = ssh { host = "pipec-test", shared_fs = true }
  target hpc = slurm { }
  node on_ssh   = shell(command = "echo from-ssh; exit 3") on box
  node on_slurm = shell(command = "echo from-slurm; exit 4") on hpc
}
PIPE
expect_exit 1 "$PIPEC" run fail.pipe -k
expect_in "failed    on_ssh" && expect_in "exit code 3" && expect_in "| from-ssh" &&
  pass "a failing command on ssh: its exit code and log"
expect_in "failed    on_slurm" && expect_in "exit code 4" && expect_in "| from-slurm" &&
  pass "a failing command under Slurm: its exit code and log"

# ---- unreachable hosts ---------------------------------------------------
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > unreach.pipe <<PIPE
pipeline unreach {
  target refused = ssh { host = "127.0.0.1", port = $closed, shared_fs = true, connect_timeout = "3s" }
  target staged  = ssh { host = "127.0.0.1", port = $closed, connect_timeout = "3s" }
  target nowhere = ssh { host = "10.255.255.1", shared_fs = true, connect_timeout = "2s" }
  node a = shell(command = "echo a > {out}") on refused
  node b = shell(command = "echo b > {out}") on staged
  node c = shell(command = "echo c > {out}") on nowhere
}
PIPE
expect_exit 1 "$PIPEC" run unreach.pipe -k
expect_in "failed    a" && expect_in "ssh to 127.0.0.1 failed while running the command on it: ssh: connect to host 127.0.0.1 port $closed: Connection refused" &&
  pass "a refused connection is a clear error"
expect_in "failed    b: ssh to 127.0.0.1 failed: ssh: connect to host 127.0.0.1 port $closed" &&
  pass "so it is before staging"
expect_in "failed    c" && expect_in "ssh to 10.255.255.1 failed" &&
  pass "an unreachable host fails within connect_timeout"

# ---- a Slurm job cancelled from outside ------------------------------------
cat > victim.pipe <<'PIPE'
pipeline victim {
  target hpc = slurm { }
  node victim_e2e = shell(command = "sleep 60; echo no > {out}") on hpc
}
PIPE
"$PIPEC" run victim.pipe > victim.out 2>&1 &
run_pid=$!
for _ in $(seq 100); do
  id=$(squeue -h -n pipec:victim_e2e -t running -o %i | head -1)
  [ -n "$id" ] && break
  sleep 0.2
done
[ -n "$id" ] && scancel "$id"
wait $run_pid; rc=$?
OUT=$(cat victim.out)
[ "$rc" = 1 ] && expect_in "Slurm job $id was cancelled outside pipec" &&
  pass "scancel from outside: the node fails, not hangs" || fail "rc $rc: $OUT"

# ---- a node timeout cancels its Slurm job -------------------------------------
cat > slow.pipe <<'PIPE'
pipeline slow {
  target hpc = slurm { }
  node slow_e2e = shell(command = "sleep 60; echo no > {out}") on hpc { timeout = "3s" }
}
PIPE
expect_exit 1 "$PIPEC" run slow.pipe
expect_in "failed    slow_e2e" && expect_in "timed out" && pass "a timeout stops the Slurm node" || fail "a timeout stops the Slurm node"
id=$("$PIPEC" show --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["job"])')
for _ in $(seq 50); do
  st=$(squeue -h -t all -j "$id" -o %T 2>/dev/null)
  [ "$st" = CANCELLED ] && break
  sleep 0.2
done
[ "$st" = CANCELLED ] && pass "and scancels job $id" || fail "job $id is '$st'"

# ---- Ctrl-C kills the remote process group ----------------------------------
# once while the command runs, once at the very start (the moment the ssh
# client exists, before the remote side has written its pid)
for when in running start; do
  mark="pipec-e2e-$when-$$"
  cat > ctrlc.pipe <<PIPE
pipeline ctrlc {
  target box = ssh { host = "pipec-test", shared_fs = true }
  node long = shell(command = "sh -c 'sleep 61; echo no' $mark > {out}") on box
}
PIPE
  "$PIPEC" run ctrlc.pipe > ctrlc.out 2>&1 &
  run_pid=$!
  if [ $when = running ]; then
    for _ in $(seq 100); do
      pgrep -f "^sh -c sleep 61; echo no $mark" >/dev/null && break
      sleep 0.1
    done
  else
    # as soon as the local ssh client exists: pipec handles SIGINT by then,
    # and the remote side has most likely not written its pid yet
    for _ in $(seq 200); do
      pgrep -f "^ssh .*$mark" >/dev/null && break
      sleep 0.01
    done
  fi
  kill -INT $run_pid
  wait $run_pid; rc=$?
  gone=no
  for _ in $(seq 50); do
    sleep 0.1
    pgrep -f "sleep 61; echo no $mark" >/dev/null || { gone=yes; break; }
  done
  [ "$rc" = 130 ] && [ $gone = yes ] && pass "Ctrl-C ($when): exit 130 and the remote command is gone" ||
    fail "Ctrl-C ($when): rc $rc, processes left: $(pgrep -af "$mark")"
done

# ---- sshd stopped in the middle of a node ----------------------------------------
S2=$(mktemp -d /tmp/pipec-ssh2.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$SRC/tests/services/sshd-down.sh" "$S2" >/dev/null 2>&1; rm -rf "$S2"; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export SSHD_PORT=$port
cfg=$("$SRC/tests/services/sshd-up.sh" "$S2" 2>/dev/null) || { fail "second sshd did not start"; finish; }
cat > flaky.pipe <<'PIPE'
pipeline flaky {
  target box = ssh { host = "pipec-test", shared_fs = true }
  node steady = shell(command = "sleep 3; echo ok > {out}") on box { retries = 3 }
}
PIPE
PIPEC_SSH_CONFIG=$cfg "$PIPEC" run flaky.pipe > flaky.out 2>&1 &
run_pid=$!
for _ in $(seq 100); do
  pgrep -f "sleep 3; echo ok" >/dev/null && break
  sleep 0.1
done
"$SRC/tests/services/sshd-down.sh" "$S2" >/dev/null 2>&1
sleep 1
"$SRC/tests/services/sshd-up.sh" "$S2" >/dev/null 2>&1 || fail "sshd did not come back"
wait $run_pid; rc=$?
OUT=$(cat flaky.out)
[ "$rc" = 0 ] && expect_in "retrying  steady: attempt 1 failed: ssh to pipec-test failed while running the command on it" &&
  expect_in "succeeded steady" && pass "sshd stopped mid-run: a clear failure, then a retry succeeds" ||
  fail "rc $rc: $OUT"
expect_stdout 0 "$PIPEC" cat steady
[ "$OUT" = ok ] && pass "with the right output" || fail "steady: $OUT"
finish
