#!/usr/bin/env bash
# Language v2 as a user meets it: families run as ordinary nodes and are
# selected as a group; globs match the project's files in order; source
# files are checked when the pipeline compiles (inside the project, by
# real path); a loop body's mistake is said once, not once per item;
# run-time loops compile, draw as one group and run;
# an imported component finds its scripts through {moduledir}.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj && mkdir .pipec
python3 "$SRC/examples/sweep/make_data.py" .

# ---- a family of plain nodes runs with today's engine ----------------------
cat > fam.pipe <<'PIPE'
pipeline fam {
  param seeds : [int] = [1, 2, 3]
  node data = table.read_csv(path = "data/train.csv")
  for seed in seeds {
    node parts[seed] = table.split(input = data.out, ratio = 0.8, seed = seed)
    node model[seed] = ml.logistic_regression(train = parts[seed].train, label = "y")
  }
  node score[seed] = ml.metrics(model = model[seed].model, input = parts[seed].test, label = "y") for seed in seeds
}
PIPE
expect_exit 0 "$PIPEC" run fam.pipe && expect_in "10 ran" && expect_in "score[2].out" &&
  pass "a family runs: 1 + 3 x 3 nodes, members named NAME[KEY]" || fail "a family runs: 1 + 3 x 3 nodes, members named NAME[KEY]"
expect_exit 0 "$PIPEC" run fam.pipe --json && [ "$("$PIPEC" show --json | python3 -c 'import json,sys; print(sum(n["status"] == "cached" for n in json.load(sys.stdin)["nodes"]))')" = 10 ] &&
  pass "a second run: all 10 cached" || fail "a second run: all 10 cached"
expect_exit 0 "$PIPEC" run fam.pipe --nodes 'score[*]' --force && expect_in "3 ran" &&
  pass "--nodes 'score[*]' runs the 3 members" || fail "--nodes 'score[*]' runs the 3 members"
expect_exit 0 "$PIPEC" run fam.pipe --node 'model[2]' --force && expect_in "1 ran" &&
  pass "--node 'model[2]' runs one member" || fail "--node 'model[2]' runs one member"
expect_exit 0 "$PIPEC" run fam.pipe --nodes 'model[1],score[1]' --force && expect_in "2 ran" &&
  pass "--nodes keeps 'model[1],score[1]' apart at the comma" || fail "--nodes keeps 'model[1],score[1]' apart at the comma"
expect_exit 0 "$PIPEC" run fam.pipe --from 'parts[*]' --force && expect_in "9 ran" &&
  pass "--from 'parts[*]': the family and what follows" || fail "--from 'parts[*]': the family and what follows"
expect_exit 0 "$PIPEC" run fam.pipe --to 'model[3]' --force && expect_in "3 ran" &&
  pass "--to 'model[3]': data, parts[3], model[3]" || fail "--to 'model[3]': data, parts[3], model[3]"
expect_exit 2 "$PIPEC" run fam.pipe --node parts && expect_in "'parts' is a family of 3 nodes: select 'parts[*]' for all of them, or one, like 'parts[1]'" &&
  pass "a bare family name says how to select it" || fail "a bare family name says how to select it"
expect_exit 2 "$PIPEC" run fam.pipe --node 'parts[9]' && expect_in "no member of family 'parts' matches 'parts[9]'" &&
  pass "an unknown member is named" || fail "an unknown member is named"
expect_exit 2 "$PIPEC" run fam.pipe --node 'modle[*]' && expect_in "did you mean 'model[*]'" &&
  pass "a mistyped family: did you mean" || fail "a mistyped family: did you mean"
expect_exit 0 "$PIPEC" why fam.pipe 'score[3]' && expect_in "score[3] is cached" &&
  pass "pipec why takes a member's name" || fail "pipec why takes a member's name"

# ---- globs: matched when the pipeline compiles, sorted, keyed by {VAR} --------
mkdir -p data/samples/b data/samples/a data/samples/c
for s in c a b; do echo "$s" > data/samples/$s/reads.txt; done
echo hidden > data/samples/.x.txt; mkdir -p data/samples/.h && echo h > data/samples/.h/reads.txt
cat > glob.pipe <<'PIPE'
pipeline g {
  for s in glob("data/samples/{s}/reads.txt") {
    node n[s] = shell(command = "cat {r} > {out}", r = file("data/samples/${s}/reads.txt"))
  }
  node all = shell(command = "cat {x} > {out}", x = n[*].out, names = keys(n))
}
PIPE
"$PIPEC" graph glob.pipe --format json > glob.json &&
  python3 -c 'import json; g = json.load(open("glob.json")); f = g["families"][0]; assert f["keys"] == ["a", "b", "c"], f["keys"]; all = [n for n in g["nodes"] if n["name"] == "all"][0]; assert all["params"]["names"] == ["a", "b", "c"], all' &&
  pass "glob: one member per match, sorted, hidden entries skipped; keys() in the same order" || fail "glob: one member per match, sorted, hidden entries skipped; keys() in the same order"
sed 's/samples/nothing/g' glob.pipe > empty.pipe
expect_exit 0 "$PIPEC" check empty.pipe && expect_in "matches no file" && expect_in "1 warning" &&
  pass "a glob matching nothing: a warning, an empty family, the gather compiles" || fail "a glob matching nothing: a warning, an empty family, the gather compiles"

# ---- source files: exist, of the right kind, inside the project by real path
mkdir -p "$T/elsewhere" && echo secret > "$T/elsewhere/s.txt" && ln -s "$T/elsewhere/s.txt" data/link.txt
cat > src.pipe <<'PIPE'
pipeline s {
  node a = shell(command = "cat {f} > {out}", f = file("data/link.txt"))
}
PIPE
expect_exit 2 "$PIPEC" check src.pipe && expect_in "'data/link.txt' is outside the project" && expect_in "it is a link to" &&
  pass "a source file linking out of the project is refused, saying where it points" || fail "a source file linking out of the project is refused, saying where it points"
