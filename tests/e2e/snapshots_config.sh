#!/usr/bin/env bash
# A snapshot is the configuration, not only the .pipe files: it keeps the
# bytes of every `code` file (in the object store, kept by gc), the -p
# values as rows, and the content hash of every data file it read.
# `rollback` restores .pipe and code files byte for byte (mode included),
# the run afterwards is cached, and the rollback can be undone; `diff`
# shows changed code files (hashes and a unified diff, or "binary"), data
# files and -p values.
. "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing"; finish; }

mkdir -p proj/scripts proj/bin proj/lib proj/data && cd proj
cat > scripts/prep.sh <<'SH'
#!/bin/sh
# upper-case the input
tr a-z A-Z < "$1" > "$2"
echo "prepared with $3" >> "$2"
SH
chmod 755 scripts/prep.sh
printf '\x00\x01binary\xff' > bin/table.bin
printf 'helper one\n' > lib/one.txt
printf 'hello\nworld\n' > data/in.txt
cat > p.pipe <<'PIPE'
pipeline conf {
  param src : path = "data/in.txt"
  param n   : int = 2
  component prep(raw: file) -> (out: file) {
    param n : int
    command = "./scripts/prep.sh {raw} {out} {n}; cat bin/table.bin lib/one.txt >> {out}"
    code    = ["scripts/prep.sh", "bin/table.bin", "lib"]
  }
  node load = shell(command = "cat {f} > {out}", f = src)
  node up   = prep(raw = load.out, n = n)
}
PIPE
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "2 ran" || finish
mkdir v1 && cp -p scripts/prep.sh bin/table.bin lib/one.txt v1/

# what snapshot 1 recorded: every code file (a directory's files too), the data file
rows=$(sqlite3 .pipec/pipec.db "SELECT kind, path, size, mode FROM snapshot_files WHERE snapshot_id = 1 ORDER BY kind, path")
[ "$rows" = "code|bin/table.bin|9|420
code|lib/one.txt|11|420
code|scripts/prep.sh|$(stat -c %s scripts/prep.sh)|493
data|data/in.txt|12|0" ] && pass "snapshot 1 records its code and data files" || fail "snapshot_files: $rows"
ok=1 seen=0
while IFS='|' read -r path hash; do
  obj=.pipec/objects/${hash:0:2}/${hash:2}
  cmp -s "$obj" "v1/$(basename "$path")" || ok=0
  seen=$((seen + 1))
done < <(sqlite3 .pipec/pipec.db "SELECT path, hash FROM snapshot_files WHERE snapshot_id = 1 AND kind = 'code'")
[ "$ok" = 1 ] && [ "$seen" = 3 ] && pass "the object store holds every code file's bytes" || fail "code objects differ from the files"

# edit the code, run with -p
sed -i '/^tr /s/> "\$2"$/| rev > "$2"/' scripts/prep.sh
printf '\x00\x02BINARY\xfe' > bin/table.bin
expect_exit 0 "$PIPEC" run p.pipe -q -p n=3 && expect_in "1 ran, 1 cached" || finish
mkdir v2 && cp -p scripts/prep.sh bin/table.bin lib/one.txt v2/
h() { sqlite3 .pipec/pipec.db "SELECT hash FROM snapshot_files WHERE snapshot_id = $1 AND path = '$2'"; }
expect_exit 0 "$PIPEC" diff 1 2 && [ "$OUT" = "param    n: 2 -> 3
param    up.n: 2 -> 3
-p       n: (not given) -> 3
code     bin/table.bin: binary, $(h 1 bin/table.bin) -> $(h 2 bin/table.bin)
code     scripts/prep.sh: $(h 1 scripts/prep.sh) -> $(h 2 scripts/prep.sh)
--- a/scripts/prep.sh (snapshot 1)
+++ b/scripts/prep.sh (snapshot 2)
@@ -1,4 +1,4 @@
 #!/bin/sh
 # upper-case the input
-tr a-z A-Z < \"\$1\" > \"\$2\"
+tr a-z A-Z < \"\$1\" | rev > \"\$2\"
 echo \"prepared with \$3\" >> \"\$2\"" ] && pass "diff shows the code files (hashes, unified diff, binary) and the -p value" || fail "diff 1 2: $OUT"

# gc keeps the code objects of every snapshot (code files are no outputs:
# only that rule keeps them; --keep 2 keeps the outputs the run after the
# rollback reuses)
expect_exit 0 "$PIPEC" cache gc --keep 2 || fail "cache gc"

expect_exit 0 "$PIPEC" rollback 1 --dry-run &&
  [ "$OUT" = "unchanged p.pipe
restore   bin/table.bin
unchanged lib/one.txt
restore   scripts/prep.sh
2 files would change (dry run: nothing was written)" ] && pass "rollback --dry-run lists the code files" || fail "dry run: $OUT"
expect_exit 0 "$PIPEC" rollback 1 && [ "$OUT" = "restored 2 files of snapshot 1 (the files before are snapshot 3)" ] && pass "rollback 1 restores the code files" || fail "rollback 1: $OUT"
cmp -s scripts/prep.sh v1/prep.sh && cmp -s bin/table.bin v1/table.bin && pass "code files restored byte for byte" || fail "code files differ from snapshot 1"
[ "$(stat -c %a scripts/prep.sh)" = 755 ] && pass "the script stays executable" || fail "mode $(stat -c %a scripts/prep.sh)"
expect_exit 0 "$PIPEC" run p.pipe -q && expect_in "0 ran, 2 cached" && pass "the run after the rollback is cached" || fail "run after rollback: $OUT"
expect_exit 0 "$PIPEC" rollback 1 && [ "$OUT" = "the files already match snapshot 1" ] && pass "a second rollback has nothing to do" || fail "second rollback: $OUT"

# undo: back to the edited code
expect_exit 0 "$PIPEC" rollback 3 && expect_in "restored 2 files of snapshot 3" || fail "rollback 3: $OUT"
cmp -s scripts/prep.sh v2/prep.sh && cmp -s bin/table.bin v2/table.bin && pass "rolling back the rollback returns the edited code" || fail "undo"

# a deleted code file is created again; a data file shows in diff
rm lib/one.txt
expect_exit 0 "$PIPEC" rollback 1 && expect_in "restored 3 files of snapshot 1" && cmp -s lib/one.txt v1/one.txt && pass "a deleted code file comes back" || fail "deleted code file: $OUT"
last=$(sqlite3 .pipec/pipec.db "SELECT max(id) FROM snapshots")
printf 'changed\n' >> data/in.txt
expect_exit 0 "$PIPEC" run p.pipe -q || fail "run after data edit"
new=$(sqlite3 .pipec/pipec.db "SELECT max(id) FROM snapshots")
expect_exit 0 "$PIPEC" diff 1 "$new" && [ "$OUT" = "data     data/in.txt: $(h 1 data/in.txt) -> $(h "$new" data/in.txt)" ] &&
  pass "diff shows a changed data file" || fail "diff data: $OUT (last $last new $new)"
[ "$(h 1 data/in.txt)" != "$(h "$new" data/in.txt)" ] && pass "the data hashes differ" || fail "data hashes"
finish
