#!/usr/bin/env bash
# Run-time fan-out (DESIGN §3.2): `for c in NODE.PORT` over a dir output,
# `lines(NODE.PORT)` and a json list, expanded once the producer's output
# exists (ran, or cached):
#   - split -> per-chunk -> gather gives what a hand-written pipeline gives;
#   - a re-run expands the same members and runs nothing;
#   - an input change that alters one chunk runs exactly that member, what
#     reads it, and the gather;
#   - a chunk the producer adds or drops adds or drops exactly that member;
#   - members can be selected (--node) and asked about (why) once known;
#     before that, selecting one says what to run first;
#   - the run records the expansion; kill -9 during it recovers.
. "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || { fail "python3 is missing"; finish; }
mkdir proj && cd proj && git init -q .
mkdir data && seq 1 25 > data/numbers.txt

cat > p.pipe <<'PIPE'
pipeline fan {
  component split(input: file) -> (chunks: dir) {
    command = "split -l 10 -d {input} {chunks}/chunk_"
  }
  component sum(x: file) -> (s: file) {
    param name : string
    command = "awk '{ t += $1 } END { print t }' {x} > {s}; echo {name} >> {s}"
  }
  node parts = split(input = file("data/numbers.txt"))
  for c in parts.chunks {
    node summed[c] = sum(x = c, name = "${c}")
    node doubled[c] = shell(command = "cat {y} {y} > {out}", y = summed[c].s)
  }
  node total = shell(command = "cat {all} > {out}; echo {names} >> {out}", all = doubled[*].out, names = keys(summed))
  publish total.out = "results/total.txt"
}
PIPE
# the same by hand, for 3 chunks
cat > hand.pipe <<'PIPE'
pipeline hand {
  component sum(x: file) -> (s: file) {
    param name : string
    command = "awk '{ t += $1 } END { print t }' {x} > {s}; echo {name} >> {s}"
  }
  node c0 = shell(command = "sed -n 1,10p {n} > {out}", n = file("data/numbers.txt"))
  node c1 = shell(command = "sed -n 11,20p {n} > {out}", n = file("data/numbers.txt"))
  node c2 = shell(command = "sed -n 21,30p {n} > {out}", n = file("data/numbers.txt"))
  node s0 = sum(x = c0.out, name = "chunk_00")
  node s1 = sum(x = c1.out, name = "chunk_01")
  node s2 = sum(x = c2.out, name = "chunk_02")
  node d0 = shell(command = "cat {y} {y} > {out}", y = s0.s)
  node d1 = shell(command = "cat {y} {y} > {out}", y = s1.s)
  node d2 = shell(command = "cat {y} {y} > {out}", y = s2.s)
  node total = shell(command = "cat {a} {b} {c} > {out}; echo chunk_00,chunk_01,chunk_02 >> {out}", a = d0.out, b = d1.out, c = d2.out)
}
PIPE

# ran: the nodes the last run ran, sorted
ran() {
  "$PIPEC" show --json | python3 -c '
import json, sys
print(" ".join(sorted(n["name"] for n in json.load(sys.stdin)["nodes"] if n["status"] == "succeeded")))'
}

expect_exit 2 "$PIPEC" run p.pipe --node 'summed[chunk_00]' &&
  expect_in "'summed[chunk_00]' belongs to a family that expands once 'parts' has run" &&
  expect_in "pipec run FILE --to parts" && pass "a member before its loop expanded: what to run first" || fail "member before expansion: $OUT"
expect_exit 0 "$PIPEC" run p.pipe --dry-run && expect_in "expands    summed[*]" &&
  expect_in "would run  total            (after a family it reads expands)" &&
  pass "--dry-run shows the unexpanded family as one group" || fail "dry run: $OUT"

expect_exit 0 "$PIPEC" run p.pipe && expect_in "expanded  summed[*]: 3 members from parts.chunks" &&
  expect_in "8 ran, 0 cached" && pass "the loop expands after its producer: 3 chunks, 6 members" || fail "first run: $OUT"
fan=$("$PIPEC" cat total 2>/dev/null)
expect_exit 0 "$PIPEC" run hand.pipe -q || fail "the hand-written pipeline"
expect_stdout 0 "$PIPEC" cat total &&
  [ "$fan" = "$OUT" ] && [ "$(cat results/total.txt)" = "$fan" ] &&
  pass "split -> per chunk -> gather equals the hand-written pipeline (and is published)" || fail "fan: $fan / hand: $OUT"

expect_exit 0 "$PIPEC" run p.pipe && expect_in "0 ran, 8 cached" && expect_in "expanded  summed[*]: 3 members" &&
  pass "a re-run expands the same members and runs nothing" || fail "re-run: $OUT"
expect_exit 0 "$PIPEC" why p.pipe 'doubled[chunk_01]' && expect_in "is cached" &&
  pass "why on an expanded member" || fail "why: $OUT"
