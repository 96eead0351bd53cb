#!/usr/bin/env bash
# pipec check / graph / help on real files: exit codes, formats, help texts.
. "$(dirname "$0")/lib.bash"

cp -r "$SRC/examples" ex

expect_exit 0 "$PIPEC" check ex/wordcount/wordcount.pipe && expect_in "ok: pipeline 'wordcount', 4 nodes" && pass "check wordcount" || fail "check wordcount"
expect_exit 0 "$PIPEC" check ex/churn/churn.pipe && expect_in "ok: pipeline 'churn', 6 nodes" && pass "check churn (DESIGN example, imports)" || fail "check churn (DESIGN example, imports)"

# graph: text, json (valid, stable keys), dot (renders with graphviz if present)
expect_exit 0 "$PIPEC" graph ex/wordcount/wordcount.pipe && expect_in "counts = count" && pass "graph text" || fail "graph text"
"$PIPEC" graph ex/churn/churn.pipe --format json > g.json || fail "graph json exit"
python3 - g.json <<'PY' || fail "graph json content"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["pipeline"] == "churn", g["pipeline"]
names = [n["name"] for n in g["nodes"]]
assert names.index("load") < names.index("feats") < names.index("parts") < names.index("model"), names
feats = next(n for n in g["nodes"] if n["name"] == "feats")
assert feats["target"] == "cluster" and feats["params"]["min_count"] == 3, feats
assert {"from": "load", "from_port": "out", "to": "feats", "to_port": "raw", "type": "table"} in g["edges"]
assert any(t["name"] == "box" and t["kind"] == "ssh" for t in g["targets"])
PY
[ $? = 0 ] && pass "graph json" || fail "graph json"
"$PIPEC" graph ex/churn/churn.pipe --format dot > g.dot || fail "graph dot exit"
grep -q '"load" -> "feats"' g.dot || fail "dot has the load -> feats edge"
if command -v dot >/dev/null; then
  dot -Tsvg g.dot > g.svg && grep -q "<svg" g.svg && pass "dot renders" || fail "dot -Tsvg"
fi
expect_exit 2 "$PIPEC" graph ex/churn/churn.pipe --format png && expect_in "unknown format 'png'" && pass "bad format" || fail "bad format"

# params on the command line
expect_exit 0 "$PIPEC" graph ex/wordcount/wordcount.pipe -p top=3 && expect_in "n = 3" && pass "-p override" || fail "-p override"
expect_exit 2 "$PIPEC" check ex/wordcount/wordcount.pipe -p top=many && pass "-p bad int" || fail "-p bad int"
expect_exit 2 "$PIPEC" check ex/wordcount/wordcount.pipe -p tpo=3 && expect_in "did you mean 'top'" && pass "-p unknown name" || fail "-p unknown name"

# many errors: the first 50 are shown, then how to see the rest
{ echo 'pipeline many {'; for i in $(seq 60); do echo "  node n$i = nosuch$i()"; done; echo '}'; } > many.pipe
expect_exit 2 "$PIPEC" check many.pipe && expect_in "60 errors" &&
  expect_in "only the first 50 errors are shown; PIPEC_ERROR_LIMIT=0 shows them all" &&
  [ "$(grep -c 'error: unknown component' <<<"$OUT")" = 50 ] && expect_in "many.pipe:51:" &&
  ! grep -q "many.pipe:52:" <<<"$OUT" && pass "error limit: 50 of 60 shown" || fail "error limit: 50 of 60 shown"
expect_exit 2 env PIPEC_ERROR_LIMIT=0 "$PIPEC" check many.pipe &&
  [ "$(grep -c 'error: unknown component' <<<"$OUT")" = 60 ] && pass "PIPEC_ERROR_LIMIT=0 shows all 60" || fail "PIPEC_ERROR_LIMIT=0 shows all 60"

# usage errors and help
expect_exit 2 "$PIPEC" check && expect_in "missing FILE" && pass "missing FILE" || fail "missing FILE"
expect_exit 2 "$PIPEC" check nope.pipe && expect_in "cannot read 'nope.pipe'" && pass "missing file" || fail "missing file"
expect_exit 2 "$PIPEC" chekc x.pipe && expect_in "did you mean 'check'" && pass "command typo" || fail "command typo"
expect_exit 0 "$PIPEC" --help && expect_in "usage: pipec COMMAND" && pass "--help" || fail "--help"
expect_exit 0 "$PIPEC" help graph && expect_in "--format" && pass "help graph" || fail "help graph"
expect_exit 0 "$PIPEC" check --help && expect_in "usage: pipec check" && pass "check --help" || fail "check --help"
expect_exit 0 "$PIPEC" --version && expect_in "pipec " && pass "--version" || fail "--version"
finish
