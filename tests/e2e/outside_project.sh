#!/usr/bin/env bash
# An import or a `code` file outside the project (the nearest directory
# holding .git or .pipec, else the pipeline file's directory) is a compile
# error unless PIPEC_ALLOW_OUTSIDE=1.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/sub && cd proj
printf 'component up(x: file) -> (y: file) { command = "cat {x} > {y}" }\n' > ../outside.pipe
printf 'echo hi > "$1"\n' > ../run.sh
printf 'component inner() -> (out: file) { command = "echo > {out}" }\n' > sub/inner.pipe
cat > imp.pipe <<'PIPE'
import "../outside.pipe"
pipeline p {
  node a = shell(command = "echo > {out}")
}
PIPE
cat > code.pipe <<'PIPE'
pipeline p {
  component c() -> (out: file) {
    command = "sh ../run.sh {out}"
    code = ["../run.sh"]
  }
  node a = c()
}
PIPE
cat > ok.pipe <<'PIPE'
import "sub/inner.pipe"
pipeline p {
  node a = inner()
}
PIPE
expect_exit 2 "$PIPEC" check imp.pipe && expect_in "import '../outside.pipe' is outside the project" && pass "import outside the project refused" || fail "import outside the project refused"
expect_exit 2 "$PIPEC" check code.pipe && expect_in "code file '../run.sh' is outside the project" && pass "code file outside the project refused" || fail "code file outside the project refused"
expect_exit 0 "$PIPEC" check ok.pipe && pass "imports inside the project are fine" || fail "imports inside the project are fine"
PIPEC_ALLOW_OUTSIDE=1 expect_exit 0 "$PIPEC" check imp.pipe && pass "PIPEC_ALLOW_OUTSIDE=1 allows it" || fail "PIPEC_ALLOW_OUTSIDE=1 allows it"
# a .pipec (or .git) above makes the project larger
mkdir -p ../.pipec
expect_exit 0 "$PIPEC" check imp.pipe && pass "the workspace's directory is the project" || fail "the workspace's directory is the project"
finish
