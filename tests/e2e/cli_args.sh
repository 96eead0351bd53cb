#!/usr/bin/env bash
# The command line's arguments: no number or length of arguments corrupts
# memory (run --nodes with 5,000 names), every bad number is exit 2 with
# the same message (-j, -n, --keep, run and snapshot ids), '--' ends the
# options of every command, usage errors show every usage line, help and
# suggestions say the right thing, cat names a missing port.
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
# 5,000 nodes, selected by one --nodes list
python3 - <<'PY'
with open("many.pipe", "w") as f:
    f.write("pipeline many {\n")
    for i in range(5000):
        f.write(f'  node n{i} = shell(command = "echo {i} > {{out}}")\n')
    f.write("}\n")
with open("names.txt", "w") as f:
    f.write(",".join(f"n{i}" for i in range(5000)))
PY
expect_exit 0 "$PIPEC" run many.pipe --dry-run --nodes "$(cat names.txt)" &&
  [ "$(tail -n 1 <<<"$OUT")" = "5000 would run, 0 cached (dry run: nothing was run)" ] &&
  pass "run --nodes with 5,000 names selects them all" || fail "run --nodes with 5,000 names: $(tail -n 3 <<<"$OUT")"
expect_exit 0 "$PIPEC" run many.pipe --dry-run --nodes=n1,n2 --nodes n3 -- &&
  [ "$(tail -n 1 <<<"$OUT")" = "3 would run, 0 cached (dry run: nothing was run)" ] &&
  pass "--nodes lists add up, --nodes=V works" || fail "--nodes lists: $OUT"

