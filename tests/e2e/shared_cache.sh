#!/usr/bin/env bash
# Shared directory caches (docs/cache.md): two clones of one project on one
# shared cache — the second's run is fully `cached (shared: team)` with the
# first's outputs; a flipped byte, a missing object or a cut entry in the
# cache is reported once and the node recomputes (never served); readonly
# caches are only pulled from; two workspaces running at once compute each
# node once and leave only whole entries; push and pull by hand; bad
# configurations are clear errors.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
printf 'x,y\n1,a\n2,b\n3,c\n' > data.csv
cat > flow.pipe <<'PIPE'
pipeline flow {
  param n : int = 5
  component tree() -> (d: dir) {
    command = "mkdir -p {d}/sub && seq 1 3 > {d}/a.txt && echo deep > {d}/sub/b.txt"
  }
  component named(x: table) -> (bam: file "out.bam") {
    command = "cat {x} {x} > {bam}"
  }
  node data = table.read_csv(path = "data.csv")
  node big  = table.filter(input = data.out, where = "x > 1")
  node t    = tree()
  node nm   = named(x = big.out)
  node seqn = shell(command = "seq 1 ${n} > {out}")
  node both = shell(command = "cat {a} {d}/a.txt {d}/sub/b.txt {b} > {out}", a = nm.bam, d = t.d, b = seqn.out)
  publish big.out = "out/big.csv"
  publish t.d = "out/tree"
  publish nm.bam = "out/nm.bam"
  publish both.out = "out/both.txt"
}
PIPE
cd "$T"
# clone NAME: a fresh copy of the project (no workspace yet)
clone() { rm -rf "$T/$1"; cp -r "$T/proj" "$T/$1"; }
# entries DIR: how many entries the cache holds
entries() { find "$1/entries" -type f 2>/dev/null | wc -l; }
# leftovers DIR: files being written that were left behind
leftovers() { find "$1/tmp" "$1/objects/tmp" -type f 2>/dev/null | wc -l; }
# object NODE DIR: the path in cache DIR of NODE's first output, from the
# last run's cache key
object() {
  local key h
  key=$("$PIPEC" show last --json | python3 -c "import json,sys; print([n['cache_key'] for n in json.load(sys.stdin)['nodes'] if n['name'] == '$1'][0])")
  h=$(awk '$1 == "out" { print $3; exit }' "$2/entries/${key:0:2}/$key")
  echo "$2/objects/${h:0:2}/${h:2}"
}

mkdir cache

# ---- the first workspace fills the cache ------------------------------------
clone a && cd a && mkdir .pipec
cat > .pipec/config <<'CFG'
# the team's cache, relative to the project
[cache "team"]
  path = ../cache   ; a comment
CFG
expect_exit 0 "$PIPEC" run flow.pipe && expect_in "6 ran, 0 cached" &&
  pass "the first workspace runs every node" || fail "the first workspace runs every node"
[ "$(entries "$T/cache")" = 6 ] && [ "$(leftovers "$T/cache")" = 0 ] &&
  pass "its run pushed all 6 entries before it ended, nothing half-written left" ||
  fail "entries after the first run: $(entries "$T/cache"), leftovers $(leftovers "$T/cache")"
[ -z "$(find "$T/cache/objects" "$T/cache/entries" -type f -perm /222)" ] &&
  pass "entries and objects in the cache are read-only" || fail "writable files in the cache"

# ---- the second gets everything from it ---------------------------------------
clone b && cd "$T/b"
expect_exit 0 env PIPEC_CACHE="team=$T/cache" "$PIPEC" run flow.pipe &&
  expect_in "0 ran, 6 cached" && expect_in "cached    t (shared: team)" &&
  pass "the second workspace runs nothing: every node comes from the shared cache" ||
  fail "the second workspace runs nothing"
expect_exit 0 "$PIPEC" show last
[ "$(grep -c 'cached (shared: team)' <<<"$OUT")" = 6 ] &&
  pass "show says cached (shared: team) for every node" || fail "show: $OUT"
