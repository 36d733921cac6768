#!/usr/bin/env bash
# demo.sh - sigil's main job, end to end on this machine: verify a signed
# image and an unsigned image (OCI image layouts from the conformance
# corpus, signed by the real notation CLI) against a notation trust policy
# and trust store, and show both verdicts. Installs its build dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
if [ -d build/release ]; then
  meson setup --reconfigure build/release -Dbuildtype=debugoptimized >/dev/null
else
  meson setup build/release -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build/release >/dev/null
SIGIL=build/release/cli/sigil
CASES=tests/corpus/conformance/cases

run() { # title, case
  local title=$1 case=$CASES/$2
  local scope digest
  scope=$(cut -d@ -f1 "$case/reference")
  digest=$(cat "$case/digest")
  echo
  echo "### $title"
  echo "\$ sigil verify --oci-layout --scope $scope --config-dir $case $case/layout@$digest"
  set +e
  "$SIGIL" verify --oci-layout --scope "$scope" --config-dir "$case" "$case/layout@$digest"
  local rc=$?
  set -e
  echo "(exit status $rc)"
}

run "An image signed by a trusted identity: allowed" "$(ls $CASES | grep -m1 -E '^[0-9]+-jws-ec-p256-valid$')"
run "An unsigned image: blocked" "$(ls $CASES | grep -m1 -E '^[0-9]+-unsigned$')"
run "An image signed by an untrusted CA: blocked" "$(ls $CASES | grep -m1 -E '^[0-9]+-untrusted-root$')"
