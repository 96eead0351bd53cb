#!/usr/bin/env bash
# Golden diagnostics test: run `pipec check NAME.pipe` in this directory and
# compare stdout+stderr and the exit code with NAME.expected.
#
#   run.sh PIPEC NAME.pipe            compare (exit 1 and a diff on mismatch)
#   run.sh --update PIPEC NAME.pipe   (re)write NAME.expected
#
# Optional NAME.args holds extra arguments for `pipec check` (one line).
# With PIPEC_VALGRIND set (a valgrind command line; .ci/valgrind sets it),
# pipec runs under it, and any error it logs fails the test.
set -u
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
[ $# -eq 2 ] || { echo "usage: $0 [--update] PIPEC FILE.pipe" >&2; exit 2; }
pipec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(cd "$(dirname "$2")" && pwd)
name=$(basename "$2" .pipe)
cd "$dir" || exit 2
args=()
[ -f "$name.args" ] && read -r -a args < "$name.args"
vg=()
if [ -n "${PIPEC_VALGRIND:-}" ]; then
  vglog=$(mktemp "${TMPDIR:-/tmp}/pipec-vg.XXXXXX")
  trap 'rm -f "$vglog"' EXIT
  read -r -a vg <<<"$PIPEC_VALGRIND"
  vg+=("--log-file=$vglog")
fi
actual=$(NO_COLOR=1 "${vg[@]}" "$pipec" check "$name.pipe" "${args[@]}" 2>&1; echo "exit: $?")
if [ -n "${PIPEC_VALGRIND:-}" ] && [ -s "$vglog" ]; then
  echo "FAIL: $name: valgrind:" >&2; cat "$vglog" >&2
  exit 1
fi
if [ $update = 1 ]; then
  printf '%s\n' "$actual" > "$name.expected"
  echo "wrote $dir/$name.expected"
  exit 0
fi
[ -f "$name.expected" ] || { echo "missing $dir/$name.expected (run with --update)" >&2; exit 1; }
if ! diff -u "$name.expected" <(printf '%s\n' "$actual"); then
  echo "FAIL: $name: output differs from $name.expected" >&2
  exit 1
fi
