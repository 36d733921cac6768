#!/usr/bin/env python3
"""test-sigild-metrics.py - sigild's Prometheus endpoint and probes
(issue 8, docs/metrics.md), scraped while sigild serves real requests.

sigild runs with "metricsListen" on a free 127.0.0.1 port. The test makes
allow, deny, cached, invalid and registry-down requests and reloads (good
and bad), scrapes /metrics before and after, and asserts that every
counter moved exactly as the requests did (tallied from the responses
themselves), that the exposition is valid text format (every line a
comment or name{labels} value, HELP and TYPE for each family, histogram
buckets cumulative and ending in +Inf with _sum and _count), that no
digest or image name appears as a label, and that /healthz and /readyz
answer. A second sigild whose metrics port is taken still serves.

Usage: test-sigild-metrics.py --sigild PATH
Exit status: 0 pass, 1 fail, 77 skipped (no python3-grpcio)."""
import argparse
import importlib.util
import json
import math
import os
import re
import socket
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# the gRPC client, protobuf helpers, Daemon and registry fixtures of the
# daemon test (it exits 77 itself when python3-grpcio is missing)
_spec = importlib.util.spec_from_file_location("sigildtest", os.path.join(HERE, "test-sigild.py"))
T = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(T)
grpc = T.grpc
check, log = T.check, T.log

VERIFY = "/sigil.v1.Verifier/Verify"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(port, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


# ------------------------------------------------------------ the text format

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)$")


def parse_labels(s):
    """name="value",... with \\\\, \\" and \\n escapes; raises ValueError."""
    out, i = {}, 0
    while i < len(s):
        m = re.compile(rf"({LABEL})=\"").match(s, i)
        if not m:
            raise ValueError(f"bad label at {s[i:]!r}")
        name, i, val = m.group(1), m.end(), []
        while True:
            if i >= len(s):
                raise ValueError("unterminated label value")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError(f"bad escape \\{nxt}")
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("raw line feed in a label value")
            else:
                val.append(c)
                i += 1
        if name in out:
            raise ValueError(f"label {name} twice")
        out[name] = "".join(val)
        if i < len(s):
            if s[i] != ",":
                raise ValueError(f"expected ',' at {s[i:]!r}")
            i += 1
    return out


def parse_value(v):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    return float(v)  # raises ValueError


def parse_exposition(text):
    """Validate and parse; returns ({(name, frozenset(labels)): value},
    {family: type}, [problems])."""
    problems, samples, types, helps = [], {}, {}, set()
    if not text.endswith("\n"):
        problems.append("does not end with a line feed")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] == "HELP":
                if not re.fullmatch(NAME, parts[2]):
                    problems.append(f"line {n}: HELP of a bad name")
                helps.add(parts[2])
            elif len(parts) == 4 and parts[1] == "TYPE":
                if parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    problems.append(f"line {n}: unknown type {parts[3]}")
                if parts[2] in types:
                    problems.append(f"line {n}: second TYPE for {parts[2]}")
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append(f"line {n}: not a sample: {line!r}")
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        try:
            lab = parse_labels(labels)
            val = parse_value(value)
        except ValueError as e:
            problems.append(f"line {n}: {e}: {line!r}")
            continue
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
                fam = name[:-len(suffix)]
        if fam not in types:
            problems.append(f"line {n}: {name} has no TYPE before it")
        if fam not in helps:
            problems.append(f"line {n}: {name} has no HELP")
        if types.get(fam) == "counter" and not fam.endswith("_total"):
            problems.append(f"line {n}: counter {fam} does not end in _total")
        key = (name, frozenset(lab.items()))
        if key in samples:
            problems.append(f"line {n}: duplicate series {line!r}")
        samples[key] = val
    # histograms: per series, buckets cumulative, +Inf last and equal to _count
    for fam, typ in types.items():
        if typ != "histogram":
            continue
        series = {}
        for (name, lab), val in samples.items():
            if name == fam + "_bucket":
                d = dict(lab)
                le = d.pop("le", None)
                series.setdefault(frozenset(d.items()), []).append((parse_value(le), val))
        for lab, buckets in series.items():
            buckets.sort()
            vals = [v for _, v in buckets]
            if vals != sorted(vals):
                problems.append(f"{fam}{dict(lab)}: buckets not cumulative")
            if not buckets or not math.isinf(buckets[-1][0]):
                problems.append(f"{fam}{dict(lab)}: no +Inf bucket")
            cnt = samples.get((fam + "_count", lab))
            if cnt is None or (fam + "_sum", lab) not in samples:
                problems.append(f"{fam}{dict(lab)}: _sum or _count missing")
            elif buckets and cnt != buckets[-1][1]:
                problems.append(f"{fam}{dict(lab)}: _count {cnt} != +Inf bucket {buckets[-1][1]}")
    return samples, types, problems


