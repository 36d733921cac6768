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
# --daemonset: sigil installed the Kubernetes way, by packaging/kubernetes/,
# instead of steps 1 and 3's mounts and systemd units:
#   1. builds sigil's image (packaging/image/build.sh, an OCI layout, named
#      sigil.kind.local/sigil/sigil:kind for containerd's import) and
#      stages the trust material (stage.py) and a copy of the manifests
#      with that image, sigild.json's "mode": "enforce" and the staged trust
#      policy (its store renamed "example", the DaemonSet's trust item);
#   3. creates the cluster with kind-config-daemonset.yaml (no bin_dir: the
#      containerd default the DaemonSet installs into), loads the image with
#      `kind load image-archive`, applies the manifests, waits for the
#      rollout and checks the forwarder on every node;
#   4.-5. as above; then (unless --no-uninstall) runs
#      packaging/kubernetes/uninstall.sh and checks that every node's
#      bin_dir is empty.
#
# Usage: integration/kind/run.sh [--dry-run | --stage-only] [--daemonset [--no-uninstall]]
#                                [--keep] [--name CLUSTER]
#   --dry-run       print every step's command without running any (needs
#                   none of the tools)
#   --stage-only    run step 1 only (build and stage; no Docker needed)
#   --daemonset     install sigil with packaging/kubernetes/ (above)
#   --no-uninstall  with --daemonset: leave sigil installed (no uninstall.sh)
#   --keep          leave the cluster and the registry running at the end
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
DS=0
UNINSTALL=1
# --daemonset: the image's name once imported (a registry name that does
# not resolve: if the import did not name it, kubelet's pull fails loudly)
IMAGE_REF=sigil.kind.local/sigil/sigil:kind
K8S_SRC=$ROOT/packaging/kubernetes

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) DRY=1 ;;
    --keep) KEEP=1 ;;
    --stage-only) STAGE_ONLY=1 ;;
    --daemonset) DS=1 ;;
    --no-uninstall) UNINSTALL=0 ;;
    --name) [ $# -ge 2 ] || { echo "run.sh: --name needs a value" >&2; exit 2; }; CLUSTER=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ $DS = 1 ] || [ $UNINSTALL = 1 ] || { echo "run.sh: --no-uninstall goes with --daemonset" >&2; exit 2; }
CTX=kind-$CLUSTER
if [ $DS = 1 ]; then
  KCONF=$HERE/kind-config-daemonset.yaml
  # containerd's default image-verifier bin_dir, where the DaemonSet's init
  # container installs the forwarder (packaging/kubernetes/20-daemonset.yaml)
  NODE_BIN_DIR=/opt/containerd/image-verifier/bin
else
  KCONF=$HERE/kind-config.yaml
  NODE_BIN_DIR=/usr/libexec/sigil/verifier-bin
fi

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
QD=$(q "$DOCKER") QK=$(q "$KIND") QSTAGE=$(q "$STAGE") QBUILD=$(q "$BUILD") QCONF=$(q "$KCONF") QKC=$(q "$KUBECTL")

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
if [ $DS = 1 ]; then
  step "1. build sigil and its image, stage the trust material and manifests ($STAGE)"
else
  step "1. build sigil and stage what the nodes mount ($STAGE)"
fi
if [ $DRY = 1 ] || [ ! -f "$BUILD/build.ninja" ]; then
  run meson setup "$BUILD" -Dbuildtype=debugoptimized
fi
run ninja -C "$BUILD"
if [ $DS = 1 ]; then
  run rm -rf "$STAGE"
  run mkdir -p "$STAGE/image" "$STAGE/k8s"
  # sigil's image from this build (build.sh checks that the forwarder is
  # static); not signed: it reaches the nodes by import, which no image
  # verifier sees (step 3)
  capture IMAGE_OUT bash "$ROOT/packaging/image/build.sh" --build "$BUILD" --no-build \
    --out "$STAGE/image/oci" --tag kind
  IMAGE_DIGEST=$(tail -n1 <<<"$IMAGE_OUT")
  [ $DRY = 1 ] || [[ $IMAGE_DIGEST =~ ^sha256:[0-9a-f]{64}$ ]] \
    || die "packaging/image/build.sh did not print the image's digest last: $IMAGE_OUT"
  # containerd's import (kind load image-archive: ctr images import
  # --digests) names an OCI archive's image by the manifest's
  # io.containerd.image.name annotation; with only build.sh's ref.name
  # ("kind") it would be "import-<date>:kind", which no pod can name
  run "$PYTHON" -c 'import json, sys
p = sys.argv[1] + "/index.json"
idx = json.load(open(p))
m = [d for d in idx["manifests"] if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]]
assert len(m) == 1, m
m[0]["annotations"]["io.containerd.image.name"] = sys.argv[3]
json.dump(idx, open(p, "w"))' "$STAGE/image/oci" kind "$IMAGE_REF"
  run tar -C "$STAGE/image/oci" -cf "$STAGE/image/sigil-image.tar" oci-layout index.json blobs
  run "$PYTHON" "$HERE/stage.py" --stage "$STAGE" --scope "$REPO"
  # the manifests as shipped, but: the image just built (both containers),
  # sigild enforcing (the packaged sigil-config is dry-run), and the staged
  # trust policy with its store named "example", the store the DaemonSet's
  # trust volume maps the key ca-example-root.crt to (step 3 puts the
  # staged root certificate under that key)
  run cp "$K8S_SRC/00-namespace.yaml" "$STAGE/k8s/"
  run_sh "sed '/^#/!s/\"mode\": \"dry-run\",/\"mode\": \"enforce\",/' $(q "$K8S_SRC/10-config.yaml") > $QSTAGE/k8s/10-config.yaml"
  run_sh "grep -q '^ *\"mode\": \"enforce\",' $QSTAGE/k8s/10-config.yaml" \
    || die "10-config.yaml: no \"mode\": \"dry-run\" to switch to enforce"
  run_sh "sed 's|image: registry.example.com/sigil/sigil:0.1.0|image: $IMAGE_REF|' $(q "$K8S_SRC/20-daemonset.yaml") > $QSTAGE/k8s/20-daemonset.yaml"
  run_sh "[ \"\$(grep -c 'image: $IMAGE_REF\$' $QSTAGE/k8s/20-daemonset.yaml)\" = 2 ] && ! grep -q 'image: registry.example.com' $QSTAGE/k8s/20-daemonset.yaml" \
    || die "20-daemonset.yaml: the image is not registry.example.com/sigil/sigil:0.1.0 in both containers"
  run_sh "sed 's/\"ca:sigil-kind\"/\"ca:example\"/' $QSTAGE/etc-sigil/trustpolicy.json > $QSTAGE/k8s/trustpolicy.json"
  run_sh "grep -q '\"ca:example\"' $QSTAGE/k8s/trustpolicy.json" || die "stage.py's policy has no ca:sigil-kind store"
  if [ $STAGE_ONLY = 1 ]; then
    echo "run.sh: --stage-only: staged in $STAGE (image $IMAGE_REF, $IMAGE_DIGEST)"
    exit 0
  fi
