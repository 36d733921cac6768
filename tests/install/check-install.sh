#!/usr/bin/env bash
# check-install.sh BUILD_DIR SOURCE_DIR - `meson install` into a private
# DESTDIR and check what a user of the library gets: the binaries, the
# versioned shared library and its pkg-config file, public headers that
# each compile on their own, and exactly the exported symbols listed in
# libverify/libsigil.symbols (no sigil__ internals leak).
set -euo pipefail
build=$1
src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --no-rebuild >/dev/null
fail=0
need() {
  if ! compgen -G "$dest$1" >/dev/null; then
    echo "missing after install: $1"
    fail=1
  fi
}
need "/usr/local/bin/sigil"
need "/usr/local/lib*/**/libsigil.so.0*"
need "/usr/local/lib*/**/pkgconfig/sigil.pc"
need "/usr/local/include/sigil/sigil.h"
need "/usr/local/etc/containerd/conf.d/50-sigil.toml"
need "/usr/local/lib/systemd/system/sigild.service"

# The drop-in's bin_dir must hold sigil-verifier and nothing else:
# containerd executes every entry in it.
bindir=$(sed -n 's/^ *bin_dir = "\(.*\)"/\1/p' "$dest/usr/local/etc/containerd/conf.d/50-sigil.toml")
case "$bindir" in
  /*) ;;
  *) echo "drop-in bin_dir is not an absolute path: $bindir"; fail=1 ;;
esac
if [ -d "$dest$bindir" ]; then
  extra=$(ls -A "$dest$bindir" | grep -vx sigil-verifier || true)
  if [ -n "$extra" ]; then
    echo "bin_dir $bindir holds more than sigil-verifier: $extra"
    fail=1
  fi
fi
shopt -s globstar
lib=$(ls "$dest"/usr/local/lib*/**/libsigil.so.0.* 2>/dev/null | head -1)
pc=$(dirname "$(ls "$dest"/usr/local/lib*/**/pkgconfig/sigil.pc | head -1)")

# Each public header compiles alone (it includes what it uses).
for h in "$dest"/usr/local/include/sigil/*.h; do
  if ! printf '#include <sigil/%s>\nint main(void){return 0;}\n' "$(basename "$h")" |
      cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$dest/usr/local/include" -x c - -o /dev/null -c; then
    echo "header does not compile on its own: $(basename "$h")"
    fail=1
  fi
done

# pkg-config finds the library and a program links against it.
cflags=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$pc" pkg-config --cflags sigil)
libs=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="$pc" pkg-config --libs sigil)
printf '#include <sigil/sigil.h>\n#include <stdio.h>\nint main(void){puts(sigil_version());return 0;}\n' |
  cc -std=c11 $cflags -x c - $libs -o "$dest/linktest"
if [ "$(LD_LIBRARY_PATH=$(dirname "$lib") "$dest/linktest")" != "$(meson introspect "$build" --projectinfo | python3 -c 'import json,sys;print(json.load(sys.stdin)["version"])')" ]; then
  echo "linked program does not report the project version"
  fail=1
fi

# Exported symbols are the checked-in list, no more and no fewer.
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "D" || $2 == "B" {print $3}' | sort > "$dest/symbols"
if ! diff -u "$src/libverify/libsigil.symbols" "$dest/symbols"; then
  echo "exported symbols differ from libverify/libsigil.symbols (update it if the API change is intended)"
  fail=1
fi
[ $fail -eq 0 ] && echo "install layout, headers, pkg-config and symbols ok"
exit $fail
