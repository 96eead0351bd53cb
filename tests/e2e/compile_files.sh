#!/usr/bin/env bash
# The files a pipeline names are checked when it compiles: a missing `code`
# file or `path` param's file (default, node argument or -p override) makes
# `pipec check` fail at the place it is written, with the nearest name in
# its directory; nothing runs. A glob in `code` is expanded when the
# pipeline compiles (files only, sorted), must match something, and every
# match is in the cache key like a listed file.
. "$(dirname "$0")/lib.bash"

mkdir -p scripts data lib
printf 'print("featurize")\n' > scripts/featurize.py
printf 'id,churned\n1,0\n2,1\n' > data/customers.csv

cat > code.pipe <<'PIPE'
pipeline p {
  component feats() -> (out: file) {
    command = "cat scripts/featurize.py > {out}"
    code    = ["scripts/featurise.py"]
  }
  node a = feats()
}
PIPE
expect_exit 2 "$PIPEC" check code.pipe &&
  expect_in "code.pipe:4:16: error: code file 'scripts/featurise.py' does not exist" &&
  expect_in "4 |     code    = [\"scripts/featurise.py\"]" &&
  expect_in "  |                ^~~~~~~~~~~~~~~~~~~~~~" &&
  expect_in "= hint: did you mean 'scripts/featurize.py'?" &&
  pass "a missing code file fails the check at its line, with a suggestion" ||
  fail "a missing code file fails the check at its line, with a suggestion"

cat > data.pipe <<'PIPE'
pipeline p {
  param data : path = "data/customrs.csv"
  node load  = table.read_csv(path = data)
  node other = table.read_csv(path = "data/nothere.csv")
}
PIPE
expect_exit 2 "$PIPEC" check data.pipe &&
  expect_in "data.pipe:2:23: error: param 'data': path 'data/customrs.csv' does not exist" &&
  expect_in "= hint: did you mean 'data/customers.csv'?" &&
  expect_in "data.pipe:4:38: error: param 'path' of 'table.read_csv': path 'data/nothere.csv' does not exist" &&
  expect_in "2 errors" &&
  pass "missing path param files fail the check where they are written" ||
  fail "missing path param files fail the check where they are written"
expect_exit 2 "$PIPEC" run data.pipe && [ ! -e .pipec ] &&
  pass "a run with a missing file runs nothing" || fail "a run with a missing file runs nothing"

sed -i 's|data/customrs.csv|data/customers.csv|; s|data/nothere.csv|data/customers.csv|' data.pipe
expect_exit 0 "$PIPEC" check data.pipe && pass "with the files there it compiles" || fail "with the files there it compiles"
expect_exit 2 "$PIPEC" check data.pipe -p data=data/customer.csv &&
  expect_in "pipec: error: -p data=data/customer.csv: path 'data/customer.csv' does not exist" &&
  expect_in "= hint: did you mean 'data/customers.csv'?" &&
  pass "a -p override of a path param is checked" || fail "a -p override of a path param is checked"
# from another directory, paths stay relative to the pipeline's directory
mkdir -p elsewhere && cd elsewhere
expect_exit 2 "$PIPEC" check ../data.pipe -p data=data/nope.csv &&
  expect_in "-p data=data/nope.csv: path '../data/nope.csv' does not exist" &&
  expect_in "= hint: paths are relative to the pipeline file's directory (..)" &&
  pass "the message says where a path is looked for" || fail "the message says where a path is looked for"
cd ..

# globs in code
printf 'print(1)\n' > scripts/a.py
printf 'print(2)\n' > scripts/b.py
printf 'notes\n' > scripts/notes.txt
mkdir -p scripts/dir.py
cat > glob.pipe <<'PIPE'
pipeline g {
  component c() -> (out: file) {
    command = "cat scripts/a.py scripts/b.py > {out}"
    code = ["scripts/*.py"]
  }
  node a = c()
  node b = shell(command = "echo other > {out}")
}
PIPE
expect_exit 0 "$PIPEC" run glob.pipe -q && expect_in "2 ran" &&
  expect_exit 0 "$PIPEC" run glob.pipe -q && expect_in "0 ran, 2 cached" &&
  pass "a code glob compiles and runs; the re-run is cached" || fail "a code glob compiles and runs; the re-run is cached"
printf 'print(22)\n' > scripts/b.py
expect_exit 0 "$PIPEC" why glob.pipe a && expect_in "code file 'scripts/b.py' changed" &&
  expect_exit 0 "$PIPEC" run glob.pipe -q && expect_in "1 ran, 1 cached" &&
  pass "editing a matched file re-runs exactly its node" || fail "editing a matched file re-runs exactly its node"
printf 'print(3)\n' > scripts/c.py
expect_exit 0 "$PIPEC" why glob.pipe a && expect_in "code file 'scripts/c.py' added" &&
  expect_exit 0 "$PIPEC" run glob.pipe -q && expect_in "1 ran, 1 cached" &&
  pass "a new file matching the glob re-runs the node" || fail "a new file matching the glob re-runs the node"
printf 'more notes\n' > scripts/notes.txt
expect_exit 0 "$PIPEC" run glob.pipe -q && expect_in "0 ran, 2 cached" &&
  pass "a file the glob does not match changes nothing" || fail "a file the glob does not match changes nothing"

sed -i 's|scripts/\*.py|scripts/*.rb|' glob.pipe
expect_exit 2 "$PIPEC" check glob.pipe &&
  expect_in "glob.pipe:4:13: error: code pattern 'scripts/*.rb' matches no file" &&
  pass "a code glob matching nothing is an error" || fail "a code glob matching nothing is an error"

# a glob is relative to the file declaring the component
printf 'echo one\n' > lib/one.sh
printf 'echo two\n' > lib/two.sh
cat > lib/common.pipe <<'PIPE'
component tool() -> (out: file) {
  command = "sh lib/one.sh > {out}"
  code = ["*.sh"]
}
PIPE
cat > imp.pipe <<'PIPE'
import "lib/common.pipe"
pipeline i {
  node t = tool()
}
PIPE
expect_exit 0 "$PIPEC" run imp.pipe -q && printf 'echo 2\n' > lib/two.sh &&
  expect_exit 0 "$PIPEC" why imp.pipe t && expect_in "code file 'lib/two.sh' changed" &&
  pass "a glob in an imported file matches next to that file" || fail "a glob in an imported file matches next to that file"
finish