else
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
if [ $DS = 1 ]; then
  step "3. the cluster ($KCONF) and sigil's DaemonSet (packaging/kubernetes/)"
else
  step "3. the cluster ($KCONF) and sigild on every node"
fi
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
  # (--daemonset: containerd's default, which no file sets)
  run_sh "$QD exec $node containerd config dump | grep -q 'discard_unpacked_layers = false'" \
    || die "$node: discard_unpacked_layers is not false: $(basename "$KCONF")'s patch is not in force"
  run_sh "$QD exec $node containerd config dump | grep -qF \"bin_dir = '$NODE_BIN_DIR'\"" \
    || die "$node: containerd's bin_dir is not $NODE_BIN_DIR: $(basename "$KCONF")'s patch is not in force"
  run "$DOCKER" exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:$REG_PORT"
  run "$DOCKER" cp "$STAGE/hosts.toml" "$node:/etc/containerd/certs.d/localhost:$REG_PORT/hosts.toml"
  [ $DS = 0 ] || continue
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
if [ $DS = 1 ]; then
  # sigil's own image goes onto every node by import (ctr images import),
  # not by a pull: containerd runs image verifiers only for pulls, so the
  # import bypasses them - which is exactly what a fresh cluster needs,
  # where sigil's image is neither in a registry the nodes reach nor
  # trusted by the staged policy. (The same bypass is why `kind load`
  # images are never verified: README, "Known gaps".) The pods use it with
  # imagePullPolicy IfNotPresent, so kubelet never pulls it.
  run "$KIND" load image-archive "$STAGE/image/sigil-image.tar" --name "$CLUSTER"
  for node in $NODES; do
    run_sh "$QD exec $node ctr --namespace=k8s.io images ls -q | grep -qxF $IMAGE_REF" \
      || die "$node: $IMAGE_REF is not in containerd's k8s.io namespace after kind load"
  done
  K=("$KUBECTL" --context "$CTX")
  run "${K[@]}" apply -f "$STAGE/k8s/00-namespace.yaml"
  run "${K[@]}" apply -f "$STAGE/k8s/10-config.yaml"
  # sigil-trust: the staged policy and root certificate under the keys the
  # DaemonSet's trust volume maps (replacing 10-config.yaml's example)
  run_sh "$QKC --context $CTX -n sigil-system create configmap sigil-trust \\
  --from-file=trustpolicy.json=$QSTAGE/k8s/trustpolicy.json \\
  --from-file=ca-example-root.crt=$QSTAGE/etc-sigil/truststore/x509/ca/sigil-kind/root.crt \\
  --dry-run=client -o yaml | $QKC --context $CTX apply -f -" || die "cannot write the sigil-trust ConfigMap"
  run "${K[@]}" apply -f "$STAGE/k8s/20-daemonset.yaml"
  run "${K[@]}" -n sigil-system rollout status daemonset/sigil --timeout=180s \
    || { run "${K[@]}" -n sigil-system get pods -o wide || true
         die "the sigil DaemonSet did not become ready on every node"; }
  # the init container's work: the forwarder, alone, in containerd's bin_dir
  for node in $NODES; do
    capture LISTING "$DOCKER" exec "$node" ls -A "$NODE_BIN_DIR"
    [ $DRY = 1 ] || [ "$LISTING" = sigil-verifier ] \
      || die "$node: $NODE_BIN_DIR holds '$LISTING', expected sigil-verifier alone"
  done
