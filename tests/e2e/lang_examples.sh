#!/usr/bin/env bash
# The two pipelines of DESIGN §3.2, verbatim in examples/calling and
# examples/sweep: they compile, `graph --format json` shows their
# families with the right members, text and dot draw a family as one
# box, and (until the engine half of language v2 lands) `pipec run`
# refuses them with a message saying what it cannot run yet.
. "$(dirname "$0")/lib.bash"

cp -r "$SRC/examples/calling" "$SRC/examples/sweep" .
# the committed data is what make_data.py writes: regenerate and compare
python3 calling/make_data.py gen-calling && diff -r gen-calling/data calling/data >/dev/null &&
  python3 sweep/make_data.py gen-sweep && diff -r gen-sweep/data sweep/data >/dev/null &&
  pass "the example data is what the seeded generators write" || fail "the example data is what the seeded generators write"

# calling: a path param to a file port, a glob family with a source file
# each, a publish per member, a gather into a [file] port
expect_exit 0 "$PIPEC" check calling/calling.pipe && expect_in "ok: pipeline 'calling', 7 nodes" &&
  pass "calling compiles: idx, 5 aligned, calls" || fail "calling compiles: idx, 5 aligned, calls"
"$PIPEC" graph calling/calling.pipe --format json > calling.json || fail "graph json of calling"
python3 - calling.json <<'PY' && pass "calling: family aligned of 5 (S1..S5), sources, publishes, the gather" || fail "calling: family aligned of 5 (S1..S5), sources, publishes, the gather"
import json, sys
g = json.load(open(sys.argv[1]))
fams = {f["name"]: f for f in g["families"]}
assert list(fams) == ["aligned"], fams
a = fams["aligned"]
assert a["count"] == 5 and a["vars"] == ["s"] and not a["runtime"], a
assert a["keys"] == ["S1", "S2", "S3", "S4", "S5"], a["keys"]
assert a["members"] == ["aligned[S%d]" % i for i in range(1, 6)], a["members"]
nodes = {n["name"]: n for n in g["nodes"]}
assert nodes["aligned[S3]"]["family"] == "aligned" and nodes["aligned[S3]"]["key"] == "S3"
assert nodes["aligned[S3]"]["params"]["sample"] == "S3"
reads = [i for i in nodes["aligned[S3]"]["inputs"] if i["port"] == "reads"][0]
assert reads["kind"] == "source" and reads["source"] == "data/reads/S3.fastq", reads
ref = nodes["idx"]["inputs"][0]
assert ref["kind"] == "source" and ref["source"] == "data/genome.fa", ref
bams = [i for i in nodes["calls"]["inputs"] if i["port"] == "bams"]
assert [b["from"] for b in bams] == a["members"] and [b["index"] for b in bams] == [0, 1, 2, 3, 4], bams
outs = {o["port"]: o for o in nodes["aligned[S1]"]["outputs"]}
assert outs["bam"]["filename"] == "aligned.bam", outs
assert [p["path"] for p in g["publishes"]] == ["results/bam/S%d.bam" % i for i in range(1, 6)] + ["results/all.vcf"], g["publishes"]
assert sorted(s["path"] for s in g["sources"]) == ["data/genome.fa"] + ["data/reads/S%d.fastq" % i for i in range(1, 6)]
PY
expect_exit 0 "$PIPEC" graph calling/calling.pipe && expect_in "aligned[*] = align  (5 members over s: S1 S2 S3 S4 S5)" &&
  expect_in "<- bams = aligned[*].bam (5)  ([file])" && expect_in "publish aligned[S1].bam -> results/bam/S1.bam ... (5, one per member)" &&
  pass "graph text: the family once, with its count" || fail "graph text: the family once, with its count"
