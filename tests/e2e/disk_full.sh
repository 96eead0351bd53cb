#!/usr/bin/env bash
# A workspace on a small tmpfs that fills during a node: the node fails with
# "no space left", its partial output is discarded, the store stays
# consistent (integrity_check, every object whole), what finished stays
# cached, and the run completes once space is freed. Needs root (mount).
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }

mkdir proj ws && cd proj
if ! mount -t tmpfs -o size=6m tmpfs ../ws 2>/dev/null; then
  fail "cannot mount a tmpfs (this test needs root)"; finish
fi
trap 'umount "$T/ws" 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export PIPEC_HOME=$T/ws/.pipec
cat > p.pipe <<'PIPE'
pipeline full {
  node small = shell(command = "head -c 100000 /dev/urandom > {out}")
  node big   = shell(command = "head -c 20000000 /dev/zero > {out}", s = small.out)
}
PIPE
expect_exit 1 "$PIPEC" run p.pipe && expect_in "no space left" && pass "the node fails with 'no space left'" || fail "the node fails with 'no space left'"
used=$(df --output=pcent "$T/ws" | tail -1 | tr -dc 0-9)
[ "$used" -lt 50 ] && pass "the failed node's partial output was discarded ($used% used)" || fail "the disk is still $used% full"
[ "$(sqlite3 "$PIPEC_HOME/pipec.db" 'PRAGMA integrity_check')" = ok ] && pass "database intact" || fail "integrity_check"
expect_exit 0 "$PIPEC" cache verify && pass "every object whole" || fail "every object whole"
expect_exit 1 "$PIPEC" run p.pipe && expect_in "0 ran, 1 cached" && pass "what finished stays cached" || fail "what finished stays cached"
mount -o remount,size=64m "$T/ws" || { fail "remount"; finish; }
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "1 ran, 1 cached" && pass "after space is freed the run resumes" || fail "after space is freed the run resumes"
finish
