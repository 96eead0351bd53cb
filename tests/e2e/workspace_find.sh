#!/usr/bin/env bash
# Which workspace a command uses does not depend on where it is typed: with
# a pipeline file, the nearest .pipec at or above the file's directory, then
# at or above the current directory; $PIPEC_HOME, when set, wins. A run that
# finds none creates one in the pipeline's project (the nearest directory
# with .git, else the file's directory) and says so once on stderr.
. "$(dirname "$0")/lib.bash"

T=$(pwd -P)
n_runs() { "$PIPEC" runs --json | grep -o '"run":' | wc -l; }

mkdir -p etl
printf 'pipeline etl {\n  node a = shell(command = "echo hi > {out}")\n}\n' > etl/etl.pipe

# the first run from the parent directory creates etl/.pipec, not ./.pipec
expect_exit 0 "$PIPEC" run etl/etl.pipe -q &&
  expect_in "pipec: created workspace $T/etl/.pipec" && expect_in "1 ran" &&
  [ -d etl/.pipec ] && [ ! -e .pipec ] &&
  [ "$(grep -c 'created workspace' <<<"$OUT")" = 1 ] &&
  pass "a new workspace goes to the pipeline's directory and is announced once" ||
  fail "a new workspace goes to the pipeline's directory and is announced once"

# from the directory itself and from the parent: the same workspace
(cd etl && expect_exit 0 "$PIPEC" run etl.pipe -q && expect_in "0 ran, 1 cached" &&
  ! grep -q created <<<"$OUT") &&
  expect_exit 0 "$PIPEC" run etl/etl.pipe -q && expect_in "0 ran, 1 cached" &&
  ! grep -q created <<<"$OUT" && [ ! -e .pipec ] &&
  [ "$(cd etl && n_runs)" = 3 ] &&
  pass "run from the parent uses etl/.pipec and hits its cache" ||
  fail "run from the parent uses etl/.pipec and hits its cache: $OUT"
expect_exit 0 "$PIPEC" why etl/etl.pipe a && expect_in "a is cached: it would not run" &&
  expect_exit 0 "$PIPEC" targets etl/etl.pipe &&
  expect_exit 0 "$PIPEC" snapshots etl/etl.pipe && expect_in "etl" &&
  pass "why, targets and snapshots FILE find the file's workspace" ||
  fail "why, targets and snapshots FILE find the file's workspace"

# in a git checkout the workspace goes to the top (the project), so the
# imports of the whole checkout stay inside the project
mkdir -p repo/.git repo/common repo/flows/etl
printf 'component up(x: file) -> (y: file) { command = "cat {x} > {y}" }\n' > repo/common/up.pipe
cat > repo/flows/etl/f.pipe <<'PIPE'
import "../../common/up.pipe"
pipeline f {
  node a = shell(command = "echo f > {out}")
  node b = up(x = a.out)
}
PIPE
(cd repo/flows && expect_exit 0 "$PIPEC" run etl/f.pipe -q &&
  expect_in "pipec: created workspace $T/repo/.pipec") &&
  [ -d repo/.pipec ] && [ ! -e repo/flows/.pipec ] && [ ! -e repo/flows/etl/.pipec ] &&
  (cd repo/flows/etl && expect_exit 0 "$PIPEC" run f.pipe -q && expect_in "0 ran, 2 cached") &&
  pass "in a checkout the workspace is made at its top" ||
  fail "in a checkout the workspace is made at its top: $OUT"

# a file whose directory has no workspace: the current directory's is used
mkdir -p loose
printf 'pipeline loose {\n  node l = shell(command = "echo l > {out}")\n}\n' > loose/l.pipe
(cd etl && expect_exit 0 "$PIPEC" run ../loose/l.pipe -q && ! grep -q created <<<"$OUT" &&
  [ "$(n_runs)" = 4 ]) && [ ! -e loose/.pipec ] &&
  pass "else the current directory's workspace is used" ||
  fail "else the current directory's workspace is used"

# PIPEC_HOME, set explicitly, wins over both
PIPEC_HOME=$T/home expect_exit 0 "$PIPEC" run etl/etl.pipe -q &&
  expect_in "pipec: created workspace $T/home" && expect_in "1 ran" &&
  [ "$(PIPEC_HOME=$T/home n_runs)" = 1 ] && [ "$(cd etl && n_runs)" = 4 ] &&
  pass "PIPEC_HOME wins when set" || fail "PIPEC_HOME wins when set"

# commands without a file search from the current directory only
expect_exit 2 "$PIPEC" runs &&
  expect_in "no .pipec workspace here or in a parent directory" &&
  pass "runs outside any workspace says so" || fail "runs outside any workspace says so"
finish
