#!/usr/bin/env bash
# pipec ui in headless Chromium: the DAG of examples/calling has one box
# per node or family (idx, aligned[*], calls), coloured by the last run's
# status (succeeded after the first run, cached after the second), the
# family shows its counts (5/5) and expands on click into its five
# members, and a member's panel shows its outputs and log.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/ui_lib.bash"

cp -r "$SRC/examples/calling" calling && cd calling
expect_exit 0 "$PIPEC" run calling.pipe -q && expect_in "7 ran, 0 cached" &&
  pass "calling runs" || fail "calling run: $OUT"
start_ui

browser dag 1 "idx=node:st-succeeded:succeeded,aligned=family:st-succeeded:5/5,calls=node:st-succeeded:succeeded" &&
  [ "$(json 'j["members"]')" = 5 ] &&
  pass "the DAG: 3 boxes, all succeeded, aligned[*] 5/5, expands into 5 members" ||
  fail "DAG after the first run: $OUT"

expect_exit 0 "$PIPEC" run calling.pipe -q && expect_in "0 ran, 7 cached" &&
  pass "re-run: all cached" || fail "re-run: $OUT"
browser dag 1 "idx=node:st-cached:cached,aligned=family:st-cached:5/5,calls=node:st-cached:cached" &&
  pass "after the cached run every box is coloured cached" ||
  fail "DAG after the cached run: $OUT"

# a new sample: the family is 6 members, 1 of them never ran yet
cp data/reads/S1.fastq data/reads/S6.fastq
get "/api/status?pipeline=1"
[ "$CODE" = 200 ] && [ "$(json '[b["total"] for b in j["boxes"] if b["name"]=="aligned"][0]')" = 6 ] &&
  [ "$(json '[b["status"] for b in j["boxes"] if b["name"]=="aligned"][0]')" = partial ] &&
  pass "a new glob match: the page recompiles, aligned[*] has 6 members, 5 done (partial)" ||
  fail "status after a new sample: $CODE $OUT"

# the JSON of the graph
get "/api/pipeline?id=1"
[ "$CODE" = 200 ] && [ "$(json 'j["nodes"]')" = 8 ] &&
  [ "$(json 'len(j["status"]["boxes"])')" = 3 ] && [ "$(json 'j["edges"]')" = "[[0, 1], [0, 2], [1, 2]]" ] &&
  pass "/api/pipeline: 8 nodes in 3 boxes, edges idx->aligned->calls and idx->calls" ||
  fail "/api/pipeline: $CODE $OUT"

ls "$ART"/pipeline.png "$ART"/pipeline-expanded-aligned.png "$ART"/node-panel.png >/dev/null &&
  pass "screenshots saved in $ART" || fail "screenshots missing in $ART"
finish