[ "$("$PIPEC" show last --json | grep -c '"shared": "team"')" = 6 ] &&
  pass "show --json names the shared cache of every node" || fail "show --json lacks shared"
diff -r "$T/a/out" "$T/b/out" > /dev/null && [ -s "$T/b/out/tree/sub/b.txt" ] &&
  pass "its outputs (files, a named file, a directory tree) equal the first's" ||
  fail "outputs differ: $(diff -r "$T/a/out" "$T/b/out")"
expect_exit 0 "$PIPEC" cache verify && pass "every pulled object is intact in the local store" ||
  fail "cache verify after a pull"
expect_exit 0 env PIPEC_CACHE="team=$T/cache" "$PIPEC" run flow.pipe && expect_in "0 ran, 6 cached" &&
  ! grep -qF "shared: team" <<<"$OUT" && pass "a re-run finds everything in its own store" ||
  fail "a re-run finds everything in its own store"

# ---- damage in the cache is never served ------------------------------------------
cd "$T/a"
obj=$(object nm "$T/cache")
chmod u+w "$obj" && printf 'X' | dd of="$obj" bs=1 seek=2 conv=notrunc 2>/dev/null
clone c && cd "$T/c"
expect_exit 0 env PIPEC_CACHE="team=$T/cache" "$PIPEC" run flow.pipe &&
  expect_in "1 ran, 5 cached" && expect_in "succeeded nm" &&
  pass "a flipped byte in a shared object makes that node run again" ||
  fail "a flipped byte in a shared object makes that node run again"
expect_in "shared cache 'team': the entry for node 'nm' (key " &&
  expect_in "is damaged (its bytes hash to" && expect_in "the node runs" &&
  [ "$(grep -c "was ignored" <<<"$OUT")" = 1 ] &&
  pass "the bad entry is reported, once" || fail "the bad entry is reported, once"
diff -r "$T/a/out" "$T/c/out" > /dev/null && pass "and the damaged bytes were never served" ||
  fail "outputs differ after damage: $(diff -r "$T/a/out" "$T/c/out")"
expect_exit 0 "$PIPEC" show last && expect_in "the entry of shared cache 'team' was ignored: object" &&
  pass "show says why nm ran" || fail "show says why nm ran: $OUT"
clone d && cd "$T/d"
expect_exit 0 env PIPEC_CACHE="team=$T/cache" "$PIPEC" run flow.pipe && expect_in "0 ran, 6 cached" &&
  pass "the recomputed node's push repaired the cache for the next workspace" ||
  fail "the recomputed node's push repaired the cache"

# a missing object, a cut entry
cd "$T/a"
rm -f "$(object seqn "$T/cache")"
key=$("$PIPEC" show last --json | python3 -c "import json,sys; print([n['cache_key'] for n in json.load(sys.stdin)['nodes'] if n['name'] == 'big'][0])")
ent="$T/cache/entries/${key:0:2}/$key"
chmod u+w "$ent" && head -c 60 "$ent" > "$ent.cut" && mv -f "$ent.cut" "$ent"
clone e && cd "$T/e"
expect_exit 0 env PIPEC_CACHE="team=$T/cache" "$PIPEC" run flow.pipe &&
  expect_in "2 ran, 4 cached" && expect_in "succeeded seqn" && expect_in "succeeded big" &&
  expect_in "is missing from it" && expect_in "a malformed entry" &&
  pass "a missing object or a cut entry: reported, the nodes run" ||
  fail "a missing object or a cut entry: reported, the nodes run"
diff -r "$T/a/out" "$T/e/out" > /dev/null && pass "with the right outputs" || fail "outputs differ (e)"

# ---- readonly caches are only pulled from -------------------------------------------
clone f && cd "$T/f" && mkdir .pipec
printf '[cache "ro"]\n  path = "%s"\n  readonly = true\n' "$T/cache" > .pipec/config
before=$(entries "$T/cache")
expect_exit 0 "$PIPEC" run flow.pipe -p n=7 && expect_in "2 ran, 4 cached" &&
  expect_in "cached    t (shared: ro)" &&
  pass "a readonly cache is pulled from" || fail "a readonly cache is pulled from"
