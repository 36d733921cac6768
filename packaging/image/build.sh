#!/usr/bin/env bash
# build.sh - sigil's container image, built without a Docker engine or any
# daemon: a root file system assembled from a release build, turned into
# an OCI image layout with umoci (Debian 12's package), signed with
# notation (--oci-layout) and verified with sigil itself.
#
# The image (used by packaging/kubernetes/):
#   /usr/sbin/sigild, /usr/bin/sigil      and every shared library they load
#                                         (ldd), glibc included, at the
#                                         paths ldd resolves; ld.so.cache
#   /usr/libexec/sigil/sigil-verifier     the forwarder, a static PIE: the
#                                         init container copies it onto the
#                                         host, where none of these
#                                         libraries exist
#   /bin/busybox + sh cp mv ...           Debian's busybox-static: the init
#                                         container's copy-and-rename and
#                                         sigild's start-up wait
#   /etc/ssl/certs/ca-certificates.crt    registries' and CAs' TLS roots
#   /etc/passwd, /etc/group               root and nonroot (65532)
# Config: user 65532:65532, entrypoint sigild; the DaemonSet sets commands.
#
# Usage: packaging/image/build.sh [--build DIR] [--out DIR] [--tag TAG]
#                                 [--sign-key KEY --sign-cert CHAIN | --test-sign]
#   --build DIR   a release (or debugoptimized) meson build of sigil, built
#                 already (default build/image-build: set up and built here)
#   --out DIR     the OCI image layout to write (default build/image/oci);
#                 replaced if it exists
#   --tag TAG     the tag in the layout (default: the project version)
#   --no-build    use the binaries already in --build as they are (no ninja)
#   --sign-key KEY --sign-cert CHAIN
#                 sign with this key and certificate chain (PEM)
#   --test-sign   sign with a throwaway PKI made here (OUT/../test-pki), and
#                 verify with `sigil verify --oci-layout` against a trust
#                 policy for it (OUT/../test-trust)
# Without a signing option the image is built but not signed.
# Needs: umoci, busybox-static, ca-certificates (apt-get install'ed when
# missing, as root); notation from integration/tools.sh's cache.
# Prints the image's digest as its last line: sha256:<hex>.
# Exit: 0 built (signed, verified as asked), 1 failure, 2 usage.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build/image-build
OUT=$ROOT/build/image/oci
TAG=
KEY= CERT= TESTSIGN=0 NOBUILD=0
SCOPE=registry.example.com/sigil/sigil
CACHE=${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}
while [ $# -gt 0 ]; do
  case $1 in
    --build|--out|--tag|--sign-key|--sign-cert)
      [ $# -ge 2 ] || { echo "build.sh: $1 needs a value" >&2; exit 2; }
      case $1 in --build) BUILD=$2 ;; --out) OUT=$2 ;; --tag) TAG=$2 ;;
                 --sign-key) KEY=$2 ;; --sign-cert) CERT=$2 ;; esac
      shift ;;
    --test-sign) TESTSIGN=1 ;;
    --no-build) NOBUILD=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
{ [ -n "$KEY" ] && [ -z "$CERT" ]; } || { [ -z "$KEY" ] && [ -n "$CERT" ]; } \
  && { echo "build.sh: --sign-key and --sign-cert go together" >&2; exit 2; }
[ $TESTSIGN = 1 ] && [ -n "$KEY" ] && { echo "build.sh: --test-sign or --sign-key, not both" >&2; exit 2; }
die() { echo "build.sh: FAILED: $*" >&2; exit 1; }
note() { echo "build.sh: $*" >&2; }
[ -n "$TAG" ] || TAG=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$ROOT/meson.build" | head -n1)
case $TAG in ''|*[!A-Za-z0-9_.-]*) die "bad tag '$TAG'" ;; esac

# --- tools: Debian 12 packages, no daemon
missing=()
command -v umoci >/dev/null || missing+=(umoci)
# (no pipes into grep -q here: pipefail and SIGPIPE)
static_busybox() {
  [ -x /bin/busybox ] && /bin/busybox sh -c 'exit 0' 2>/dev/null || return 1
  case $(ldd /bin/busybox 2>&1) in *'not a dynamic'*|*'statically linked'*) return 0 ;; esac
  return 1
}
static_busybox || missing+=(busybox-static)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
  note "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
fi

