#!/usr/bin/env bash
# Nodes in container images on the local target (docs/containers.md): the
# command runs in the image, inputs are read-only, the network is off
# unless asked, env and limits reach the container, a timeout and Ctrl-C
# leave no container, the image's id (not its tag) is in the cache key,
# a missing image or runtime fails the node with the documented message,
# and check, show, why and targets say which image.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/containers.bash"
use_podman
A=$CTR_PREFIX-a:1       # the images of this test
B=$CTR_PREFIX-b:1
make_image "$A" pipec-image-a; ID_A=$IMAGE_ID
make_image "$B" pipec-image-b; ID_B=$IMAGE_ID
WS=$(pwd -P)/.pipec
echo "input bytes" > in.txt

cat > img.pipe <<PIPE
pipeline img {
  component osr(x: file) -> (out: file) {
    command = "cat /etc/os-release {x} > {out}"
    image = "$A"
  }
  component env_of() -> (out: file) {
    command = "echo \"foo=\$FOO node=\$PIPEC_NODE pwd=\$(pwd)\" > {out}"
    image = "$A"
    env = { FOO = "bar" }
  }
  node os    = osr(x = file("in.txt"))
  node host  = shell(command = "cat /etc/os-release > {out}")
  node env   = env_of()
  node other = shell(command = "grep ^ID= /etc/os-release > {out}") { image = "$B" }
}
PIPE

# ---- the command runs in its image -------------------------------------------
expect_exit 0 "$PIPEC" run img.pipe &&
  pass "a pipeline with images runs" || fail "a pipeline with images runs"
expect_stdout 0 "$PIPEC" cat os.out &&
  [ "$OUT" = "$(printf 'ID=pipec-image-a\nNAME="pipec test image"\ninput bytes')" ] &&
  pass "the command saw the image's /etc/os-release and read its input" ||
  fail "os.out: $OUT"
expect_stdout 0 "$PIPEC" cat host.out && ! grep -q pipec-image "$(printf '%s' "$OUT" | head -1)" &&
  [ "$OUT" = "$(cat /etc/os-release)" ] &&
  pass "a node without an image runs on the host" || fail "host.out: $OUT"
expect_stdout 0 "$PIPEC" cat other.out && [ "$OUT" = "ID=pipec-image-b" ] &&
  pass "a node's image overrides (here: sets) its own" || fail "other.out: $OUT"
expect_stdout 0 "$PIPEC" cat env.out &&
  [ "$OUT" = "foo=bar node=env pwd=$(pwd -P)" ] &&
  pass "env reaches the container; the pipeline directory is the working directory" ||
  fail "env.out: $OUT"
[ -z "$(pipec_containers)" ] && pass "containers are removed after their nodes" ||
  fail "containers left: $(pipec_containers)"

# ---- recorded: show, why, check, targets --------------------------------------
expect_exit 0 "$PIPEC" show last && expect_in "image $A  $ID_A  (2 nodes, first os)" &&
  expect_in "image $B  $ID_B  (1 node, first other)" &&
  pass "show names each image and its id" || fail "show names each image and its id"
"$PIPEC" show last --json | python3 -c '
import json, sys
n = {x["name"]: x for x in json.load(sys.stdin)["nodes"]}
assert n["os"]["image"] == sys.argv[1] and n["os"]["image_id"] == sys.argv[2], n["os"]
assert n["host"]["image"] is None and n["host"]["image_id"] is None, n["host"]
' "$A" "$ID_A" && pass "show --json has image and image_id" || fail "show --json: $("$PIPEC" show last --json)"
expect_exit 0 "$PIPEC" why img.pipe os && expect_in "os is cached" &&
  expect_in "  image $A: $ID_A" && pass "why names the image's id" || fail "why names the image's id"
expect_exit 0 "$PIPEC" targets img.pipe && expect_in "RUNTIME" &&
  expect_in "podman $(podman version --format '{{.Client.Version}}')" &&
  pass "targets shows the runtime and its version" || fail "targets shows the runtime and its version"

