# lib.sh — helpers for end-to-end tests. Source it; $1 of the test is the
# pipec binary. Each test runs in a fresh temporary directory (removed on
# exit) with PIPEC_HOME unset, so a workspace is created there, and with
# PIPEC_FSYNC=0 unless the test set it.
#
# With PIPEC_VALGRIND set (a valgrind command line; .ci/valgrind sets it),
# $PIPEC is a wrapper that runs the binary ($PIPEC_BIN) under it, logging
# to $T/.valgrind/; finish fails the test if any log holds an error.
set -uo pipefail
PIPEC=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=${PIPEC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
unset PIPEC_HOME
export NO_COLOR=1
# No fsync (base/durable.h): what the tests check holds without one, and on
# a disk with slow flushes the syncs were most of the suite's time. A test
# of the synced paths sets PIPEC_FSYNC=1 before sourcing this file.
export PIPEC_FSYNC=${PIPEC_FSYNC:-0}
T=$(mktemp -d "${TMPDIR:-/tmp}/pipec-e2e.XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
FAILS=0
PIPEC_BIN=$PIPEC
if [ -n "${PIPEC_VALGRIND:-}" ]; then
  mkdir "$T/.valgrind"
  printf '#!/usr/bin/env bash\nset -f\nexec %s --log-file=%q/%%p.log %q "$@"\n' \
    "$PIPEC_VALGRIND" "$T/.valgrind" "$PIPEC_BIN" > "$T/.valgrind/pipec"
  chmod +x "$T/.valgrind/pipec"
  PIPEC=$T/.valgrind/pipec
fi

# A check is a chain ending `&& pass DESC || fail DESC`: without the
# `|| fail`, a bare condition ([ ], grep) that does not hold would fail
# nothing (expect_* report their own failures as well).
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

# expect_exit CODE CMD...: run CMD, check its exit code; output in $OUT
expect_exit() {
  local want=$1; shift
  OUT=$("$@" 2>&1); local got=$?
  if [ "$got" != "$want" ]; then
    fail "'$*' exited $got, expected $want; output:"; printf '%s\n' "$OUT" >&2
    return 1
  fi
  return 0
}

# expect_stdout CODE CMD...: expect_exit, but $OUT holds stdout only and
# $ERR stderr: for commands whose stdout is data (`cat`, `logs` name the run
# they chose on stderr)
expect_stdout() {
  local want=$1; shift
  local errf; errf=$(mktemp "$T/.stderr.XXXXXX")
  OUT=$("$@" 2>"$errf"); local got=$?
  ERR=$(cat "$errf"); rm -f "$errf"
  if [ "$got" != "$want" ]; then
    fail "'$*' exited $got, expected $want; output:"; printf '%s\n%s\n' "$OUT" "$ERR" >&2
    return 1
  fi
  return 0
}

# expect_in TEXT: the last output contains TEXT
expect_in() {
  if ! grep -qF -- "$1" <<<"$OUT"; then
    fail "expected output to contain '$1'; output:"; printf '%s\n' "$OUT" >&2
    return 1
  fi
  return 0
}

# use_services: load the environment of the sshd and Slurm cluster the
# `services` fixture started (tests/services/up.sh), or fail.
use_services() {
  local env=${PIPEC_SVC_STATE:-}/env
  if [ ! -r "$env" ]; then
    echo "FAIL: the test services are not up ($env missing; see tests/services/up.sh)" >&2
    exit 1
  fi
  . "$env"
}

# valgrind_errors: print the non-empty Valgrind logs; false if there were any
valgrind_errors() {
  local f bad=0
  for f in "$T"/.valgrind/*.log; do
    [ -s "$f" ] || continue
    echo "FAIL: valgrind: $(basename "$f"):" >&2; cat "$f" >&2; bad=1
  done
  return $bad
}

# claims_left DIR: what a claims directory (engine/claims.h) holds besides
# its lock file, and "held" when any claim in that file is still locked
# (a whole-file POSIX lock conflicts with every claim's byte lock): empty
# when no claim is left.
claims_left() {
  local d=$1
  ls -A "$d" 2>/dev/null | grep -vx locks | tr '\n' ' '
  [ -e "$d/locks" ] && ! python3 -c '
import fcntl, sys
with open(sys.argv[1], "r+b") as f:
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)' "$d/locks" 2>/dev/null && echo held
  return 0
}

finish() {
  if [ -n "${PIPEC_VALGRIND:-}" ] && ! valgrind_errors; then FAILS=$((FAILS + 1)); fi
  if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}