# --- the binaries: a release build, with the static forwarder
if [ $NOBUILD = 0 ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" -Dbuildtype=release >&2 || die "meson setup $BUILD failed"
  fi
  ninja -C "$BUILD" plugin/sigild plugin/sigil-verifier cli/sigil >&2 || die "ninja -C $BUILD failed"
fi
for b in plugin/sigild plugin/sigil-verifier cli/sigil; do [ -x "$BUILD/$b" ] || die "$BUILD/$b missing"; done
case $(ldd "$BUILD/plugin/sigil-verifier" 2>&1) in *'not a dynamic'*|*'statically linked'*) ;; *) die "$BUILD/plugin/sigil-verifier is dynamically linked (a sanitizer build?): the host has none of its libraries" ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sigil-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RFS=$WORK/rootfs
mkdir -p "$RFS"/{usr/sbin,usr/bin,usr/libexec/sigil,bin,etc/ssl/certs,tmp,var/lib/sigil,run/sigil}
chmod 1777 "$RFS/tmp"
install -m 0755 "$BUILD/plugin/sigild" "$RFS/usr/sbin/sigild"
install -m 0755 "$BUILD/cli/sigil" "$RFS/usr/bin/sigil"
install -m 0755 "$BUILD/plugin/sigil-verifier" "$RFS/usr/libexec/sigil/sigil-verifier"
strip --strip-unneeded "$RFS/usr/sbin/sigild" "$RFS/usr/bin/sigil" "$RFS/usr/libexec/sigil/sigil-verifier"
# every library ldd resolves (the build tree's libsigil too), at the path
# ldd names, plus the dynamic loader; the build tree's go to the multiarch
# directory, which ld.so.cache (ldconfig below) indexes
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
libs=$(ldd "$BUILD/plugin/sigild" "$BUILD/cli/sigil" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u)
[ -n "$libs" ] || die "ldd found no libraries for sigild/sigil"
for l in $libs; do
  case $l in
    "$BUILD"/*|"$ROOT"/*) dest=/usr/lib/$MULTIARCH/$(basename "$l") ;;
    *) dest=$l ;;
  esac
  mkdir -p "$RFS$(dirname "$dest")"
  cp -L "$l" "$RFS$dest"
done
ldconfig -r "$RFS" 2>/dev/null || ldconfig -r "$RFS" -f /dev/null || die "ldconfig -r failed"
install -m 0755 /bin/busybox "$RFS/bin/busybox"
for a in sh cp mv rm rmdir mkdir chmod chown ln sync sleep test cat ls echo; do ln -s busybox "$RFS/bin/$a"; done
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$RFS/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/nonexistent:/bin/false\n' > "$RFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$RFS/etc/group"
chown 65532:65532 "$RFS/var/lib/sigil" "$RFS/run/sigil"
# the image must run: sigil from the rootfs alone, with its own loader
chroot "$RFS" /usr/bin/sigil --version >&2 || die "sigil does not run inside the assembled rootfs"
chroot "$RFS" /usr/sbin/sigild --help >/dev/null 2>&1 || die "sigild does not run inside the assembled rootfs"

# --- the OCI layout (umoci: no daemon, no registry)
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
umoci init --layout "$OUT"
umoci new --image "$OUT:$TAG"
umoci insert --image "$OUT:$TAG" --no-history "$RFS" / >&2
umoci config --image "$OUT:$TAG" --no-history \
  --config.user 65532:65532 \
  --config.env PATH=/usr/sbin:/usr/bin:/bin \
  --config.entrypoint /usr/sbin/sigild \
  --config.cmd --config --config.cmd /etc/sigil/sigild.json \
  --config.label org.opencontainers.image.title=sigil \
  --config.label "org.opencontainers.image.version=$TAG" \
  --os linux --architecture "$(dpkg --print-architecture)" >&2
umoci gc --layout "$OUT"
DIGEST=$(/usr/bin/python3 - "$OUT" "$TAG" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
m = [d for d in idx["manifests"]
     if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]]
assert len(m) == 1, m
print(m[0]["digest"])
PY
)
note "image $OUT:$TAG = $DIGEST"

# --- signing (notation, OCI layout mode is experimental in notation 1.x)
if [ $TESTSIGN = 1 ] || [ -n "$KEY" ]; then
  [ -f "$CACHE/env" ] || bash "$ROOT/integration/tools.sh" >&2 || die "integration/tools.sh failed"
  NOTATION=$(sed -n 's/^NOTATION=//p' "$CACHE/env")
  [ -x "$NOTATION" ] || die "notation missing from $CACHE/env"
  if [ $TESTSIGN = 1 ]; then
    PKIDIR=$(dirname "$OUT")/test-pki TRUST=$(dirname "$OUT")/test-trust
    rm -rf "$PKIDIR" "$TRUST"
    /usr/bin/python3 - "$PKIDIR" "$TRUST" "$SCOPE" "$ROOT" <<'PY' >&2
import json, os, shutil, sys
pkidir, trust, scope, root = sys.argv[1:5]
sys.path.insert(0, os.path.join(root, "tests", "registry"))
sys.dont_write_bytecode = True
import reglib as R
mc = R.load_corpus_helpers()
os.makedirs(pkidir)
pki = mc.PKI(pkidir, "image", "ec-p256")
store = os.path.join(trust, "truststore", "x509", "ca", "sigil-image")
os.makedirs(store)
shutil.copy(pki.root, os.path.join(store, "root.crt"))
with open(os.path.join(trust, "trustpolicy.json"), "w") as f:
    json.dump({"version": "1.0", "trustPolicies": [{
        "name": "sigil-image", "registryScopes": [scope],
        "signatureVerification": {"level": "strict"}, "trustStores": ["ca:sigil-image"],
        "trustedIdentities": [pki.identity()]}]}, f, indent=1)
with open(os.path.join(pkidir, "key-cert"), "w") as f:
    f.write(pki.key + "\n" + pki.chain + "\n")
PY
    { read -r KEY; read -r CERT; } < "$PKIDIR/key-cert"
  fi
  XDG=$WORK/notation-config
  mkdir -p "$XDG/notation"
  /usr/bin/python3 -c 'import json,sys; json.dump({"default":"sigil","keys":[{"name":"sigil","keyPath":sys.argv[1],"certPath":sys.argv[2]}]}, open(sys.argv[3],"w"))' \
    "$KEY" "$CERT" "$XDG/notation/signingkeys.json"
  NOTATION_EXPERIMENTAL=1 XDG_CONFIG_HOME=$XDG "$NOTATION" sign --oci-layout --key sigil "$OUT@$DIGEST" >&2 \
    || die "notation sign failed"
  if [ $TESTSIGN = 1 ]; then
    "$BUILD/cli/sigil" verify --oci-layout --scope "$SCOPE" --config-dir "$TRUST" "$OUT@$DIGEST" >&2 \
      || die "sigil verify --oci-layout refused the image just signed"
    note "signed and verified with sigil (trust policy: $TRUST)"
  fi
fi
echo "$DIGEST"
