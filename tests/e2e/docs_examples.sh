#!/usr/bin/env bash
# Every ```pipe block of docs/*.md and README.md compiles with `pipec check`.
# The source files the examples read (file("data/genome.fa"), globs) are in
# tests/e2e/docs_files, beside the blocks.
. "$(dirname "$0")/lib.bash"

cp -r "$SRC/tests/e2e/docs_files/." "$T/"

n=0
for doc in "$SRC"/docs/*.md "$SRC"/README.md; do
  awk -v out="$T/blk" '
    /^```pipe[ \t]*$/ { inb = 1; k++; f = sprintf("%s-%03d.pipe", out, k); printf "" > f; next }
    /^```/ && inb { inb = 0; close(f); next }
    inb { print >> f }' "$doc"
  for f in "$T"/blk-*.pipe; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    # a block may name data and code files, which must exist to compile:
    # make each one the check reports missing (empty), then check again
    for _ in 1 2 3 4 5 6 7 8; do
      OUT=$("$PIPEC" check "$f" 2>&1) && break
      missing=$(grep -o "[a-z] '[^']*' does not exist" <<<"$OUT" | sed "s/^[a-z] '//; s/' does not exist\$//")
      [ -n "$missing" ] || break
      while IFS= read -r m; do mkdir -p "$(dirname "$m")" && : > "$m"; done <<<"$missing"
    done
    if ! OUT=$("$PIPEC" check "$f" 2>&1); then
      fail "$(basename "$doc") block $(basename "$f"):"; printf '%s\n' "$OUT" >&2
      sed 's/^/    /' "$f" >&2
    fi
    rm -f "$f"
  done
done
[ $n -gt 0 ] || fail "no pipe blocks found"
echo "$n blocks compiled"
finish