# ---- the image's id is the key, not its tag ------------------------------------
expect_exit 0 "$PIPEC" run img.pipe && expect_in "0 ran, 4 cached" &&
  pass "an unchanged image re-run is fully cached" || fail "an unchanged image re-run is fully cached"
podman tag "$ID_A" "$CTR_PREFIX-alias:7" && CTR_TAGS+=("$CTR_PREFIX-alias:7")
sed "s|image = \"$A\"|image = \"$CTR_PREFIX-alias:7\"|" img.pipe > alias.pipe
expect_exit 0 "$PIPEC" run alias.pipe && expect_in "0 ran, 4 cached" &&
  pass "the same image under another tag stays cached" || fail "the same image under another tag stays cached"
# tag A now names another image: exactly the nodes using A run again
make_image "$A" pipec-image-a2; ID_A2=$IMAGE_ID
expect_exit 0 "$PIPEC" run img.pipe && expect_in "2 ran, 2 cached" &&
  pass "re-tagging another image under the tag re-runs its nodes" || fail "re-tagging another image under the tag re-runs its nodes"
"$PIPEC" show last --json | python3 -c '
import json, sys
n = {x["name"]: x["status"] for x in json.load(sys.stdin)["nodes"]}
assert n == {"os": "succeeded", "env": "succeeded", "host": "cached", "other": "cached"}, n
' && pass "exactly the nodes using the re-tagged image ran" || fail "which ran: $("$PIPEC" show last)"
expect_exit 0 "$PIPEC" show last && expect_in "image $A  $ID_A2" &&
  expect_in "image $A changed: it is now $ID_A2 (was $ID_A)" &&
  pass "show says the image changed, from which id to which" || fail "show says the image changed"
expect_stdout 0 "$PIPEC" cat os.out && expect_in "ID=pipec-image-a2" &&
  pass "the re-run used the new image" || fail "os.out: $OUT"

# ---- inputs read-only, the pipeline directory read-only ------------------------
cat > ro.pipe <<PIPE
pipeline ro {
  node w = shell(command = "echo changed > {i} && echo ok > {out}", i = file("in.txt")) { image = "$A" }
  node p = shell(command = "touch here.txt && echo ok > {out}") { image = "$A" }
}
PIPE
expect_exit 1 "$PIPEC" run --keep-going ro.pipe &&
  expect_in "failed    w (" && expect_in "exit code 1" &&
  expect_stdout 0 "$PIPEC" logs last w && expect_in "Read-only file system" &&
  pass "a write to an input fails the node with the runtime's message" ||
  fail "a write to an input fails the node with the runtime's message"
expect_stdout 0 "$PIPEC" logs last p && expect_in "here.txt: Read-only file system" &&
  pass "the pipeline directory is read-only" || fail "the pipeline directory is read-only"
[ "$(cat in.txt)" = "input bytes" ] && [ ! -e here.txt ] &&
  pass "the input and the pipeline directory are unchanged" || fail "in.txt: $(cat in.txt); $(ls)"
expect_exit 0 "$PIPEC" show last && expect_in "exit code 1" &&
  pass "the failed node's exit code is recorded" || fail "the failed node's exit code is recorded"

# ---- the network: off unless the node asks --------------------------------------
cat > net.pipe <<PIPE
pipeline net {
  component ifs() -> (out: file) {
    command = "ls /sys/class/net > {out}"
    image = "$A"
  }
  node off = ifs()
  node online = ifs() { network = true }
}
PIPE
expect_exit 0 "$PIPEC" run net.pipe &&
  expect_stdout 0 "$PIPEC" cat off.out && [ "$OUT" = lo ] &&
  pass "no network but loopback by default" || fail "off.out: $OUT"
expect_stdout 0 "$PIPEC" cat online.out && [ "$(grep -vc '^lo$' <<<"$OUT")" -ge 1 ] &&
  pass "network = true gives the container a network" || fail "online.out: $OUT"

