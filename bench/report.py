#!/usr/bin/python3
"""Merge one run's benchmark JSON files into bench/results/<UTC time>.json
and bench/results/latest.json, and rewrite the results section of
bench/README.md (between its <!-- results:begin --> and
<!-- results:end --> markers) with the tables and targets.

usage: report.py --results-dir DIR --readme FILE [--stamp STAMP] [--skipped NAME=WHY]... FILE.json...

Two document shapes are understood: benchlib.py's (table + targets) and
the library/growth programs' (cases + met); anything else is listed with
its keys so that nothing is silently dropped.
"""
import argparse
import json
import os
import shutil
import subprocess
import time

ORDER = ["pull", "cli", "library", "daemon", "growth"]
TITLES = {"library": "3. Library: envelopes verified per second per core vs raw OpenSSL",
          "growth": "5. Growth: verification time vs signatures per image and trust store size"}


def git_state(root):
    def g(*a):
        p = subprocess.run(["git", "-C", root, *a], capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""
    return {"commit": g("rev-parse", "HEAD"), "dirty": bool(g("status", "--porcelain", "--untracked-files=no"))}


def fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def md_table(columns, rows):
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(str(x).replace("|", "\\|") for x in r) + " |")
    return out


def cases_table(doc):
    """The C programs' shape: a list of case objects."""
    cases = doc.get("cases") or []
    cols = []
    for c in cases:
        for k, v in c.items():
            if k not in cols and not isinstance(v, (dict, list)):
                cols.append(k)
    return cols, [[fmt(c.get(k, "")) for k in cols] for c in cases]


def targets_of(doc):
    if "targets" in doc:
        return doc["targets"]
    if "met" in doc:
        return [{"target": doc.get("target") or f"{doc.get('benchmark')}: every case meets its target",
                 "measured": "see the table", "met": None if doc.get("smoke") else doc["met"]}]
    return []


def render(run):
    lines = [f"Run {run['stamp']} (UTC) on {run['host'].get('cpus')} CPUs, load average at start "
             f"{run['host'].get('loadavg')}; commit {run['git']['commit'][:12]}"
             + (" with local changes" if run["git"]["dirty"] else "") + ".", ""]
    names = sorted(run["benchmarks"], key=lambda n: ORDER.index(n) if n in ORDER else 99)
    summary = []
    for n in names:
        doc = run["benchmarks"][n]
        lines.append(f"### {doc.get('title') or TITLES.get(n, n)}")
        lines.append("")
        if doc.get("smoke"):
            lines += ["(smoke run: the numbers mean nothing)", ""]
        t = doc.get("table")
        if t and t.get("columns"):
            lines += md_table(t["columns"], t["rows"])
        elif doc.get("cases"):
            cols, rows = cases_table(doc)
            lines += md_table(cols, rows)
        else:
            lines.append("keys: " + ", ".join(sorted(doc)))
        for note in doc.get("notes", []):
            lines += ["", f"Note: {note}"]
        lines.append("")
        for tg in targets_of(doc):
            summary.append([tg["target"], tg.get("measured", ""),
                            {True: "met", False: "**missed**", None: "n/a"}[tg.get("met")]])
    for n, why in run.get("skipped", {}).items():
        lines += [f"### {n}: SKIPPED", "", why, ""]
        summary.append([f"{n}", "skipped: " + why, "n/a"])
    if summary:
        lines += ["### Targets", ""] + md_table(["target", "measured", ""], summary) + [""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results-dir", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--stamp", default=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    ap.add_argument("--skipped", action="append", default=[], help="NAME=WHY")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    run = {"stamp": a.stamp, "host": {}, "git": git_state(root), "benchmarks": {},
           "skipped": dict(s.split("=", 1) for s in a.skipped)}
    for f in a.files:
        with open(f) as fh:
            doc = json.load(fh)
        name = doc.get("benchmark") or os.path.splitext(os.path.basename(f))[0]
        run["benchmarks"][name] = doc
        if not run["host"] and doc.get("host"):
            run["host"] = doc["host"]
    if not run["host"]:
        run["host"] = {"cpus": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3]}
    os.makedirs(a.results_dir, exist_ok=True)
    out = os.path.join(a.results_dir, f"{a.stamp}.json")
    with open(out, "w") as f:
        json.dump(run, f, indent=1)
    shutil.copy(out, os.path.join(a.results_dir, "latest.json"))
    text = open(a.readme).read()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{a.readme} has no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(a.readme + ".tmp", "w") as f:
        f.write(head + begin + "\n" + render(run) + "\n" + end + tail)
    os.replace(a.readme + ".tmp", a.readme)
    print(f"report: {out}, {os.path.join(a.results_dir, 'latest.json')}, {a.readme}")


if __name__ == "__main__":
    main()
