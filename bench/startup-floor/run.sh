#!/usr/bin/env bash
# bench/startup-floor/run.sh [BUILD_DIR] - where `sigil verify`'s time goes
# against `notation verify`, and how far down it can go on this machine
# (bench/README.md, "Findings", CLI). MEASUREMENT ONLY: nothing here is built
# by meson, shipped or run in CI.
#
# Each program below runs alternately with notation (bench-daemon spawn:
# spawn to reaped, medians; ratio = notation / program):
#   sigil verify as built (BUILD_DIR, default build/bench: a release build)
#   the same sigil objects with libcurl's tree replaced by stand-in-libcurl.c
#     (plain HTTP over libc only), dynamic; and linked statically against
#     Debian's libcrypto.a/libssl.a/... (libcbor and libc stay shared)
#   floor-client: a static exec plus the same GETs sigil makes, nothing else
#   --version / version, and empty mains linked against sigil's libraries,
#     the same minus libcurl, libcrypto alone, libc alone, static.
# Needs: the tools of bench-cli.py, cc, strace (to record sigil's GETs).
# ROUNDS (default 20) rounds after 3 warm-up rounds per pair.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build/bench}" && pwd)
rounds=${ROUNDS:-20}
bd=$build/bench/bench-daemon
sigil=$build/cli/sigil
for f in "$bd" "$sigil"; do [ -x "$f" ] || { echo "run.sh: $f missing (ninja -C $build)" >&2; exit 2; }; done

w=$(mktemp -d "${TMPDIR:-/tmp}/sigil-startup-floor.XXXXXX")
setup_pid=
cleanup() {
  touch "$w/stop"
  if [ -n "$setup_pid" ]; then wait "$setup_pid" || true; fi
  rm -rf "$w"
}
trap cleanup EXIT
/usr/bin/python3 "$here/setup-registry.py" "$w" > "$w/setup.log" 2>&1 &
setup_pid=$!

# --- variants ------------------------------------------------------------
cd "$build"
lib_cmd=$(ninja -t commands libverify/libsigil.so.0.1.0 | tail -1)
cli_cmd=$(ninja -t commands cli/sigil | tail -1)
mkdir -p "$w/stand-in" "$w/nocurl/cli" "$w/nocurl/libverify" "$w/static"
cc -O2 -shared -fPIC -o "$w/stand-in/libcurl.so.4" "$here/stand-in-libcurl.c" \
  -Wl,-soname,libcurl.so.4 -Wl,--version-script=<(echo 'CURL_OPENSSL_4 { global: *; };')
# libsigil relinked with a RUNPATH to the stand-in; the CLI copied next to it
# (its RUNPATH is $ORIGIN/../libverify)
eval "${lib_cmd/-o libverify\/libsigil.so.0.1.0/-o $w/nocurl/libverify/libsigil.so.0 -Wl,-rpath,$w/stand-in -Wl,--enable-new-dtags}"
cp cli/sigil "$w/nocurl/cli/sigil"
# the CLI's objects and libsigil's internal archive, OpenSSL & co. static
cc -O2 -fPIC -c -o "$w/static/stand-in.o" "$here/stand-in-libcurl.c"
mapfile -t objs < <(echo "$cli_cmd" | grep -oE '[^ ]+\.(o|a)')
cc -o "$w/static/sigil" "${objs[@]}" libverify/libsigil-internal.a "$w/static/stand-in.o" -pie \
  -Wl,-z,relro -Wl,-z,now -Wl,--start-group -Wl,-Bstatic -lprotobuf-c -lnghttp2 -ljson-c -lssl -lcrypto \
  -lyaml -Wl,-Bdynamic -lcbor -Wl,--end-group -lpthread