# ---- resources become the container's limits ------------------------------------
cat > lim.pipe <<PIPE
pipeline lim {
  node m = shell(command = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max; true > {out}") {
    image = "$A"
    resources { memory = "96M", cpus = 1 }
  }
}
PIPE
expect_exit 0 "$PIPEC" run lim.pipe && expect_stdout 0 "$PIPEC" logs last m &&
  [ "$OUT" = "$(printf '100663296\n100000')" ] &&
  pass "memory and cpus are the container's limits" || fail "limits seen: $OUT"

# ---- a timeout and Ctrl-C stop the container, not just the client --------------
cat > slow.pipe <<PIPE
pipeline slow {
  node t = shell(command = "sleep 300; echo > {out}") { image = "$A", timeout = "3s" }
}
PIPE
expect_exit 1 "$PIPEC" run slow.pipe && expect_in "timed out after 3s" &&
  pass "a container node times out" || fail "a container node times out"
[ -z "$(pipec_containers)" ] && pass "a timeout leaves no container" ||
  fail "after the timeout: $(pipec_containers)"
cat > int.pipe <<PIPE
pipeline int {
  node s1 = shell(command = "sleep 300; echo 1 > {out}") { image = "$A" }
  node s2 = shell(command = "sleep 300; echo 2 > {out}") { image = "$B" }
}
PIPE
"$PIPEC" run int.pipe > int.out 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$(pipec_containers | wc -l)" = 2 ] && break; sleep 0.1; done
[ "$(pipec_containers | wc -l)" = 2 ] && pass "both containers run" || fail "running: $(pipec_containers)"
kill -INT $pid
wait $pid; rc=$?
[ $rc = 130 ] && pass "Ctrl-C exits 130" || fail "Ctrl-C exit $rc: $(cat int.out)"
[ -z "$(pipec_containers)" ] && pass "Ctrl-C leaves no container (podman ps -a)" ||
  fail "after Ctrl-C: $(pipec_containers)"
# killed outright (as a forced cancel or a lost session would): the
# watcher removes the container
"$PIPEC" run int.pipe > int2.out 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$(pipec_containers | wc -l)" = 2 ] && break; sleep 0.1; done
job=$("$PIPEC" show last --json | python3 -c 'import json,sys; print([x["job"] for x in json.load(sys.stdin)["nodes"] if x["name"]=="s1"][0])')
kill -KILL -- "-$job"
for _ in $(seq 300); do [ "$(pipec_containers | wc -l)" = 1 ] && break; sleep 0.1; done
[ "$(pipec_containers | wc -l)" = 1 ] && pass "a job killed outright takes its container with it" ||
  fail "after SIGKILL of job $job: $(pipec_containers)"
kill -INT $pid; wait $pid
[ -z "$(pipec_containers)" ] && pass "and Ctrl-C removes the other" || fail "left: $(pipec_containers)"

# ---- a missing image, a missing runtime -----------------------------------------
M=$CTR_PREFIX-missing:1
cat > miss.pipe <<PIPE
pipeline miss {
  node gone = shell(command = "echo > {out}") { image = "$M" }
  node fine = shell(command = "echo fine > {out}")
}
PIPE
expect_exit 0 "$PIPEC" check miss.pipe &&
  expect_in "miss.pipe:2:8: warning: node 'gone': image '$M' is not in podman on target 'local'" &&
  expect_in "1 warning" && pass "check warns about an image the local runtime lacks" ||
  fail "check warns about an image the local runtime lacks"
expect_exit 1 "$PIPEC" run --keep-going miss.pipe &&
  expect_in "failed    gone: image '$M' is not in podman on target 'local': pull it (podman pull $M) or build it (podman build -t $M DIR)" &&
  pass "a missing image fails its node with the documented message" ||
  fail "a missing image fails its node with the documented message"
