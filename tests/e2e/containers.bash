# containers.bash — for the e2e tests of nodes that run in container images
# (docs/containers.md). Source it after lib.bash.
#
#   use_podman            podman with the project's containers.conf; a test
#                         fails (never skips) if podman or runc is missing
#   make_image TAG ID     build TAG offline (tests/containers/image.sh); its
#                         id in $IMAGE_ID; removed when the test exits
#   pipec_containers      names of the containers of this test's workspace
#                         (.pipec of the directory use_podman was called
#                         in), running or not
#
# Tags are unique per test process, so tests can run side by side; on exit
# every container of the workspace and every image made is removed.
CTR_TAGS=()
CTR_IDS=()

ctr_cleanup() {
  local ids
  ids=$(podman ps -aq --filter "label=pipec.workspace=$CTR_WS" 2>/dev/null)
  [ -n "$ids" ] && podman rm -f $ids >/dev/null 2>&1
  local t
  for t in "${CTR_TAGS[@]}"; do podman rmi -f "$t" >/dev/null 2>&1; done
  for t in "${CTR_IDS[@]}"; do podman rmi -f "$t" >/dev/null 2>&1; done
  chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"
}

use_podman() {
  local what
  for what in podman runc busybox; do
    if ! command -v "$what" >/dev/null 2>&1; then
      echo "FAIL: $what is missing: the container tests need podman, runc and busybox-static (.ci/install-deps --test installs them)" >&2
      exit 1
    fi
  done
  export CONTAINERS_CONF=$SRC/tests/containers/containers.conf
  CTR_WS=$(pwd -P)/.pipec
  trap ctr_cleanup EXIT
  CTR_PREFIX=localhost/pipec-e2e-$$-$(basename "$T" | tr 'A-Z.' 'a-z-')
}

make_image() {
  IMAGE_ID=$("$SRC/tests/containers/image.sh" "$1" "$2" ${3:+"$3"}) || {
    echo "FAIL: cannot build the test image $1" >&2; exit 1; }
  CTR_TAGS+=("$1")
  CTR_IDS+=("$IMAGE_ID")
}

pipec_containers() {
  podman ps -a --filter "label=pipec.workspace=$CTR_WS" --format '{{.Names}}'
}
