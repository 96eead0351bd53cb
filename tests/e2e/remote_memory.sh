#!/usr/bin/env bash
# Memory on the remote targets: on an ssh host (shared workspace and
# staged) a node runs under `pipec measure` there, which enforces its
# memory in a memory cgroup (the test host lets root make one) — killed
# for memory, it retries with twice the memory and succeeds, and its peak
# comes back; on Slurm the peak is measured the same way (the test cluster
# keeps no accounting). Needs the `services` fixture.
. "$(dirname "$0")/lib.bash"
use_services

mkdir proj && cd proj && mkdir .pipec
cat > alloc.py <<'PY'
# alloc.py MB OUT: hold MB MiB (every page written), then write OUT
import sys, time
b = b"\1" * (int(sys.argv[1]) << 20)
time.sleep(0.2)
open(sys.argv[2], "w").write("%d\n" % len(b))
PY
cat > r.pipe <<PIPE
pipeline remote_mem {
  target box    = ssh { host = "pipec-test", shared_fs = true }
  target staged = ssh { host = "pipec-test", workdir = "$T/remote-workdir" }
  target hpc    = slurm { time = "5m" }
  component alloc() -> (out: file) {
    param mb : int
    param where : string
    command = "python3 alloc.py {mb} {out}"
    code = ["alloc.py"]
  }
  node on_box = alloc(mb = 100, where = "box") on box {
    resources { memory = "70M" }
    retries = 1
    memory_growth = 2.0
  }
  node on_staged = alloc(mb = 100, where = "staged") on staged {
    resources { memory = "70M" }
    retries = 1
    memory_growth = 2.0
  }
  node on_hpc = alloc(mb = 80, where = "hpc") on hpc
}
PIPE
expect_exit 0 "$PIPEC" run r.pipe -j 3 || finish
expect_in 'retrying  on_box: attempt 1 failed: ran out of memory: killed at its limit, memory = "70M"' &&
  expect_in 'retrying  on_staged: attempt 1 failed: ran out of memory' &&
  pass "ssh: killed for memory on the host, then retried with more" || fail "ssh retries"
"$PIPEC" show --json > show.json
python3 - show.json <<'PY' && pass "ssh: the retry asked for 140M and succeeded; peaks within 20% of what was held" || fail "ssh: $(cat show.json)"
import json, sys
n = {x["name"]: x for x in json.load(open(sys.argv[1]))["nodes"]}
for name in ("on_box", "on_staged"):
    x = n[name]
    assert x["status"] == "succeeded" and x["attempts"] == 2, x
    assert x["memory"] == 140 << 20, x
    assert 0.8 * (100 << 20) <= x["peak_memory"] <= 1.2 * (100 << 20), x
PY
python3 - show.json <<'PY' && pass "slurm: the peak is measured" || fail "slurm: $(cat show.json)"
import json, sys
n = {x["name"]: x for x in json.load(open(sys.argv[1]))["nodes"]}
x = n["on_hpc"]
assert x["status"] == "succeeded", x
assert 0.8 * (80 << 20) <= x["peak_memory"] <= 1.2 * (80 << 20), x
PY
ls "$T/remote-workdir" 2>/dev/null | grep -q . && fail "remote job directories left: $(ls "$T/remote-workdir")" || pass "nothing left on the host"
ls .pipec/logs/*/*.mem 2>/dev/null | grep -q . && fail "reports left: $(ls .pipec/logs/*/*.mem)" || pass "no report left beside the logs"
finish
