#!/usr/bin/env bash
# kill -9 at random moments of runs of a 200-node pipeline, of `pipec
# rollback` and of `pipec cache gc`, mixed (seeded). After every kill:
#   - PRAGMA integrity_check is ok and `pipec cache verify` finds nothing;
#   - no rollback temporary file is left in the project after the next
#     command, and p.pipe is whole (one of the versions it had);
#   - resuming the run finishes, every node the killed run finished is
#     `cached` in the resumed run (same configuration), and the result (a
#     node that reads all 200 outputs) equals an uninterrupted run's.
# PIPEC_CRASH_ROUNDS sets the number of kills (CI: 12; a long check: 100).
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }
command -v python3 >/dev/null || { fail "python3 is missing"; finish; }

ROUNDS=${PIPEC_CRASH_ROUNDS:-12}
[ -n "${PIPEC_VALGRIND:-}" ] && ROUNDS=${PIPEC_CRASH_ROUNDS:-3}
RANDOM=7
WIDTH=20 LAYERS=10   # 200 nodes, plus `all`

# gen SALT: the pipeline. Layer 0 writes its name and the salt; each later
# node hashes its name with two nodes of the layer before; `all` reads all.
gen() {
  local salt=$1 l i
  echo "pipeline crash200 {"
  echo "  param salt : int = $salt"
  for ((i = 0; i < WIDTH; i++)); do
    echo "  node n0_$i = shell(command = \"echo n0_$i \${salt} > {out}\")"
  done
  for ((l = 1; l < LAYERS; l++)); do
    for ((i = 0; i < WIDTH; i++)); do
      local a=$(( i )) b=$(( (i + 1) % WIDTH ))
      echo "  node n${l}_$i = shell(command = \"(echo n${l}_$i; cat {x} {y}) | md5sum > {out}\", x = n$((l - 1))_$a.out, y = n$((l - 1))_$b.out)"
    done
  done
  printf '  node all = shell(command = "cat'
  for ((l = 0; l < LAYERS; l++)); do
    for ((i = 0; i < WIDTH; i++)); do printf ' {i%d_%d}' $l $i; done
  done
  printf ' > {out}"'
  for ((l = 0; l < LAYERS; l++)); do
    for ((i = 0; i < WIDTH; i++)); do printf ', i%d_%d = n%d_%d.out' $l $i $l $i; done
  done
  printf ')\n}\n'
}

# reference results of each salt, from uninterrupted runs elsewhere
SALTS=4
for ((s = 0; s < SALTS; s++)); do
  mkdir -p "ref$s" && gen $s > "ref$s/p.pipe"
  (cd "ref$s" && "$PIPEC" run p.pipe -q >/dev/null 2>&1 && "$PIPEC" cat all > all.out 2>/dev/null) ||
    fail "reference run for salt $s"
done

mkdir proj && cd proj
gen 0 > p.pipe
expect_exit 0 "$PIPEC" run p.pipe -q || fail "first run"

salt_of() { sed -n 's/^  param salt : int = \([0-9]*\)$/\1/p' p.pipe; }

# succeeded nodes of run $1 that are not `cached` in run $2
not_cached_after() {
  "$PIPEC" show "$1" --json > a.json 2>/dev/null
  "$PIPEC" show "$2" --json > b.json 2>/dev/null
  python3 - a.json b.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
done = {n["name"] for n in a["nodes"] if n["status"] == "succeeded"}
cached = {n["name"] for n in b["nodes"] if n["status"] == "cached"}
print(" ".join(sorted(done - cached)))
PY
}

bad=0 kinds="" interrupted=0
for ((r = 1; r <= ROUNDS; r++)); do
  case $((RANDOM % 6)) in
    0|1|2|3) what=run ;;
    4) what=rollback ;;
    5) what=gc ;;
  esac
  kinds+=" $what"
  before=$("$PIPEC" runs --json 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["run"] if r else 0)')
  case $what in
    run)
      # another configuration than the current one, so there is work
      gen $(( ($(salt_of) + 1 + RANDOM % (SALTS - 1)) % SALTS )) > p.pipe
      "$PIPEC" run p.pipe -q -j2 >/dev/null 2>&1 & ;;
    rollback)
      n=$("$PIPEC" snapshots --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
      "$PIPEC" rollback $((1 + RANDOM % n)) >/dev/null 2>&1 & ;;
    gc)
      "$PIPEC" cache gc --keep 1 >/dev/null 2>&1 & ;;
  esac
  pid=$!
  sleep "$((RANDOM % 2)).$(printf '%03d' $((RANDOM % 1000)))"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  # the killed run's node processes may linger a moment
  for _ in 1 2 3 4 5 6 7 8 9 10; do pgrep -f "pipec-e2e.*proj" >/dev/null || break; sleep 0.2; done

  check=$(sqlite3 .pipec/pipec.db 'PRAGMA integrity_check' 2>&1)
  [ "$check" = ok ] || { fail "round $r ($what): integrity_check: $check"; bad=1; continue; }
  "$PIPEC" cache verify >verify.out 2>&1 || { fail "round $r ($what): cache verify: $(cat verify.out)"; bad=1; continue; }
  salt=$(salt_of)
  [ -n "$salt" ] && [ "$(gen "$salt" | cmp - p.pipe && echo same)" = same ] ||
    { fail "round $r ($what): p.pipe is not a whole version"; bad=1; continue; }
  left=$(find . -name '*.pipec-rollback*' -not -path './.pipec/*' | head -3)
  [ -z "$left" ] || { fail "round $r ($what): rollback leftovers: $left"; bad=1; }

  "$PIPEC" run p.pipe -q -j2 >/dev/null 2>&1 || { fail "round $r ($what): the resumed run failed"; bad=1; continue; }
  after=$("$PIPEC" runs --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["run"])')
  "$PIPEC" cat all > all.out 2>/dev/null
  cmp -s all.out "../ref$salt/all.out" || { fail "round $r ($what): wrong result after resuming (salt $salt)"; bad=1; }
  # the killed run (if it was a run and got recorded) vs the resumed one
  if [ "$what" = run ]; then
    killed=$("$PIPEC" runs --json 2>/dev/null | python3 -c "
import json,sys
r=[x['run'] for x in json.load(sys.stdin) if $before < x['run'] < $after]
print(r[-1] if r else '')")
    if [ -n "$killed" ]; then
      lost=$(not_cached_after "$killed" "$after")
      done_n=$(python3 -c 'import json; print(sum(n["status"] == "succeeded" for n in json.load(open("a.json"))["nodes"]))')
      [ "$done_n" -gt 0 ] && interrupted=$((interrupted + 1))
      [ -z "$lost" ] || { fail "round $r: finished in run $killed but not cached in run $after: $lost"; bad=1; }
    fi
  fi
done
[ $bad = 0 ] && pass "$ROUNDS kill -9 rounds ($kinds; $interrupted runs killed with work done): 0 wrong outputs, database and objects intact, finished nodes cached" ||
  fail "kill -9 rounds"
finish
