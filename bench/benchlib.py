"""benchlib.py - what the Python-driven benchmarks (1 pull, 2 CLI, 4 daemon)
share: arguments, statistics, targets and the JSON result file.

Method (bench/README.md): the thing measured and its comparator run
alternately in the same run, several rounds after a warm-up; medians and
the ratio between them are reported, never an absolute time alone, because
the machine is shared and absolute times drift with its load.

Every benchmark writes one JSON document (--json FILE):
  {"benchmark": NAME, "title": ..., "smoke": bool, "host": {...},
   "params": {...}, "results": {...},
   "table": {"columns": [...], "rows": [[...], ...]},
   "targets": [{"target": TEXT, "measured": TEXT, "met": bool|null}],
   "notes": [TEXT, ...]}
bench/report.py merges them into bench/results/ and bench/README.md.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "registry"))
sys.path.insert(0, os.path.join(ROOT, "integration"))
import reglib as R  # noqa: E402


def parse_args(description, need=(), extra=None):
    """--smoke, --json FILE, --rounds N, --warmup N and the program paths
    in `need` (e.g. ("sigil", "client"))."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--smoke", action="store_true",
                    help="tiny run: checks the harness, not speed (meson's bench-smoke suite)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--rounds", type=int, help="measured rounds (default: the benchmark's)")
    ap.add_argument("--warmup", type=int, help="warm-up rounds, not measured")
    for n in need:
        ap.add_argument("--" + n, required=True)
    for a, kw in (extra or {}).items():
        ap.add_argument(a, **kw)
    args = ap.parse_args()
    for n in need:
        setattr(args, n, os.path.abspath(getattr(args, n)))
    return args


def host_info():
    la = open("/proc/loadavg").read().split()[:3]
    return {"cpus": os.cpu_count(), "loadavg": [float(x) for x in la],
            "kernel": platform.release(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_ms(x):
    return f"{x:.2f} ms" if x == x else "n/a"


def fmt_ratio(x):
    return f"{x:.2f}" if x == x else "n/a"


class Setup:
    """What the registry-backed benchmarks start from: a private folder, the
    tools (notation, oras), the corpus's signing PKIs (trusted), a
    docker-registry on 127.0.0.1 with `repo` on it (scope) and an OCI layout
    to make images in."""

    def __init__(self, name, vals, repo):
        self.work = R.mkdtemp(name)
        mc = R.load_corpus_helpers()
        self.tools = R.Tools(self.work, vals, mc)
        self.trusted, _ = R.signing_pkis(self.work, mc)
        self.reg = R.Registry(self.work, "registry")
        self.scope = f"{self.reg.host}/{repo}"
        self.layout = R.Layout(os.path.join(self.work, "layout"))
        self._signcfg = None

    def push(self, label, envelope=None):
        """A new image pushed as scope:label, signed by the trusted PKI with
        notation in `envelope` ("jws", "cose") unless None; its digest and
        size."""
        digest, size = self.layout.image(label, tag=label)
        self.tools.oras_cp(self.layout.path, label, f"{self.scope}:{label}", plain_http=True)
        if envelope:
            if self._signcfg is None:
                self._signcfg = self.tools.sign_key_config(self.trusted)
            self.tools.sign(self._signcfg, f"{self.scope}@{digest}", envelope, insecure=True)
        return digest, size


class Report:
    """One benchmark's results, checks and targets."""

    def __init__(self, name, title, args):
        self.args = args
        self.doc = {"benchmark": name, "title": title, "smoke": bool(args.smoke),
                    "host": host_info(), "params": {}, "results": {},
                    "table": {"columns": [], "rows": []}, "targets": [], "notes": []}

    def param(self, **kw):
        self.doc["params"].update(kw)

    def result(self, key, value):
        self.doc["results"][key] = value

    def table(self, columns, rows):
        self.doc["table"] = {"columns": list(columns), "rows": [list(map(str, r)) for r in rows]}

    def target(self, text, measured, met):
        """`met` is None in smoke mode: a tiny run says nothing about speed."""
        if self.args.smoke:
            met = None
        self.doc["targets"].append({"target": text, "measured": measured, "met": met})

    def note(self, text):
        self.doc["notes"].append(text)

    def finish(self):
        """Print the table and targets, write the JSON, then leave through
        reglib (exit 1 if any correctness check failed)."""
        self.doc["host"]["loadavg_end"] = [float(x) for x in open("/proc/loadavg").read().split()[:3]]
        t = self.doc["table"]
        R.log("")
        R.log(f"== {self.doc['title']}" + (" (smoke: numbers mean nothing)" if self.args.smoke else ""))
        if t["columns"]:
            widths = [max(len(str(c)), *(len(r[i]) for r in t["rows"])) if t["rows"] else len(str(c))
                      for i, c in enumerate(t["columns"])]
            R.log("  ".join(str(c).ljust(w) for c, w in zip(t["columns"], widths)))
            for r in t["rows"]:
                R.log("  ".join(v.ljust(w) for v, w in zip(r, widths)))
        for tg in self.doc["targets"]:
            mark = {True: "MET", False: "MISSED", None: "n/a"}[tg["met"]]
            R.log(f"target {mark}: {tg['target']} (measured: {tg['measured']})")
        for n in self.doc["notes"]:
            R.log(f"note: {n}")
        self.doc["checks_failed"] = list(R._failures)
        if self.args.json:
            os.makedirs(os.path.dirname(os.path.abspath(self.args.json)), exist_ok=True)
            with open(self.args.json, "w") as f:
                json.dump(self.doc, f, indent=1)
            R.log(f"results: {self.args.json}")
        R.finish()


def run_client(cmd, env=None, timeout=600, allow_fail=False):
    """Run bench-daemon (rpc/list/spawn); its JSON answer. A wrong answer
    from sigild (exit 1) is a failed check, not a number."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    try:
        doc = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise R.Failed(f"{' '.join(cmd[:3])}: no JSON answer (exit {p.returncode}):\n{p.stdout}{p.stderr}")
    if p.returncode != 0 and not allow_fail:
        R.check(False, f"bench-daemon {cmd[1]}: every answer is the expected one",
                f"{doc.get('failed')} failed, first: {doc.get('first_failure')}\n{p.stderr[-2000:]}")
    return doc


def proc_mem(pid):
    """VmRSS, VmHWM, RssAnon, RssFile of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0])
    return out
