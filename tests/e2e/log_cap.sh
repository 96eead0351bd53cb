#!/usr/bin/env bash
# A node's log is bounded (docs/cli.md, "Logs"): past PIPEC_LOG_LIMIT
# (default 64M) it keeps its first and last halves with a line saying how
# much was left out, and the disk it takes stays near the limit while the
# node still writes; stdout is never blocked. Each retry starts with a
# marker line. A bad limit is a usage error.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
statuses() { "$PIPEC" show last --json | python3 -c '
import json,sys; print(" ".join(n["name"]+"="+n["status"] for n in json.load(sys.stdin)["nodes"]))'; }

# 40 MB between a first and a last line, then the node waits (at most 60 s)
# until its log's blocks are freed while it still runs: if the log were not
# trimmed while written, it would fail
cat > spew.pipe <<'PIPE'
pipeline spew {
  node loud = shell(command = "echo FIRST-LINE; head -c 40000000 /dev/zero | tr '\\0' 'y' | fold -w 99; echo; log=$(ls $PIPEC_LOGS/*/loud.log | tail -1); i=0; while [ $(du -k \"$log\" | cut -f1) -gt 4096 ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; du -k \"$log\" | cut -f1 > {out}; echo LAST-LINE")
}
PIPE
export PIPEC_LOGS=$PWD/.pipec/logs
expect_exit 0 env PIPEC_LOG_LIMIT=2M "$PIPEC" run spew.pipe -q
[ "$(statuses)" = "loud=succeeded" ] && pass "a node writing 40 MB to stdout succeeds" || fail "spew: $OUT"
expect_stdout 0 "$PIPEC" cat loud
[ "$OUT" -le 4096 ] && pass "while it still ran, its log took ${OUT} KiB on disk (limit 2 MiB)" || fail "log used $OUT KiB while running"
log=$(ls .pipec/logs/1/loud.log)
size=$(stat -c %s "$log")
[ "$size" -le $((2 * 1024 * 1024 + 512)) ] && [ "$size" -ge $((2 * 1024 * 1024 - 9000)) ] &&
  pass "after the run the log is $size bytes (limit 2 MiB)" || fail "log is $size bytes"
[ "$(head -1 "$log")" = FIRST-LINE ] && [ "$(tail -1 "$log")" = LAST-LINE ] &&
  pass "it keeps the first and the last line" || fail "head/tail: $(head -1 "$log") / $(tail -1 "$log")"
grep -q '^==> pipec: [0-9]* bytes of output left out here (a log keeps its first and last 1048576 bytes: PIPEC_LOG_LIMIT=2M) <==$' "$log" &&
  pass "one line says how much was left out" || fail "no left-out line: $(grep -a pipec "$log" | head -3)"
[ "$(grep -c '^y*$' "$log")" -ge 20000 ] && [ "$(tr -dc '\000' < "$log" | wc -c)" = 0 ] &&
  pass "what is kept are whole lines, no hole bytes" || fail "kept lines"
expect_stdout 0 "$PIPEC" logs loud
[ "${#OUT}" -le $((2 * 1024 * 1024 + 512)) ] && pass "pipec logs prints the capped log" || fail "pipec logs: ${#OUT}"

# below the limit a log is untouched
cat > quiet.pipe <<'PIPE'
pipeline quiet {
  node q = shell(command = "seq 1 1000; echo ok > {out}")
}
PIPE
expect_exit 0 env PIPEC_LOG_LIMIT=2M "$PIPEC" run quiet.pipe -q
expect_stdout 0 "$PIPEC" logs q
[ "$OUT" = "$(seq 1 1000)" ] && pass "a short log is kept whole" || fail "short log: $OUT"

# retries: each attempt after the first starts with a marker line
cat > retry.pipe <<'PIPE'
pipeline retry {
  node r = shell(command = "n=$(cat tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > tries; echo try $n; [ $n -ge 3 ] && echo ok > {out}") {
    retries = 2
  }
}
PIPE
expect_exit 0 "$PIPEC" run retry.pipe -q
expect_stdout 0 "$PIPEC" logs r
[ "$OUT" = "$(printf 'try 1\n==> pipec: attempt 2 of 3 (node r) <==\ntry 2\n==> pipec: attempt 3 of 3 (node r) <==\ntry 3')" ] &&
  pass "each retry starts with a marker line in the log" || fail "retry log: $OUT"

# a node that prints nothing has no log file (none is made for it), and
# pipec logs prints nothing for it; one that prints only to stderr has one
cat > silent.pipe <<'PIPE'
pipeline silent {
  node s = shell(command = "echo ok > {out}")
  node e = shell(command = "echo to-stderr >&2; cat {i} > {out}", i = s.out)
}
PIPE
expect_exit 0 "$PIPEC" run silent.pipe -q
run=$("$PIPEC" runs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["run"])')
[ -n "$run" ] && [ -d ".pipec/logs/$run" ] && [ ! -e ".pipec/logs/$run/s.log" ] && pass "a node that printed nothing has no log file" || fail "a silent node's log: $(ls -l .pipec/logs/$run)"
expect_stdout 0 "$PIPEC" logs s && [ -z "$OUT" ] && pass "pipec logs of a silent node prints nothing, exit 0" || fail "pipec logs s: $OUT"
expect_stdout 0 "$PIPEC" logs e && [ "$OUT" = to-stderr ] && pass "a node's stderr makes its log" || fail "pipec logs e: $OUT"
expect_stdout 0 "$PIPEC" show last && expect_in "succeeded" && pass "show lists the silent node" || fail "show: $OUT"

# a limit that is not a size
expect_exit 2 env PIPEC_LOG_LIMIT=lots "$PIPEC" run quiet.pipe -q
expect_in "PIPEC_LOG_LIMIT is 'lots', not a size (like 64M, 1G, or 0 for no limit)" &&
  pass "a bad PIPEC_LOG_LIMIT is a usage error" || fail "bad limit: $OUT"
# 0: no limit
cat > nolimit.pipe <<'PIPE'
pipeline nolimit {
  node n = shell(command = "head -c 3000000 /dev/zero | tr '\\0' z; echo ok > {out}")
}
PIPE
expect_exit 0 env PIPEC_LOG_LIMIT=0 "$PIPEC" run nolimit.pipe -q
[ "$(stat -c %s .pipec/logs/*/n.log)" = 3000000 ] && pass "PIPEC_LOG_LIMIT=0 keeps everything" || fail "no limit: $(stat -c %s .pipec/logs/*/n.log)"

finish
