#!/usr/bin/env bash
# up.sh STATE — start the services the remote-target tests use: an OpenSSH
# server on 127.0.0.1 (key auth) and a one-node Slurm cluster (munge,
# slurmctld, slurmd), both with all their state in STATE. Writes STATE/env
# for the tests to source (SLURM_CONF, PIPEC_SSH_CONFIG). ctest runs it as
# the set-up of the `services` fixture; down.sh is the clean-up.
#
# Needs: .ci/install-deps --test (openssh-server, slurmctld, slurmd,
# slurm-client, munge). The four scripts beside this one are the tested
# recipes: sshd-up.sh, sshd-down.sh, slurm-up.sh, slurm-down.sh.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 STATE" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd -P)
STATE=$1
mkdir -p "$STATE"
trap '[ $? -eq 0 ] || "$HERE/down.sh" "$STATE"' EXIT

# free_port N: the first port from N up that nothing listens on, so a
# cluster or sshd already running on this machine is left alone
free_port() {
  local p=$1
  while timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}
ctld=$(free_port 6817)
export SLURMCTLD_PORT=$ctld SLURMD_PORT=$(free_port $((ctld + 1)))
export SSHD_PORT=$(free_port 2222)
# the container runtime's settings for these machines (tests/containers/),
# for the commands ssh runs too: a session does not get our environment
export SSHD_CONFIG_EXTRA="SetEnv CONTAINERS_CONF=$(cd "$HERE/../containers" && pwd -P)/containers.conf"
slurm_env=$("$HERE/slurm-up.sh" "$STATE/slurm")
ssh_cfg=$("$HERE/sshd-up.sh" "$STATE/ssh")
{
  cat "$slurm_env"
  echo "export PIPEC_SSH_CONFIG=$ssh_cfg"
  echo "export PIPEC_SERVICES=$STATE"
} > "$STATE/env"
echo "services up; source $STATE/env" >&2
