#!/usr/bin/env bash
# run.sh - sigil on a kind cluster, end to end, for users with Docker:
#
#   1. builds sigil (build/kind, debugoptimized) and stages what the nodes
#      mount (kind-config.yaml's extraMounts): the static sigil-verifier
#      alone in verifier-bin/, sigild and sigil with the shared libraries
#      sigild needs, sigild's unit, and a trust policy + trust store for a
#      signing PKI made for this run (stage.py);
#   2. starts a local registry container (kind's local-registry recipe:
#      localhost:5001 on this machine, sigil-kind-registry:5000 from the
#      nodes through /etc/containerd/certs.d/localhost:5001/hosts.toml,
#      which containerd and sigild both read);
#   3. creates the cluster with kind-config.yaml, checks each node's
#      containerd (>= 2.1, the patch in force), and installs and starts
#      sigild on every node as a systemd service;
#   4. pushes registry.k8s.io/pause:3.10 as localhost:5001/sigil-kind/app:signed
#      (the multi-arch index, signed with notation) and one platform
#      manifest of it as :unsigned (another digest, no signature);
#   5. deploys a pod of each and asserts that the signed one runs and that
#      the unsigned one is in ErrImagePull with sigil's reason in its events;
#   6. deletes the cluster and the registry (unless --keep).
#
# Usage: integration/kind/run.sh [--dry-run | --stage-only] [--keep] [--name CLUSTER]
#   --dry-run     print every step's command without running any (needs
#                 none of the tools)
#   --stage-only  run step 1 only (build and stage; no Docker needed)
#   --keep        leave the cluster and the registry running at the end
# SIGIL_KIND_BUILD: the build directory (default build/kind).
# Tools: DOCKER, KIND, KUBECTL (default docker, kind, kubectl on PATH) with
# a running Docker engine; meson and ninja (scripts/deps.sh); notation and
# oras from ~/.cache/sigil-tools (integration/tools.sh, fetched if missing);
# network access to registry.k8s.io and to kind's node image.
# Exit: 0 the expected outcomes, 1 a failed step or assertion, 2 a missing
# tool or a usage error.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

