#!/usr/bin/env bash
# tools.sh - fetch the real third-party tools the integration and
# differential tests run against, which Debian 12 does not ship, from
# Debian unstable, WITHOUT installing anything system-wide.
#
#   notation                  (reference signer + verdict oracle; >= 1.3)
#   oras                      (pushes artifacts, copies referrers into layouts)
#   containerd                (>= 2.1: containerd, ctr, containerd-shim-runc-v2)
#   golang-k8s-cri-api-dev    (CRI's api.proto, for the python gRPC CRI client)
#   golang-k8s-kubectl-dev    (kubectl's test copy of the Kubernetes OpenAPI v3
#                             documents, core/v1 and apps/v1: the schemas
#                             tests/package/test-k8s-manifests.py validates
#                             packaging/kubernetes/ against)
#
# Method (docs/architecture.md, "Real components used in tests"): an apt
# sources file of our own with "Suites: sid" and the URIs and Signed-By of
# the main entry of the machine's own /etc/apt/sources.list.d/debian.sources
# (no host name is written here), private apt lists/cache/state folders so
# that neither `apt-get update` nor `apt-get download` reads or modifies
# system apt state, then `dpkg -x` into the cache folder. The Go binaries are
# statically linked or depend only on libc, so they run on Debian 12.
#
# Not handled here: the tools Debian 12 does ship (docker-registry,
# python3-grpcio, python3-grpc-tools) are installed with apt-get by whoever
# needs them.
#
# Usage: integration/tools.sh [--print]
#   cache: ${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}
#   mirror: taken from ${SIGIL_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}
#   writes $CACHE/env (shell syntax: NOTATION=... ORAS=... CONTAINERD=...
#   CTR=... CONTAINERD_SHIM=... CRI_API_PROTO=... and *_VERSION) and prints it.
# Idempotent: a package already unpacked at the version unstable offers is
# not downloaded again; when the mirror cannot be reached but every package
# is already unpacked, the cached copies are used.
# Exit: 0 ok, 1 failure (network, version check, missing file).
set -euo pipefail

CACHE=${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}
PACKAGES=(notation oras containerd golang-k8s-cri-api-dev golang-k8s-kubectl-dev)
SYSTEM_SOURCES=${SIGIL_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}

