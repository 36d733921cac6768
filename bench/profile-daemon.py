#!/usr/bin/python3
"""Instructions per cached-verdict RPC, counted by callgrind (reproducible
on a noisy machine, unlike times): sigild (gRPC core) against
`bench-daemon serve` (the minimal nghttp2 h2c server of benchmark 4), the
same client and calls. Each server runs twice under callgrind, once with 1
call and once with 1 + N, so start-up and shutdown cancel out.

usage: profile-daemon.py --sigild PATH --client PATH [--calls N] [--keep]
Prints the counts and, for sigild, the share of its own Verify path
(sigild_service_verify and sigild_service_verify_cached, inclusive) and
of the audit log. --keep leaves the callgrind files (callgrind_annotate
them) and prints where they are.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402
from benchlib import R  # noqa: E402
import harness as H  # noqa: E402


def total(path):
    for line in open(path):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise R.Failed(f"{path}: no totals")


def inclusive(path, fn):
    p = subprocess.run(["callgrind_annotate", "--inclusive=yes", path], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if f":{fn} [" in line:
            return int(line.split()[0].replace(",", ""))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigild", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.system("command -v valgrind >/dev/null") != 0:
        R.skip("valgrind is not installed")
    if a.keep:
        os.environ["SIGIL_KEEP_TMP"] = "1"
    vals = R.tools(need_registry=True)
    st = B.Setup("profile-daemon", vals, "bench/profile")
    work, trusted, scope = st.work, st.trusted, st.scope
    digest, _ = st.push("signed", "jws")
    config_dir = os.path.join(R.trust_config(work, "trusted", [scope], [trusted.root]), "notation")
    call = ["--name", f"{scope}@{digest}", "--digest", digest, "--expect", "allow"]
    resp = os.path.join(work, "response.bin")
    n = a.calls
    out = {}
    for calls in (1, 1 + n):
        cg = os.path.join(work, f"callgrind.sigild.{calls}")
        wrap = os.path.join(work, "sigild-callgrind.sh")
        with open(wrap, "w") as f:
            f.write(f'#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={cg} {a.sigild} "$@"\n')
        os.chmod(wrap, 0o755)
        s = H.Sigild(work, wrap, config_dir, name=f"sigild-{calls}").start()
        B.run_client([a.client, "rpc", "--socket", s.sock, *call, "--calls", "1"], timeout=600)
        if calls > 1:
            B.run_client([a.client, "rpc", "--socket", s.sock, *call, "--calls", str(n), "--expect-cached", "yes",
                          "--save-response", resp], timeout=1800)
        s.stop()
        time.sleep(1)
        out[f"sigild{calls}"] = cg
    for calls in (0, n):
        cg = os.path.join(work, f"callgrind.floor.{calls}")
        sock = os.path.join(work, f"floor{calls}.sock")
        p = R.start_process(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", a.client, "serve",
                             "--socket", sock, "--response", resp], os.path.join(work, f"floor{calls}.log"))
        H.wait_for(sock, p, "bench-daemon serve", timeout=120)
        if calls:
            B.run_client([a.client, "rpc", "--socket", sock, *call, "--calls", str(n), "--expect-cached", "yes"],
                         timeout=1800)
        p.send_signal(signal.SIGTERM)
        p.wait(120)
        out[f"floor{calls}"] = cg
    sig = (total(out[f"sigild{1 + n}"]) - total(out["sigild1"])) / n
    flo = (total(out[f"floor{n}"]) - total(out["floor0"])) / n
    # a cached verdict is decided on the I/O thread by
    # sigild_service_verify_cached since issue 7, a miss by sigild_service_verify
    svc = sum(inclusive(out[f"sigild{1 + n}"], fn) - inclusive(out["sigild1"], fn)
              for fn in ("sigild_service_verify", "sigild_service_verify_cached")) / n
    aud = (inclusive(out[f"sigild{1 + n}"], "sigild_audit_log") - inclusive(out["sigild1"], "sigild_audit_log")) / n
    R.check(sig > 0 and flo > 0 and 0 < svc < sig, "callgrind counted both servers' calls")
    R.log(f"sigild:            {sig:9.0f} instructions per cached Verify (user space, all threads)")
    R.log(f"  of which sigild_service_verify[_cached] {svc:9.0f} ({100 * svc / sig:.0f} %), audit log {aud:.0f}")
    R.log(f"bench-daemon serve:{flo:9.0f} instructions per call (nghttp2 h2c, canned answer)")
    R.log(f"ratio:             {sig / flo:9.1f}")
    if a.keep:
        R.log(f"callgrind files: {work}")
    R.finish()


if __name__ == "__main__":
    R.main(main)
