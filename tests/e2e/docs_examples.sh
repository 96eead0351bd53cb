#!/usr/bin/env bash
# Every ```pipe block of docs/*.md and README.md compiles with `pipec check`.
# The source files the examples read (file("data/genome.fa"), globs) are in
# tests/e2e/docs_files, beside the blocks. A ```quotas block is a quota
# file (.pipec/quotas.pipe): it must check too, and the pipe blocks of the
# same document are checked against the first one (their nodes may name
# its groups).
. "$(dirname "$0")/lib.bash"

cp -r "$SRC/tests/e2e/docs_files/." "$T/"

n=0
printf 'pipeline quota_check {\n}\n' > "$T/empty.pipe"
for doc in "$SRC"/docs/*.md "$SRC"/README.md; do
  awk -v out="$T/blk" -v qout="$T/qblk" '
    /^```pipe[ \t]*$/ { inb = 1; k++; f = sprintf("%s-%03d.pipe", out, k); printf "" > f; next }
    /^```quotas[ \t]*$/ { inb = 1; q++; f = sprintf("%s-%03d.quotas", qout, q); printf "" > f; next }
    /^```/ && inb { inb = 0; close(f); next }
    inb { print >> f }' "$doc"
  quotas=()
  for q in "$T"/qblk-*.quotas; do
    [ -e "$q" ] || continue
    n=$((n + 1))
    OUT=$("$PIPEC" check "$T/empty.pipe" --quotas "$q" 2>&1) ||
      { fail "$(basename "$doc") quota block $(basename "$q"):"; printf '%s\n' "$OUT" >&2; }
    [ ${#quotas[@]} = 0 ] && { cp "$q" "$T/doc.quotas"; quotas=(--quotas "$T/doc.quotas"); }
    rm -f "$q"
  done
  for f in "$T"/blk-*.pipe; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    # a block may name data and code files, which must exist to compile:
    # make each one the check reports missing (empty), then check again
    for _ in 1 2 3 4 5 6 7 8; do
      OUT=$("$PIPEC" check "$f" "${quotas[@]}" 2>&1) && break
      missing=$(grep -o "[a-z] '[^']*' does not exist" <<<"$OUT" | sed "s/^[a-z] '//; s/' does not exist\$//")
      [ -n "$missing" ] || break
      while IFS= read -r m; do mkdir -p "$(dirname "$m")" && : > "$m"; done <<<"$missing"
    done
    if ! OUT=$("$PIPEC" check "$f" "${quotas[@]}" 2>&1); then
      fail "$(basename "$doc") block $(basename "$f"):"; printf '%s\n' "$OUT" >&2
      sed 's/^/    /' "$f" >&2
    fi
    rm -f "$f"
  done
done
[ $n -gt 0 ] || fail "no pipe blocks found"
echo "$n blocks compiled"
finish
