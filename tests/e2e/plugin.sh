#!/usr/bin/env bash
# A component written in C as a plugin (examples/plugin/wordstats.c, built
# by CMake): loaded by `plugin "..."`, checked at compile time, run through
# `pipec exec --plugin`, and its library's content is in the cache key.
. "$(dirname "$0")/lib.bash"
[ -f "${PIPEC_EXAMPLE_PLUGIN:-}" ] || { fail "PIPEC_EXAMPLE_PLUGIN is not set to the built plugin"; finish; }

mkdir -p proj/lib && cd proj
cp "$PIPEC_EXAMPLE_PLUGIN" lib/libwordstats.so
printf 'the cat and the dog and the bird\nThe end\n' > text.txt
cat > p.pipe <<'PIPE'
plugin "lib/libwordstats.so"
pipeline words {
  component read() -> (out: file) {
    param source : path
    command = "cp {source} {out}"
  }
  node t     = read(source = "text.txt")
  node words = text.word_count(input = t.out, min_length = 3)
}
PIPE
expect_exit 0 "$PIPEC" check p.pipe && pass "a plugin's component compiles" || fail "a plugin's component compiles"
expect_exit 0 "$PIPEC" run p.pipe -q || finish
expect_stdout 0 "$PIPEC" cat words && [ "$(head -3 <<<"$OUT")" = $'word,count\n"the",4\n"and",2' ] && pass "the plugin's component runs" || fail "word counts: $OUT"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran" && pass "cached" || fail "cached"
printf 'x' >> lib/libwordstats.so   # a rebuilt library: its content changed
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "1 ran" && pass "a changed plugin re-runs its nodes" || fail "a changed plugin re-runs its nodes"
expect_exit 0 "$PIPEC" why p.pipe words
sed 's/min_length = 3/min_lenght = 3/' p.pipe > typo.pipe
expect_exit 2 "$PIPEC" check typo.pipe && expect_in "did you mean 'min_length'" && pass "plugin params are checked at compile time" || fail "plugin params are checked at compile time"
sed 's#lib/libwordstats.so#lib/nothere.so#' p.pipe > missing.pipe
expect_exit 2 "$PIPEC" check missing.pipe && expect_in "cannot load plugin 'lib/nothere.so'" && pass "a missing plugin is a clear error" || fail "a missing plugin is a clear error"
printf 'not a library' > lib/bad.so
sed 's#lib/libwordstats.so#lib/bad.so#' p.pipe > bad.pipe
expect_exit 2 "$PIPEC" check bad.pipe && expect_in "cannot load plugin 'lib/bad.so'" && pass "a broken plugin is a clear error" || fail "a broken plugin is a clear error"
expect_exit 0 "$PIPEC" exec text.word_count --plugin lib/libwordstats.so --in input=text.txt --out out=o.csv && grep -q '"the",4' o.csv && pass "pipec exec --plugin" || fail "pipec exec --plugin"
finish
