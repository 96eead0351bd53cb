#!/usr/bin/env bash
# A workspace whose database cannot be used exits 3 (not 2, which is for
# bad usage and compile errors) and says why: a truncated database and one
# that is not a database at all say "damaged"; a full disk at the very
# first run says "no space left on device", not "disk I/O error". The
# full-disk part needs root (a small tmpfs).
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }

mkdir proj && cd proj
cat > p.pipe <<'PIPE'
pipeline broken {
  node a = shell(command = "echo a > {out}")
  node b = shell(command = "cat {x} > {out}", x = a.out)
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe -q || finish
for i in 1 2 3; do expect_exit 0 "$PIPEC" run p.pipe -q --force || finish; done
sqlite3 .pipec/pipec.db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp .pipec/pipec.db good.db
size=$(stat -c %s good.db)

damaged="the workspace database is damaged (database disk image is malformed); restore it from a backup, or move it away to start a new history"
notadb="the workspace database is damaged (file is not a database); restore it from a backup, or move it away to start a new history"
db=$T/proj/.pipec/pipec.db

# truncated to half: every command that opens the workspace exits 3
head -c $((size / 2)) good.db > .pipec/pipec.db
for cmd in "runs" "show" "snapshots" "logs a" "cat a" "diff 1 2" "rollback 1" "cache verify" "run p.pipe -q"; do
  # shellcheck disable=SC2086
  OUT=$("$PIPEC" $cmd 2>&1); rc=$?
  name=${cmd%% *}
  [ "$rc" = 3 ] && [ "$OUT" = "pipec $name: $db: open: $damaged" ] &&
    pass "truncated database: '$cmd' exits 3 and says it is damaged" ||
    fail "truncated database: '$cmd' exited $rc: $OUT"
done

# not a database at all
head -c 20000 /dev/urandom > .pipec/pipec.db
expect_exit 3 "$PIPEC" runs && [ "$OUT" = "pipec runs: $db: open: $notadb" ] && pass "garbage database: runs exits 3" || fail "garbage database: runs: $OUT"
expect_exit 3 "$PIPEC" run p.pipe && [ "$OUT" = "pipec run: $db: open: $notadb" ] && pass "garbage database: run exits 3" || fail "garbage database: run: $OUT"
expect_exit 3 "$PIPEC" why p.pipe b && [ "$OUT" = "pipec why: $db: open: $notadb" ] && pass "garbage database: why exits 3" || fail "garbage database: why: $OUT"

# bad usage is still 2, and a good database works again
cp good.db .pipec/pipec.db
expect_exit 2 "$PIPEC" runs --bogus && pass "bad usage still exits 2" || fail "bad usage"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 2 cached" && pass "the restored database works" || fail "restored database: $OUT"

# a full disk at the first run
mkdir "$T/ws"
if ! mount -t tmpfs -o size=64k tmpfs "$T/ws" 2>/dev/null; then
  fail "cannot mount a tmpfs (this part needs root)"; finish
fi
trap 'umount "$T/ws" 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
head -c $((48 * 1024)) /dev/zero > "$T/ws/fill" # 16 kB left: the database file fits, its journal does not
export PIPEC_HOME=$T/ws/.pipec
# (which statement meets the full disk first is SQLite's business: the
# line names the database and says the disk is full, in one line)
expect_exit 3 "$PIPEC" run p.pipe -q && OUT=$(grep -v '^pipec: created workspace ' <<<"$OUT") && [ "$(wc -l <<<"$OUT")" = 1 ] &&
  [[ "$OUT" == "pipec run: $T/ws/.pipec/pipec.db: "*": no space left on device (the disk holding the workspace is full)" ]] &&
  ! grep -q "I/O error" <<<"$OUT" &&
  pass "a full disk at the first run says 'no space left on device', exit 3" || fail "full disk at the first run: $OUT"
rm -rf "$T/ws/.pipec"
head -c $((16 * 1024)) /dev/zero >> "$T/ws/fill" 2>/dev/null # nothing left
expect_exit 3 "$PIPEC" run p.pipe -q && expect_in "no space left on device (the disk holding the workspace is full)" &&
  pass "a disk with no room at all: exit 3, no space left" || fail "no room at all: $OUT"
rm -f "$T/ws/fill"
rm -rf "$T/ws/.pipec"
mount -o remount,size=8m "$T/ws" || { fail "remount"; finish; }
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "2 ran, 0 cached" && pass "once there is room the run works" || fail "after freeing space: $OUT"
finish
