#!/usr/bin/python3
"""sigil-verifier's optional inline mode: with SIGIL_VERIFIER_INLINE set
and sigild unreachable, the forwarder verifies with the sigil CLI and the
same trust configuration; without it, it denies (fail closed).

usage: test-inline.py --verifier PATH --sigil PATH
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "registry"))
import regserver  # noqa: E402

CASES = os.path.join(HERE, "..", "corpus", "conformance", "cases")
failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f"\n     {detail}"), flush=True)
    if not cond:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--sigil", required=True)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("sigild_test", os.path.join(HERE, "test-sigild.py"))
    ts = importlib.util.module_from_spec(spec)
    saved = sys.argv
    sys.argv = [saved[0]]
    spec.loader.exec_module(ts)
    sys.argv = saved
    good, unsigned = ts.CaseLayout("001-jws-rsa2048-valid"), ts.CaseLayout("055-unsigned")
    reg = regserver.Server({c.repo: regserver.Repo(c) for c in (good, unsigned)})
    work = tempfile.mkdtemp(prefix="sigil-inline-")
    try:
        conf = os.path.join(work, "conf")
        os.makedirs(conf)
        with open(os.path.join(CASES, "001-jws-rsa2048-valid", "trustpolicy.json")) as f:
            pol = json.load(f)
        pol["trustPolicies"][0]["registryScopes"] = ["*"]
        with open(os.path.join(conf, "trustpolicy.json"), "w") as f:
            json.dump(pol, f)
        shutil.copytree(os.path.join(CASES, "001-jws-rsa2048-valid", "truststore"),
                        os.path.join(conf, "truststore"))
        sock = os.path.join(work, "absent.sock")

        def run(c, inline):
            env = {"SIGIL_SOCKET": sock, "SIGIL_VERIFIER_CONNECT_RETRY_MS": "200", "PATH": "/usr/bin:/bin"}
            if inline:
                env.update(SIGIL_VERIFIER_INLINE=os.path.abspath(args.sigil),
                           SIGIL_VERIFIER_INLINE_CONFIG_DIR=conf)
            desc = json.dumps({"mediaType": c.media_type, "digest": c.digest, "size": c.size})
            t0 = time.time()
            p = subprocess.run([os.path.abspath(args.verifier), "-name", f"{reg.host}/{c.repo}:v1",
                                "-digest", c.digest, "-stdin-media-type",
                                "application/vnd.oci.descriptor.v1+json"],
                               input=desc, capture_output=True, text=True, timeout=30, env=env)
            return p.returncode, p.stdout.strip(), time.time() - t0

        rc, out, took = run(good, inline=False)
        check(rc == 1 and sock in out, "inline mode off: sigild absent is a deny naming the socket", out)
        rc, out, took = run(good, inline=True)
        check(rc == 0 and "verified inline" in out and "PASS" in out,
              "inline mode on: a signed image is allowed without sigild", out)
        check("\n" not in out, "one line", out)
        rc, out, took = run(unsigned, inline=True)
        check(rc == 1 and "verified inline" in out and "no signature" in out,
              "inline mode on: an unsigned image is still denied", out)
        check(took < 8, f"within the forwarder's budget ({took:.2f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'all' if not failures else len(failures)} {'checks passed' if not failures else 'failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