PIPEC_ALLOW_OUTSIDE=1 expect_exit 0 "$PIPEC" check src.pipe && pass "PIPEC_ALLOW_OUTSIDE=1 allows it" || fail "PIPEC_ALLOW_OUTSIDE=1 allows it"
cat > str.pipe <<'PIPE'
pipeline s {
  node a = shell(command = "wc -l < {f} > {out}", f = "data/train.csv")
}
PIPE
expect_exit 0 "$PIPEC" check str.pipe && expect_in "warning: argument 'f' names the project file 'data/train.csv'" &&
  expect_in "write file(\"data/train.csv\") so its content is part of the cache key" &&
  pass "a string naming a project file gets a warning with the fix" || fail "a string naming a project file gets a warning with the fix"
expect_exit 2 "$PIPEC" run src.pipe && expect_in "is outside the project" && pass "run compiles first: the same error" || fail "run compiles first: the same error"
PIPEC_ALLOW_OUTSIDE=1 expect_exit 0 "$PIPEC" run src.pipe && PIPEC_ALLOW_OUTSIDE=1 expect_stdout 0 "$PIPEC" cat a && [ "$OUT" = secret ] &&
  pass "PIPEC_ALLOW_OUTSIDE=1: the source file outside runs, its bytes are the node's input" || fail "PIPEC_ALLOW_OUTSIDE=1: the source file outside runs: $OUT"

# ---- a loop body's mistake, said once for 1000 items -------------------------
cat > many.pipe <<'PIPE'
pipeline m {
  for i in range(1000) {
    node n[i] = shel(command = "echo ${i} > {out}")
    node k[i] = shell(command = "cat {x} > {out}", x = n[i].nope)
  }
}
PIPE
expect_exit 2 "$PIPEC" check many.pipe && [ "$(grep -c "error: unknown component 'shel'" <<<"$OUT")" = 1 ] && expect_in "1 error" &&
  pass "1000 items, one mistake in the body: one error" || fail "1000 items, one mistake in the body: one error"

# ---- run-time loops: compiled and drawn as one group, then run ------------
cat > rt.pipe <<'PIPE'
pipeline rt {
  component split(input: file) -> (chunks: dir) {
    command = "split -l 10 {input} {chunks}/part_"
  }
  node src = shell(command = "seq 100 > {out}")
  node parts = split(input = src.out)
  for c in parts.chunks {
    node counted[c] = shell(command = "wc -l < {x} > {out}", x = c, name = "${c}")
  }
  node total = shell(command = "cat {all} > {out}", all = counted[*].out, names = keys(counted))
}
PIPE
expect_exit 0 "$PIPEC" check rt.pipe && expect_in "3 nodes" && pass "a run-time loop compiles" || fail "a run-time loop compiles"
"$PIPEC" graph rt.pipe --format json > rt.json &&
  python3 -c '
import json
g = json.load(open("rt.json"))
f = g["families"][0]
assert f["runtime"] and f["count"] == 0 and f["expands_after"] == "parts" and f["templates"] == ["counted[*]"], f
fo = g["fanouts"][0]
assert fo["kind"] == "dir" and fo["producer"] == "parts" and fo["port"] == "chunks" and fo["var"] == "c", fo
t = g["templates"][0]
assert t["inputs"][0]["kind"] == "item" and t["deferred"][0] == {"param": "name", "kind": "item", "text": "${c}"}, t
tot = [n for n in g["nodes"] if n["name"] == "total"][0]
assert tot["inputs"][0]["kind"] == "gather" and tot["inputs"][0]["from"] == "counted[*]", tot
assert tot["deferred"][0]["kind"] == "keys", tot
' && pass "graph json: the run-time family, its loop, its template, the gather and keys() deferred" || fail "graph json: the run-time family, its loop, its template, the gather and keys() deferred"
expect_exit 0 "$PIPEC" graph rt.pipe --format dot && expect_in 'label="counted[*]\nshell\nexpands after parts"' &&
  pass "graph dot: one dashed box, expands after parts" || fail "graph dot: one dashed box, expands after parts"
expect_exit 0 "$PIPEC" run rt.pipe && expect_in "expanded  counted[*]: 10 members from parts.chunks" &&
  expect_stdout 0 "$PIPEC" cat total && [ "$(head -n 1 <<<"$OUT")" = 10 ] &&
  pass "a run-time loop runs: 10 members, gathered (e2e/runtime_fanout tests it in depth)" || fail "run of a run-time loop: $OUT"

# ---- {moduledir}: an imported component finds its own scripts ---------------
mkdir -p common/scripts
printf 'tr a-z A-Z < "$1" > "$2"\n' > common/scripts/up.sh
cat > common/up.pipe <<'PIPE'
component upper(x: file) -> (y: file) {
  command = "sh {moduledir}/scripts/up.sh {x} {y}"
  code = ["scripts/up.sh"]
}
PIPE
cat > md.pipe <<'PIPE'
import "common/up.pipe"
pipeline md {
  node a = shell(command = "echo hello > {out}")
  node b = upper(x = a.out)
}
PIPE
expect_exit 0 "$PIPEC" run md.pipe && expect_stdout 0 "$PIPEC" cat b && [ "$OUT" = HELLO ] &&
  pass "{moduledir}: common/scripts/up.sh found from the pipeline's directory" || fail "{moduledir}: common/scripts/up.sh found from the pipeline's directory"
finish
