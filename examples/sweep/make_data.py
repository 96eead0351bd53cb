#!/usr/bin/env python3
"""make_data.py — data/train.csv of examples/sweep: 200 rows, three
numeric features and a 0/1 label `y` (noisy, so the l2 values matter a
little). Seeded: the same bytes every time. python3 make_data.py [DIR]."""
import math
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rng = random.Random(7)
os.makedirs(os.path.join(out, "data"), exist_ok=True)
with open(os.path.join(out, "data", "train.csv"), "w") as f:
    f.write("x1,x2,x3,y\n")
    for _ in range(200):
        x1, x2, x3 = (round(rng.gauss(0, 1), 3) for _ in range(3))
        p = 1 / (1 + math.exp(-(1.5 * x1 - 2.0 * x2 + 0.5 * x3)))
        f.write("%s,%s,%s,%d\n" % (x1, x2, x3, 1 if rng.random() < p else 0))
