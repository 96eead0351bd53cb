"""csv_same.py A.csv B.csv ordered|unordered — exit 0 if the two CSV files
hold the same header and rows; numbers compare as numbers (1e-9 relative),
so "2.0" equals "2" and sqlite's 15-digit means equal exact ones."""
import csv
import sys


def norm(cell):
    try:
        return ("n", float(cell))
    except ValueError:
        return ("s", cell)


def same_cell(a, b):
    if a[0] == "n" and b[0] == "n":
        return abs(a[1] - b[1]) <= 1e-9 * max(1.0, abs(a[1]), abs(b[1]))
    return a == b


def main():
    a = list(csv.reader(open(sys.argv[1], newline="")))
    b = list(csv.reader(open(sys.argv[2], newline="")))
    if a[0] != b[0]:
        print("headers differ:", a[0], b[0])
        return 1
    ra = [[norm(c) for c in r] for r in a[1:]]
    rb = [[norm(c) for c in r] for r in b[1:]]
    if len(ra) != len(rb):
        print("row counts differ:", len(ra), len(rb))
        return 1
    if sys.argv[3] == "unordered":
        key = lambda r: [str(c[1]) for c in r]
        ra.sort(key=key)
        rb.sort(key=key)
    for i, (x, y) in enumerate(zip(ra, rb)):
        if len(x) != len(y) or not all(same_cell(p, q) for p, q in zip(x, y)):
            print("row", i + 1, "differs:", x, y)
            return 1
    return 0


sys.exit(main())
