#!/usr/bin/env bash
# What re-runs and what does not (DESIGN §4): names and targets are not in
# the key; params, code files and data files are; early cut-off; and the
# exact node sets of --node, --nodes, --from, --to.
. "$(dirname "$0")/lib.bash"

mkdir -p proj/scripts proj/data && cd proj
printf '3\n1\n2\n' > data/in.txt
printf '#!/bin/sh\nsort -n "$1" > "$2"\n' > scripts/sort.sh
cat > p.pipe <<'PIPE'
pipeline sem {
  param src : path = "data/in.txt"
  param k   : int = 2
  target other = local { cpus = 2 }
  component sorter() -> (out: file) {
    param input : path
    command = "sh scripts/sort.sh {input} {out}"
    code = ["scripts/sort.sh"]
  }
  node a = sorter(input = src)
  node b = shell(command = "head -n ${k} {x} > {out}", x = a.out)
  node c = shell(command = "wc -l < {x} > {out}", x = b.out)
  node d = shell(command = "echo independent > {out}")
}
PIPE
# statuses of the last run as "name=status ...", sorted by name
statuses() { "$PIPEC" show last --json > show.json; python3 -c '
import json,sys; print(" ".join(sorted(n["name"]+"="+n["status"] for n in json.load(open("show.json"))["nodes"])))'; }
want() { local got; got=$(statuses); [ "$got" = "$1" ] && pass "$2" || fail "$2: got '$got', want '$1'"; }

expect_exit 0 "$PIPEC" run p.pipe -q
want "a=succeeded b=succeeded c=succeeded d=succeeded" "first run"
expect_exit 0 "$PIPEC" run p.pipe -q
want "a=cached b=cached c=cached d=cached" "unchanged re-run is fully cached"

# renaming a node and moving it to another target keep its cache
sed -i 's/node d = shell/node d2 = shell/; s/node b = shell(command = "head -n ${k} {x} > {out}", x = a.out)/node b = shell(command = "head -n ${k} {x} > {out}", x = a.out) on other/' p.pipe
expect_exit 0 "$PIPEC" run p.pipe -q
want "a=cached b=cached c=cached d2=cached" "rename and retarget re-run nothing"

# one param: that node and downstream
expect_exit 0 "$PIPEC" run p.pipe -q -p k=1
want "a=cached b=succeeded c=succeeded d2=cached" "param change re-runs the node and downstream"

# early cut-off: k=3 and k=4 both give all 3 lines, so c stays cached
expect_exit 0 "$PIPEC" run p.pipe -q -p k=3
expect_exit 0 "$PIPEC" run p.pipe -q -p k=4
want "a=cached b=succeeded c=cached d2=cached" "early cut-off: same bytes keep downstream cached"

# a code file edit re-runs its node and downstream
printf '#!/bin/sh\nsort -rn "$1" > "$2"\n' > scripts/sort.sh
expect_exit 0 "$PIPEC" run p.pipe -q
want "a=succeeded b=succeeded c=succeeded d2=cached" "code file edit re-runs the node and what its new output feeds"
expect_exit 0 "$PIPEC" why p.pipe a && expect_in "a is cached" && pass "why after" || fail "why after"

# a data file edit
printf '5\n4\n3\n1\n2\n' > data/in.txt
expect_exit 0 "$PIPEC" run p.pipe -q
want "a=succeeded b=succeeded c=succeeded d2=cached" "data file edit re-runs"
# the same bytes again from a different data file order: cut-off below a
printf '4\n5\n3\n1\n2\n' > data/in.txt
expect_exit 0 "$PIPEC" run p.pipe -q
want "a=succeeded b=cached c=cached d2=cached" "early cut-off after a data edit that sorts the same"
printf '5\n4\n3\n1\n2\n9\n' > data/in.txt
expect_exit 0 "$PIPEC" run p.pipe -q -p k=10
want "a=succeeded b=succeeded c=succeeded d2=cached" "data + param"

# selections run exactly their sets
expect_exit 0 "$PIPEC" run p.pipe -q --force --node b -p k=10
want "b=succeeded" "--node runs exactly one node"
expect_exit 0 "$PIPEC" run p.pipe -q --force --nodes a,d2 -p k=10
want "a=succeeded d2=succeeded" "--nodes runs exactly that set"
expect_exit 0 "$PIPEC" run p.pipe -q --force --from b -p k=10
want "b=succeeded c=succeeded" "--from runs the node and downstream"
expect_exit 0 "$PIPEC" run p.pipe -q --force --to b -p k=10
want "a=succeeded b=succeeded" "--to runs the node and upstream"
expect_exit 0 "$PIPEC" run p.pipe -q --force --from a --to b -p k=10
want "a=succeeded b=succeeded" "--from A --to B runs the nodes between"

# --node whose upstream has no outputs for the current configuration
printf 'new data\n' > data/in.txt
expect_exit 2 "$PIPEC" run p.pipe --node b -p k=10 && expect_in "node 'a' is needed by the selection but has no stored outputs" && expect_in "--to a" && pass "--node without upstream outputs: the documented error" || fail "--node without upstream outputs: the documented error"
finish