[ "$(entries "$T/cache")" = "$before" ] && [ ! -e "$T/cache/claims/x" ] &&
  pass "and never pushed to" || fail "a readonly cache got entries: $(entries "$T/cache") (was $before)"

# ---- configuration ---------------------------------------------------------------------
clone g && cd "$T/g" && mkdir .pipec
printf '[cache "team"]\n  path = %s\n  pth = x\n' "$T/cache" > .pipec/config
expect_exit 2 "$PIPEC" run flow.pipe &&
  expect_in ".pipec/config:3: unknown key 'pth' in [cache \"team\"] (known: path, readonly, connect_timeout)" &&
  pass "an unknown key is an error naming the file and line" || fail "an unknown key is an error naming the file and line"
printf '[cache "team"\n' > .pipec/config
expect_exit 2 "$PIPEC" run flow.pipe && expect_in ".pipec/config:1: expected ']' after the section's name" &&
  pass "a broken header is an error" || fail "a broken header is an error"
printf '[cache "team"]\n  readonly = maybe\n' > .pipec/config
expect_exit 2 "$PIPEC" run flow.pipe && expect_in ".pipec/config:2: readonly must be true or false, not 'maybe'" &&
  pass "a bad boolean is an error" || fail "a bad boolean is an error"
printf '[cache "team"]\n  readonly = true\n' > .pipec/config
expect_exit 2 "$PIPEC" run flow.pipe && expect_in ".pipec/config:1: [cache \"team\"] has no path" &&
  pass "a cache without a path is an error" || fail "a cache without a path is an error"
expect_exit 2 env PIPEC_CACHE="bad name=$T/cache" "$PIPEC" run flow.pipe &&
  expect_in "PIPEC_CACHE: 'bad name' is not a cache name" &&
  pass "PIPEC_CACHE is checked too" || fail "PIPEC_CACHE is checked too"
expect_exit 2 env PIPEC_CACHE="ftp://host/x" "$PIPEC" run flow.pipe &&
  expect_in "is not a directory or an ssh:// URL" && pass "an unknown URL scheme is an error" ||
  fail "an unknown URL scheme is an error"
# PIPEC_CACHE set (even empty) replaces the file's caches
expect_exit 0 env PIPEC_CACHE= "$PIPEC" run flow.pipe && expect_in "6 ran" &&
  pass "PIPEC_CACHE= turns the configured caches off" || fail "PIPEC_CACHE= turns the configured caches off"
clone h && cd "$T/h"
expect_exit 0 env PIPEC_CACHE="gone=$T/no-such-dir" "$PIPEC" run flow.pipe && expect_in "6 ran" &&
  expect_in "shared cache 'gone' ($T/no-such-dir) cannot be used in this run: cannot use $T/no-such-dir: No such file or directory" &&
  [ "$(grep -c "cannot be used" <<<"$OUT")" = 1 ] && [ ! -e "$T/no-such-dir" ] &&
  pass "a cache that is not there is said once, never created, and the run goes on" ||
  fail "a cache that is not there"

