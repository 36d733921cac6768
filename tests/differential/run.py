#!/usr/bin/python3
"""The differential suite: generate a fresh corpus with the real notation
(make-corpus.py: new keys, names and images every run), then run every case
through tests/conformance/run-case.py --kind conformance with sigil, and
fail on any disagreement between sigil and notation.

Tools: notation comes from integration/tools.sh's cache
(${SIGIL_TOOLS_CACHE:-$HOME/.cache/sigil-tools}/env). When the cache is
missing this script runs tools.sh once; when the tools still cannot be had
it exits 77 (meson's skip) and says why.

usage: run.py --sigil PATH [--keep] [--jobs N]
Exit: 0 all agree, 1 a disagreement or an error, 77 skipped.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN_CASE = os.path.join(ROOT, "tests", "conformance", "run-case.py")


def skip(why):
    # the first line is what scripts/test.sh shows in its SKIPPED list
    print(f"SKIPPED differential (sigil vs the real notation): {why}")
    print("  " + "!" * 70)
    print("  sigil was NOT compared with notation. Run integration/tools.sh (as root,")
    print("  with access to the machine's Debian mirror) to enable this suite.")
    print("  " + "!" * 70)
    sys.exit(SKIP)


def load_tools():
    cache = os.environ.get("SIGIL_TOOLS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sigil-tools")
    envfile = os.path.join(cache, "env")
    if not os.path.isfile(envfile):
        print(f"differential: {envfile} missing, running integration/tools.sh", file=sys.stderr, flush=True)
        try:
            p = subprocess.run(["bash", os.path.join(ROOT, "integration", "tools.sh")],
                               capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            skip(f"integration/tools.sh could not fetch notation: {e}")
        if p.returncode != 0 or not os.path.isfile(envfile):
            tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
            skip(f"integration/tools.sh could not fetch notation from Debian unstable: {tail}")
    tools = {}
    with open(envfile) as f:
        for line in f:
            m = re.match(r"^([A-Z_]+)=(.*)$", line.strip())
            if m:
                tools[m.group(1)] = m.group(2)
    notation = tools.get("NOTATION", "")
    if not (notation and os.access(notation, os.X_OK)):
        skip(f"{envfile} names no runnable notation ({notation!r}); rerun integration/tools.sh")
    if not shutil.which("openssl"):
        skip("openssl is not installed")
    return notation, tools.get("NOTATION_VERSION", "?")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigil", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the generated corpus")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    t0 = time.time()
    notation, version = load_tools()
    out = tempfile.mkdtemp(prefix="sigil-differential-")
    print(f"differential: notation {version} ({notation}), corpus {out}", flush=True)
    p = subprocess.run([sys.executable, os.path.join(HERE, "make-corpus.py"), "--notation", notation,
                        "--out", out, "--jobs", str(args.jobs)], capture_output=True, text=True)
    print(p.stdout.strip() or p.stderr.strip(), flush=True)
    if p.returncode != 0:
        print(f"FAIL differential: make-corpus.py exited {p.returncode}\n{p.stderr}")
        print(f"(corpus kept in {out})")
        return 1

    cases = sorted(os.listdir(os.path.join(out, "cases")))

    def compare(name):
        case = os.path.join(out, "cases", name)
        with open(os.path.join(case, "expected.json")) as f:
            want = json.load(f)
        cmd = [sys.executable, RUN_CASE, "--sigil", args.sigil, "--kind", "conformance",
               "--case", case]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        return name, want, r

    disagree = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
        for name, want, r in ex.map(compare, cases):
            nv = want["verdict"] + (f" ({want['failing_check']})" if want["failing_check"] else "")
            lines = r.stdout.strip().splitlines()
            first = lines[0] if lines else ""
            if r.returncode == 0:
                m = re.match(r"ok\s+\S+: (\w+)( \([^)]*\))?", first)
                sv = (m.group(1) + (m.group(2) or "")) if m else "?"
                print(f"ok   {name}: sigil {sv}, notation {nv}")
            else:
                disagree += 1
                m = re.search(r"verdict (\w+), ", first)
                sv = m.group(1) if m else want["verdict"]
                print(f"FAIL {name}: sigil {sv}, notation {nv} (exit {want['notation_exit']})")
                for l in lines + r.stderr.strip().splitlines():
                    print("     " + l)
                print("     notation: " + want["notation_output_verbose"].replace("\n", "\n               "))
    dt = time.time() - t0
    print(f"differential: {len(cases)} cases, {len(cases) - disagree} agree, {disagree} disagree ({dt:.0f}s)")
    if disagree or args.keep:
        print(f"(corpus kept in {out})")
    else:
        shutil.rmtree(out, ignore_errors=True)
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
