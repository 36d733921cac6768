#!/usr/bin/env bash
# bench/run.sh - run the five benchmarks of issue 7 and record the results.
#
#   bench/run.sh [--smoke] [--build DIR] [--only NAME[,NAME...]]
#
# Builds a release build WITHOUT sanitizers (default build/bench, created
# with -Dbuildtype=release when missing), then runs, in this order:
#   1 pull     bench-pull.py    real containerd: needs root, SKIPPED (loudly) otherwise
#   2 cli      bench-cli.py     sigil verify vs notation verify
#   3 library  bench-lib        sigil_verify vs raw OpenSSL (fixtures: make-fixtures.py)
#   4 daemon   bench-daemon.py  sigild and sigil-verifier
#   5 growth   bench-growth     time vs signatures per image and trust store size
# and writes bench/results/<UTC time>.json, bench/results/latest.json and
# the results section of bench/README.md (bench/report.py).
# --smoke: tiny sizes, one round: checks that everything runs (the
# bench-smoke meson suite runs each benchmark that way, separately).
# Exit status: 0 when every benchmark ran (targets missed are reported, not
# failures), 1 when one failed (its harness checks or its program).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build/bench
smoke=()
only=
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=(--smoke); shift ;;
    --build) build=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --only) only=,$2,; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
want() { [ -z "$only" ] || [[ $only == *",$1,"* ]]; }
py=/usr/bin/python3   # Debian's python3 (python3-grpcio, python3-cryptography), not a pyenv one

loud() {
  local bar; bar=$(printf '!%.0s' {1..72})
  printf '%s\n!!! %s\n%s\n' "$bar" "$*" "$bar"
}

# --- build (release, no sanitizers: the numbers are the product's) -------
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" -Dbuildtype=release
fi
sanitize=$(meson introspect --buildoptions "$build" 2>/dev/null |
  "$py" -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="b_sanitize"))')
if [ "$sanitize" != "none" ]; then
  echo "run.sh: $build is built with b_sanitize=$sanitize; benchmarks need a build without sanitizers" >&2
  exit 2
fi
ninja -C "$build" >/dev/null

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench-$stamp.XXXXXX")
trap 'rm -rf "$out"' EXIT
failed=()
skipped=()
files=()

run() { # name, command...
  local name=$1; shift
  echo "=== benchmark $name: $*"
  local rc=0
  "$@" || rc=$?
  if [ $rc -eq 77 ]; then
    loud "benchmark $name SKIPPED (see above)"
    skipped+=("--skipped" "$name=skipped by the benchmark itself (exit 77); see its output")
  elif [ $rc -ne 0 ]; then
    loud "benchmark $name FAILED (exit $rc)"
    failed+=("$name")
  fi
  if [ -f "$out/$name.json" ]; then files+=("$out/$name.json"); fi
}

b=$build
if want pull; then
  if [ "$(id -u)" -ne 0 ]; then
    loud "benchmark 1 (pull overhead) SKIPPED: it starts containerd, which needs root; run bench/run.sh as root"
    skipped+=("--skipped" "pull=not root: containerd needs root")
  else
    run pull "$py" "$here/bench-pull.py" "${smoke[@]}" --json "$out/pull.json" \
      --sigil "$b/cli/sigil" --sigild "$b/plugin/sigild" --verifier "$b/plugin/sigil-verifier" \
      --dropin "$b/packaging/50-sigil.toml"
  fi
fi
if want cli; then
  run cli "$py" "$here/bench-cli.py" "${smoke[@]}" --json "$out/cli.json" \
    --sigil "$b/cli/sigil" --client "$b/bench/bench-daemon" --bound "$b/bench/bench-startup-bound"
fi

# --- 3 and 5: the library programs, on fresh fixtures ---------------------
if want library || want growth; then
  for prog in bench-lib bench-growth; do
    if [ ! -x "$b/bench/$prog" ]; then
      loud "benchmarks 3/5: $b/bench/$prog is missing (bench/meson.build did not build it)"
      failed+=("$prog")
    fi
  done
  if [ -x "$b/bench/bench-lib" ] && [ -x "$b/bench/bench-growth" ]; then
    echo "=== fixtures for benchmarks 3 and 5"
    if "$py" "$here/make-fixtures.py" --out "$out/fixtures" "${smoke[@]}"; then
      if want library; then run library "$b/bench/bench-lib" --fixtures "$out/fixtures" --json "$out/library.json" "${smoke[@]}"; fi
      if want growth; then run growth "$b/bench/bench-growth" --fixtures "$out/fixtures" --json "$out/growth.json" "${smoke[@]}"; fi
    else
      loud "benchmarks 3/5: make-fixtures.py FAILED"
      failed+=("fixtures")
    fi
  fi
fi

if want daemon; then
  run daemon "$py" "$here/bench-daemon.py" "${smoke[@]}" --json "$out/daemon.json" \
    --sigil "$b/cli/sigil" --sigild "$b/plugin/sigild" --verifier "$b/plugin/sigil-verifier" \
    --client "$b/bench/bench-daemon"
fi

if [ ${#files[@]} -gt 0 ]; then
  "$py" "$here/report.py" --results-dir "$here/results" --readme "$here/README.md" --stamp "$stamp" \
    "${skipped[@]}" "${files[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  loud "run.sh: FAILED: ${failed[*]}"
  exit 1
fi
echo "run.sh: done; results in bench/results/$stamp.json and bench/README.md"
