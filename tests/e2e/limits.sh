#!/usr/bin/env bash
# Resource limits: huge and deep inputs either work or fail with a clear
# error (file:line:col, what was wrong) and a non-zero exit, in bounded
# memory, never with a crash, a hang or a stack overflow. Every pipec below
# runs under a cap on its address space (ulimit -v) and its peak RSS is
# checked (/usr/bin/time). The inputs are generated here:
#   - 100 MB of pipeline: 1,000,000 nodes (each command padded so the file
#     is 100 MB), `pipec check` only
#   - 100 MB of comment, the cheap way to a 100 MB file
#   - a 10,000,000-character string literal (and a raw one, and an
#     unterminated one); run in a command it is too long for exec
#   - 100,000 nested brackets (lists and maps): nesting stops at 1,000
#   - a component with 10,000 outputs and one with 10,000 inputs: check and
#     run; a shell command with 10,000 placeholders is too long for exec
. "$(dirname "$0")/lib.bash"

# Sanitizer builds reserve terabytes of address space, use 2-3x the memory
# and run ~8x slower: no address-space cap there, looser RSS bounds, and
# 200k nodes (20 MB) instead of 1M (100 MB).
SCALE=1 CAP=1 NODES=1000000
if grep -aq -e __asan_init -e __ubsan_handle "${PIPEC_BIN:-$PIPEC}"; then
  SCALE=3 CAP=0 NODES=200000
  # freed memory waits in ASan's quarantine (256 MB by default) and counts
  # in RSS: a smaller one keeps the bounds about pipec's own memory
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
fi
# Under Valgrind (.ci/valgrind): ~30x slower, its own memory on top, so no
# cap, RSS bounds 8x looser and 20k nodes; the point there is memcheck.
if [ -n "${PIPEC_VALGRIND:-}" ]; then
  SCALE=8 CAP=0 NODES=20000
fi