DOCKER=${DOCKER:-docker}
KIND=${KIND:-kind}
KUBECTL=${KUBECTL:-kubectl}
PYTHON=/usr/bin/python3
CLUSTER=sigil
REG_NAME=sigil-kind-registry
REG_PORT=5001
REPO=localhost:$REG_PORT/sigil-kind/app
BUILD=${SIGIL_KIND_BUILD:-$ROOT/build/kind}
STAGE=$ROOT/build/kind-stage
CACHE=${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}
DRY=0
KEEP=0
STAGE_ONLY=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY=1 ;;
    --keep) KEEP=1 ;;
    --stage-only) STAGE_ONLY=1 ;;
    --name) [ $# -ge 2 ] || { echo "run.sh: --name needs a value" >&2; exit 2; }; CLUSTER=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
CTX=kind-$CLUSTER

step() { echo; echo "== $*"; }
q() { # one word, quoted for a shell only when it needs it
  if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then printf '%s' "$1"
  else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
show() { # the command, quoted so that it can be pasted
  local out="+" a
  for a in "$@"; do out+=" $(q "$a")"; done
  echo "$out"
}
run() { show "$@"; [ $DRY = 1 ] || "$@"; }
run_sh() { echo "+ $1"; [ $DRY = 1 ] || bash -c "$1"; }
# capture VAR cmd...: VAR=$(cmd) (in a dry run: a placeholder naming it)
capture() {
  local var=$1; shift
  local cmd
  cmd=$(show "$@")
  echo "+ $var=\$(${cmd#+ })"
  if [ $DRY = 1 ]; then
    printf -v "$var" '%s' "<$var>"
  else
    local out
    out=$("$@") || die "$* failed"
    printf -v "$var" '%s' "$out"
  fi
}
# write FILE < content (a dry run prints the content instead)
write() {
  echo "+ write $1:"
  if [ $DRY = 1 ]; then sed 's/^/    /'; else cat > "$1"; fi
}
die() { echo "run.sh: FAILED: $*" >&2; exit 1; }
# the same, quoted, for the command lines given to bash -c
QD=$(q "$DOCKER") QK=$(q "$KIND") QSTAGE=$(q "$STAGE") QBUILD=$(q "$BUILD") QCONF=$(q "$HERE/kind-config.yaml")

# ---------------------------------------------------------------- 0. tools
step "0. tools: Docker (a running engine), kind, kubectl"
missing=()
for t in "$DOCKER" "$KIND" "$KUBECTL"; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ ${#missing[@]} -eq 0 ] && ! "$DOCKER" info >/dev/null 2>&1; then
  missing+=("a running Docker engine ('$DOCKER info' fails)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ $DRY = 1 ] || [ $STAGE_ONLY = 1 ]; then
    echo "# missing here: ${missing[*]} (a full run refuses to start)"
  else
    echo "run.sh: needs Docker with a running engine, kind and kubectl; missing: ${missing[*]}" >&2
    echo "run.sh: (integration/kind/run.sh --dry-run prints the steps without them)" >&2
    exit 2
  fi
fi
if [ ! -f "$CACHE/env" ]; then
  run bash "$ROOT/integration/tools.sh"
fi
if [ $DRY = 1 ] && [ ! -f "$CACHE/env" ]; then
  NOTATION=notation ORAS=oras
else
  NOTATION=$(sed -n 's/^NOTATION=//p' "$CACHE/env")
  ORAS=$(sed -n 's/^ORAS=//p' "$CACHE/env")
  [ $DRY = 1 ] || { [ -x "$NOTATION" ] && [ -x "$ORAS" ]; } \
    || { echo "run.sh: notation/oras missing from $CACHE/env; rerun integration/tools.sh" >&2; exit 2; }
fi

cleanup() {
  if [ $KEEP = 1 ]; then
    echo "run.sh: --keep: cluster $CLUSTER and registry $REG_NAME left running"
    echo "  $KIND delete cluster --name $CLUSTER; $DOCKER rm -f $REG_NAME"
    return
  fi
  step "6. clean-up"
  run "$KIND" delete cluster --name "$CLUSTER" || true
  run "$DOCKER" rm -f "$REG_NAME" || true
}
[ $DRY = 1 ] || [ $STAGE_ONLY = 1 ] || trap cleanup EXIT

# ---------------------------------------------------------------- 1. build
step "1. build sigil and stage what the nodes mount ($STAGE)"
if [ $DRY = 1 ] || [ ! -f "$BUILD/build.ninja" ]; then
  run meson setup "$BUILD" -Dbuildtype=debugoptimized
fi
run ninja -C "$BUILD"
run rm -rf "$STAGE"
run mkdir -p "$STAGE/verifier-bin" "$STAGE/sigil/sbin" "$STAGE/sigil/bin" "$STAGE/sigil/lib" "$STAGE/etc-sigil"
# containerd runs every file in bin_dir: the forwarder goes there alone.
# It must be the static build (the nodes do not have its libraries).
run cp "$BUILD/plugin/sigil-verifier" "$STAGE/verifier-bin/"
run_sh "ldd $QBUILD/plugin/sigil-verifier 2>&1 | grep -qE 'not a dynamic|statically linked'" \
  || die "$BUILD/plugin/sigil-verifier is dynamically linked (a sanitizer build, or static libnghttp2/libprotobuf-c/libjson-c missing)"
run cp "$BUILD/plugin/sigild" "$STAGE/sigil/sbin/"
run cp "$BUILD/cli/sigil" "$STAGE/sigil/bin/"
# sigild and sigil are linked against Debian 12's libraries, which kind's
# node image (Debian, a newer glibc) does not have: bundle them all but
# glibc's own, which the node provides.
run_sh "ldd $QBUILD/plugin/sigild $QBUILD/cli/sigil | awk '\$2 == \"=>\" && \$3 ~ /^\\// {print \$3}' | xargs -r realpath -s -- | sort -u \\
  | grep -vE '/(ld-linux[^/]*|lib(c|m|dl|rt|pthread|resolv|util|anl)\\.so[^/]*)\$' \\
  | xargs -r cp -L -t $QSTAGE/sigil/lib/"
run cp "$BUILD/packaging/sigild.service" "$STAGE/sigil/sigild.service"
write "$STAGE/sigil/sigild-kind.conf" <<EOF
# systemd drop-in: sigild from the /opt/sigil mount, with its libraries
[Service]
Environment=LD_LIBRARY_PATH=/opt/sigil/lib
ExecStart=
ExecStart=/opt/sigil/sbin/sigild --config /etc/sigil/sigild.json
EOF
run "$PYTHON" "$HERE/stage.py" --stage "$STAGE" --scope "$REPO"
if [ $STAGE_ONLY = 1 ]; then
  echo "run.sh: --stage-only: staged in $STAGE"
  exit 0
fi

# ---------------------------------------------------------------- 2. registry
step "2. a local registry: localhost:$REG_PORT here, $REG_NAME:5000 from the nodes"
run_sh "[ \"\$($QD inspect -f '{{.State.Running}}' $REG_NAME 2>/dev/null)\" = true ] \\
  || $QD run -d --restart=always -p 127.0.0.1:$REG_PORT:5000 --network bridge --name $REG_NAME registry:2"
write "$STAGE/hosts.toml" <<EOF
# containerd and sigild (registryConfig) alike: localhost:$REG_PORT is the registry container
[host."http://$REG_NAME:5000"]
  capabilities = ["pull", "resolve"]
EOF

# ---------------------------------------------------------------- 3. cluster
step "3. the cluster ($HERE/kind-config.yaml) and sigild on every node"
# kind resolves the extraMounts' relative hostPaths against its working
# directory: the stage
run_sh "cd $QSTAGE && $QK create cluster --name $CLUSTER --config $QCONF --wait 120s"
run_sh "[ \"\$($QD inspect -f '{{json .NetworkSettings.Networks.kind}}' $REG_NAME)\" != null ] \\
  || $QD network connect kind $REG_NAME"
if [ $DRY = 1 ]; then
  NODES="$CLUSTER-control-plane $CLUSTER-worker"
  echo "+ NODES=\$($(show "$KIND" get nodes --name "$CLUSTER" | cut -c3-))   # dry run: $NODES"
else
  capture NODES "$KIND" get nodes --name "$CLUSTER"
fi
ver=""
for node in $NODES; do
  # containerd 2.0 never runs verifiers for CRI pulls (containerd.md §2)
  capture ver "$DOCKER" exec "$node" containerd --version
  if [ $DRY = 0 ]; then
    v=$(grep -oE '[0-9]+\.[0-9]+\.[0-9]+' <<<"$ver" | head -n1)
    # shellcheck disable=SC2015  # die when either test fails
    [ -n "$v" ] && [ "$(printf '%s\n' 2.1.0 "$v" | sort -V | head -n1)" = 2.1.0 ] \
      || die "$node runs containerd ${v:-?}: CRI pulls are verified from 2.1 on; use kind v0.28.0 or later"
  fi
  # the patch in force: CRI not in local-pull mode, bin_dir = the forwarder's
  run_sh "$QD exec $node containerd config dump | grep -q 'discard_unpacked_layers = false'" \
    || die "$node: discard_unpacked_layers is not false: kind-config.yaml's patch is not in force"
  run_sh "$QD exec $node containerd config dump | grep -q '/usr/libexec/sigil/verifier-bin'" \
    || die "$node: containerd's bin_dir is not sigil's: kind-config.yaml's patch is not in force"
  run "$DOCKER" exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:$REG_PORT"
  run "$DOCKER" cp "$STAGE/hosts.toml" "$node:/etc/containerd/certs.d/localhost:$REG_PORT/hosts.toml"
  run "$DOCKER" exec "$node" sh -c 'cp /opt/sigil/sigild.service /etc/systemd/system/sigild.service &&
    mkdir -p /etc/systemd/system/sigild.service.d &&
    cp /opt/sigil/sigild-kind.conf /etc/systemd/system/sigild.service.d/kind.conf &&
    systemctl daemon-reload && systemctl enable --now sigild'
  run_sh "for i in \$(seq 50); do $QD exec $node env LD_LIBRARY_PATH=/opt/sigil/lib /opt/sigil/bin/sigil status >/dev/null 2>&1 && exit 0; sleep 0.2; done; \\
  $QD exec $node journalctl -u sigild --no-pager | tail -n 20; exit 1" \
    || die "sigild did not start on $node (its journal is above)"
  # nothing in the node's containerd config bypasses the verifiers, and
  # containerd (2.1+) and sigild are as sigil needs them
  run "$DOCKER" exec "$node" env LD_LIBRARY_PATH=/opt/sigil/lib /opt/sigil/bin/sigil doctor \
    --config /etc/containerd/config.toml || die "$node: sigil doctor found a problem (above)"
done

# ---------------------------------------------------------------- 4. images
step "4. images: $REPO:signed (signed with notation) and $REPO:unsigned"
case $(uname -m) in aarch64|arm64) ARCH=arm64 ;; *) ARCH=amd64 ;; esac
run "$ORAS" cp --to-plain-http registry.k8s.io/pause:3.10 "$REPO:signed"
run "$ORAS" cp --to-plain-http --platform "linux/$ARCH" registry.k8s.io/pause:3.10 "$REPO:unsigned"
capture SIGNED "$ORAS" resolve --plain-http "$REPO:signed"
capture UNSIGNED "$ORAS" resolve --plain-http "$REPO:unsigned"
[ $DRY = 1 ] || [ "$SIGNED" != "$UNSIGNED" ] || die "the two images have the same digest $SIGNED"
run env XDG_CONFIG_HOME="$STAGE/signer" "$NOTATION" sign --insecure-registry --key sigil-kind "$REPO@$SIGNED"

# ---------------------------------------------------------------- 5. pods
step "5. a pod of each: the signed one runs, the unsigned one is refused by sigil"
write "$STAGE/pods.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sigil-signed}
spec:
  containers:
  - {name: app, image: "$REPO:signed", imagePullPolicy: Always}
---
apiVersion: v1
kind: Pod
metadata: {name: sigil-unsigned}
spec:
  containers:
  - {name: app, image: "$REPO:unsigned", imagePullPolicy: Always}
EOF
run "$KUBECTL" --context "$CTX" apply -f "$STAGE/pods.yaml"
run "$KUBECTL" --context "$CTX" wait --for=condition=Ready pod/sigil-signed --timeout=180s \
  || die "the signed pod did not start"
# kubelet alternates ErrImagePull and ImagePullBackOff: poll until both
# the ErrImagePull state and the Failed event with sigil's reason are seen
WAITING=(get pod sigil-unsigned -o 'jsonpath={.status.containerStatuses[0].state.waiting.reason}')
# shellcheck disable=SC2054  # the commas are the field selector's
EVENTS=(get events --field-selector involvedObject.name=sigil-unsigned,reason=Failed
        -o 'jsonpath={range .items[*]}{.message}{"\n"}{end}')
echo "+ every 2 s for up to 180 s, until ErrImagePull and an event with 'sigil: denied' are seen:"
show "$KUBECTL" --context "$CTX" "${WAITING[@]}"
show "$KUBECTL" --context "$CTX" "${EVENTS[@]}"
waiting="" events=""
if [ $DRY = 0 ]; then
  for _ in $(seq 90); do
    w=$("$KUBECTL" --context "$CTX" "${WAITING[@]}" 2>/dev/null || true)
    [ "$w" = ErrImagePull ] && waiting=$w
    events=$("$KUBECTL" --context "$CTX" "${EVENTS[@]}" 2>/dev/null || true)
    if [ -n "$waiting" ] && grep -q 'sigil: denied' <<<"$events"; then break; fi
    sleep 2
  done
  phase=$("$KUBECTL" --context "$CTX" get pod sigil-unsigned -o 'jsonpath={.status.phase}')
  [ "$waiting" = ErrImagePull ] || die "pod/sigil-unsigned never showed ErrImagePull (phase $phase)"
  grep -q 'sigil: denied' <<<"$events" \
    || die "pod/sigil-unsigned's events do not carry sigil's reason: $events"
  [ "$phase" = Pending ] || die "pod/sigil-unsigned is $phase, expected Pending"
fi
run "$KUBECTL" --context "$CTX" get pods -o wide
echo
if [ $DRY = 1 ]; then
  echo "dry run: nothing was run; a real run ends with PASSED and kubelet's event for sigil-unsigned"
else
  echo "PASSED: sigil-signed runs; sigil-unsigned is refused (ErrImagePull), kubelet's event:"
  grep -m1 'sigil: denied' <<<"$events" | sed 's/^/  /'
fi
