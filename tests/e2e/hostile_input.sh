#!/usr/bin/env bash
# Hostile values never run anything: params and file names with quotes,
# $(), backticks, ;, newlines, ../ and non-UTF-8 bytes reach commands as
# plain data (placeholders are quoted for the shell; ${} interpolation of
# such values into a command is refused at compile time).
. "$(dirname "$0")/lib.bash"

mkdir proj && cd proj
cat > p.pipe <<'PIPE'
pipeline hostile {
  param v : string = "plain"
  component echo_it() -> (out: file) {
    param value : string
    command = "printf '%s\n' {value} > {out}; printf '[%s]\n' \"{value}\" >> {out}"
  }
  node a = echo_it(value = v)
  node b = shell(command = "printf '%s' {x} > {out}", x = v)
  node c = shell(command = "cat {f} > {out}", f = a.out)
}
PIPE
values=('$(touch PWNED)' '`touch PWNED`' '; touch PWNED' "'; touch PWNED; '" '"; touch PWNED; "'
        $'two\nlines; touch PWNED' '../../etc/passwd' $'\xff\xfe not utf-8' '$HOME ${HOME} \\ * ? [a]')
for v in "${values[@]}"; do
  expect_exit 0 "$PIPEC" run p.pipe -q -p "v=$v" || continue
  got=$("$PIPEC" cat b)
  [ "$got" = "$v" ] || fail "value came back changed: '$v' -> '$got'"
done
[ -e PWNED ] || [ -e ../PWNED ] && fail "a value was executed" || pass "no value was executed; every value came back verbatim"
find . -path ./.pipec -prune -o -type f -newer p.pipe -print | grep -v '^./p.pipe$' | grep . && fail "a file was written outside the store" || pass "nothing written outside the workspace"

# a file name made of the same: read by a built-in and by a command
fn=$'we ird $(touch PWNED) `touch PWNED`;\n\'"\xff ../x.csv'
fn=${fn//\//_}
printf 'a,b\n1,2\n' > "$fn"
cat > f.pipe <<'PIPE'
pipeline hostile_file {
  param f : path = "x.csv"
  node r = table.read_csv(path = f)
  node c = shell(command = "cat {src} > {out}", src = f)
}
PIPE
expect_exit 0 "$PIPEC" run f.pipe -q -p "f=$fn" &&
  [ "$("$PIPEC" cat c)" = "$(cat "$fn")" ] && [ "$("$PIPEC" cat r)" = "$(cat "$fn")" ] &&
  [ ! -e PWNED ] && pass "a hostile file name is read as a file, nothing runs" || fail "a hostile file name is read as a file, nothing runs"

# ${} of such a value into a command is a compile error, not an injection
printf 'pipeline i {\n  param v : string = "x"\n  node a = shell(command = "echo ${v} > {out}")\n}\n' > interp.pipe
expect_exit 2 "$PIPEC" run interp.pipe -p 'v=$(touch PWNED)' && expect_in "cannot be pasted into a command" && [ ! -e PWNED ] && pass "unsafe \${} interpolation refused" || fail "unsafe \${} interpolation refused"
expect_exit 0 "$PIPEC" run interp.pipe -p 'v=fine-value_1.2' && pass "plain values interpolate" || fail "plain values interpolate"

# objects and the database are not world-writable
bad=$(find .pipec -perm -o+w ! -type l | head -3)
[ -z "$bad" ] && pass "nothing in the workspace is world-writable" || fail "world-writable: $bad"
finish
