#!/usr/bin/env bash
# The cache stays true on remote targets (issue #11): an output written as
# a symlink on a staged ssh host comes back through the tar stream and is
# refused, never followed here; a node on a shared-filesystem ssh host or
# under Slurm that changes its input in place fails, naming it, as a local
# one does; a staged node editing its copy leaves the store alone. Needs the
# `services` fixture.
. "$(dirname "$0")/lib.bash"
use_services

mkdir proj && cd proj && mkdir .pipec
field() { "$PIPEC" show last --json | python3 -c '
import json,sys
for n in json.load(sys.stdin)["nodes"]:
    if n["name"] == sys.argv[1]: print(n[sys.argv[2]] or "")' "$1" "$2"; }
echo "private bytes of this machine" > private.txt
REMOTE=$T/remote-workdir
cat > r.pipe <<PIPE
pipeline remote_truth {
  target box    = ssh { host = "pipec-test", shared_fs = true }
  target staged = ssh { host = "pipec-test", workdir = "$REMOTE" }
  target hpc    = slurm { time = "5m" }

  node a      = shell(command = "seq 1 5 > {out}")
  node steal  = shell(command = "ln -s $PWD/private.txt {out}") on staged
  node edit_s = shell(command = "chmod u+w {x}; printf X | dd of={x} bs=1 seek=4 conv=notrunc 2>/dev/null; cat {x} > {out}", x = a.out) on staged
  node after  = shell(command = "cat {x} > {out}", x = edit_s.out)
}
PIPE
expect_exit 1 "$PIPEC" run r.pipe -k -q
[ "$(field steal status)" = failed ] && [ "$(field steal message)" = "output 'out' is a symbolic link (to $PWD/private.txt), not a file: write the file itself to {out} (cp, not ln -s); pipec never follows a link out of the scratch directory" ] &&
  pass "a symlink output from a staged ssh host fails its node" || fail "steal: $(field steal status) $(field steal message)"
! grep -rqs "private bytes" .pipec/objects && pass "the local file it pointed at did not enter the store" || fail "private.txt was stored"
[ "$(field edit_s status)" = succeeded ] && pass "a staged node may edit its own copy of an input" || fail "edit_s: $(field edit_s message)"
expect_stdout 0 "$PIPEC" cat a
[ "$OUT" = "$(seq 1 5)" ] && pass "the store's object is untouched by a staged edit" || fail "a: $OUT"

cat > shared.pipe <<'PIPE'
pipeline remote_inplace {
  target box = ssh { host = "pipec-test", shared_fs = true }
  target hpc = slurm { time = "5m" }
  node a   = shell(command = "seq 1 6 > {out}")
  node b   = shell(command = "seq 1 7 > {out}")
  node on_box = shell(command = "chmod u+w {x}; printf X | dd of={x} bs=1 seek=4 conv=notrunc 2>/dev/null; cat {x} > {out}", x = a.out) on box
  node on_hpc = shell(command = "chmod u+w {x}; printf X | dd of={x} bs=1 seek=4 conv=notrunc 2>/dev/null; cat {x} > {out}", x = b.out) on hpc
}
PIPE
expect_exit 1 "$PIPEC" run shared.pipe -k -q
[ "$(field on_box message)" = "node 'on_box' changed its input 'x' (from a.out) in place: inputs are read-only; write to an output instead" ] &&
  pass "an in-place edit on a shared-filesystem ssh host fails the node" || fail "on_box: $(field on_box status) $(field on_box message)"
[ "$(field on_hpc message)" = "node 'on_hpc' changed its input 'x' (from b.out) in place: inputs are read-only; write to an output instead" ] &&
  pass "an in-place edit under Slurm fails the node" || fail "on_hpc: $(field on_hpc status) $(field on_hpc message)"
expect_exit 1 "$PIPEC" cat a
expect_in "no longer in the store" && pass "the changed object is not served" || fail "cat a: $OUT"
finish
