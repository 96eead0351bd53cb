#!/usr/bin/env bash
# The cache is never wrong (DESIGN §4, issue #11): a node cannot change
# what another node reads (an edit that replaces its input replaces only
# its own link; an edit in place fails it, naming the input, and no later
# node reads the changed bytes); a damaged object is never served by a
# cache hit, `pipec cat` or a partial run, whatever its size or mtime say;
# `cache verify` drops what was computed from damage and names odd and
# missing objects; a symlink output is refused. Tests run as root, so the
# objects' read-only bits stop nothing here.
. "$(dirname "$0")/lib.bash"

# each part in a workspace of its own: the same command in two pipelines
# shares one cache entry
part() { cd "$T" && mkdir "$1" && cd "$1" || exit 1; }
# node=status rows of the last run, and a node's message
statuses() { "$PIPEC" show last --json | python3 -c '
import json,sys; print(" ".join(n["name"]+"="+n["status"] for n in json.load(sys.stdin)["nodes"]))'; }
field() { "$PIPEC" show last --json | python3 -c '
import json,sys
for n in json.load(sys.stdin)["nodes"]:
    if n["name"] == sys.argv[1]: print(n[sys.argv[2]] or "")' "$1" "$2"; }
objects() { find .pipec/objects 2>/dev/null -path '*/tmp' -prune -o -type f -print | wc -l; }
# the object file of NODE's output in the cache (its newest run's key)
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }
object_of() { local h; h=$(sqlite3 .pipec/pipec.db "SELECT o.hash FROM node_runs n
  JOIN cache_outputs o ON o.key = n.cache_key WHERE n.node = '$1' ORDER BY n.id DESC LIMIT 1")
  echo ".pipec/objects/${h:0:2}/${h:2}"; }

# ---- 1. an edit that replaces the input (sed -i) changes only the link ----
part sedi
cat > sedi.pipe <<'PIPE'
pipeline sedi {
  node a = shell(command = "seq 1 5 > {out}")
  node b = shell(command = "sed -i s/3/X/ {x}; cat {x} > {out}", x = a.out)
  node c = shell(command = "cat {x} > {out}", x = a.out)
}
PIPE
expect_exit 0 "$PIPEC" run sedi.pipe -j1 -q
[ "$(statuses)" = "a=succeeded b=succeeded c=succeeded" ] && pass "sed -i on an input: every node succeeds" || fail "sed -i: $(statuses)"
expect_stdout 0 "$PIPEC" cat c
[ "$OUT" = "$(seq 1 5)" ] && pass "a sibling of a node that ran sed -i on its input reads the original bytes" || fail "c read: $OUT"
expect_stdout 0 "$PIPEC" cat b
[ "$OUT" = "$(printf '1\n2\nX\n4\n5')" ] && pass "the editing node saw its own edit" || fail "b: $OUT"
expect_stdout 0 "$PIPEC" cat a
[ "$OUT" = "$(seq 1 5)" ] && pass "the input object itself is unchanged" || fail "a: $OUT"

# a node that makes its input writable (as an owner may) leaves it intact
# and read-only again
cat > chmod.pipe <<'PIPE'
pipeline chmod {
  node a = shell(command = "seq 1 9 > {out}")
  node b = shell(command = "chmod u+w {x}; wc -l < {x} > {out}", x = a.out)
}
PIPE
expect_exit 0 "$PIPEC" run chmod.pipe -q
[ "$(statuses)" = "a=succeeded b=succeeded" ] && [ "$(stat -c %a "$(object_of a)")" = 444 ] &&
  pass "an input made writable is intact and read-only again" || fail "chmod: $(statuses) $(stat -c %a "$(object_of a)")"

# inputs are links named after the port, with the type's extension
cat > names.pipe <<'PIPE'
pipeline names {
  node t = table.read_csv(path = "t.csv")
  node n = shell(command = "echo {tab} > {out}", tab = t.out)
}
PIPE
printf 'x\n1\n' > t.csv
expect_exit 0 "$PIPEC" run names.pipe -q && expect_stdout 0 "$PIPEC" cat n
case $OUT in */.pipec/runs/*/n.tab.in.csv) pass "a table input is given as NODE.PORT.in.csv in the run's scratch directory" ;;
  *) fail "input path: $OUT" ;; esac
[ ! -e .pipec/runs/1 ] && [ ! -e .pipec/runs/2 ] && pass "a run's scratch directory is gone when it ends" || fail "scratch left: $(ls -R .pipec/runs)"

# ---- 1. an edit in place fails the node and reaches no one ----------------
part inplace
cat > inplace.pipe <<'PIPE'
pipeline inplace {
  node a = shell(command = "seq 1 5 > {out}")
  node b = shell(command = "chmod u+w {x}; printf X | dd of={x} bs=1 seek=4 conv=notrunc 2>/dev/null; cat {x} > {out}", x = a.out)
  node c = shell(command = "cat {x} > {out}", x = a.out)
}
PIPE
expect_exit 1 "$PIPEC" run inplace.pipe -j1 -k
expect_in "failed    b" && pass "an edit in place fails the run (exit 1)" || fail "in place: no failure"
[ "$(statuses)" = "a=succeeded b=failed c=failed" ] && pass "the editing node and the later reader fail" || fail "in place: $(statuses)"
[ "$(field b message)" = "node 'b' changed its input 'x' (from a.out) in place: inputs are read-only; write to an output instead" ] &&
  pass "the message names the node and the input" || fail "b message: $(field b message)"
[ "$(field c message)" = "its input 'x' (from a.out) was changed in place by node 'b' during this run, so it is not in the store any more; the next run recomputes 'a'" ] &&
  pass "a node that would read the changed input fails at once, saying why" || fail "c message: $(field c message)"
expect_exit 2 "$PIPEC" cat c
expect_in "has no outputs" && pass "nothing was stored for the reader" || fail "c has outputs: $OUT"
expect_exit 1 "$PIPEC" cat a
expect_in "no longer in the store" && pass "the changed object is removed, never served" || fail "cat a: $OUT"
# the next run recomputes a (its entry went with the object)
expect_exit 1 "$PIPEC" run inplace.pipe -j1 -k -q
[ "$(field a status)" = succeeded ] && pass "the next run recomputes the producer" || fail "a: $(field a status) $(field a reason)"

# a node reading the input at the same time is not trusted either: b
# writes once c has started, c reads after b has written
part concurrent
cat > concurrent.pipe <<'PIPE'
pipeline concurrent {
  node a = shell(command = "seq 1 5 > {out}")
  node b = shell(command = "while [ ! -e c.started ]; do sleep 0.01; done; chmod u+w {x}; printf X | dd of={x} bs=1 seek=4 conv=notrunc 2>/dev/null; touch b.wrote; echo done > {out}", x = a.out)
  node c = shell(command = "touch c.started; while [ ! -e b.wrote ]; do sleep 0.01; done; cat {x} > {out}", x = a.out)
}
PIPE
rm -f c.started b.wrote
expect_exit 1 "$PIPEC" run concurrent.pipe -j2 -k -q
[ "$(statuses)" = "a=succeeded b=failed c=failed" ] && pass "two nodes reading one input while one changes it: both fail" || fail "concurrent: $(statuses)"
case "$(field b message)|$(field c message)" in
  *"input 'x' (from a.out)"*"|"*"input 'x' (from a.out)"*) pass "both messages name the input" ;;
  *) fail "concurrent messages: $(field b message) | $(field c message)" ;; esac
expect_exit 2 "$PIPEC" cat c
expect_in "has no outputs" && pass "the concurrent reader's result is not stored" || fail "c stored: $OUT"

# ---- 2. a damaged object is never served ------------------------------------
part dmg
cat > dmg.pipe <<'PIPE'
pipeline dmg {
  node a = shell(command = "seq 1 5 > {out}")
  node b = shell(command = "tac {x} > {out}", x = a.out)
}
PIPE
expect_exit 0 "$PIPEC" run dmg.pipe -q
flip() { chmod u+w "$1" && printf X | dd of="$1" bs=1 seek=4 conv=notrunc 2>/dev/null && chmod a-w "$1"; }
obj=$(object_of a)
flip "$obj"
OUT=$("$PIPEC" cat a 2>/dev/null); rc=$?
[ "$rc" = 1 ] && [ -z "$OUT" ] && pass "cat of a same-size flipped object prints nothing and exits 1" || fail "cat served '$OUT' ($rc)"
expect_exit 1 "$PIPEC" cat a
expect_in "is no longer in the store" && pass "the damaged object was removed by cat" || fail "after cat: $OUT"
expect_exit 0 "$PIPEC" run dmg.pipe -q
[ "$(field a status)" = succeeded ] && pass "its producer runs again" || fail "a after cat: $(statuses)"

# a partial run does not build on a damaged upstream output
obj=$(object_of a)
flip "$obj"
expect_exit 2 "$PIPEC" run dmg.pipe --node b --force -q
expect_in "node 'a' is needed by the selection but a cached output was damaged (re-hashed: object" &&
  expect_in "is damaged: its content hashes to" && pass "--node with a damaged upstream output stops, naming it" || fail "--node: $OUT"
expect_exit 0 "$PIPEC" run dmg.pipe -q
expect_stdout 0 "$PIPEC" cat b
[ "$OUT" = "$(seq 5 -1 1)" ] && pass "no wrong b was stored under the key of the right input" || fail "b: $OUT"

# a flip whose mtime is put back: the cache hit still sees it (ctime)
obj=$(object_of a)
cp -p "$obj" stamp
flip "$obj" && touch -r stamp "$obj"
expect_exit 0 "$PIPEC" run dmg.pipe -q
[ "$(field a status)" = succeeded ] && pass "a flip with its mtime restored is a miss, not a hit" || fail "hit on damage: $(statuses)"
case "$(field a reason)" in
  "a cached output was damaged (re-hashed: object "*" is damaged: its content hashes to "*")") pass "the miss says the output was damaged" ;;
  *) fail "reason: $(field a reason)" ;; esac
[ "$(field b status)" = cached ] && pass "its reader, computed from intact bytes, stays cached" || fail "b: $(field b status)"
expect_stdout 0 "$PIPEC" cat a
[ "$OUT" = "$(seq 1 5)" ] && pass "the recomputed output is served" || fail "a: $OUT"
expect_exit 0 "$PIPEC" run dmg.pipe -q
[ "$(statuses)" = "a=cached b=cached" ] && pass "then everything is cached again" || fail "rerun: $(statuses)"

# ---- 2. cache verify: drops readers, names odd and missing objects -------
obj=$(object_of a)
flip "$obj"
expect_exit 1 "$PIPEC" cache verify
expect_in "damaged    " && expect_in "is damaged: its content hashes to" && pass "verify reports the damaged object" || fail "verify: $OUT"
expect_in "2 cache entries dropped" && pass "verify drops the entry naming it and the one computed from it" || fail "verify dropped: $OUT"
expect_exit 0 "$PIPEC" run dmg.pipe -q
[ "$(statuses)" = "a=succeeded b=succeeded" ] && pass "after verify both the producer and its reader run again" || fail "after verify: $(statuses)"
# a symlink put under an object's name, and a missing object
obj=$(object_of a)
echo secret > secret.txt
rm -f "$obj" && ln -s "$PWD/secret.txt" "$obj"
expect_exit 1 "$PIPEC" cat a
expect_in "is damaged in the store (object" && expect_in "is a symbolic link, not a stored file" && pass "cat refuses a symlink in the store" || fail "cat symlink: $OUT"
expect_exit 0 "$PIPEC" run dmg.pipe -q
obj=$(object_of a)
rm -f "$obj" && ln -s "$PWD/secret.txt" "$obj"
expect_exit 1 "$PIPEC" cache verify
expect_in "not a file " && expect_in "is a symbolic link, not a stored file" && pass "verify reports a symlink in the store" || fail "verify symlink: $OUT"
[ ! -e "$obj" ] && [ -e secret.txt ] && pass "the link is removed, its target left alone" || fail "symlink left"
expect_exit 0 "$PIPEC" run dmg.pipe -q
rm -f "$(object_of a)"
expect_exit 1 "$PIPEC" cache verify
expect_in "missing    " && expect_in "is missing, but the cache entry of node 'a' names it" && pass "verify reports a missing object" || fail "verify missing: $OUT"
expect_exit 0 "$PIPEC" cache verify
expect_in "every object is intact" && pass "verify is clean afterwards" || fail "verify again: $OUT"

# ---- 3. a symlink output is refused -------------------------------------
part link
cat > link.pipe <<'PIPE'
pipeline link {
  node l = shell(command = "ln -s SECRET {out}")
}
PIPE
echo "do not store me" > private.txt
sed -i "s|SECRET|$PWD/private.txt|" link.pipe
n0=$(objects)
expect_exit 1 "$PIPEC" run link.pipe -q
[ "$(field l message)" = "output 'out' is a symbolic link (to $PWD/private.txt), not a file: write the file itself to {out} (cp, not ln -s); pipec never follows a link out of the scratch directory" ] &&
  pass "a symlink output fails its node, saying to write the file itself" || fail "link message: $(field l message)"
[ "$(objects)" = "$n0" ] && ! grep -rqs "do not store me" .pipec/objects && pass "the link's target did not enter the store" || fail "the target was stored"

finish
