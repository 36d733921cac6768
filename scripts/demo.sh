#!/usr/bin/env bash
# demo.sh - sigil's main job, end to end on this machine (the README's first
# command): on 127.0.0.1 and in a temporary directory, a registry, sigild
# and containerd 2.1 with sigil's packaged drop-in; one image signed with
# notation and one unsigned; both pulled through CRI PullImage as kubelet
# does: the signed one is allowed, the unsigned one denied with sigil's
# reason. Everything it starts is stopped and removed at the end.
#
# Needs root (containerd) and a Debian 12 machine: installs the missing
# build dependencies (scripts/deps.sh), builds build/demo, fetches
# containerd, notation, oras and CRI's api.proto from Debian unstable into
# ~/.cache/sigil-tools (integration/tools.sh, nothing installed system-wide)
# when they are not there yet, then runs integration/demo.py.
# The noise of those steps goes to build/demo.log, printed on failure.
# Exit: 0 the expected outcomes, 1 anything else, 2 not root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: the demo runs its own containerd, which needs root; run it as root:" >&2
  echo "  sudo bash scripts/demo.sh" >&2
  exit 2
fi

mkdir -p build
LOG=$ROOT/build/demo.log
: > "$LOG"
fail() { # what
  echo "demo.sh: $1 failed; last lines of $LOG:" >&2
  tail -n 15 "$LOG" | sed 's/^/  /' >&2
  echo "demo.sh: full log: $LOG" >&2
  exit 1
}
step() { # what, command...
  local what=$1; shift
  echo "== $what: $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1 </dev/null || fail "$what"
}

echo "Preparing (dependencies, build, tools; details in $LOG)..."
step "installing build dependencies" bash scripts/deps.sh
if [ -f build/demo/build.ninja ]; then
  step "configuring the build" meson setup --reconfigure build/demo -Dbuildtype=debugoptimized
else
  step "configuring the build" meson setup build/demo -Dbuildtype=debugoptimized
fi
step "building sigil" ninja -C build/demo

# tools.sh reaches Debian unstable's mirror: run it only when the cache is
# incomplete (a prepared machine pays nothing).
CACHE=${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}
tools_ok() {
  [ -f "$CACHE/env" ] || return 1
  local k v
  for k in NOTATION ORAS CONTAINERD CTR CONTAINERD_SHIM; do
    v=$(sed -n "s/^$k=//p" "$CACHE/env")
    [ -n "$v" ] && [ -x "$v" ] || return 1
  done
  v=$(sed -n 's/^CRI_API_PROTO=//p' "$CACHE/env")
  [ -n "$v" ] && [ -f "$v" ]
}
if ! tools_ok; then
  step "fetching containerd, notation, oras and CRI's api.proto from Debian unstable" \
    bash integration/tools.sh
fi

B=build/demo
for f in "$B/cli/sigil" "$B/plugin/sigild" "$B/plugin/sigil-verifier" "$B/packaging/50-sigil.toml"; do
  [ -e "$f" ] || { echo "building sigil: $f was not built" >>"$LOG"; fail "building sigil"; }
done
echo
# /usr/bin/python3: Debian's, with python3-grpcio (another python3 earlier
# on PATH may lack it)
exec /usr/bin/python3 integration/demo.py --sigil "$B/cli/sigil" --sigild "$B/plugin/sigild" \
  --verifier "$B/plugin/sigil-verifier" --dropin "$B/packaging/50-sigil.toml" \
  --log "$LOG" --audit-copy "$ROOT/$B/audit.log"
