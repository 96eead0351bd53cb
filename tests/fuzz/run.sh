#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR [SECONDS [TARGET...]] — run every fuzz target
# (or the TARGETs named: compile, csv, expr, model) for SECONDS (default 60) each,
# from the seed corpus (every .pipe file of the repo for the compiler, the
# repo's CSVs, the filter expressions of the tests, a model of each kind)
# plus the regression
# inputs in tests/fuzz/crashes/. Fails on any crash, leak,
# timeout or sanitizer report; a crashing input is left in the current
# directory as crash-*/leak-*/timeout-* (keep it in tests/fuzz/crashes/T/).
# PIPEC_FUZZ_CORPUS=DIR keeps the grown corpus in DIR/T between runs.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "$1")
secs=${2:-60}
shift $(($# < 2 ? $# : 2))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(compile csv expr model)
if [ -n "${PIPEC_FUZZ_CORPUS:-}" ]; then
  work=$(realpath -m "$PIPEC_FUZZ_CORPUS")
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/compile" "$work/csv" "$work/expr" "$work/model"
find "$src/examples" "$src/tests" "$src/docs" -name '*.pipe' -exec cp {} "$work/compile/" \; 2>/dev/null || true
find "$src/examples" -name '*.csv' -size -200k -exec cp {} "$work/csv/" \;
printf '%s\n' 'age > 30 and country == "DE"' '(price * qty) % 7 != 0' \
  'not (a is null) or b is not null' '`first name` == '"'"'Ann'"'" > "$work/expr/seeds"
split -l 1 "$work/expr/seeds" "$work/expr/s" && rm "$work/expr/seeds"
printf 'pipec-model 1\nkind linear\nlabel y\nintercept 0.5\nfeature a 1.25\nfeature b%%20c -2\n' > "$work/model/linear"
printf 'pipec-model 1\nkind logistic\nlabel churned\nclasses no yes\nintercept -1\nfeature tenure 0.031\n' > "$work/model/logistic"
printf 'pipec-model 1\nkind kmeans\nfeature x 0\nfeature y 0\nk 2\ncentroid 0 1.5 2\ncentroid 1 -1 0.25\n' > "$work/model/kmeans"
for t in "${targets[@]}"; do
  [ -d "$src/tests/fuzz/crashes/$t" ] && cp "$src/tests/fuzz/crashes/$t"/* "$work/$t/" 2>/dev/null || true
  echo "== fuzz_$t for ${secs}s"
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "$work/$t" 2>&1 | tail -4
done