# limited CAP_MB MAX_RSS_MB CMD...: run CMD with at most CAP_MB of address
# space; output in $OUT, exit status in $RC, peak RSS in $RSS (MB), wall
# time in $SECS. Fails
# the test if CMD died of a signal or its peak RSS passed MAX_RSS_MB.
limited() {
  local cap=$1 max=$(($2 * SCALE)); shift 2
  local tf=$T/.rss
  if [ "$CAP" = 1 ]; then
    OUT=$( (ulimit -v $((cap * 1024)); exec /usr/bin/time -o "$tf" -f '%e %M' "$@") 2>&1 )
  else
    OUT=$( /usr/bin/time -o "$tf" -f '%e %M' "$@" 2>&1 )
  fi
  RC=$?
  local last
  last=$(tail -n 1 "$tf")
  SECS=${last% *}
  RSS=$(( ${last#* } / 1024 ))
  if grep -q "terminated by signal" "$tf" || [ "$RC" -ge 128 ]; then
    fail "'$*' crashed (exit $RC): $(head -c 500 <<<"$OUT")"
  elif [ "$RSS" -gt "$max" ]; then
    fail "'$*' peaked at $RSS MB, more than $max MB"
  fi
  echo "  (pipec ${*:2}: exit $RC, $SECS s, peak $RSS MB)"
}

# want_exit CODE: the last limited command exited CODE
want_exit() {
  [ "$RC" = "$1" ] && return 0
  fail "exited $RC, expected $1; output:"; head -c 2000 <<<"$OUT" >&2; echo >&2
  return 1
}

mkdir proj && cd proj

# ---- 100 MB, 1M nodes -------------------------------------------------------
# a chain (each node reads the previous one), lines padded to 100 bytes
awk -v n="$NODES" 'BEGIN {
  pad = sprintf("%29s", ""); gsub(/ /, "x", pad)
  print "pipeline big {"
  print "  node n0 = shell(command = \"echo 0 > {out}\")"
  for (i = 1; i < n; i++)
    printf "  node n%d = shell(command = \"cat {x} > {out} # %s\", x = n%d.out)\n", i, pad, i - 1
  print "}"
}' > big.pipe
size=$(stat -c %s big.pipe)
[ "$size" -ge $((NODES * 95)) ] || fail "big.pipe is only $size bytes"
limited 2048 1100 "$PIPEC" check big.pipe
want_exit 0 && expect_in "$NODES nodes" && pass "$NODES nodes, $((size / 1000000)) MB: checked in $SECS s, $RSS MB" || fail "$NODES nodes, $((size / 1000000)) MB: checked in $SECS s, $RSS MB"
# the same under a cap it cannot fit: a clear message, exit 2, no crash
if [ "$CAP" = 1 ]; then
  limited 300 300 "$PIPEC" check big.pipe
  want_exit 2 && expect_in "out of memory" && pass "$NODES nodes under a 300 MB cap: 'out of memory', exit 2" || fail "$NODES nodes under a 300 MB cap: 'out of memory', exit 2"
fi
rm big.pipe

# ---- 100 MB of comment ------------------------------------------------------
{ printf 'pipeline c {\n  node a = shell(command = "echo hi > {out}")\n}\n#'
  head -c 100000000 /dev/zero | tr '\0' c; echo; } > comment.pipe
limited 1024 250 "$PIPEC" check comment.pipe
want_exit 0 && expect_in "1 node" && pass "a 100 MB comment: checked in $RSS MB" || fail "a 100 MB comment: checked in $RSS MB"
limited 1024 400 "$PIPEC" run -q comment.pipe
want_exit 0 && pass "a 100 MB comment: runs" || fail "a 100 MB comment: runs"
rm comment.pipe

# ---- a 10M-character string -------------------------------------------------
str=$(head -c 10000000 /dev/zero | tr '\0' s)
printf 'pipeline s {\n  param big : string = "%s"\n  node n = shell(command = "printf %%s {v} | wc -c > {out}", v = big)\n}\n' "$str" > str.pipe
printf 'pipeline s {\n  param big : string = """%s"""\n  node n = shell(command = "echo > {out}", v = big)\n}\n' "$str" > raw.pipe
printf 'pipeline s {\n  param big : string = "%s\n}\n' "$str" > open.pipe
unset str
limited 512 150 "$PIPEC" check str.pipe
want_exit 0 && pass "a 10M-character string: checked in $RSS MB" || fail "a 10M-character string: checked in $RSS MB"
limited 512 150 "$PIPEC" check raw.pipe
want_exit 0 && pass "a 10M-character raw string: checked in $RSS MB" || fail "a 10M-character raw string: checked in $RSS MB"
limited 512 150 "$PIPEC" check open.pipe
want_exit 2 && expect_in "open.pipe:2:24: error: unterminated string" && pass "an unterminated 10M-character string: file:line:col" || fail "an unterminated 10M-character string: file:line:col"
# exec cannot take a 10 MB command: the node fails and says why
limited 512 200 "$PIPEC" run str.pipe
want_exit 1 && expect_in "node 'n': the command is 97" && expect_in "KiB once its placeholders are filled in" &&
  pass "a 10 MB command: the node fails with its length, not E2BIG"
# the same string through a file param reaches the command whole
printf 'pipeline f {\n  param big : path = "big.txt"\n  node n = shell(command = "wc -c < {f} > {out}", f = big)\n}\n' > file.pipe
head -c 10000000 /dev/zero | tr '\0' s > big.txt
limited 512 200 "$PIPEC" run -q file.pipe
want_exit 0 && [ "$("$PIPEC" cat n | tr -d ' ')" = 10000000 ] && pass "10 MB through a path param: runs" || fail "10 MB through a path param: runs"
rm -f str.pipe raw.pipe open.pipe file.pipe big.txt

# ---- 100k-deep nesting ------------------------------------------------------
deep() { printf "%${1}s" "" | sed "s/ /$2/g"; }
{ printf 'pipeline d {\n  param x : list = '; deep 100000 '['; deep 100000 ']'; printf '\n}\n'; } > lists.pipe
{ printf 'pipeline d {\n  node a = shell(command = "true > {out}", m = '; deep 100000 '{ k = '
  printf 1; deep 100000 '}'; printf ')\n}\n'; } > maps.pipe
{ printf 'pipeline d {\n  param x : list = '; deep 100000 '[1, '; printf '\n'; } > open.pipe
limited 256 64 "$PIPEC" check lists.pipe
want_exit 2 && expect_in "lists.pipe:2:1019: error: nesting too deep (more than 1000 levels of brackets)" &&
  expect_in "1 error" && pass "100k nested lists: one clear error at the 1001st bracket" || fail "100k nested lists: one clear error at the 1001st bracket"
limited 256 64 "$PIPEC" check maps.pipe
want_exit 2 && expect_in "maps.pipe:2:" && expect_in "nesting too deep (more than 1000 levels of brackets)" &&
  pass "100k nested maps: the same limit"
limited 256 64 "$PIPEC" check open.pipe
want_exit 2 && expect_in "nesting too deep" && pass "100k unclosed brackets: the same" || fail "100k unclosed brackets: the same"
# 999 levels parse (and then fail for what they are: lists hold scalars)
{ printf 'pipeline d {\n  param x : list = '; deep 998 '['; deep 998 ']'; printf '\n}\n'; } > ok.pipe
limited 256 64 "$PIPEC" check ok.pipe
want_exit 2 && expect_in "ok.pipe:2:21: error: items of a list are ints, floats, bools or strings, not a list" &&
  pass "998 nested lists parse"
rm -f lists.pipe maps.pipe open.pipe ok.pipe

# ---- a component with 10k ports -----------------------------------------------
awk 'BEGIN {
  n = 10000
  print "pipeline ports {"
  printf "  component wide() -> ("
  for (i = 0; i < n; i++) printf "%so%d: file", i ? ", " : "", i
  printf ") {\n    command = \"touch"
  for (i = 0; i < n; i++) printf " {o%d}", i
  print "\"\n  }"
  printf "  component narrow("
  for (i = 0; i < n; i++) printf "%si%d: file", i ? ", " : "", i
  print ") -> (out: file) {\n    command = \"cat {i0} {i9999} > {out}\"\n  }"
  printf "  component all("
  for (i = 0; i < n; i++) printf "%si%d: file", i ? ", " : "", i
  printf ") -> (out: file) {\n    command = \"cat"
  for (i = 0; i < n; i++) printf " {i%d}", i
  print " > {out}\"\n  }"
  print "  node w = wide()"
  printf "  node s = narrow("
  for (i = 0; i < n; i++) printf "%si%d = w.o%d", i ? ", " : "", i, i
  print ")"
  printf "  node t = all("
  for (i = 0; i < n; i++) printf "%si%d = w.o%d", i ? ", " : "", i, i
  print ")"
  print "}"
}' > ports.pipe
limited 512 100 "$PIPEC" check ports.pipe
want_exit 0 && expect_in "3 nodes" && pass "10k outputs, 10k inputs: checked in $RSS MB" || fail "10k outputs, 10k inputs: checked in $RSS MB"
limited 512 150 "$PIPEC" run --keep-going ports.pipe
want_exit 1 && expect_in "succeeded w" && expect_in "succeeded s" &&
  expect_in "node 't': the command is" && expect_in "once its placeholders are filled in" &&
  pass "10k ports run: 10k outputs written, 10k inputs read; a 10k-placeholder shell command fails with its length"
[ "$("$PIPEC" cat s | wc -c)" = 0 ] || fail "s should be empty (touch wrote empty files)"
# a duplicate among 10k names is still found, and named
sed 's/o9999: file/o42: file/' ports.pipe > dup.pipe
limited 512 100 "$PIPEC" check dup.pipe
want_exit 2 && expect_in "'o42' is declared twice in component 'wide'" && pass "a duplicate among 10k ports is named" || fail "a duplicate among 10k ports is named"
finish
