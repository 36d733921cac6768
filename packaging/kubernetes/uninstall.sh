#!/usr/bin/env bash
# uninstall.sh - remove sigil from a cluster without leaving any node that
# denies every pull.
#
# The order matters: containerd runs sigil-verifier from bin_dir for every
# pull, and the forwarder fails closed when sigild does not answer. Deleting
# the DaemonSet first (kubectl delete -f .) stops sigild on every node while
# the forwarder stays in /opt/containerd/image-verifier/bin, a host path
# that pod deletion does not touch: from then on every pull on every node is
# denied, including the pull of anything that could repair it. A preStop
# hook cannot tell an uninstall from a restart or a rolling update, in
# which the forwarder must stay. So:
#
#   1. deploy cleanup-daemonset.yaml (with the image the sigil DaemonSet
#      runs, already on every node): it removes sigil-verifier from bin_dir
#      and becomes ready on a node once the file is gone;
#   2. wait until it is ready on every node it is scheduled on;
#   3. only then delete the sigil DaemonSet and wait for its pods to go
#      (no init container can re-install the forwarder after that);
#   4. delete the cleanup DaemonSet, the configuration and the namespace.
#
# If step 2 does not complete (a node cannot run the cleanup pod), nothing
# else is deleted and the script fails: sigild keeps serving those nodes.
#
# Usage: packaging/kubernetes/uninstall.sh [--dry-run] [--timeout SECONDS]
#   --dry-run   print the kubectl commands instead of running them
# KUBECTL (default kubectl) with the cluster's context selected.
# Exit: 0 removed, 1 a step failed, 2 usage.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KUBECTL=${KUBECTL:-kubectl}
NS=sigil-system
TIMEOUT=300
DRY=0
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY=1 ;;
    --timeout) [ $# -ge 2 ] || { echo "uninstall.sh: --timeout needs a value" >&2; exit 2; }; TIMEOUT=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case $TIMEOUT in ''|*[!0-9]*) echo "uninstall.sh: --timeout takes seconds" >&2; exit 2 ;; esac

run() { echo "+ $*"; [ $DRY = 1 ] || "$@"; }
die() { echo "uninstall.sh: FAILED: $*" >&2; exit 1; }

echo "== 1. remove sigil-verifier from every node's bin_dir"
if [ $DRY = 1 ]; then
  IMAGE='<the sigil DaemonSet image>'
  echo "+ IMAGE=\$($KUBECTL -n $NS get daemonset sigil -o jsonpath={.spec.template.spec.containers[0].image})"
else
  IMAGE=$("$KUBECTL" -n "$NS" get daemonset sigil -o 'jsonpath={.spec.template.spec.containers[0].image}') \
    || die "cannot read the sigil DaemonSet's image (is sigil installed in $NS?)"
  [ -n "$IMAGE" ] || die "the sigil DaemonSet has no image"
fi
echo "+ sed 's|image: .*|image: $IMAGE|' $HERE/cleanup-daemonset.yaml | $KUBECTL apply -f -"
if [ $DRY = 0 ]; then
  sed "s|image: .*|image: $IMAGE|" "$HERE/cleanup-daemonset.yaml" | "$KUBECTL" apply -f - \
    || die "cannot deploy the cleanup DaemonSet"
fi

echo "== 2. wait until the forwarder is gone from every node"
run "$KUBECTL" -n "$NS" rollout status daemonset/sigil-cleanup --timeout="${TIMEOUT}s" \
  || die "the cleanup DaemonSet is not ready on every node; sigil was left running (see kubectl -n $NS get pods -o wide)"

echo "== 3. stop sigild (no node has the forwarder any more)"
run "$KUBECTL" -n "$NS" delete daemonset sigil --wait=true --timeout="${TIMEOUT}s" \
  || die "deleting the sigil DaemonSet failed"

echo "== 4. delete the cleanup DaemonSet, the configuration and the namespace"
run "$KUBECTL" -n "$NS" delete daemonset sigil-cleanup --wait=true --timeout="${TIMEOUT}s"
run "$KUBECTL" delete -f "$HERE/10-config.yaml" --ignore-not-found
run "$KUBECTL" delete -f "$HERE/00-namespace.yaml" --ignore-not-found
echo "sigil removed; /opt/containerd/image-verifier/bin is left in place (empty: containerd allows every pull)"