# ---- two workspaces at once on one cache ------------------------------------------------
mkdir "$T/cache2"
mkdir "$T/par" && cd "$T/par"
{
  printf 'pipeline par {\n'
  printf '  node n0 = shell(command = "i=0; while [ ! -e %s/GO ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; seq 1 50 > {out}")\n' "$T"
  for i in $(seq 1 16); do
    printf '  node n%d = shell(command = "sleep 0.05; awk %s{ print $1 * %d }%s {x} > {out}", x = n%d.out)\n' "$i" "'" "$i" "'" $((i / 3))
    printf '  publish n%d.out = "out/n%d.txt"\n' "$i" "$i"
  done
  printf '}\n'
} > par.pipe
cp -r "$T/par" "$T/par1"; cp -r "$T/par" "$T/par2"
cd "$T/par1" && PIPEC_CACHE="team=$T/cache2" "$PIPEC" run par.pipe > "$T/p1.out" 2>&1 & p1=$!
cd "$T/par2" && PIPEC_CACHE="team=$T/cache2" "$PIPEC" run par.pipe > "$T/p2.out" 2>&1 & p2=$!
# one holds n0's claim in the shared cache, the other waits for it
deadline=$((SECONDS + 120))
until grep -q "waits for another run computing the same work" "$T/p1.out" "$T/p2.out" || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
touch "$T/GO"
wait $p1; r1=$?; wait $p2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && pass "two workspaces running the same pipeline at once both succeed" ||
  fail "exits $r1 $r2: $(cat "$T/p1.out" "$T/p2.out")"
diff -r "$T/par1/out" "$T/par2/out" > /dev/null && [ "$(ls "$T/par1/out" | wc -l)" = 16 ] &&
  pass "with equal outputs" || fail "outputs differ between the two workspaces"
ran=0
for w in par1 par2; do
  n=$(cd "$T/$w" && "$PIPEC" show last --json | python3 -c "import json,sys; print(sum(n['status'] == 'succeeded' for n in json.load(sys.stdin)['nodes']))")
  ran=$((ran + n))
done
[ "$ran" = 17 ] && pass "each of the 17 nodes was computed once between them" ||
  fail "$ran node runs between the two workspaces (17 nodes)"
[ "$(entries "$T/cache2")" = 17 ] && [ "$(leftovers "$T/cache2")" = 0 ] &&
  [ -z "$(claims_left "$T/cache2/claims")" ] &&
  pass "the cache holds 17 entries, no temporary files, no claims" ||
  fail "cache2: $(entries "$T/cache2") entries, $(leftovers "$T/cache2") leftovers, claims: $(claims_left "$T/cache2/claims")"
mkdir "$T/check" && cd "$T/check" && mkdir .pipec
expect_exit 0 env PIPEC_CACHE="team=$T/cache2" "$PIPEC" cache pull &&
  expect_in "team: pulled 17 entries" && pass "every entry in it is whole (pulled and re-hashed)" ||
  fail "every entry in it is whole"

# ---- push and pull by hand -------------------------------------------------------------------
mkdir "$T/cache3"
clone i && cd "$T/i"
expect_exit 0 "$PIPEC" run flow.pipe -q
expect_exit 0 env PIPEC_CACHE="$T/cache3" "$PIPEC" cache push &&
  expect_in "cache3: pushed 6 entries (" && pass "cache push sends what the workspace has" ||
  fail "cache push sends what the workspace has"
expect_exit 0 env PIPEC_CACHE="$T/cache3" "$PIPEC" cache push && expect_in "pushed 0 entries" &&
  expect_in "6 already there" && pass "and nothing twice" || fail "and nothing twice"
expect_exit 2 env PIPEC_CACHE="$T/cache3?readonly" "$PIPEC" cache push &&
  expect_in "is readonly: nothing is pushed" && pass "a readonly cache refuses a push" ||
  fail "a readonly cache refuses a push"
expect_exit 2 env PIPEC_CACHE="$T/cache3" "$PIPEC" cache push nope &&
  expect_in "no shared cache is named 'nope' (this workspace has: cache3)" &&
  pass "an unknown cache name is an error" || fail "an unknown cache name is an error"
clone j && cd "$T/j" && mkdir .pipec
expect_exit 0 env PIPEC_CACHE="$T/cache3" "$PIPEC" cache pull && expect_in "cache3: pulled 6 entries" &&
  pass "cache pull fetches every entry" || fail "cache pull fetches every entry"
expect_exit 0 env PIPEC_CACHE= "$PIPEC" run flow.pipe && expect_in "0 ran, 6 cached" &&
  diff -r "$T/a/out" "$T/j/out" > /dev/null && pass "and a run then needs no cache at all" ||
  fail "and a run then needs no cache at all"
finish
