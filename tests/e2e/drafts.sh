#!/usr/bin/env bash
# Drafts: every revision of a pipeline's .pipe files that pipec saw.
#  - `pipec drafts [FILE]` lists them (id, pipeline, time, the snapshot and
#    run that used it, the files it changed), `--json` likewise;
#  - `pipec drafts show N` is the unified diff against the revision before;
#  - `pipec drafts restore N` writes N's bytes back after recording the
#    files as they are (so it can be undone), refuses links that leave the
#    project before writing anything, and killed with SIGKILL at random
#    moments leaves every file whole and no temporary file after the next
#    command.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/lib outside && cd proj
cat > lib/steps.pipe <<'PIPE'
component up(x: file) -> (y: file) {
  command = "tr a-z A-Z < {x} > {y}"
}
PIPE
cat > main.pipe <<'PIPE'
import "lib/steps.pipe"
pipeline dr {
  node gen = shell(command = "echo one > {out}")
  node u   = up(x = gen.out)
}
PIPE
cat > other.pipe <<'PIPE'
pipeline other {
  node o = shell(command = "echo other > {out}")
}
PIPE
mkdir v1 && cp -r main.pipe lib v1/
expect_exit 2 "$PIPEC" drafts && [ "$OUT" = "pipec drafts: no .pipec workspace here or in a parent directory (pipec run creates one)" ] &&
  pass "no workspace: said so" || fail "no workspace: $OUT"

# draft 1: the first run; draft 2: a dry run of an edit; draft 3: a run of
# another edit; draft 4: another pipeline
expect_exit 0 "$PIPEC" run main.pipe -q || finish
sed -i 's/echo one/echo two/' main.pipe
expect_exit 0 "$PIPEC" run main.pipe -q -n || finish
sed -i 's/a-z A-Z/A-Z a-z/' lib/steps.pipe
expect_exit 0 "$PIPEC" run main.pipe -q || finish
mkdir v3 && cp -r main.pipe lib v3/
expect_exit 0 "$PIPEC" run other.pipe -q || finish

