#!/usr/bin/env bash
# Shared caches through ssh:// (docs/cache.md) on the test sshd: the second
# clone of a project is fully `cached (shared: lab)` with the first's
# outputs; a flipped byte in a remote object is reported and recomputed;
# a host without the directory, or one that cannot be reached, is said once
# and the run goes on; two workspaces at once both finish with equal
# outputs and whole entries; push and pull by hand. Needs the `services`
# fixture.
. "$(dirname "$0")/lib.bash"
use_services

mkdir proj && cd proj
printf 'x,y\n1,a\n2,b\n3,c\n' > data.csv
cat > flow.pipe <<'PIPE'
pipeline flow {
  component tree() -> (d: dir) {
    command = "mkdir -p {d}/sub && seq 1 3 > {d}/a.txt && echo deep > {d}/sub/b.txt"
  }
  node data = table.read_csv(path = "data.csv")
  node big  = table.filter(input = data.out, where = "x > 1")
  node t    = tree()
  node both = shell(command = "cat {a} {d}/a.txt {d}/sub/b.txt > {out}", a = big.out, d = t.d)
  publish t.d = "out/tree"
  publish both.out = "out/both.txt"
}
PIPE
cd "$T"
clone() { rm -rf "$T/$1"; cp -r "$T/proj" "$T/$1"; }
entries() { find "$1/entries" -type f 2>/dev/null | wc -l; }
mkdir rcache
URL="ssh://pipec-test$T/rcache"

clone a && cd a && mkdir .pipec
printf '[cache "lab"]\n  path = %s\n  connect_timeout = 20\n' "$URL" > .pipec/config
expect_exit 0 "$PIPEC" run flow.pipe && expect_in "4 ran, 0 cached" &&
  pass "the first workspace runs every node" || fail "the first workspace runs every node"
[ "$(entries "$T/rcache")" = 4 ] && [ -z "$(find "$T/rcache/tmp" -mindepth 1 2>/dev/null)" ] &&
  pass "its run pushed every entry through ssh before it ended" ||
  fail "entries on the host: $(entries "$T/rcache")"

clone b && cd "$T/b"
expect_exit 0 env PIPEC_CACHE="lab=$URL" "$PIPEC" run flow.pipe &&
  expect_in "0 ran, 4 cached" && expect_in "cached    t (shared: lab)" &&
  pass "the second workspace gets every node through ssh" || fail "the second workspace gets every node through ssh"
expect_exit 0 "$PIPEC" show last && [ "$(grep -c 'cached (shared: lab)' <<<"$OUT")" = 4 ] &&
  pass "show says cached (shared: lab)" || fail "show: $OUT"
diff -r "$T/a/out" "$T/b/out" > /dev/null && [ -s "$T/b/out/tree/sub/b.txt" ] &&
  pass "its outputs, a tree among them, equal the first's" || fail "outputs differ: $(diff -r "$T/a/out" "$T/b/out")"

# a flipped byte on the host
cd "$T/a"
key=$("$PIPEC" show last --json | python3 -c "import json,sys; print([n['cache_key'] for n in json.load(sys.stdin)['nodes'] if n['name'] == 'big'][0])")
h=$(awk '$1 == "out" { print $3; exit }' "$T/rcache/entries/${key:0:2}/$key")
obj="$T/rcache/objects/${h:0:2}/${h:2}"
chmod u+w "$obj" && printf 'Z' | dd of="$obj" bs=1 seek=3 conv=notrunc 2>/dev/null
clone c && cd "$T/c"
expect_exit 0 env PIPEC_CACHE="lab=$URL" "$PIPEC" run flow.pipe &&
  expect_in "1 ran, 3 cached" && expect_in "succeeded big" &&
  expect_in "shared cache 'lab': the entry for node 'big' (key $key) was ignored: object $h is damaged" &&
  pass "a flipped byte on the host: reported, the node recomputes" ||
  fail "a flipped byte on the host: reported, the node recomputes"
diff -r "$T/a/out" "$T/c/out" > /dev/null && pass "never served" || fail "outputs differ (c)"

# hosts and directories that are not there
clone d && cd "$T/d"
expect_exit 0 env PIPEC_CACHE="gone=ssh://pipec-test$T/no-such-dir" "$PIPEC" run flow.pipe &&
  expect_in "4 ran" && expect_in "shared cache 'gone' (ssh://pipec-test$T/no-such-dir) cannot be used in this run: pipec-test has no directory $T/no-such-dir" &&
  [ "$(grep -c "cannot be used" <<<"$OUT")" = 1 ] &&
  pass "a host without the cache's directory is said once; the run goes on" ||
  fail "a host without the cache's directory"
clone e && cd "$T/e"
expect_exit 0 env PIPEC_CACHE="far=ssh://pipec-no-such-host.invalid/x" "$PIPEC" run flow.pipe &&
  expect_in "4 ran" && expect_in "shared cache 'far' (ssh://pipec-no-such-host.invalid/x) cannot be used in this run: cannot reach pipec-no-such-host.invalid through ssh" &&
  pass "an unreachable host is said once; the run goes on" || fail "an unreachable host"

# two workspaces at once
mkdir "$T/rcache2"
clone p1; clone p2
(cd "$T/p1" && PIPEC_CACHE="lab=ssh://pipec-test$T/rcache2" "$PIPEC" run flow.pipe > "$T/p1.out" 2>&1) & j1=$!
(cd "$T/p2" && PIPEC_CACHE="lab=ssh://pipec-test$T/rcache2" "$PIPEC" run flow.pipe > "$T/p2.out" 2>&1) & j2=$!
wait $j1; r1=$?; wait $j2; r2=$?
[ $r1 = 0 ] && [ $r2 = 0 ] && diff -r "$T/p1/out" "$T/p2/out" > /dev/null &&
  pass "two workspaces on one ssh cache at once: both succeed, equal outputs" ||
  fail "exits $r1 $r2: $(cat "$T/p1.out" "$T/p2.out")"
mkdir "$T/f" && cd "$T/f" && mkdir .pipec
expect_exit 0 env PIPEC_CACHE="lab=ssh://pipec-test$T/rcache2" "$PIPEC" cache pull &&
  expect_in "lab: pulled 4 entries" && [ -z "$(find "$T/rcache2/tmp" -mindepth 1 2>/dev/null)" ] &&
  pass "and every entry they left is whole" || fail "entries after two at once"

# by hand
mkdir "$T/rcache3"
clone g && cd "$T/g"
expect_exit 0 "$PIPEC" run flow.pipe -q
expect_exit 0 env PIPEC_CACHE="ssh://pipec-test$T/rcache3" "$PIPEC" cache push &&
  expect_in "rcache3: pushed 4 entries" && pass "cache push through ssh" || fail "cache push through ssh"
clone h && cd "$T/h" && mkdir .pipec
expect_exit 0 env PIPEC_CACHE="ssh://pipec-test$T/rcache3" "$PIPEC" cache pull &&
  expect_in "rcache3: pulled 4 entries" && pass "cache pull through ssh" || fail "cache pull through ssh"
expect_exit 0 env PIPEC_CACHE= "$PIPEC" run flow.pipe && expect_in "0 ran, 4 cached" &&
  diff -r "$T/a/out" "$T/h/out" > /dev/null && pass "what was pulled serves the run" ||
  fail "what was pulled serves the run"
finish
