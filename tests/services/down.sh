#!/usr/bin/env bash
# down.sh STATE — stop what up.sh started (never fails on "nothing running").
HERE=$(cd "$(dirname "$0")" && pwd -P)
[ $# -eq 1 ] || { echo "usage: $0 STATE" >&2; exit 2; }
"$HERE/sshd-down.sh" "$1/ssh" || true
"$HERE/slurm-down.sh" "$1/slurm" || true
rm -f "$1/env"
