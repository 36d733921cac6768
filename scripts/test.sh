#!/usr/bin/env bash
# test.sh - install build dependencies, build sigil twice (release and
# AddressSanitizer+UndefinedBehaviorSanitizer), and run every suite:
#   unit, fuzz-regress, conformance, adversarial (under the sanitizers),
#   plus install/ABI checks on the release build.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/deps.sh || exit 2

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export MESON_TESTTHREADS=${MESON_TESTTHREADS:-$(nproc)}

status=0
setup() { # dir, extra args...
  local dir=$1; shift
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
  else
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" || return 1
}

echo "== build: release"
setup build/release -Dbuildtype=debugoptimized || status=1
echo "== build: sanitizers (address, undefined)"
setup build/sanitize -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false || status=1

if [ $status -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# the differential suite needs notation from Debian unstable, unpacked into
# a cache by integration/tools.sh (never installed system-wide)
TOOLS_CACHE=${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}
if [ ! -f "$TOOLS_CACHE/env" ]; then
  echo "== tools: fetching notation/oras/containerd into $TOOLS_CACHE"
  if [ "$(id -u)" = 0 ]; then
    bash integration/tools.sh >/dev/null || echo "integration/tools.sh failed: the differential suite will be skipped"
  else
    echo "not root: not running integration/tools.sh; the differential suite will try it itself or be skipped"
  fi
fi

echo "== tests (sanitizer build)"
meson test -C build/sanitize --print-errorlogs --no-rebuild \
  --suite unit --suite fuzz-regress --suite conformance --suite adversarial --suite registry \
  --suite differential --suite daemon --suite integration \
  || true
echo "== tests (release build)"
meson test -C build/release --print-errorlogs --no-rebuild --suite install --suite unit --suite bench-smoke --suite package || true

python3 - "$ROOT/build/sanitize/meson-logs/testlog.json" "$ROOT/build/release/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
skipped, failures = [], []
for path in sys.argv[1:]:
    build = path.split("/")[-3]
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        failures.append(f"{build}: no test log")
        continue
    for line in lines:
        t = json.loads(line)
        name = f"{build}: {t['name']}"
        r = t["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            why = (t.get("stdout") or "").strip().splitlines()
            skipped.append(name + (": " + why[0] if why else ""))
        else:
            failed += 1
            failures.append(f"{name} ({r})")
print()
if skipped:
    print(f"SKIPPED ({len(skipped)}):")
    for s in skipped:
        print("  SKIPPED " + s)
for f in failures:
    print("  FAILED  " + f)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
