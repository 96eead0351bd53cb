#!/usr/bin/env python3
"""make_data.py — the small, seeded data set of examples/calling.

Writes data/genome.fa (a random 2 kb genome) and data/reads/S1..S5.fastq:
300 single-end 60 bp reads per sample, error-free, drawn from the genome
with a few SNPs per sample (one shared by all, one shared by S1-S3, one of
each sample's own). The same seed always gives the same bytes, so the
committed files can be re-made and compared: python3 make_data.py [DIR].
"""
import os
import random
import sys

SEED = 20241201
GENOME_LEN = 2000
READ_LEN = 60
READS = 300
SAMPLES = ["S1", "S2", "S3", "S4", "S5"]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)
    genome = "".join(rng.choice("ACGT") for _ in range(GENOME_LEN))
    # SNP positions away from the ends, so reads cover them well
    shared, some = 500, 900
    own = {s: 1200 + 150 * i for i, s in enumerate(SAMPLES)}
    alt = {pos: rng.choice([b for b in "ACGT" if b != genome[pos]])
           for pos in [shared, some] + list(own.values())}
    data = os.path.join(out, "data")
    os.makedirs(os.path.join(data, "reads"), exist_ok=True)
    with open(os.path.join(data, "genome.fa"), "w") as f:
        f.write(">chr1\n")
        for i in range(0, GENOME_LEN, 60):
            f.write(genome[i:i + 60] + "\n")
    for k, s in enumerate(SAMPLES):
        seq = list(genome)
        snps = [shared, own[s]] + ([some] if k < 3 else [])
        for pos in snps:
            seq[pos] = alt[pos]
        seq = "".join(seq)
        with open(os.path.join(data, "reads", s + ".fastq"), "w") as f:
            for r in range(READS):
                start = rng.randrange(0, GENOME_LEN - READ_LEN)
                f.write("@%s_%d\n%s\n+\n%s\n" % (s, r, seq[start:start + READ_LEN], "I" * READ_LEN))


if __name__ == "__main__":
    main()