expect_stdout 0 "$PIPEC" drafts
listing=$(sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}/TIME/' <<<"$OUT")
[ "$listing" = "DRAFT PIPELINE         CREATED             SNAP  RUN   CHANGED
4     other            TIME 3     3     +other.pipe
3     dr               TIME 2     2     lib/steps.pipe
2     dr               TIME -     -     main.pipe
1     dr               TIME 1     1     +main.pipe, +lib/steps.pipe" ] &&
  pass "drafts: newest first, the snapshot and run that used each, the files it changed" || fail "drafts: $OUT"
expect_stdout 0 "$PIPEC" drafts main.pipe && [ "$(grep -c ' dr ' <<<"$OUT")" = 3 ] && ! grep -q other <<<"$OUT" &&
  pass "drafts FILE: that pipeline's only" || fail "drafts FILE: $OUT"
expect_stdout 0 "$PIPEC" drafts --json
python3 - "$OUT" <<'PY' && pass "drafts --json" || fail "drafts --json: $OUT"
import json, sys
d = json.loads(sys.argv[1])
assert [x["draft"] for x in d] == [4, 3, 2, 1], d
x = {e["draft"]: e for e in d}
assert x[3]["pipeline"] == "dr" and x[3]["file"] == "main.pipe" and x[3]["previous"] == 2, x[3]
assert x[3]["files"] == ["main.pipe", "lib/steps.pipe"], x[3]
assert x[3]["changes"] == [{"path": "lib/steps.pipe", "change": "changed"}], x[3]
assert x[2]["snapshot"] is None and x[2]["run"] is None, x[2]
assert x[1]["previous"] is None and [c["change"] for c in x[1]["changes"]] == ["added", "added"], x[1]
assert x[3]["snapshot"] == 2 and x[3]["run"] == 2 and isinstance(x[3]["created"], int), x[3]
PY
expect_exit 2 "$PIPEC" drafts nothere.pipe && [ "$OUT" = "pipec drafts: nothere.pipe has never run in this workspace" ] &&
  pass "drafts of a file that never ran" || fail "drafts nothere: $OUT"

expect_stdout 0 "$PIPEC" drafts show 2
[ "$(sed -E 's/, [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}:/, TIME:/' <<<"$OUT")" = 'draft 2 of dr (main.pipe), TIME: against draft 1
file     main.pipe: changed
--- a/main.pipe (draft 1)
+++ b/main.pipe (draft 2)
@@ -1,5 +1,5 @@
 import "lib/steps.pipe"
 pipeline dr {
-  node gen = shell(command = "echo one > {out}")
+  node gen = shell(command = "echo two > {out}")
   node u   = up(x = gen.out)
 }' ] && pass "drafts show: the unified diff against the revision before" || fail "drafts show 2: $OUT"
expect_stdout 0 "$PIPEC" drafts show 1 && grep -qxF "file     lib/steps.pipe: added" <<<"$OUT" &&
  grep -qxF -- "--- /dev/null" <<<"$OUT" && grep -qxF "@@ -0,0 +1,3 @@" <<<"$OUT" &&
  grep -qF ": its first revision" <<<"$OUT" && pass "drafts show of the first revision: every file added" || fail "drafts show 1: $OUT"
expect_exit 2 "$PIPEC" drafts show 99 && [ "$OUT" = "pipec drafts: no draft 99 (pipec drafts lists them)" ] &&
  pass "drafts show of no such draft" || fail "drafts show 99: $OUT"
expect_exit 2 "$PIPEC" drafts show x && expect_in "'x' is not a draft id" && pass "drafts show x: a usage error" || fail "drafts show x: $OUT"
expect_exit 2 "$PIPEC" drafts restore && expect_in "restore needs a draft id N" && pass "drafts restore without N" || fail "restore without N: $OUT"

# restore 1: dry run, then for real; the files before are recorded
expect_stdout 0 "$PIPEC" drafts restore 1 --dry-run && [ "$OUT" = "restore   main.pipe
restore   lib/steps.pipe
2 files would change (dry run: nothing was written)" ] && cmp -s main.pipe v3/main.pipe &&
  pass "restore --dry-run lists the files, writes nothing" || fail "restore -n: $OUT"
expect_stdout 0 "$PIPEC" drafts restore 1 && [ "$OUT" = "restored 2 files of draft 1 (the files before are draft 3)" ] &&
  cmp -s main.pipe v1/main.pipe && cmp -s lib/steps.pipe v1/lib/steps.pipe &&
  pass "restore writes the revision's bytes back" || fail "restore 1: $OUT"
expect_exit 0 "$PIPEC" run main.pipe -q && expect_in "0 ran, 2 cached" && pass "the run afterwards is cached" || fail "run after restore: $OUT"
expect_stdout 0 "$PIPEC" drafts restore 1 && [ "$OUT" = "the files already match draft 1" ] &&
  pass "restoring what is there writes nothing" || fail "restore again: $OUT"
sed -i 's/echo one/echo three/' main.pipe   # an edit never run
cp main.pipe edited.pipe
expect_stdout 0 "$PIPEC" drafts restore 3 && saved=$(sed -nE 's/.*the files before are draft ([0-9]+)\)$/\1/p' <<<"$OUT") &&
  [ -n "$saved" ] && cmp -s main.pipe v3/main.pipe && cmp -s lib/steps.pipe v3/lib/steps.pipe &&
  pass "restore 3 (the edit never run is recorded first, as draft $saved)" || fail "restore 3: $OUT"
expect_stdout 0 "$PIPEC" drafts restore "$saved" && cmp -s main.pipe edited.pipe &&
  pass "a restore is undone by restoring the revision it recorded" || fail "undo: $OUT"
rm lib/steps.pipe
expect_stdout 0 "$PIPEC" drafts restore 3 && cmp -s lib/steps.pipe v3/lib/steps.pipe &&
  pass "a deleted file is created again" || fail "deleted file: $OUT"

# links leading out of the project: refused before anything is written
cp main.pipe main.before
cp lib/steps.pipe ../outside/steps.pipe && cp ../outside/steps.pipe ../outside/steps.orig
mv lib lib.real && ln -s ../outside lib
expect_exit 1 "$PIPEC" drafts restore 1 &&
  [ "$OUT" = "pipec drafts: lib/steps.pipe: its directory $T/proj/lib leads to $T/outside, outside the project, through a symbolic link; not written (remove the link, then restore again)" ] &&
  cmp -s ../outside/steps.pipe ../outside/steps.orig && cmp -s main.pipe main.before &&
  pass "a directory linked out of the project: refused, nothing written" || fail "dir link: $OUT"
rm lib && mv lib.real lib
printf 'do not touch\n' > ../outside/victim
mv main.pipe main.real && ln -s ../outside/victim main.pipe
expect_exit 1 "$PIPEC" drafts restore 1 &&
  [ "$OUT" = "pipec drafts: main.pipe is a symbolic link to $T/outside/victim, outside the project; not written (remove the link, then restore again)" ] &&
  [ "$(cat ../outside/victim)" = "do not touch" ] && pass "a file linked out of the project: refused, its target untouched" || fail "file link: $OUT"
rm main.pipe && mv main.real main.pipe

# killed at random moments: big revisions, so a restore takes long enough
big() { python3 -c "import os,sys; sys.stdout.write(''.join('# %s\n' % os.urandom(48).hex() for _ in range(40000)))"; }
{ big; cat v1/lib/steps.pipe; } > lib/steps.pipe
{ big; cat v1/main.pipe; } > main.pipe
expect_exit 0 "$PIPEC" run main.pipe -q -n || finish
mkdir A && cp -r main.pipe lib A/ && a=$("$PIPEC" drafts --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["draft"])')
{ big; cat v3/lib/steps.pipe; } > lib/steps.pipe
{ big; cat v3/main.pipe; } > main.pipe
expect_exit 0 "$PIPEC" run main.pipe -q -n || finish
mkdir B && cp -r main.pipe lib B/ && b=$("$PIPEC" drafts --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["draft"])')
whole() {
  local f
  for f in main.pipe lib/steps.pipe; do
    cmp -s "$f" "A/$f" || cmp -s "$f" "B/$f" || { echo "$f is neither version" >&2; return 1; }
  done
}
t0=$(date +%s%N)
"$PIPEC" drafts restore "$a" >/dev/null 2>&1 && "$PIPEC" drafts restore "$b" >/dev/null 2>&1 || fail "a whole restore"
span=$(( ($(date +%s%N) - t0) / 2000000 + 5 ))
left=0 bad=0
for i in $(seq 1 12); do
  target=$(( i % 2 ? a : b ))
  "$PIPEC" drafts restore "$target" >/dev/null 2>&1 &
  pid=$!
  if [ $((i % 3)) = 0 ]; then # as soon as it has begun writing
    while kill -0 "$pid" 2>/dev/null &&
          [ -z "$(find . -name '*.pipec-rollback.*' -print -quit 2>/dev/null)" ]; do :; done
  else
    ms=$((RANDOM % span))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ -n "$(find . -name '*.pipec-rollback.*' -print -quit)" ] && left=$((left + 1))
  "$PIPEC" drafts >/dev/null 2>&1 # the next command cleans up
  if [ -n "$(find . -name '*.pipec-rollback.*' -print -quit)" ]; then
    bad=$((bad + 1)); echo "after kill $i: $(find . -name '*.pipec-rollback.*' | head -3)" >&2
  fi
  whole || bad=$((bad + 1))
done
[ "$bad" = 0 ] && pass "12 kills: no temporary file survives the next command, every file whole ($left of the kills landed while it was writing)" ||
  fail "$bad kills left temporary files or a torn file"
expect_exit 0 "$PIPEC" drafts restore "$b" && cmp -s main.pipe B/main.pipe && cmp -s lib/steps.pipe B/lib/steps.pipe &&
  pass "a restore after the kills completes" || fail "restore after kills: $OUT"
[ -z "$(find . ../outside -name '*.pipec-rollback.*' -print -quit)" ] && pass "no temporary files anywhere" || fail "temporary files left"
finish
