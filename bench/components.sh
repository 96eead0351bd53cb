#!/usr/bin/env bash
# bench/components.sh [PIPEC] — throughput of the table components on a
# generated CSV of about BENCH_MB megabytes (default 1000): the pipeline
# table.read_csv -> table.filter -> table.select, next to miller
# (`mlr --csv filter ... then cut`) and sqlite3 (import + query) doing the
# same. Prints MB/s (input size / wall time) and peak RSS of each.
# Needs: awk, /usr/bin/time; miller and sqlite3 are optional.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pipec=$(realpath "${1:-$here/../build/pipec}")
mb=${BENCH_MB:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "generating about $mb MB of CSV ..." >&2
awk -v rows=$((mb * 1000000 / 80)) 'BEGIN {
  srand(7); split("DE FR US GB JP BR IN NL", cc, " ")
  print "id,name,age,country,score,comment"
  for (i = 1; i <= rows; i++)
    printf "%d,user%d,%d,%s,%.3f,\"note, with a comma %d\"\n", i, i % 99991,
           18 + int(rand() * 70), cc[1 + int(rand() * 8)], rand() * 1000, i % 7
}' > data.csv
size=$(stat -c %s data.csv)
echo "input: $((size / 1000000)) MB, $(($(wc -l < data.csv) - 1)) rows" >&2

# timed NAME CMD...: one row of figures
timed() {
  local name=$1; shift
  local t0=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o rss "$@" > /dev/null 2> err || { echo "$name failed: $(tail -3 err)" >&2; return; }
  awk -v n="$name" -v a="$t0" -v b="$EPOCHREALTIME" -v s="$size" -v m="$(tail -1 rss)" \
    'BEGIN { t = b - a; printf "%-10s %8.2f s %9.1f MB/s %9.1f MB peak RSS\n", n, t, s / 1e6 / t, m / 1024 }'
}

cat > p.pipe <<'PIPE'
pipeline bench {
  node load   = table.read_csv(path = "data.csv")
  node adults = table.filter(input = load.out, where = "age > 30 and country == \"DE\"")
  node cols   = table.select(input = adults.out, columns = ["name", "score"])
}
PIPE
timed pipec "$pipec" run p.pipe -q
rm -rf .pipec
if command -v mlr > /dev/null; then
  timed miller mlr --csv filter '$age > 30 && $country == "DE"' then cut -o -f name,score data.csv
fi
if command -v sqlite3 > /dev/null; then
  timed sqlite3 sqlite3 :memory: '.import --csv data.csv t' \
    "SELECT name, score FROM t WHERE CAST(age AS INTEGER) > 30 AND country = 'DE'"
fi