cat > p.pipe <<'PIPE'
pipeline args {
  component two() -> (bai: file, bam: file) {
    command = "echo index > {bai}; echo reads > {bam}"
  }
  node S1 = two()
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe -q || finish

# numbers: one message, exit 2, for every bad value
check_number() { # DESC EXPECTED-FIRST-LINE CMD...
  local desc=$1 want=$2; shift 2
  OUT=$("$@" 2>&1); local rc=$?
  if [ "$rc" = 2 ] && [ "$(head -n 1 <<<"$OUT")" = "$want" ]; then
    pass "$desc"
  else
    fail "$desc: exit $rc, output:"; printf '%s\n' "$OUT" >&2
  fi
}
check_number "runs -n x" "pipec runs: -n needs a whole number from 1 to 4294967295, got 'x'" "$PIPEC" runs -n x
check_number "runs -n 0" "pipec runs: -n needs a whole number from 1 to 4294967295, got '0'" "$PIPEC" runs -n 0
check_number "runs -n -3" "pipec runs: -n needs a whole number from 1 to 4294967295, got '-3'" "$PIPEC" runs -n -3
check_number "runs --limit 1e3" "pipec runs: --limit needs a whole number from 1 to 4294967295, got '1e3'" "$PIPEC" runs --limit 1e3
check_number "runs -n ' 5'" "pipec runs: -n needs a whole number from 1 to 4294967295, got ' 5'" "$PIPEC" runs -n ' 5'
check_number "cache gc --keep 4294967297" "pipec cache: --keep needs a whole number from 0 to 4294967295, got '4294967297'" "$PIPEC" cache gc --keep 4294967297
check_number "cache gc --keep -1" "pipec cache: --keep needs a whole number from 0 to 4294967295, got '-1'" "$PIPEC" cache gc --keep -1
check_number "run -j 0" "pipec run: -j needs a whole number from 1 to 4096, got '0'" "$PIPEC" run p.pipe -j 0
check_number "run --jobs=99999999999999999999" "pipec run: --jobs needs a whole number from 1 to 4096, got '99999999999999999999'" "$PIPEC" run p.pipe --jobs=99999999999999999999
check_number "show 18446744073709551617" "pipec show: '18446744073709551617' is not a run (a number, or 'last')" "$PIPEC" show 18446744073709551617
check_number "diff 1 x" "pipec diff: 'x' is not a snapshot id (see pipec snapshots)" "$PIPEC" diff 1 x
check_number "rollback 0" "pipec rollback: '0' is not a snapshot id (see pipec snapshots)" "$PIPEC" rollback 0
check_number "run -j with nothing after it" "pipec run: -j needs a value" "$PIPEC" run p.pipe -j
expect_exit 0 "$PIPEC" runs -n 1 && [ "$(wc -l <<<"$OUT")" = 2 ] && pass "runs -n 1 lists one run" || fail "runs -n 1: $OUT"
expect_exit 0 "$PIPEC" run p.pipe -qj2 && expect_in "0 ran, 1 cached" && pass "grouped short options (-qj2)" || fail "-qj2"

# '--' ends options, in every command
printf 'pipeline dash { node a = shell(command = "echo dash > {out}") }\n' > ./-dash.pipe
expect_exit 0 "$PIPEC" check -- -dash.pipe && [ "$OUT" = "-dash.pipe: ok: pipeline 'dash', 1 node" ] && pass "check -- FILE" || fail "check -- FILE: $OUT"
expect_exit 0 "$PIPEC" graph --format json -- -dash.pipe && python3 -c 'import json,sys; assert json.loads(sys.argv[1])["pipeline"] == "dash"' "$OUT" && pass "graph -- FILE" || fail "graph -- FILE: $OUT"
expect_exit 0 "$PIPEC" run -q -- -dash.pipe && expect_in "1 ran, 0 cached" && pass "run -- FILE" || fail "run -- FILE: $OUT"
expect_exit 0 "$PIPEC" why -- -dash.pipe a && expect_in "a is cached" && pass "why -- FILE NODE" || fail "why -- FILE NODE: $OUT"
expect_stdout 0 "$PIPEC" cat -- a && [ "$OUT" = dash ] && pass "cat -- NODE" || fail "cat -- NODE: $OUT"
expect_exit 0 "$PIPEC" show --json -- last && pass "show -- RUN" || fail "show -- RUN"
expect_exit 0 "$PIPEC" logs -- last a && pass "logs -- RUN NODE" || fail "logs -- RUN NODE"
expect_exit 0 "$PIPEC" snapshots -- -dash.pipe && expect_in "dash" && pass "snapshots -- FILE" || fail "snapshots -- FILE: $OUT"
expect_exit 0 "$PIPEC" targets -- -dash.pipe && expect_in "local" && pass "targets -- FILE" || fail "targets -- FILE"
expect_exit 0 "$PIPEC" components -- table.sort && expect_in "table.sort" && pass "components -- NAME" || fail "components -- NAME"
expect_exit 0 "$PIPEC" diff -- 1 1 && pass "diff -- A B" || fail "diff -- A B: $OUT"
expect_exit 0 "$PIPEC" rollback --dry-run -- 1 && pass "rollback -- SNAP" || fail "rollback -- SNAP: $OUT"
expect_exit 0 "$PIPEC" help -- run && expect_in "usage: pipec run FILE" && pass "help -- COMMAND" || fail "help -- COMMAND"
expect_exit 2 "$PIPEC" runs -- -n && expect_in "pipec runs: unexpected '-n'" && pass "after '--', '-n' is an operand" || fail "runs -- -n: $OUT"

# usage errors show every usage line
expect_exit 2 "$PIPEC" cache frob &&
  [ "$OUT" = "pipec cache: unknown subcommand 'frob' (gc, verify, push or pull)
usage: pipec cache verify
       pipec cache gc [--keep N]
       pipec cache push [NAME]
       pipec cache pull [NAME]" ] && pass "cache usage error shows every usage line" || fail "cache usage: $OUT"
expect_exit 2 "$PIPEC" runs --josn &&
  [ "$OUT" = "pipec runs: unknown option '--josn'
  did you mean '--json'?
usage: pipec runs [--json] [-n, --limit N]" ] && pass "an unknown option suggests the nearest" || fail "unknown option: $OUT"

# help
expect_exit 0 "$PIPEC" help --help && [ "$(head -n 1 <<<"$OUT")" = "usage: pipec help [COMMAND]" ] && pass "help --help" || fail "help --help: $OUT"
expect_exit 2 "$PIPEC" help bogus &&
  [ "$OUT" = "pipec help: unknown command 'bogus'
run 'pipec --help' for the list of commands" ] && pass "help bogus suggests nothing" || fail "help bogus: $OUT"
expect_exit 2 "$PIPEC" help rnu && expect_in "did you mean 'run'?" && pass "help rnu suggests run" || fail "help rnu: $OUT"
expect_exit 2 "$PIPEC" bogus && ! grep -qF "did you mean" <<<"$OUT" && pass "pipec bogus suggests nothing" || fail "pipec bogus: $OUT"

# cat: a port that is not there
expect_exit 2 "$PIPEC" cat S1.bma 1 &&
  [ "$OUT" = "pipec cat: node 'S1' has no output 'bma'
  did you mean 'bam'?" ] && pass "cat S1.bma suggests bam" || fail "cat S1.bma: $OUT"
expect_exit 2 "$PIPEC" cat S1 1 &&
  [ "$OUT" = "pipec cat: node 'S1' has outputs: S1.bai S1.bam; say which one" ] && pass "cat S1 asks which output" || fail "cat S1: $OUT"
expect_exit 0 "$PIPEC" cat S1.bam 1 && [ "$OUT" = reads ] && pass "cat S1.bam" || fail "cat S1.bam: $OUT"
finish