expect_exit 0 "$PIPEC" show last && expect_in "fine             succeeded" &&
  expect_in "image $M  (not found)" &&
  pass "the other nodes run; show says the image was not found" || fail "the other nodes run"
# a PATH without podman (but what runs pipec: the shell, valgrind's wrapper)
mkdir nort
for prog in sh bash env valgrind valgrind.bin; do
  command -v $prog >/dev/null && ln -s "$(command -v $prog)" nort/$prog
done
expect_exit 1 env PATH="$PWD/nort" "$PIPEC" run img.pipe --node os --force &&
  expect_in "image '$A' needs the container runtime 'podman', which target 'local' does not have (not in its PATH): install podman there, or choose another with container_runtime" &&
  pass "a missing runtime fails the node with the documented message" ||
  fail "a missing runtime fails the node with the documented message"
expect_exit 0 env PATH="$PWD/nort" "$PIPEC" targets img.pipe && expect_in "podman (missing)" &&
  pass "targets says the runtime is missing" || fail "targets says the runtime is missing"

# ---- built-ins in an image: the image's pipec runs them ------------------------
P=$CTR_PREFIX-pipec:1
make_image "$P" pipec-image-p "$PIPEC_BIN"
printf 'x,y\n3,c\n1,a\n2,b\n' > t.csv
cat > bi.pipe <<PIPE
pipeline bi {
  node raw    = table.read_csv(path = "t.csv") { image = "$P" }
  node sorted = table.sort(input = raw.out, by = ["x"]) { image = "$P" }
  node nopipe = table.sort(input = raw.out, by = ["y"]) { image = "$A" }
}
PIPE
expect_exit 1 "$PIPEC" run --keep-going bi.pipe &&
  expect_stdout 0 "$PIPEC" cat sorted.out && [ "$OUT" = "$(printf 'x,y\n1,a\n2,b\n3,c')" ] &&
  pass "built-in components run in an image that holds pipec" || fail "sorted.out: $OUT"
expect_exit 0 "$PIPEC" show last && expect_in "exit code 127: the command is not in the image" &&
  pass "an image without pipec fails a built-in, saying why" || fail "an image without pipec fails a built-in"

# ---- memory: the runtime's limit, killed for it, grown on retry -----------------
cat > mem.pipe <<PIPE
pipeline mem {
  node big = shell(command = "x=\$(head -c 100000000 /dev/zero | tr '\\\\0' a); echo \$\${#x} > {out}") {
    image = "$A"
    resources { memory = "32M" }
    retries = 1
    memory_growth = 8.0
  }
}
PIPE
expect_exit 0 "$PIPEC" run mem.pipe && expect_in 'ran out of memory: killed at its limit, memory = "32M"' &&
  expect_stdout 0 "$PIPEC" cat big.out && [ "$OUT" = 100000000 ] &&
  pass "a container killed at its memory (exit 137) is out of memory, and its retry with 8x succeeds" ||
  fail "memory in a container: $OUT"
expect_exit 0 "$PIPEC" show last --json &&
  python3 -c 'import json,sys; n=json.loads(sys.argv[1])["nodes"][0]; assert n["memory"] == 256 << 20 and n["peak_memory"] is None, n' "$OUT" &&
  pass "the retry asked for 256M; no peak is recorded (the client's is not the container's)" ||
  fail "show --json of the memory node: $OUT"
[ -z "$(pipec_containers)" ] && pass "and no container is left" || fail "containers left: $(pipec_containers)"

# ---- dry run and why before the image exists -------------------------------------
expect_exit 0 "$PIPEC" run miss.pipe --dry-run && expect_in "would fail" &&
  expect_in "is not in podman" && pass "a dry run says the node would fail" || fail "a dry run says the node would fail"
expect_exit 0 "$PIPEC" why miss.pipe gone && expect_in "gone cannot be keyed: image '$M' is not in podman" &&
  expect_in "  image $M: not found on its target" && pass "why says the image is missing" || fail "why says the image is missing"
finish