fi

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

# ------------------------------------------------- 5b. uninstall (--daemonset)
if [ $DS = 1 ] && [ $UNINSTALL = 1 ]; then
  step "5b. packaging/kubernetes/uninstall.sh, then no forwarder on any node"
  # uninstall.sh takes one kubectl word: the cluster's own kubeconfig
  run_sh "$QK get kubeconfig --name $CLUSTER > $QSTAGE/kubeconfig"
  run env KUBECONFIG="$STAGE/kubeconfig" KUBECTL="$KUBECTL" bash "$K8S_SRC/uninstall.sh" --timeout 180 \
    || die "packaging/kubernetes/uninstall.sh failed"
  for node in $NODES; do
    capture LISTING "$DOCKER" exec "$node" ls -A "$NODE_BIN_DIR"
    [ $DRY = 1 ] || [ -z "$LISTING" ] \
      || die "$node: $NODE_BIN_DIR still holds '$LISTING' after uninstall.sh"
  done
  run_sh "! $QKC --context $CTX get namespace sigil-system >/dev/null 2>&1" \
    || die "namespace sigil-system is still there after uninstall.sh"
fi
echo
if [ $DRY = 1 ]; then
  echo "dry run: nothing was run; a real run ends with PASSED and kubelet's event for sigil-unsigned"
else
  echo "PASSED: sigil-signed runs; sigil-unsigned is refused (ErrImagePull), kubelet's event:"
  grep -m1 'sigil: denied' <<<"$events" | sed 's/^/  /'
  if [ $DS = 1 ]; then
    echo "  (sigil installed by packaging/kubernetes/$([ $UNINSTALL = 1 ] && echo ', then removed by uninstall.sh: every bin_dir empty'))"
  fi
fi