expect_exit 0 "$PIPEC" run p.pipe --node 'summed[chunk_01]' --force -q && [ "$(ran)" = "summed[chunk_01]" ] &&
  pass "--node on an expanded member runs that one" || fail "--node member ran: $(ran)"

# one chunk changes: exactly its members and the gather run
sed -i 's/^15$/150/' data/numbers.txt
expect_exit 0 "$PIPEC" run p.pipe -q && [ "$(ran)" = "doubled[chunk_01] parts summed[chunk_01] total" ] &&
  pass "one chunk's bytes change: its two members and the gather run" || fail "one chunk changed: $(ran)"

# a chunk added by the producer: exactly the new members and the gather
seq 26 32 >> data/numbers.txt
expect_exit 0 "$PIPEC" run p.pipe -q && [ "$(ran)" = "doubled[chunk_02] doubled[chunk_03] parts summed[chunk_02] summed[chunk_03] total" ] &&
  pass "the producer adds a chunk (and changes the last): those members and the gather" || fail "chunk added: $(ran)"
# a chunk dropped
head -n 20 data/numbers.txt > n.tmp && mv n.tmp data/numbers.txt
expect_exit 0 "$PIPEC" run p.pipe -q && [ "$(ran)" = "parts total" ] &&
  "$PIPEC" show --json | python3 -c 'import json,sys; assert not [n for n in json.load(sys.stdin)["nodes"] if "chunk_02" in n["name"]]' &&
  pass "the producer drops chunks: their members are gone, the gather runs" || fail "chunk dropped: $(ran)"
sqlite3 .pipec/pipec.db "SELECT coalesce(k.keys, e.keys) FROM expansions e LEFT JOIN key_lists k ON k.id = e.keys_id ORDER BY e.run_id DESC LIMIT 1" > keys.txt 2>/dev/null
[ "$(cat keys.txt)" = "$(printf 'chunk_00\nchunk_01')" ] && pass "the run records its expansion" || fail "expansion recorded: $(cat keys.txt)"

# lines() and a json list
cat > items.pipe <<'PIPE'
pipeline items {
  node names = shell(command = "printf 'ada\nbob\n\ncy\n' > {out}")
  for who in lines(names.out) {
    node hello[who] = shell(command = "echo hello ${who} > {out}")
  }
  node all = shell(command = "cat {x} > {out}", x = hello[*].out)
  component ls_json() -> (j: json) { command = "echo '[3, 1, \"two\"]' > {j}" }
  node list = ls_json()
  for n in list.j {
    node twice[n] = shell(command = "echo ${n} ${n} > {out}")
  }
  node both = shell(command = "cat {x} > {out}", x = twice[*].out)
}
PIPE
expect_exit 0 "$PIPEC" run items.pipe -q && expect_stdout 0 "$PIPEC" cat all &&
  [ "$OUT" = "$(printf 'hello ada\nhello bob\nhello cy')" ] && expect_stdout 0 "$PIPEC" cat both &&
  [ "$OUT" = "$(printf '3 3\n1 1\ntwo two')" ] &&
  pass "lines() (empty lines skipped) and a json list, in their order" || fail "lines/json: $OUT"
cat > dup.pipe <<'PIPE'
pipeline dup {
  node names = shell(command = "printf 'a\nb\na\n' > {out}")
  for w in lines(names.out) {
    node say[w] = shell(command = "echo ${w} > {out}")
  }
}
PIPE
expect_exit 1 "$PIPEC" run dup.pipe -q && expect_in "has the item 'a' twice" &&
  pass "two items with one key fail the run, naming the item" || fail "dup items: $OUT"

# kill -9 while the members run, then the re-run completes and is right
cat > slow.pipe <<'PIPE'
pipeline slow {
  component split(input: file) -> (chunks: dir) {
    command = "split -l 1 -d -a 3 {input} {chunks}/c_"
  }
  node parts = split(input = file("data/numbers.txt"))
  for c in parts.chunks {
    node w[c] = shell(command = "sleep 0.05; cat {x} > {out}", x = c)
  }
  node total = shell(command = "cat {all} | awk '{ t += $1 } END { print t }' > {out}", all = w[*].out)
}
PIPE
"$PIPEC" run slow.pipe -q -j2 >/dev/null 2>&1 &
pid=$!
sleep 0.4
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
sleep 0.3
expect_exit 0 "$PIPEC" run slow.pipe -q -j2 && expect_stdout 0 "$PIPEC" cat total &&
  [ "$OUT" = "$(awk '{ t += $1 } END { print t }' data/numbers.txt)" ] &&
  pass "kill -9 during the members, then the re-run finishes with the right sum" || fail "after kill -9: $OUT"
expect_exit 0 "$PIPEC" cache verify && pass "the store is intact" || fail "verify: $OUT"
finish
