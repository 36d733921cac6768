#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages sigil builds and tests with.
# Installs only what is missing, so a prepared machine pays nothing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config meson ninja-build python3 openssl ca-certificates
  libssl-dev libjson-c-dev libcbor-dev libcurl4-openssl-dev libyaml-dev
  libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev
  clang docker-registry apache2-utils python3-grpcio python3-grpc-tools
  python3-yaml libmicrohttpd-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root (or install them) first" >&2
  exit 2
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/sigil-apt.log 2>&1; then
  apt-get update -q >>/tmp/sigil-apt.log 2>&1
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/sigil-apt.log 2>&1 || {
    tail -20 /tmp/sigil-apt.log >&2
    exit 2
  }
fi
