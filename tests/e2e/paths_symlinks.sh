#!/usr/bin/env bash
# A file the pipeline reads must really be inside the project: an import, a
# `code` file or a `path` value reached through a symbolic link (to a file
# or to a directory on the way) that leaves the project is a compile error
# naming the path and its real path, at the line that names it, and no byte
# of such a file is shown. An import must be a regular file. A link that
# stays inside the project is fine; PIPEC_ALLOW_OUTSIDE=1 allows the rest.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/.git outside && cd proj
ROOT=$(pwd -P)
OUTSIDE=$(cd ../outside && pwd -P)
printf 'component up(x: file) -> (y: file) { command = "cat {x} > {y}" }\n' > ../outside/up.pipe
printf 'secret-line-1\nsecret-line-2\n' > ../outside/data.csv
printf 'echo hi > "$1"\n' > ../outside/run.sh
ln -s ../outside linked          # a directory link leading out
ln -s /etc/passwd pw.pipe        # a file link leading out

cat > dirlink.pipe <<'PIPE'
pipeline p {
  node a = shell(command = "echo > {out}")
}
import "linked/up.pipe"
PIPE
expect_exit 2 "$PIPEC" check dirlink.pipe &&
  expect_in "dirlink.pipe:4:8: error: import 'linked/up.pipe' is outside the project ($ROOT): its real path is $OUTSIDE/up.pipe" &&
  pass "an import through a linked directory that leaves the project is refused at its line" ||
  fail "an import through a linked directory that leaves the project is refused at its line"

cat > passwd.pipe <<'PIPE'
import "pw.pipe"
pipeline p {
  node a = shell(command = "echo > {out}")
}
PIPE
expect_exit 2 "$PIPEC" check passwd.pipe &&
  expect_in "passwd.pipe:1:8: error: import 'pw.pipe' is outside the project ($ROOT): its real path is /etc/passwd" &&
  [ "$(grep -c 'root:' <<<"$OUT")" = 0 ] && [ "$(grep -c ': error:' <<<"$OUT")" = 1 ] &&
  pass "import of a link to /etc/passwd: one error, none of the file's bytes shown" ||
  fail "import of a link to /etc/passwd: one error, none of the file's bytes shown: $OUT"

cat > code.pipe <<'PIPE'
pipeline p {
  component c() -> (out: file) {
    command = "sh linked/run.sh {out}"
    code = ["linked/run.sh"]
  }
  node a = c()
}
PIPE
expect_exit 2 "$PIPEC" check code.pipe &&
  expect_in "code.pipe:4:13: error: code file 'linked/run.sh' is outside the project ($ROOT): its real path is $OUTSIDE/run.sh" &&
  pass "a code file through a link out is refused" ||
  fail "a code file through a link out is refused"

ln -s ../outside/data.csv data.csv
cat > data.pipe <<'PIPE'
pipeline p {
  param data : path = "data.csv"
  node load = table.read_csv(path = data)
  node again = table.read_csv(path = "linked/data.csv")
}
PIPE
expect_exit 2 "$PIPEC" run data.pipe &&
  expect_in "data.pipe:2:23: error: param 'data': path 'data.csv' is outside the project ($ROOT): its real path is $OUTSIDE/data.csv" &&
  expect_in "data.pipe:4:38: error: param 'path' of 'table.read_csv': path 'linked/data.csv' is outside the project ($ROOT): its real path is $OUTSIDE/data.csv" &&
  [ "$(grep -c secret-line <<<"$OUT")" = 0 ] && [ ! -e .pipec ] &&
  pass "path params through links out are refused before anything runs" ||
  fail "path params through links out are refused before anything runs"
# the -p override is compiled, so checked, too
printf 'a\n1\n' > ok.csv
sed -i 's|"linked/data.csv"|"ok.csv"|' data.pipe
expect_exit 2 "$PIPEC" check data.pipe -p data=linked/data.csv &&
  expect_in "pipec: error: -p data=linked/data.csv: path 'linked/data.csv' is outside the project ($ROOT): its real path is $OUTSIDE/data.csv" &&
  pass "a -p path override through a link out is refused" ||
  fail "a -p path override through a link out is refused"

# what an import must be: a regular file
mkdir -p lib && mkfifo fifo.pipe
printf 'import "lib"\npipeline p { node a = shell(command = "echo > {out}") }\n' > dir.pipe
printf 'import "fifo.pipe"\npipeline p { node a = shell(command = "echo > {out}") }\n' > fifo.pipe.pipe
expect_exit 2 "$PIPEC" check dir.pipe &&
  expect_in "dir.pipe:1:8: error: import 'lib' is a directory, not a file" &&
  pass "importing a directory is an error at the import" || fail "importing a directory is an error at the import"
expect_exit 2 timeout 20 "$PIPEC" check fifo.pipe.pipe &&
  expect_in "fifo.pipe.pipe:1:8: error: import 'fifo.pipe' is a device, FIFO or socket, not a file" &&
  pass "importing a FIFO is an error (and does not hang)" || fail "importing a FIFO is an error (and does not hang)"

# links that stay inside are fine, and the run works through them
mkdir -p real/sub && printf 'component up(x: table) -> (y: table) { command = "cat {x} > {y}" }\n' > real/sub/up.pipe
printf 'x\n1\n' > real/sub/in.csv
ln -s real/sub inner
cat > inside.pipe <<'PIPE'
import "inner/up.pipe"
pipeline p {
  node load = table.read_csv(path = "inner/in.csv")
  node copy = up(x = load.out)
}
PIPE
expect_exit 0 "$PIPEC" run inside.pipe -q && OUT=$("$PIPEC" cat copy 2>/dev/null) && [ "$OUT" = $'x\n1' ] &&
  pass "links that stay inside the project are followed" || fail "links that stay inside the project are followed: $OUT"

PIPEC_ALLOW_OUTSIDE=1 expect_exit 0 "$PIPEC" check dirlink.pipe &&
  PIPEC_ALLOW_OUTSIDE=1 expect_exit 0 "$PIPEC" check code.pipe &&
  pass "PIPEC_ALLOW_OUTSIDE=1 allows links out" || fail "PIPEC_ALLOW_OUTSIDE=1 allows links out"
finish
