#!/usr/bin/python3
"""bench-smoke for benchmarks 3 (library) and 5 (growth): tiny fixtures
signed by the real notation, one short round, then checks that the harness
works - exit 0, the table printed, the JSON results file well-formed with
every field a number where a number belongs - and that it refuses to
report numbers for a verification that does not pass. Not a speed test.

usage: smoke-lib.py lib|growth BENCH_EXE
Exits 77 (skip, with SKIPPED and the reason) when notation is not cached.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def load_fixture_maker():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_fixtures", os.path.join(HERE, "make-fixtures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(cmd, expect_rc=0):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
    print(f"$ {' '.join(cmd)}  -> {p.returncode}\n{p.stdout}{p.stderr}", flush=True)
    if expect_rc is not None and p.returncode != expect_rc:
        fail(f"{os.path.basename(cmd[0])} exited {p.returncode}, expected {expect_rc}")
    return p


def number(case, key):
    v = case.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
        fail(f"case {case.get('name')}: {key} = {v!r}, expected a positive number")
    return v


def check_lib(doc):
    if doc.get("benchmark") != "library":
        fail(f"benchmark = {doc.get('benchmark')!r}")
    names = sorted(c["name"] for c in doc["cases"])
    if names != ["cose-ec-p256", "jws-ec-p256"]:
        fail(f"cases {names}, expected cose-ec-p256 and jws-ec-p256")
    for c in doc["cases"]:
        for k in ("sigil_per_s", "raw_per_s", "raw_ss_per_s", "ratio", "ratio_ss", "sigil_us", "raw_us"):
            number(c, k)
        if abs(c["ratio"] - c["sigil_per_s"] / c["raw_per_s"]) > 1e-3 * c["ratio"]:
            fail(f"{c['name']}: ratio {c['ratio']} is not sigil/raw with one round")
        if c["met"] != (c["ratio"] >= doc["target_min_ratio"]):
            fail(f"{c['name']}: met={c['met']} disagrees with ratio {c['ratio']}")


def check_growth(doc):
    if doc.get("benchmark") != "growth":
        fail(f"benchmark = {doc.get('benchmark')!r}")
    got = sorted((c["kind"], c["n"]) for c in doc["cases"])
    want = [("signatures", 1), ("signatures", 3), ("trust_store", 1), ("trust_store", 10)]
    if got != want:
        fail(f"cases {got}, expected {want}")
    for c in doc["cases"]:
        number(c, "us_per_verification")
        number(c, "ratio")
        if c["kind"] == "trust_store":
            number(c, "verifier_load_us")
        if c["n"] == 1 and abs(c["ratio"] - 1.0) > 1e-9:
            fail(f"{c['name']}: the base case's ratio is {c['ratio']}, not 1")
        if c["met"] != (c["ratio"] <= c["linear_limit"] * doc["linear_tolerance"]):
            fail(f"{c['name']}: met={c['met']} disagrees with ratio {c['ratio']}")


def break_fixture(kind, fx):
    """Make one verification fail; the harness must then exit non-zero
    instead of timing it."""
    if kind == "lib":
        path = os.path.join(fx, "lib", "jws-ec-p256", "raw", "signature.bin")
        sig = bytearray(open(path, "rb").read())
        sig[len(sig) // 2] ^= 0x01
        open(path, "wb").write(bytes(sig))
        return "raw signature verification failed"
    os.unlink(os.path.join(fx, "growth", "store-10", "config", "truststore", "x509", "ca", "bench",
                           "zz-trusted-root.pem"))
    return "expected PASS"


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("lib", "growth"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, exe = sys.argv[1], sys.argv[2]
    mf = load_fixture_maker()
    if not mf.notation_from_env():
        why = "notation is not in ~/.cache/sigil-tools (run integration/tools.sh)"
        bar = "!" * 72
        print(f"SKIPPED {why}\n{bar}\n!!! bench-smoke skipped: {why}\n{bar}", flush=True)
        return SKIP
    tmp = tempfile.mkdtemp(prefix="sigil-bench-smoke-")
    try:
        fx = os.path.join(tmp, "fixtures")
        run([sys.executable, os.path.join(HERE, "make-fixtures.py"), "--out", fx, "--smoke",
             "--only", kind])
        out = os.path.join(tmp, "results.json")
        p = run([exe, "--fixtures", fx, "--smoke", "--json", out])
        if "target" not in p.stdout:
            fail("no table with the target line on stdout")
        try:
            doc = json.load(open(out))
        except (OSError, ValueError) as e:
            fail(f"results file {out}: {e}")
        if doc.get("smoke") is not True or doc.get("rounds") != 1 or not isinstance(doc.get("met"), bool):
            fail(f"smoke/rounds/met fields wrong: {doc.get('smoke')!r} {doc.get('rounds')!r} {doc.get('met')!r}")
        (check_lib if kind == "lib" else check_growth)(doc)
        if any(not isinstance(c.get("met"), bool) for c in doc["cases"]):
            fail("a case without a boolean met")
        expect = break_fixture(kind, fx)
        os.unlink(out)
        p = run([exe, "--fixtures", fx, "--smoke", "--json", out], expect_rc=1)
        if expect not in p.stderr:
            fail(f"a failing verification should stop the benchmark with \"{expect}\"")
        if os.path.exists(out):
            fail("results written although a verification failed")
        run([exe, "--fixtures", fx, "--rounds", "0"], expect_rc=1)
        print(f"PASS: bench-{kind} harness (results well-formed, broken fixture refused)")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
