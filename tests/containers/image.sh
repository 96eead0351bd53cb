#!/usr/bin/env bash
# image.sh TAG OS_ID [PIPEC] — build a small image offline (no registry is
# reachable on the test machines) from Debian's busybox-static: a rootfs of
# busybox and its applets, /etc/os-release saying ID=OS_ID, imported as TAG.
# With PIPEC (a pipec binary), the image also holds that pipec and the
# shared libraries it loads, at the paths ldd names, so built-in components
# can run in it. Prints the image's id (sha256:HEX). Needs CONTAINERS_CONF (see
# containers.conf beside this file) on these machines.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 TAG OS_ID [PIPEC]" >&2; exit 2; }
tag=$1 os=$2 pipec=${3:-}
bb=$(command -v busybox) || { echo "image.sh: busybox is missing (apt-get install busybox-static)" >&2; exit 2; }
root=$(mktemp -d "${TMPDIR:-/tmp}/pipec-image.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/usr/bin"
cp "$bb" "$root/bin/busybox"
for c in $("$bb" --list); do
  [ "$c" = busybox ] || ln -s busybox "$root/bin/$c"
done
chmod 1777 "$root/tmp"
printf 'ID=%s\nNAME="pipec test image"\n' "$os" > "$root/etc/os-release"
if [ -n "$pipec" ]; then
  cp "$pipec" "$root/usr/bin/pipec"
  # every library the binary loads, at its path (and the loader)
  ldd "$pipec" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
fi
tar -C "$root" -cf "$root.tar" .
podman import -q "$root.tar" "$tag" >/dev/null
rm -f "$root.tar"
id=$(podman image inspect --format '{{.Id}}' "$tag")
echo "sha256:${id#sha256:}"
