#!/usr/bin/env bash
# The layers of DESIGN §2, proved on the tree and on the built libraries:
#  - no engine/ or cli/ file includes a header private to the compiler
#    (compiler/*.h);
#  - the CLI includes only public headers (include/pipec/), its own, and
#    the base/ helpers it has a copy of (editdist.h, clock.h, units.h):
#    none of the engine's; ui/ (the web view) only public headers and its own;
#  - no library (base, compiler, stdlib-components, engine: the static
#    libraries and libpipec.so) calls exit(), _exit(), _Exit() or
#    quick_exit(): neither in the source nor as a symbol it imports.
. "$(dirname "$0")/lib.bash"
BUILD=$(dirname "$PIPEC_BIN")
cd "$SRC" || exit 1

# the quoted includes of some files: "FILE:HEADER" lines
includes() { grep -HoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' "$@" | sed -E 's/:[^"]*"([^"]+)"$/:\1/'; }

compiler_private=$(cd compiler && ls *.h | sed 's/^/^/; s/$/$/' | paste -sd'|')
bad=$(includes $(find engine cli -name '*.[ch]') | while IFS=: read -r f h; do
  base=${h##*/}
  if [[ $h == */compiler/* || $h == compiler/* ]] || grep -qE "$compiler_private" <<<"$base"; then
    echo "$f includes $h"
  fi
done)
[ -z "$bad" ] && pass "no engine/ or cli/ file includes a compiler-private header ($(ls compiler/*.h | wc -l) of them)" ||
  fail "compiler-private headers included: $bad"

engine_private=$(find engine -name '*.h' | wc -l)
bad=$(includes cli/*.[ch] | while IFS=: read -r f h; do
  case $h in
    pipec/*) [ -f "include/$h" ] || echo "$f includes $h (no such public header)" ;;
    editdist.h|clock.h|units.h) ;;                # pipec_cli_base, a copy
    ui.h) ;;                                      # the web view's entry (ui/)
    */*) echo "$f includes $h" ;;
    *) [ -f "cli/$h" ] || echo "$f includes $h (not the CLI's own, not public)" ;;
  esac
done)
[ -z "$bad" ] && pass "the CLI includes only include/pipec/, its own headers and its copy of editdist/clock/units (none of the $engine_private engine headers)" ||
  fail "the CLI includes private headers: $bad"

# the web view (ui/) reads the workspace through the public API only
bad=$(includes ui/*.[ch] | while IFS=: read -r f h; do
  case $h in
    pipec/*) [ -f "include/$h" ] || echo "$f includes $h (no such public header)" ;;
    */*) echo "$f includes $h" ;;
    *) [ -f "ui/$h" ] || echo "$f includes $h (not ui/'s own, not public)" ;;
  esac
done)
[ -z "$bad" ] && pass "ui/ includes only include/pipec/ and its own headers" ||
  fail "ui/ includes private headers: $bad"

# exit in the source of a library (a call: not a word in a comment, not
# lexer.l's macro that keeps flex's own exit out of the objects)
bad=$(grep -nE '(^|[^_[:alnum:].>])(exit|_exit|_Exit|quick_exit)[[:space:]]*\(' \
        $(find base compiler engine stdlib-components -name '*.[chly]') |
        grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//|#[[:space:]]*define)')
[ -z "$bad" ] && pass "no library source calls exit" || fail "exit called in a library: $bad"

# exit as a symbol the built libraries import
libs=$(ls "$BUILD"/libpipec_base.a "$BUILD"/libpipec_compiler.a "$BUILD"/libpipec_stdlib.a "$BUILD"/libpipec_engine.a "$BUILD"/libpipec.so 2>/dev/null)
[ "$(wc -w <<<"$libs")" = 5 ] || fail "the libraries are not built in $BUILD: $libs"
bad=
for l in $libs; do
  case $l in *.so) syms=$(nm -D --undefined-only "$l") ;; *) syms=$(nm --undefined-only "$l") ;; esac
  u=$(awk '$1 == "U" { print $2 }' <<<"$syms" | sed 's/@.*//' | grep -xE 'exit|_exit|_Exit|quick_exit')
  [ -n "$u" ] && bad="$bad $(basename "$l"): $u;"
done
[ -z "$bad" ] && pass "nm: none of $(for l in $libs; do printf '%s ' "$(basename "$l")"; done)imports exit" ||
  fail "a library imports exit:$bad"

# and libpipec.so exports the public functions only
extra=$(nm -D --defined-only "$BUILD/libpipec.so" | awk '{ print $3 }' | grep -v '^pipec_' | grep -vE '^(_init|_fini|_edata|_end|__bss_start)$')
[ -z "$extra" ] && pass "libpipec.so exports nothing but pipec_* functions" || fail "libpipec.so exports: $extra"
missing=$(grep -ho 'PIPEC_API[^(]*[^a-z_(]\(pipec_[a-z_0-9]*\)(' include/pipec/*.h | sed -E 's/.*(pipec_[a-z_0-9]*)\($/\1/' | sort -u |
  while read -r f; do nm -D --defined-only "$BUILD/libpipec.so" | awk '{ print $3 }' | grep -qx "$f" || echo "$f"; done)
[ -z "$missing" ] && pass "every PIPEC_API function of include/pipec/ is exported" || fail "not exported: $missing"
finish
