#!/usr/bin/env bash
# docs/components.md is `pipec components --markdown`: the docs cannot
# drift from the descriptors. Regenerate with:
#   build/pipec components --markdown > docs/components.md
. "$(dirname "$0")/lib.bash"
"$PIPEC" components --markdown > gen.md || fail "pipec components --markdown"
diff -u "$SRC/docs/components.md" gen.md > d.txt && pass "docs/components.md is current" \
  || { fail "docs/components.md is stale:"; cat d.txt >&2; }
expect_exit 0 "$PIPEC" components --json
python3 -c 'import json,sys; c=json.loads(sys.argv[1]); assert len(c) >= 20 and any(x["name"]=="table.filter" for x in c)' "$OUT" && pass "components --json" || fail "components --json"
expect_exit 0 "$PIPEC" components table.split && expect_in "ratio" && pass "components NAME" || fail "components NAME"
expect_exit 2 "$PIPEC" components table.splt && expect_in "did you mean 'table.split'" && pass "components typo" || fail "components typo"
finish
