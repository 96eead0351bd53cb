#!/usr/bin/env bash
# The two pipelines of DESIGN §3.2, as examples/calling and examples/sweep,
# run for real: calling with Debian's bwa, samtools and bcftools over five
# generated samples, sweep with the ML built-ins over 3 seeds x 3 l2s.
#   - calling's VCF body equals the one the same tools make by hand;
#   - an unchanged re-run is fully cached;
#   - a new sample file runs exactly its member and the gather;
#   - editing one sample's reads runs exactly that member and the gather;
#   - --node 'aligned[S3]' runs that one member;
#   - published files are there, and a deleted one comes back without a
#     node running;
#   - sweep: 9 metrics files, one per (seed, l2), each split computed once.
. "$(dirname "$0")/lib.bash"
for t in bwa samtools bcftools python3; do
  command -v $t >/dev/null || { fail "$t is missing (.ci/install-deps --test)"; finish; }
done

# ran NAMES...: the nodes the last run ran (succeeded), sorted, one line
ran() {
  "$PIPEC" show --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join(sorted(n["name"] for n in r["nodes"] if n["status"] == "succeeded")))'
}

# ---- calling ---------------------------------------------------------------
cp -r "$SRC/examples/calling" calling && cd calling
expect_exit 0 "$PIPEC" run calling.pipe -q && expect_in "7 ran, 0 cached" &&
  pass "calling runs: index, 5 alignments, the joint call" || fail "calling runs: $OUT"

# the same by hand
mkdir -p ../byhand && cp data/genome.fa ../byhand/ &&
  (cd ../byhand && bwa index genome.fa 2>/dev/null && samtools faidx genome.fa &&
   for s in S1 S2 S3 S4 S5; do
     bwa mem -R "@RG\tID:$s\tSM:$s" genome.fa "../calling/data/reads/$s.fastq" 2>/dev/null |
       samtools sort -o "$s.bam" - 2>/dev/null
   done &&
   bcftools mpileup -f genome.fa S1.bam S2.bam S3.bam S4.bam S5.bam 2>/dev/null |
     bcftools call -mv -o calls.vcf 2>/dev/null) || fail "the by-hand pipeline"
body() { grep -v '^#' "$1"; }
[ -s results/all.vcf ] && [ "$(body results/all.vcf | wc -l)" -gt 0 ] &&
  [ "$(body results/all.vcf)" = "$(body ../byhand/calls.vcf)" ] &&
  pass "the published VCF's body equals the one made by hand ($(body results/all.vcf | wc -l) variants)" ||
  fail "the VCF differs from the one made by hand"
[ "$(ls results/bam)" = "$(printf 'S1.bam\nS2.bam\nS3.bam\nS4.bam\nS5.bam')" ] &&
  [ ! -L results/bam/S1.bam ] && [ "$(stat -c %a results/all.vcf)" = 644 ] &&
  pass "each sample's BAM is published, as a file of the user's" || fail "published BAMs: $(ls -l results/bam)"

expect_exit 0 "$PIPEC" run calling.pipe -q && expect_in "0 ran, 7 cached" &&
  pass "an unchanged re-run is fully cached" || fail "unchanged re-run: $OUT"

# a new sample: exactly its member and the gather run
cp data/reads/S1.fastq data/reads/S6.fastq
expect_exit 0 "$PIPEC" run calling.pipe -q && [ "$(ran)" = "aligned[S6] calls" ] &&
  [ -f results/bam/S6.bam ] &&
  pass "a new sample file runs exactly aligned[S6] and calls" || fail "new sample ran: $(ran)"

# one sample's reads edited: exactly that member and the gather
python3 - <<'PY'
lines = open("data/reads/S2.fastq").read().split("\n")
lines[1] = ("T" if lines[1][0] != "T" else "A") + lines[1][1:]   # one base of the first read
open("data/reads/S2.fastq", "w").write("\n".join(lines))
PY
expect_exit 0 "$PIPEC" run calling.pipe -q && [ "$(ran)" = "aligned[S2] calls" ] &&
  pass "editing one sample's reads runs exactly aligned[S2] and calls" || fail "edited sample ran: $(ran)"
expect_exit 0 "$PIPEC" why calling.pipe 'aligned[S2]' && expect_in "is cached" &&
  pass "why on a member" || fail "why on a member: $OUT"


rm results/all.vcf && echo edited > results/bam/S4.bam
expect_exit 0 "$PIPEC" run calling.pipe && expect_in "0 ran, 8 cached" &&
  expect_in "published results/all.vcf" && expect_in "published results/bam/S4.bam" &&
  [ "$(body results/all.vcf)" != "" ] && cmp -s results/bam/S4.bam <("$PIPEC" cat 'aligned[S4]' 2>/dev/null) &&
  pass "a deleted and an edited published file come back, no node runs" || fail "restore published: $OUT"
# (samtools writes its command line, with the scratch path, into the BAM:
# a forced member makes new bytes, so this comes last)
expect_exit 0 "$PIPEC" run calling.pipe -q --node 'aligned[S3]' --force && [ "$(ran)" = "aligned[S3]" ] &&
  pass "--node 'aligned[S3]' runs that member only" || fail "--node aligned[S3] ran: $(ran)"
cd ..

# ---- sweep -----------------------------------------------------------------
cp -r "$SRC/examples/sweep" sweep && cd sweep
expect_exit 0 "$PIPEC" run sweep.pipe -q && expect_in "26 ran, 0 cached" &&
  pass "sweep runs: 1 read, 3 splits, 9 models, 9 scores, 3 per-seed reports, 1 report" || fail "sweep: $OUT"
n=0
for seed in 1 2 3; do
  for l2 in 0.01 0.1 1.0; do
    "$PIPEC" cat "score[$seed,$l2]" 2>/dev/null | python3 -c 'import json,sys; m=json.load(sys.stdin); assert isinstance(m["accuracy"], float) and m["n"] > 0, m' && n=$((n + 1))
  done
done
[ $n = 9 ] && pass "9 metrics files, one per (seed, l2), each with its accuracy" || fail "metrics files: $n of 9"
"$PIPEC" show --json | python3 -c '
import json, sys
nodes = [n["name"] for n in json.load(sys.stdin)["nodes"] if n["status"] == "succeeded"]
assert sorted(x for x in nodes if x.startswith("parts[")) == ["parts[1]", "parts[2]", "parts[3]"], nodes
' && pass "each split is computed once for its three models" || fail "splits"
expect_exit 0 "$PIPEC" cat report && [ "$(grep -c . <<<"$OUT")" -ge 9 ] &&
  pass "the report gathers all nine scores" || fail "report: $OUT"
expect_exit 0 "$PIPEC" run sweep.pipe -q && expect_in "0 ran, 26 cached" &&
  pass "sweep re-run fully cached" || fail "sweep re-run: $OUT"
expect_exit 0 "$PIPEC" run sweep.pipe -q -p fast=true && expect_in "1 ran, 26 cached" &&
  pass "if fast: -p fast=true adds quick, the rest is cached" || fail "fast: $OUT"
finish