die() { echo "tools.sh: ERROR: $*" >&2; exit 1; }
note() { echo "tools.sh: $*" >&2; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# the env file is written unquoted (KEY=/path), so that both `.` and a
# line-based reader can use it
case $CACHE in *[[:space:]\'\"\$\`\\]*) die "cache path '$CACHE' contains whitespace or quotes" ;; esac
APTDIR=$CACHE/apt
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/state" "$APTDIR/debs"
: > "$APTDIR/state/status"

# --- our own sources file, derived from the machine's main Debian entry ---
[ -r "$SYSTEM_SOURCES" ] || die "cannot read $SYSTEM_SOURCES (need the machine's Debian mirror)"
# The main entry: the first deb822 stanza of Types deb whose Suites do not
# carry a -security/-updates/-backports suffix.
read -r URIS SIGNED_BY < <(awk '
  function flush() {
    if (types ~ /(^| )deb( |$)/ && uris != "" && main && !done) { print uris, signed; done = 1 }
    types = ""; uris = ""; signed = ""; main = 0
  }
  /^[[:space:]]*#/ { next }
  /^[[:space:]]*$/ { flush(); next }
  {
    key = $1; sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
    if (key == "Types") types = $0
    else if (key == "URIs") uris = $1
    else if (key == "Signed-By") signed = $1
    else if (key == "Suites") { main = 0; for (i = 1; i <= NF; i++) if ($i !~ /-(security|updates|backports)$/) main = 1 }
  }
  END { flush() }' "$SYSTEM_SOURCES") || true
[ -n "${URIS:-}" ] || die "no main deb entry (URIs) found in $SYSTEM_SOURCES"
[ -n "${SIGNED_BY:-}" ] || die "the main entry of $SYSTEM_SOURCES has no Signed-By"

cat > "$APTDIR/sid.sources" <<SRC
Types: deb
URIs: $URIS
Suites: sid
Components: main
Signed-By: $SIGNED_BY
SRC

APT_OPTS=(
  -o "Dir::Etc::SourceList=$APTDIR/sid.sources"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::Etc::Preferences=/dev/null"
  -o "Dir::Etc::PreferencesParts=/dev/null"
  -o "Dir::State=$APTDIR/state"
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::State::status=$APTDIR/state/status"
  -o "Dir::Cache=$APTDIR/cache"
  -o "Dir::Cache::archives=$APTDIR/cache/archives"
  -o "Dir::Log=$APTDIR/log"
  -o "APT::Default-Release="
  -o "Debug::NoLocking=true"
  -o "APT::Sandbox::User=root"
  -o "Acquire::Languages=none"
  -o "APT::Get::List-Cleanup=true"
)

cached_version() { cat "$CACHE/pkg/$1/.version" 2>/dev/null || true; }

all_cached=1
for p in "${PACKAGES[@]}"; do [ -n "$(cached_version "$p")" ] || all_cached=0; done

online=1
if ! apt-get "${APT_OPTS[@]}" -qq update >"$APTDIR/update.log" 2>&1 \
   || grep -qE '^(W|E):' "$APTDIR/update.log"; then
  online=0
  if [ $all_cached -eq 1 ]; then
    note "WARNING: cannot refresh Debian unstable lists (see $APTDIR/update.log); using cached packages"
  else
    cat "$APTDIR/update.log" >&2
    die "apt-get update of Debian unstable failed and the cache $CACHE is incomplete"
  fi
fi

for p in "${PACKAGES[@]}"; do
  have=$(cached_version "$p")
  if [ $online -eq 1 ]; then
    want=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$p" 2>/dev/null \
           | awk '/^Version:/ { print $2; exit }')
    [ -n "$want" ] || die "package $p not found in Debian unstable"
  else
    want=$have
  fi
  if [ "$have" = "$want" ] && [ -d "$CACHE/pkg/$p/root" ]; then
    continue
  fi
  note "fetching $p $want from Debian unstable"
  rm -f "$APTDIR/debs/${p}_"*.deb
  (cd "$APTDIR/debs" && apt-get "${APT_OPTS[@]}" -qq download "$p=$want") \
    || die "apt-get download $p=$want failed"
  debs=("$APTDIR/debs/${p}_"*.deb)
  deb=${debs[0]}
  [ -f "$deb" ] || die "download of $p produced no .deb"
  rm -rf "$CACHE/pkg/$p.new"
  mkdir -p "$CACHE/pkg/$p.new/root"
  dpkg -x "$deb" "$CACHE/pkg/$p.new/root" || die "dpkg -x $deb failed"
  echo "$want" > "$CACHE/pkg/$p.new/.version"
  rm -rf "$CACHE/pkg/$p"
  mv "$CACHE/pkg/$p.new" "$CACHE/pkg/$p"
  rm -f "$deb"
done

# --- locate the files ---
find_one() { # package, relative glob under root (first match)
  local f
  f=$(find "$CACHE/pkg/$1/root" -path "$CACHE/pkg/$1/root/$2" \( -type f -o -type l \) 2>/dev/null | sort | head -n1)
  [ -n "$f" ] || die "package $1 has no $2"
  echo "$f"
}
NOTATION=$(find_one notation usr/bin/notation)
ORAS=$(find_one oras usr/bin/oras)
CONTAINERD=$(find_one containerd usr/bin/containerd)
CTR=$(find_one containerd usr/bin/ctr)
CONTAINERD_SHIM=$(find_one containerd usr/bin/containerd-shim-runc-v2)
CRI_API_PROTO=$(find_one golang-k8s-cri-api-dev 'usr/share/gocode/src/*/cri-api/pkg/apis/runtime/v1/api.proto')
K8S_OPENAPI_V3=$(dirname "$(dirname "$(find_one golang-k8s-kubectl-dev 'usr/share/gocode/src/k8s.io/kubectl/testdata/openapi/v3/api/v1.json')")")

# --- version checks: fail loudly when unstable moves on incompatibly ---
ver_of() { # binary, args...: first x.y.z in its output
  "$@" 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1
}
NOTATION_VERSION=$(ver_of "$NOTATION" version)
ORAS_VERSION=$(ver_of "$ORAS" version)
CONTAINERD_VERSION=$(ver_of "$CONTAINERD" --version)
[ -n "$NOTATION_VERSION" ] || die "cannot run $NOTATION version"
[ -n "$ORAS_VERSION" ] || die "cannot run $ORAS version"
[ -n "$CONTAINERD_VERSION" ] || die "cannot run $CONTAINERD --version"
ge() { dpkg --compare-versions "$1" ge "$2"; }
lt() { dpkg --compare-versions "$1" lt "$2"; }
# notation: the corpus oracle is 1.3.x; 1.x keeps the CLI, trust policy and
# envelope formats. A 2.x may change them: refuse rather than guess.
{ ge "$NOTATION_VERSION" 1.3.0 && lt "$NOTATION_VERSION" 2.0.0; } \
  || die "notation $NOTATION_VERSION from Debian unstable is outside [1.3.0, 2.0.0): check the differential/integration tests against it and update tools.sh"
# containerd: the transfer service's verifier plugins and CRI's image
# verifier configuration are 2.1+; 3.x may change the plugin interface.
{ ge "$CONTAINERD_VERSION" 2.1.0 && lt "$CONTAINERD_VERSION" 3.0.0; } \
  || die "containerd $CONTAINERD_VERSION from Debian unstable is outside [2.1.0, 3.0.0): update tools.sh and the containerd integration"
ge "$ORAS_VERSION" 1.0.0 || die "oras $ORAS_VERSION is older than 1.0.0"
grep -q 'service ImageService' "$CRI_API_PROTO" || die "$CRI_API_PROTO has no ImageService"

cat > "$CACHE/env.new" <<ENV
# generated by integration/tools.sh; source it
NOTATION=$NOTATION
NOTATION_VERSION=$NOTATION_VERSION
ORAS=$ORAS
ORAS_VERSION=$ORAS_VERSION
CONTAINERD=$CONTAINERD
CTR=$CTR
CONTAINERD_SHIM=$CONTAINERD_SHIM
CONTAINERD_VERSION=$CONTAINERD_VERSION
CRI_API_PROTO=$CRI_API_PROTO
K8S_OPENAPI_V3=$K8S_OPENAPI_V3
ENV
mv "$CACHE/env.new" "$CACHE/env"
cat "$CACHE/env"