"$PIPEC" graph calling/calling.pipe --format dot > calling.dot &&
  [ "$(grep -c '^  "aligned\[\*\]" \[label' calling.dot)" = 1 ] && grep -q 'label="aligned\[\*\]\\nalign\\n× 5"' calling.dot &&
  [ "$(grep -c ' -> "aligned\[\*\]"' calling.dot)" = 2 ] && grep -q '"aligned\[\*\]" -> "calls" \[label="bam → bams"\]' calling.dot &&
  grep -q '"files:aligned.reads" \[label="data/reads/S1.fastq ...\\ndata/reads/S5.fastq\\n(5 files)"' calling.dot &&
  pass "graph dot: one box for the family, its 5 reads as one box, one edge to the gather" || fail "graph dot: one box for the family, its 5 reads as one box, one edge to the gather"
if command -v dot >/dev/null; then
  dot -Tsvg calling.dot > calling.svg && grep -q "<svg" calling.svg && pass "calling's dot renders" || fail "calling's dot renders"
fi

# sweep: list params, a nested loop keyed [seed, l2], gathers over the
# last index and over everything, the one-line form, an if
expect_exit 0 "$PIPEC" check sweep/sweep.pipe && expect_in "ok: pipeline 'sweep', 26 nodes" &&
  pass "sweep compiles: 26 nodes" || fail "sweep compiles: 26 nodes"
"$PIPEC" graph sweep/sweep.pipe --format json > sweep.json || fail "graph json of sweep"
python3 - sweep.json <<'PY' && pass "sweep: parts 3, model 9, score 9, per_seed 3, gathers in SOURCE order" || fail "sweep: parts 3, model 9, score 9, per_seed 3, gathers in SOURCE order"
import json, sys
g = json.load(open(sys.argv[1]))
fams = {f["name"]: f for f in g["families"]}
assert {k: f["count"] for k, f in fams.items()} == {"parts": 3, "model": 9, "score": 9, "per_seed": 3}, fams
assert fams["model"]["vars"] == ["seed", "l2"]
assert fams["model"]["keys"] == ["%d,%s" % (s, l) for s in (1, 2, 3) for l in ("0.01", "0.1", "1.0")], fams["model"]["keys"]
nodes = {n["name"]: n for n in g["nodes"]}
assert "quick" not in nodes
m = nodes["model[2,0.1]"]
assert m["params"]["l2"] == 0.1 and m["inputs"][0]["from"] == "parts[2]" and m["inputs"][0]["from_port"] == "train", m
ps = [i["from"] for i in nodes["per_seed[3]"]["inputs"] if i["port"] == "s"]
assert ps == ["score[3,0.01]", "score[3,0.1]", "score[3,1.0]"], ps
rep = [i["from"] for i in nodes["report"]["inputs"] if i["port"] == "all"]
assert rep == fams["score"]["members"], rep
assert [p for p in g["params"] if p["name"] == "seeds"][0]["items"] == "int"
PY
expect_exit 0 "$PIPEC" check sweep/sweep.pipe -p fast=true && expect_in "27 nodes" && pass "if fast: -p fast=true adds node quick" || fail "if fast: -p fast=true adds node quick"
expect_exit 0 "$PIPEC" graph sweep/sweep.pipe -p seeds=4,5 -p l2s=0.5 --format json && python3 -c '
import json, sys
g = json.loads(sys.argv[1])
f = {x["name"]: x for x in g["families"]}
assert f["parts"]["keys"] == ["4", "5"] and f["model"]["keys"] == ["4,0.5", "5,0.5"], f
' "$OUT" && pass "-p seeds=4,5: list params from the command line, typed items" || fail "-p seeds=4,5: list params from the command line, typed items"
expect_exit 2 "$PIPEC" check sweep/sweep.pipe -p seeds=a,b && expect_in "-p seeds=a,b: expected [int]" && pass "-p of a [int] with strings is refused" || fail "-p of a [int] with strings is refused"
"$PIPEC" graph sweep/sweep.pipe --format dot > sweep.dot && grep -q 'label="model\[\*\]\\nml.logistic_regression\\n× 9"' sweep.dot &&
  [ "$(grep -c ' -> ' sweep.dot)" = 6 ] && pass "sweep's dot: 4 family boxes, 6 edges" || fail "sweep's dot: 4 family boxes, 6 edges"
finish
