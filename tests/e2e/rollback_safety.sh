#!/usr/bin/env bash
# Rollback is safe to kill and never writes outside the project:
#  - killed with SIGKILL at random moments, the next command leaves no
#    *.pipec-rollback.* file behind, and every file equals either the
#    version before or the snapshot's;
#  - a directory or a file that has become a symbolic link leading out of
#    the project makes the rollback refuse before it writes anything; a
#    link inside the project is written through.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/lib/parts outside && cd proj
# big code files, so a rollback takes long enough to be killed mid-way
python3 - <<'PY'
import os
for i in range(12):
    with open(f"lib/parts/p{i:02d}.txt", "wb") as f:
        f.write(os.urandom(768 * 1024))
PY
cat > lib/steps.pipe <<'PIPE'
component count(x: file) -> (y: file) {
  command = "cat {x} > {y}; wc -c lib/parts/p00.txt >> {y}"
  code    = ["parts"]
}
PIPE
cat > main.pipe <<'PIPE'
import "lib/steps.pipe"
pipeline safe {
  node gen = shell(command = "echo one > {out}")
  node n   = count(x = gen.out)
}
PIPE
expect_exit 0 "$PIPEC" run main.pipe -q || finish
mkdir A && cp -r main.pipe lib A/
python3 - <<'PY'
import os
for i in range(12):
    with open(f"lib/parts/p{i:02d}.txt", "wb") as f:
        f.write(os.urandom(768 * 1024))
PY
sed -i 's/echo one/echo two/' main.pipe
expect_exit 0 "$PIPEC" run main.pipe -q || finish
mkdir B && cp -r main.pipe lib B/
files="main.pipe lib/steps.pipe $(cd A && echo lib/parts/p*.txt)"

# each file is whole: A's version or B's
whole() {
  local f
  for f in $files; do
    cmp -s "$f" "A/$f" || cmp -s "$f" "B/$f" || { echo "$f is neither version"; return 1; }
  done
}

# kill at random moments within how long a whole rollback takes here
t0=$(date +%s%N)
"$PIPEC" rollback 1 >/dev/null 2>&1 && "$PIPEC" rollback 2 >/dev/null 2>&1 || fail "a whole rollback"
span=$(( ($(date +%s%N) - t0) / 2000000 + 5 )) # ms per rollback, and 5 for start-up
left=0 bad=0
for i in $(seq 1 12); do
  target=$(( i % 2 ? 1 : 2 ))
  "$PIPEC" rollback "$target" >/dev/null 2>&1 &
  pid=$!
  if [ $((i % 3)) = 0 ]; then # as soon as it has begun writing
    while kill -0 "$pid" 2>/dev/null &&
          [ -z "$(find lib . -maxdepth 1 -name '*.pipec-rollback.*' -print -quit 2>/dev/null)" ]; do :; done
  else # anywhere
    ms=$((RANDOM % span))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ -n "$(find . -name '*.pipec-rollback.*' -print -quit)" ] && left=$((left + 1))
  if [ $((i % 2)) = 0 ]; then cmd="snapshots"; else cmd="run main.pipe -q"; fi
  "$PIPEC" $cmd >/dev/null 2>&1 # the next command cleans up
  if [ -n "$(find . -name '*.pipec-rollback.*' -print -quit)" ]; then
    bad=$((bad + 1)); echo "after kill $i: $(find . -name '*.pipec-rollback.*' | head -3)" >&2
  fi
  whole >&2 || bad=$((bad + 1))
done
[ "$bad" = 0 ] && pass "12 kills: no temporary file survives the next command, every file whole ($left of the kills landed while it was writing)" || fail "$bad kills left temporary files or a torn file"
expect_exit 0 "$PIPEC" rollback 2 && for f in $files; do cmp -s "$f" "B/$f" || fail "$f is not B's after a full rollback"; done &&
  pass "a rollback after the kills completes" || fail "rollback after kills: $OUT"
expect_exit 0 "$PIPEC" run main.pipe -q && expect_in "0 ran, 2 cached" && pass "and its run is cached" || fail "run after kills: $OUT"

# a directory that became a link leading out of the project
cp lib/steps.pipe ../outside/steps.pipe
cp ../outside/steps.pipe ../outside/steps.orig
mv lib lib.real && ln -s ../outside lib
cp main.pipe main.before
expect_exit 1 "$PIPEC" rollback 1 &&
  [ "$OUT" = "pipec rollback: lib/steps.pipe: its directory $T/proj/lib leads to $T/outside, outside the project, through a symbolic link; not written (remove the link, then roll back again)" ] &&
  pass "a directory linked out of the project: refused" || fail "dir link: $OUT"
cmp -s ../outside/steps.pipe ../outside/steps.orig && [ "$(ls ../outside)" = "steps.orig
steps.pipe" ] && pass "nothing written outside" || fail "outside changed: $(ls ../outside)"
cmp -s main.pipe main.before && pass "nothing written inside either (refused first)" || fail "main.pipe was written"
rm lib && ln -s ../nowhere lib
expect_exit 1 "$PIPEC" rollback 1 &&
  [ "$OUT" = "pipec rollback: lib/steps.pipe: its directory $T/proj/lib is a symbolic link to a missing directory; not written (remove the link, then roll back again)" ] &&
  [ ! -e ../nowhere ] && pass "a directory linked to nothing: refused, nothing created" || fail "dangling dir link: $OUT"
rm lib && mv lib.real lib

# a file that became a link leading out
printf 'do not touch\n' > ../outside/victim
mv main.pipe main.real && ln -s ../outside/victim main.pipe
expect_exit 1 "$PIPEC" rollback 1 &&
  [ "$OUT" = "pipec rollback: main.pipe is a symbolic link to $T/outside/victim, outside the project; not written (remove the link, then roll back again)" ] &&
  [ "$(cat ../outside/victim)" = "do not touch" ] && pass "a file linked out of the project: refused, its target untouched" || fail "file link: $OUT"
rm main.pipe && mv main.real main.pipe

# a link inside the project is followed
mv lib/steps.pipe lib/steps.real && ln -s steps.real lib/steps.pipe
printf '# edited\n' >> lib/steps.real
expect_exit 0 "$PIPEC" rollback 1 && [ -L lib/steps.pipe ] && cmp -s lib/steps.real A/lib/steps.pipe &&
  pass "a link inside the project stays a link; its target is restored" || fail "inside link: $OUT"
[ -z "$(find . ../outside -name '*.pipec-rollback.*' -print -quit)" ] && pass "no temporary files anywhere" || fail "temporary files left"
finish
