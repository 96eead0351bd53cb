#!/usr/bin/env python3
"""featurize.py RAW FEATURES --min N

Derive model features from the raw customer table: keep customers with at
least N months of tenure, add the average monthly spend, and encode the plan
as numbers. Reads and writes CSV with a header row.
"""
import argparse
import csv

PLANS = {"basic": 0, "plus": 1, "pro": 2}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("features")
    ap.add_argument("--min", type=int, default=5)
    args = ap.parse_args()
    with open(args.raw, newline="") as f, open(args.features, "w", newline="") as out:
        rows = csv.DictReader(f)
        w = csv.writer(out)
        w.writerow(["tenure", "monthly", "plan", "support_calls", "churned"])
        for r in rows:
            tenure = int(r["tenure"])
            if tenure < args.min:
                continue
            monthly = float(r["total_spend"]) / tenure
            w.writerow([tenure, f"{monthly:.4f}", PLANS[r["plan"]],
                        r["support_calls"], r["churned"]])


if __name__ == "__main__":
    main()
