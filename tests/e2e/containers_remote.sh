#!/usr/bin/env bash
# Nodes in container images on the test services' targets: a staged ssh
# host (the inputs copied below the job directory, mounted there), an ssh
# host sharing the workspace, and Slurm; the host's podman runs them (here
# the same podman: the services are on this machine). Needs the `services`
# fixture.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/containers.bash"
use_services
mkdir proj && cd proj && mkdir .pipec
use_podman
A=$CTR_PREFIX-a:1
P=$CTR_PREFIX-pipec:1
make_image "$A" pipec-remote-a; ID_A=$IMAGE_ID
make_image "$P" pipec-remote-p "$PIPEC_BIN"
echo "input bytes" > in.txt
printf 'x\n3\n1\n2\n' > t.csv
REMOTE=$T/remote-workdir

cat > rem.pipe <<PIPE
pipeline rem {
  target staged = ssh { host = "pipec-test", workdir = "$REMOTE" }
  target box    = ssh { host = "pipec-test", shared_fs = true }
  target hpc    = slurm { time = "5m" }

  component osr(x: file) -> (out: file) {
    param on : string
    command = "cat /etc/os-release {x} > {out}; pwd >> {out}"
    image = "$A"
  }
  node on_staged = osr(x = file("in.txt"), on = "staged") on staged
  node on_box    = osr(x = file("in.txt"), on = "box") on box
  node on_hpc    = osr(x = file("in.txt"), on = "hpc") on hpc
  node raw       = table.read_csv(path = "t.csv")
  node sorted    = table.sort(input = raw.out, by = ["x"]) on staged { image = "$P" }
}
PIPE
expect_exit 0 "$PIPEC" check rem.pipe && pass "the pipeline compiles" || fail "the pipeline compiles"
expect_exit 0 "$PIPEC" run rem.pipe && pass "image nodes run on ssh and Slurm targets" ||
  fail "image nodes run on ssh and Slurm targets"
want() { printf 'ID=pipec-remote-a\nNAME="pipec test image"\ninput bytes\n%s' "$1"; }
expect_stdout 0 "$PIPEC" cat on_staged.out && grep -q "^$REMOTE/.*/root$(pwd -P)\$" <<<"$OUT" &&
  [ "$(head -3 <<<"$OUT")" = "$(want x | head -3)" ] &&
  pass "on the staged host: the image's os-release, the input and the workdir below the job directory" ||
  fail "on_staged.out: $OUT"
expect_stdout 0 "$PIPEC" cat on_box.out && [ "$OUT" = "$(want "$(pwd -P)")" ] &&
  pass "on an ssh host sharing the workspace" || fail "on_box.out: $OUT"
expect_stdout 0 "$PIPEC" cat on_hpc.out && [ "$OUT" = "$(want "$(pwd -P)")" ] &&
  pass "on a Slurm node" || fail "on_hpc.out: $OUT"
expect_stdout 0 "$PIPEC" cat sorted.out && [ "$OUT" = "$(printf 'x\n1\n2\n3')" ] &&
  pass "a built-in in an image on the staged host" || fail "sorted.out: $OUT"
expect_exit 0 "$PIPEC" show last && expect_in "image $A  $ID_A  (3 nodes, first on_staged)" &&
  pass "show names the image each target resolved" || fail "show names the image"
expect_exit 0 "$PIPEC" targets rem.pipe &&
  expect_in "podman $(podman version --format '{{.Client.Version}}')" &&
  pass "targets shows the hosts' runtime" || fail "targets shows the hosts' runtime"
expect_exit 0 "$PIPEC" run rem.pipe && expect_in "0 ran, 5 cached" &&
  pass "an unchanged image re-run is fully cached" || fail "an unchanged image re-run is fully cached"
[ -z "$(pipec_containers)" ] && pass "no container is left" || fail "left: $(pipec_containers)"

# read-only inputs and a timeout on the staged host
cat > stop.pipe <<PIPE
pipeline stop {
  target staged = ssh { host = "pipec-test", workdir = "$REMOTE" }
  node w = shell(command = "echo changed > {i} && echo ok > {out}", i = file("in.txt")) on staged { image = "$A" }
  node t = shell(command = "sleep 300; echo > {out}") on staged { image = "$A", timeout = "3s" }
}
PIPE
expect_exit 1 "$PIPEC" run --keep-going stop.pipe && expect_in "timed out after 3s" &&
  expect_stdout 0 "$PIPEC" logs last w && expect_in "Read-only file system" &&
  pass "on the staged host an input is read-only and a timeout stops the node" ||
  fail "on the staged host an input is read-only and a timeout stops the node"
[ -z "$(pipec_containers)" ] && pass "the timed-out container is gone" ||
  fail "after the timeout: $(pipec_containers)"
finish