class Scrape:
    def __init__(self, port):
        status, ctype, self.text = http(port, "/metrics")
        self.status, self.ctype = status, ctype
        self.samples, self.types, self.problems = parse_exposition(self.text)

    def get(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def series(self, name):
        return {lab: v for (n, lab), v in self.samples.items() if n == name}

    def total(self, name, **match):
        return sum(v for lab, v in self.series(name).items()
                   if all(dict(lab).get(k) == w for k, w in match.items()))


def delta(before, after, name, **labels):
    return after.get(name, **labels) - before.get(name, **labels)


# ------------------------------------------------------------ the test

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigild", required=True)
    ap.add_argument("--case", default="001-jws-rsa2048-valid")
    args = ap.parse_args()
    return T.run_main("sigil-metrics-", lambda work, daemons: run(args, work, daemons))


def log_of(d):
    """sigild's log, also after Daemon.stop closed the file"""
    with open(d.logpath, "rb") as f:
        return f.read().decode(errors="replace")


def failure_check(resp):
    """What sigild counts a deny under (docs/metrics.md)."""
    failure = T.s(resp, 5)
    if failure == "signatures":
        for sig in (T.decode(x) for x in resp.get(6, [])):
            if T.s(sig, 4):
                return T.s(sig, 4)
    return failure or "none"


def run(args, work, daemons):
    exe = os.path.abspath(args.sigild)
    case = os.path.join(T.CASES, args.case)
    confdir, policy = T.case_config(case, work)
    tp = os.path.join(confdir, "trustpolicy.json")
    state = os.path.join(work, "state")
    os.makedirs(state)
    mport = free_port()
    with open(os.path.join(work, "sigild.json"), "w") as f:
        json.dump({"stateDir": state, "workers": 4, "plainHttp": True,
                   "cache": {"denySeconds": 0}, "metricsListen": f"127.0.0.1:{mport}"}, f)
    sock = os.path.join(work, "run", "sigild.sock")

    d = T.Daemon(exe, work, sock, confdir)
    daemons.append(d)
    if not check(d.wait_ready(), "sigild starts with metrics enabled", d.log_text()):
        return
    check(f"metrics on http://127.0.0.1:{mport} (port {mport})" in d.log_text(),
          "the metrics address is logged", d.log_text()[-1500:])

    # ---- probes
    st, ctype, body = http(mport, "/healthz")
    check(st == 200 and body == "ok\n", "/healthz: 200 ok", f"{st} {body!r}")
    st, ctype, body = http(mport, "/readyz")
    check(st == 200 and body == "ready\n", "/readyz: 200 ready (policy loaded, socket served)",
          f"{st} {body!r}")
    st, _, _ = http(mport, "/nothing")
    check(st == 404, "an unknown path: 404", str(st))
    st, _, _ = http(mport, "/metrics", method="POST")
    check(st == 405, "POST /metrics: 405", str(st))

    # ---- the first scrape: valid, and the static families
    s0 = Scrape(mport)
    check(s0.status == 200 and s0.ctype == "text/plain; version=0.0.4; charset=utf-8",
          "/metrics: 200 with the text format's content type", f"{s0.status} {s0.ctype}")
    check(not s0.problems, "the exposition is valid text format", "\n".join(s0.problems[:10]))
    st_resp = T.status(d.stub())
    version, rev0 = T.s(st_resp, 1), T.s(st_resp, 2)
    check(s0.get("sigil_build_info", version=version) == 1, f"sigil_build_info{{version={version}}} 1")
    check(s0.get("sigil_up") == 1 and s0.get("sigil_ready") == 1, "sigil_up 1, sigil_ready 1")
    check(s0.series("sigil_policy_revision_info") == {frozenset({("revision", rev0)}): 1.0},
          "sigil_policy_revision_info: one series, the revision Status reports",
          repr(s0.series("sigil_policy_revision_info")))
    check(s0.get("sigil_cache_capacity") == 10000, "sigil_cache_capacity is cache.maxEntries")
    for fam in ("sigil_verifications_total", "sigil_verification_failures_total",
                "sigil_verification_duration_seconds", "sigil_cache_hits_total",
                "sigil_cache_misses_total", "sigil_cache_evictions_total",
                "sigil_registry_requests_total", "sigil_revocation_refresh_passes_total",
                "sigil_policy_reloads_total", "sigil_invalid_requests_total"):
        check(fam in s0.types, f"{fam} is declared")

    # ---- requests: allow (cold, then cached), two denies from a registry,
    # a registry that is down, and an unusable request
    good = T.CaseLayout(args.case)
    other = T.CaseLayout("003-jws-rsa3072-valid")
    unsigned = T.CaseLayout("055-unsigned")
    reg = T.regserver.Server({c.repo: T.regserver.Repo(c) for c in (good, other, unsigned)})
    down_port = T.closed_port()
    reqs = [("good", good.request(reg.host)), ("good again", good.request(reg.host)),
            ("other CA", other.request(reg.host)), ("unsigned", unsigned.request(reg.host)),
            ("registry down", T.verify_request(f"127.0.0.1:{down_port}/app:1"))]
    tally = {"verifications": {}, "failures": {}, "cached": 0, "cold": 0}
    verdicts = []
    for what, req in reqs:
        resp = T.decode(d.call(VERIFY, req, timeout=20))
        allow = T.n(resp, 1) == T.VERDICT_ALLOW
        verdicts.append((what, allow, T.n(resp, 7) == 1))
        key = ("allow" if allow else "deny", T.s(resp, 3) or "none")
        tally["verifications"][key] = tally["verifications"].get(key, 0) + 1
        if not allow:
            fc = failure_check(resp)
            tally["failures"][fc] = tally["failures"].get(fc, 0) + 1
        tally["cached" if T.n(resp, 7) == 1 else "cold"] += 1
    check([v[1:] for v in verdicts] == [(True, False), (True, True), (False, False),
                                        (False, False), (False, False)],
          "the requests: allow, cached allow, deny, deny, deny", repr(verdicts))
    e = T.rpc_error(lambda: d.call(VERIFY, T.verify_request("127.0.0.1:1/app", digest="")))
    check(e is not None and e.code() == grpc.StatusCode.INVALID_ARGUMENT,
          "a request without a digest: INVALID_ARGUMENT", repr(e))

    s1 = Scrape(mport)
    check(not s1.problems, "the exposition after the requests is valid",
          "\n".join(s1.problems[:10]))
    for (verdict, pol), cnt in sorted(tally["verifications"].items()):
        got = delta(s0, s1, "sigil_verifications_total", verdict=verdict, policy=pol)
        check(got == cnt, f"sigil_verifications_total{{verdict={verdict},policy={pol}}} +{cnt}",
              f"got +{got}")
    check(s1.total("sigil_verifications_total") - s0.total("sigil_verifications_total") == 5,
          "sigil_verifications_total: +5 over all series (the invalid request is not one)")
    for fc, cnt in sorted(tally["failures"].items()):
        got = delta(s0, s1, "sigil_verification_failures_total", check=fc)
        check(got == cnt, f"sigil_verification_failures_total{{check={fc}}} +{cnt}", f"got +{got}")
    check(s1.total("sigil_verification_failures_total") -
          s0.total("sigil_verification_failures_total") == 3, "3 failures in all")
    check(set(tally["failures"]) >= {"no-signature", "retrieval"},
          "the denies' checks include no-signature and retrieval", repr(tally["failures"]))
    check(delta(s0, s1, "sigil_invalid_requests_total") == 1, "sigil_invalid_requests_total +1")
    check(delta(s0, s1, "sigil_cache_hits_total") == 1, "sigil_cache_hits_total +1",
          repr(delta(s0, s1, "sigil_cache_hits_total")))
    check(delta(s0, s1, "sigil_cache_misses_total") == 4, "sigil_cache_misses_total +4",
          repr(delta(s0, s1, "sigil_cache_misses_total")))
    check(delta(s0, s1, "sigil_cache_evictions_total") == 0, "sigil_cache_evictions_total +0")
    check(s1.get("sigil_cache_entries") == 1, "sigil_cache_entries 1 (the allow; denies not cached)",
          repr(s1.get("sigil_cache_entries")))
    for path in ("cached", "cold"):
        got = delta(s0, s1, "sigil_verification_duration_seconds_count", path=path)
        check(got == tally[path], f"duration histogram count{{path={path}}} +{tally[path]}",
              f"got +{got}")
    cached_sum = s1.get("sigil_verification_duration_seconds_sum", path="cached")
    check(0 < cached_sum < 1, f"the cached answer took under a second ({cached_sum:.6f}s)")
    # registry requests: every request the registry saw, counted under its host
    seen = len(reg.log)
    counted = s1.total("sigil_registry_requests_total", host=reg.host) - \
        s0.total("sigil_registry_requests_total", host=reg.host)
    check(counted == seen and seen > 0,
          f"sigil_registry_requests_total{{host={reg.host}}}: +{seen}, what the registry served",
          f"counted {counted}, registry log {seen}")
    check(delta(s0, s1, "sigil_registry_requests_total", host=reg.host, status="2xx") > 0,
          "and some of them 2xx")
    down = f"127.0.0.1:{down_port}"
    check(s1.total("sigil_registry_requests_total", host=down) ==
          s1.get("sigil_registry_requests_total", host=down, status="error") >= 1,
          "the registry that is down: only status=\"error\"",
          repr({dict(k).get("status"): v for k, v in s1.series("sigil_registry_requests_total").items()
                if dict(k).get("host") == down}))
    # bounded labels: no digest or image name anywhere in a label
    labels = " ".join(f"{k}={v}" for (_, lab) in s1.samples for k, v in lab if k != "revision")
    check("sha256:" not in labels and good.repo not in labels and unsigned.repo not in labels,
          "no digest or repository name is a label value", labels[:500])

    # ---- reloads: a good one, a bad one (previous stays; still ready)
    changed = json.loads(json.dumps(policy))
    new_name = changed["trustPolicies"][0]["name"] + "-renamed"
    changed["trustPolicies"][0]["name"] = new_name
    with open(tp, "w") as f:
        json.dump(changed, f)
    rev1 = T.wait_for(lambda: T.s(T.status(d.stub()), 2), lambda r: r != rev0, 10)
    check(rev1 != rev0, "editing the policy reloads it")
    s2 = Scrape(mport)
    check(delta(s1, s2, "sigil_policy_reloads_total", result="success") == 1
          and delta(s1, s2, "sigil_policy_reloads_total", result="failure") == 0,
          "sigil_policy_reloads_total{result=success} +1",
          repr(s2.series("sigil_policy_reloads_total")))
    check(s2.series("sigil_policy_revision_info") == {frozenset({("revision", rev1)}): 1.0},
          "sigil_policy_revision_info: exactly one series, the new revision",
          repr(s2.series("sigil_policy_revision_info")))
    check(s2.get("sigil_cache_entries") == 0, "the old revision's cache entries are gone")
    resp = T.decode(d.call(VERIFY, good.request(reg.host), timeout=20))
    s3 = Scrape(mport)
    check(T.n(resp, 1) == T.VERDICT_ALLOW and T.s(resp, 3) == new_name and
          delta(s2, s3, "sigil_verifications_total", verdict="allow", policy=new_name) == 1,
          f"an allow under the renamed statement is counted as policy={new_name}")

    with open(tp, "w") as f:
        f.write("{ not json")
    T.wait_for(lambda: Scrape(mport).get("sigil_policy_reload_failed"), lambda v: v == 1, 10)
    s4 = Scrape(mport)
    check(delta(s3, s4, "sigil_policy_reloads_total", result="failure") == 1
          and delta(s3, s4, "sigil_policy_reloads_total", result="success") == 0,
          "an invalid policy: sigil_policy_reloads_total{result=failure} +1",
          repr(s4.series("sigil_policy_reloads_total")))
    check(s4.get("sigil_policy_reload_failed") == 1, "sigil_policy_reload_failed 1")
    check(s4.series("sigil_policy_revision_info") == {frozenset({("revision", rev1)}): 1.0},
          "the revision in force is still the previous one")
    st, _, body = http(mport, "/readyz")
    check(st == 200 and s4.get("sigil_ready") == 1,
          "/readyz stays 200 after a failed reload (the previous policy serves)", f"{st} {body!r}")
    with open(tp, "w") as f:
        json.dump(policy, f)
    T.wait_for(lambda: Scrape(mport).get("sigil_policy_reload_failed"), lambda v: v == 0, 10)
    s5 = Scrape(mport)
    check(s5.get("sigil_policy_reload_failed") == 0 and
          delta(s4, s5, "sigil_policy_reloads_total", result="success") == 1,
          "restoring the policy: a successful reload, the failure flag cleared")
    check(not s5.problems, "the last exposition is valid too", "\n".join(s5.problems[:10]))

    # ---- a second sigild whose metrics port is taken still serves pulls
    sock2 = os.path.join(work, "run2", "sigild.sock")
    d2 = T.Daemon(exe, work, sock2, confdir)
    daemons.append(d2)
    check(d2.wait_ready(), "a sigild whose metrics port is in use still starts and serves",
          d2.log_text()[-2000:])
    check("continuing without them" in d2.log_text() and f"127.0.0.1:{mport}" in d2.log_text(),
          "and logs that metrics are unavailable, naming the address", d2.log_text()[-2000:])
    check(d2.stop() == 0, "it stops cleanly")

    # ---- shutdown: clean exit, the endpoint goes away
    rc = d.stop()
    check(rc == 0, "SIGTERM: sigild exits 0", f"rc={rc}\n{log_of(d)[-3000:]}")
    try:
        http(mport, "/healthz")
        gone = False
    except (urllib.error.URLError, ConnectionError, OSError):
        gone = True
    check(gone, "after exit nothing answers on the metrics port")
    for dd in (d, d2):
        text = log_of(dd)
        check("ERROR: AddressSanitizer" not in text and "runtime error:" not in text,
              "no sanitizer report in sigild's log", text[-3000:])


if __name__ == "__main__":
    sys.exit(main())