cc -O2 -static -o "$w/floor-client" "$here/floor-client.c"
printf 'int main(void) { return 0; }\n' > "$w/e.c"
cc -O2 -static -o "$w/e-static" "$w/e.c"
cc -O2 -o "$w/e-libc" "$w/e.c"
cc -O2 -o "$w/e-crypto" "$w/e.c" -Wl,--no-as-needed -lcrypto
cc -O2 -o "$w/e-nocurl" "$w/e.c" -Wl,--no-as-needed -lprotobuf-c -lnghttp2 -ljson-c -lcbor -lyaml -lssl -lcrypto
cc -O2 -o "$w/e-sigil" "$w/e.c" -Wl,--no-as-needed -L"$build/libverify" -Wl,-rpath,"$build/libverify" \
  -l:libsigil.so.0 -lprotobuf-c -lnghttp2 -ljson-c -lcrypto
cd "$root"

for _ in $(seq 600); do [ -f "$w/env.sh" ] && break; kill -0 "$setup_pid" 2>/dev/null || break; sleep 0.5; done
[ -f "$w/env.sh" ] || { cat "$w/setup.log"; echo "run.sh: registry set-up failed" >&2; exit 1; }
# shellcheck disable=SC1091
. "$w/env.sh"
verify() { echo "$1"; echo verify; echo --config-dir; echo "$CFG"; echo --registry-config; echo "$HOSTS"
  echo --plain-http; echo "$2"; }
# the GETs sigil makes, for floor-client
mapfile -t cmd < <(verify "$sigil" "$JWS")
strace -f -s 300 -e trace=sendto -o "$w/strace.txt" "${cmd[@]}" > /dev/null
mapfile -t paths < <(grep -oE '"GET [^ ]+' "$w/strace.txt" | sed 's/^"GET //')
[ ${#paths[@]} -gt 0 ] || { echo "run.sh: no GETs recorded" >&2; exit 1; }

pair() { # label, program..., then notation's command after --
  local label=$1; shift
  "$bd" spawn --rounds "$rounds" --warmup 3 --expect-exit-a 0 --expect-exit-b 0 -- "$@" |
    /usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin); a, b = d["a"], d["b"]
print("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx |" % (sys.argv[1],
      a["wall_ms"]["median"], b["wall_ms"]["median"], b["wall_ms"]["median"] / a["wall_ms"]["median"],
      a["cpu_ms"]["median"], b["cpu_ms"]["median"], b["cpu_ms"]["median"] / a["cpu_ms"]["median"]))' "$label"
}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); ${#paths[@]} GETs per verification"
echo "| program | wall ms | notation wall ms | ratio wall | CPU ms | notation CPU ms | ratio CPU |"
echo "|---|---|---|---|---|---|---|"
for env in JWS COSE; do
  ref=${!env}
  nv=("$NOTATION" verify --insecure-registry "$ref")
  mapfile -t cmd < <(verify "$sigil" "$ref")
  pair "sigil verify $env, as built" "${cmd[@]}" -- "${nv[@]}"
  mapfile -t cmd < <(verify "$w/nocurl/cli/sigil" "$ref")
  pair "sigil verify $env, no libcurl tree" "${cmd[@]}" -- "${nv[@]}"
  mapfile -t cmd < <(verify "$w/static/sigil" "$ref")
  pair "sigil verify $env, no libcurl tree, OpenSSL static" "${cmd[@]}" -- "${nv[@]}"
done
pair "floor: static exec + the same ${#paths[@]} GETs" "$w/floor-client" "$PORT" "${paths[@]}" -- \
  "$NOTATION" verify --insecure-registry "$JWS"
nver=("$NOTATION" version)
pair "sigil --version, as built" "$sigil" --version -- "${nver[@]}"
pair "sigil --version, no libcurl tree" "$w/nocurl/cli/sigil" --version -- "${nver[@]}"
pair "sigil --version, no libcurl tree, OpenSSL static" "$w/static/sigil" --version -- "${nver[@]}"
pair "empty main: sigil's libraries" "$w/e-sigil" -- "${nver[@]}"
pair "empty main: sigil's libraries minus libcurl" "$w/e-nocurl" -- "${nver[@]}"
pair "empty main: libcrypto" "$w/e-crypto" -- "${nver[@]}"
pair "empty main: libc" "$w/e-libc" -- "${nver[@]}"
pair "empty main: static" "$w/e-static" -- "${nver[@]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
