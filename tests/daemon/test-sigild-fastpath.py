#!/usr/bin/env python3
"""test-sigild-fastpath.py - since issue 7 sigild answers a cached or
allow-listed verdict (and Status) on its I/O thread, and hands only the
rest to its workers (plugin/server.c). This test holds that path to the
semantics of the worker path:

- every answer matches its audit line (verdict, reason, policy, cached,
  allow-listed, dry-run), a cached one says cached=true in both;
- after a mix of cold, cached, allow-listed, no_cache, invalid and
  registry-timeout requests, Status's counters (allows, denies, errors,
  cache hits and misses) and the metrics (verifications by verdict,
  duration by path, cache hits, invalid requests) are exactly what the
  audit log says happened: nothing counted twice or missed;
- a no_cache request after a cached one still goes to the registry;
- dry-run: a cached deny is let through and counted as would-deny, as a
  cold one is;
- with ONE worker busy on a registry that never answers, cached verdicts
  on other connections are still answered at once (with the old
  loop -> worker -> loop path they waited for that worker).

Usage: test-sigild-fastpath.py --sigild PATH
Exit status: 0 pass, 1 fail, 77 skipped (no python3-grpcio)."""
import argparse
import importlib.util
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# the daemon test's gRPC client, protobuf helpers and fixtures (it exits 77
# itself when python3-grpcio is missing), and the metrics test's parser
T = load("sigildtest", "test-sigild.py")
M = load("sigildmetrics", "test-sigild-metrics.py")
grpc = T.grpc
check, log = T.check, T.log

VERIFY = "/sigil.v1.Verifier/Verify"
ALLOWED = "sha256:" + "cd" * 32
NO_CACHE = T.f_int(5, 1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def audit_lines(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f.read().decode().splitlines() if line]


def start(exe, work, name, confdir, conf, extra=()):
    """a sigild with its own directory, sigild.json (conf), audit log"""
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, "state"))
    audit = os.path.join(d, "audit.log")
    full = {"stateDir": os.path.join(d, "state"), "plainHttp": True, "auditLog": audit,
            "auditFormat": "json"}
    full.update(conf)
    with open(os.path.join(d, "sigild.json"), "w") as f:
        json.dump(full, f)
    daemon = T.Daemon(exe, d, os.path.join(d, "run", "sigild.sock"), confdir, extra=extra)
    return daemon, audit


def one_call_raw(sock, req, timeout=10):
    """Verify on a connection of its own (as every sigil-verifier makes):
    the response message's bytes"""
    ch = grpc.insecure_channel("unix:" + sock)
    try:
        return ch.unary_unary(VERIFY)(req, timeout=timeout)
    finally:
        ch.close()


def one_call(sock, req, timeout=10):
    return T.decode(one_call_raw(sock, req, timeout))


# since issue 7 a cached answer is the stored packed response followed by
# cached = true (field 7) and elapsed_us = 0 (field 8), not packed again
CACHED_SUFFIX = T.f_int(7, 1) + T.f_int(8, 0)


def pb_verify_response():
    """sigil.v1.VerifyResponse's scalar fields for google.protobuf's own
    parser (proto/sigil/v1/verifier.proto; signatures kept as bytes), or
    None without python3-protobuf"""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        return None
    F = descriptor_pb2.FieldDescriptorProto
    fd = descriptor_pb2.FileDescriptorProto(name="sigil_fastpath_test.proto", package="sigiltest",
                                            syntax="proto3")
    m = fd.message_type.add(name="VerifyResponse")
    for no, name, typ, label in ((1, "verdict", F.TYPE_INT32, F.LABEL_OPTIONAL),
                                 (2, "reason", F.TYPE_STRING, F.LABEL_OPTIONAL),
                                 (3, "policy", F.TYPE_STRING, F.LABEL_OPTIONAL),
                                 (4, "level", F.TYPE_STRING, F.LABEL_OPTIONAL),
                                 (5, "failure", F.TYPE_STRING, F.LABEL_OPTIONAL),
                                 (6, "signatures", F.TYPE_BYTES, F.LABEL_REPEATED),
                                 (7, "cached", F.TYPE_BOOL, F.LABEL_OPTIONAL),
                                 (8, "elapsed_us", F.TYPE_INT64, F.LABEL_OPTIONAL),
                                 (9, "dry_run_override", F.TYPE_BOOL, F.LABEL_OPTIONAL),
                                 (10, "allow_listed", F.TYPE_BOOL, F.LABEL_OPTIONAL)):
        m.field.add(name=name, number=no, type=typ, label=label)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    desc = pool.FindMessageTypeByName("sigiltest.VerifyResponse")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def signer_of(resp):
    """the first verified signature's signer, as the audit line has it"""
    for sig in resp.get(6, []):
        f = T.decode(sig)
        if T.n(f, 3) == 1:
            return T.s(f, 5)
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigild", required=True)
    ap.add_argument("--case", default="001-jws-rsa2048-valid")
    args = ap.parse_args()
    return T.run_main("sigil-fastpath-", lambda work, daemons: run(args, work, daemons))


def matches(resp, line, what):
    """the answer and its audit line say the same thing"""
    want = {"verdict": "allow" if T.n(resp, 1) == T.VERDICT_ALLOW else "deny",
            "reason": T.s(resp, 2), "policy": T.s(resp, 3), "level": T.s(resp, 4),
            "failure": T.s(resp, 5), "signer": signer_of(resp),
            "cached": T.n(resp, 7) == 1, "dryRunOverride": T.n(resp, 9) == 1,
            "allowListed": T.n(resp, 10) == 1}
    got = {k: line.get(k) for k in want}
    return check(got == want, f"{what}: the audit line says what the answer says",
                 f"answer {want}\naudit  {got}")


def run(args, work, daemons):
    exe = os.path.abspath(args.sigild)
    case = os.path.join(T.CASES, args.case)
    confdir, _ = T.case_config(case, work)

    good = T.CaseLayout(args.case)
    unsigned = T.CaseLayout("055-unsigned")
    reg = T.regserver.Server({c.repo: T.regserver.Repo(c) for c in (good, unsigned)})
    hole = T.BlackHole()
    down = T.closed_port()
    mport = free_port()
    # ONE worker: a request stuck on a registry holds all of them
    d, audit = start(exe, work, "enforce", confdir,
                     {"workers": 1, "metricsListen": f"127.0.0.1:{mport}",
                      "cache": {"denySeconds": 600}, "allowDigests": [ALLOWED]})
    daemons.append(d)
    if not check(d.wait_ready(), "sigild starts (1 worker, denies cached)", d.log_text()):
        return
    s0 = M.Scrape(mport)
    st0 = T.status(d.stub())

    # ---- a mix; each answer against its audit line, in order (one
    # caller at a time, so the log's order is the calls')
    allowed_req = T.verify_request(f"127.0.0.1:{down}/allowed:1", ALLOWED)
    calls = [("good, cold", good.request(reg.host), dict(verdict=T.VERDICT_ALLOW, cached=0)),
             ("good, cached", good.request(reg.host), dict(verdict=T.VERDICT_ALLOW, cached=1)),
             ("good, cached again", good.request(reg.host), dict(verdict=T.VERDICT_ALLOW, cached=1)),
             ("unsigned, cold", unsigned.request(reg.host), dict(verdict=T.VERDICT_DENY, cached=0)),
             ("unsigned, cached deny", unsigned.request(reg.host), dict(verdict=T.VERDICT_DENY, cached=1)),
             ("allow-listed", allowed_req, dict(verdict=T.VERDICT_ALLOW, cached=0, listed=1)),
             ("allow-listed again", allowed_req, dict(verdict=T.VERDICT_ALLOW, cached=0, listed=1)),
             ("allow-listed, no_cache", allowed_req + NO_CACHE,
              dict(verdict=T.VERDICT_ALLOW, cached=0, listed=1)),
             ("good, no_cache after cached", good.request(reg.host) + NO_CACHE,
              dict(verdict=T.VERDICT_ALLOW, cached=0)),
             ("good, cached after no_cache", good.request(reg.host), dict(verdict=T.VERDICT_ALLOW, cached=1))]
    answers, raws = [], []
    for what, req, want in calls:
        before = len(reg.requests(good.repo))
        raw = one_call_raw(d.sock, req, timeout=20)
        resp = T.decode(raw)
        fetched = len(reg.requests(good.repo)) - before
        answers.append((what, resp))
        raws.append((what, raw, want))
        got = dict(verdict=T.n(resp, 1), cached=T.n(resp, 7))
        if "listed" in want:
            got["listed"] = T.n(resp, 10)
        check(got == want, f"{what}: {want}", repr(resp))
        if what == "good, no_cache after cached":
            check(fetched > 0, "a no_cache request after a cached verdict goes to the registry",
                  f"{fetched} registry requests")
        if want.get("cached") == 1 or want.get("listed") == 1:
            check(fetched == 0, f"{what}: no registry request", f"{fetched} registry requests")
    # a cached answer's bytes, read by google.protobuf: cached and
    # elapsed_us are the last values on the wire, every other field is
    # the cold answer's
    VR = pb_verify_response()
    check(VR is not None, "python3-protobuf is there to parse the answers")
    signed = [a for a in answers if a[0] == "good, cold"][0][1]
    check(signer_of(signed) != "", "the signed image's answer names its signer", repr(signed))
    cold_pb = {}
    for what, raw, want in raws if VR else ():
        msg = VR.FromString(raw)
        key = what.split(",")[0]
        if want.get("cached") == 1:
            check(raw.endswith(CACHED_SUFFIX) and msg.cached is True and msg.elapsed_us == 0,
                  f"{what}: the stored bytes + cached=true, elapsed_us=0; protobuf reads "
                  f"cached=True, elapsed_us=0", f"{raw[-8:].hex()} cached={msg.cached} "
                  f"elapsed_us={msg.elapsed_us}")
            cold = cold_pb.get(key)
            same = cold is not None and all(getattr(msg, f) == getattr(cold, f) for f in (
                "verdict", "reason", "policy", "level", "failure", "signatures", "dry_run_override",
                "allow_listed"))
            check(same, f"{what}: every other field as in the cold answer", f"{msg} vs {cold}")
        elif "listed" not in want:
            check(msg.cached is False and msg.elapsed_us > 0, f"{what}: protobuf reads cached=False, "
                  "elapsed_us > 0", f"cached={msg.cached} elapsed_us={msg.elapsed_us}")
            cold_pb.setdefault(key, msg)
    e = T.rpc_error(lambda: one_call(d.sock, T.verify_request("127.0.0.1:1/app", digest="")))
    check(e is not None and e.code() == grpc.StatusCode.INVALID_ARGUMENT,
          "a request without a digest: INVALID_ARGUMENT (worker path, audited)", repr(e))
    lines = audit_lines(audit)
    check(len(lines) == len(calls) + 1, f"one audit line per request ({len(calls) + 1})",
          f"{len(lines)} lines")
    for (what, resp), line in zip(answers, lines):
        matches(resp, line, what)
    check(len(lines) > len(calls) and lines[len(calls)]["reason"].startswith("invalid request:"),
          "the invalid request's audit line", repr(lines[-1:]))

    # ---- a registry that never answers holds the only worker; cached
    # verdicts on other connections do not wait for it
    slow = {}

    def stuck():
        t0 = time.time()
        try:
            slow["resp"] = one_call(d.sock, T.verify_request(f"127.0.0.1:{hole.port}/hang:1"),
                                    timeout=3)
        except grpc.RpcError as ex:
            slow["err"] = ex
        slow["took"] = time.time() - t0
    t = threading.Thread(target=stuck)
    t.start()
    time.sleep(0.4)  # the worker has taken it and waits for the registry
    lat, wrong = [], []
    for i in range(20):
        t0 = time.time()
        resp = one_call(d.sock, good.request(reg.host) if i % 2 else unsigned.request(reg.host))
        lat.append(time.time() - t0)
        if T.n(resp, 7) != 1:
            wrong.append(i)
    busy = t.is_alive()
    t.join(20)
    check(busy, "the slow request was still in flight after the cached ones",
          f"it took {slow.get('took', 0):.2f}s")
    check(not wrong and max(lat) < 1.0,
          f"20 cached verdicts on new connections while the only worker waits: "
          f"slowest {max(lat) * 1000:.0f} ms", f"not cached: {wrong}, latencies {lat}")
    check("resp" in slow and T.n(slow["resp"], 1) == T.VERDICT_DENY,
          "the slow request is denied in time", repr(slow))

    # ---- counters and metrics against the audit log
    lines = audit_lines(audit)
    check(len(lines) == len(calls) + 1 + 21, "one audit line for each of them too",
          f"{len(lines)} lines")
    invalid = [x for x in lines if x["reason"].startswith("invalid request:")]
    decided = [x for x in lines if x not in invalid]
    allows = sum(x["verdict"] == "allow" for x in decided)
    denies = sum(x["verdict"] == "deny" for x in decided)
    cached = sum(x["cached"] for x in decided)
    listed = sum(x["allowListed"] for x in decided)
    cold = len(decided) - cached - listed
    # no_cache requests (2, one allow-listed) skip the cache: not a miss
    misses = cold - 1
    # sigild's own failures to reach a verdict (service.c's verify_now and
    # the single-flight wait); a registry timeout inside the verification
    # is a verdict (failure "retrieval"), not one of them
    errors = len(invalid) + sum(not x["cached"] and x["reason"].startswith(
        ("could not ", "the request's deadline passed", "timed out waiting")) for x in decided)
    st = T.status(d.stub())
    cache0, cache1 = T.decode(st0.get(5, [b""])[-1]), T.decode(st.get(5, [b""])[-1])
    got = {"allows": T.n(st, 7) - T.n(st0, 7), "denies": T.n(st, 8) - T.n(st0, 8),
           "errors": T.n(st, 9) - T.n(st0, 9), "hits": T.n(cache1, 3) - T.n(cache0, 3),
           "misses": T.n(cache1, 4) - T.n(cache0, 4)}
    want = {"allows": allows, "denies": denies, "errors": errors, "hits": cached, "misses": misses}
    check(got == want, f"Status counters equal the audit log: {want}", f"Status says {got}")
    check(cached == 24 and listed == 3 and errors == 1 and cold == 4,
          "the mix: 24 cached, 3 allow-listed, 4 cold, 1 invalid", repr(want))
    s1 = M.Scrape(mport)
    got = {"allow": s1.total("sigil_verifications_total", verdict="allow") -
           s0.total("sigil_verifications_total", verdict="allow"),
           "deny": s1.total("sigil_verifications_total", verdict="deny") -
           s0.total("sigil_verifications_total", verdict="deny"),
           "cached": M.delta(s0, s1, "sigil_verification_duration_seconds_count", path="cached"),
           "cold": M.delta(s0, s1, "sigil_verification_duration_seconds_count", path="cold"),
           "hits": M.delta(s0, s1, "sigil_cache_hits_total"),
           "misses": M.delta(s0, s1, "sigil_cache_misses_total"),
           "invalid": M.delta(s0, s1, "sigil_invalid_requests_total")}
    want = {"allow": allows, "deny": denies, "cached": cached, "cold": cold, "hits": cached,
            "misses": misses, "invalid": len(invalid)}
    check(got == want, f"metrics equal the audit log: {want}", f"metrics say {got}")
    check(d.stop() == 0, "sigild exits 0")

    # ---- dry-run: a cached deny is let through exactly as a cold one
    dd, audit2 = start(exe, work, "dry-run", confdir,
                       {"workers": 1, "metricsListen": "", "cache": {"denySeconds": 600}},
                       extra=("--mode", "dry-run"))
    daemons.append(dd)
    if not check(dd.wait_ready(), "a dry-run sigild starts", dd.log_text()):
        return
    r1 = one_call(dd.sock, unsigned.request(reg.host), timeout=20)
    r2 = one_call(dd.sock, unsigned.request(reg.host))
    check([(T.n(r, 1), T.n(r, 7), T.n(r, 9)) for r in (r1, r2)] ==
          [(T.VERDICT_ALLOW, 0, 1), (T.VERDICT_ALLOW, 1, 1)],
          "dry-run: the deny, cold then cached, is let through with dry_run_override",
          repr((r1, r2)))
    check(T.s(r1, 2).startswith("dry-run: would deny: ") and T.s(r1, 2) == T.s(r2, 2),
          "dry-run: the cached answer gives the same would-deny reason", repr((T.s(r1, 2), T.s(r2, 2))))
    lines = audit_lines(audit2)
    check(len(lines) == 2, "dry-run: two audit lines", repr(lines))
    for (what, r), line in zip((("dry-run cold", r1), ("dry-run cached", r2)), lines):
        matches(r, line, what)
    st = T.status(dd.stub())
    check((T.n(st, 7), T.n(st, 8), T.n(st, 11)) == (2, 0, 2),
          "dry-run Status: 2 allows, 0 denies, 2 would-deny", repr(st))
    check(dd.stop() == 0, "the dry-run sigild exits 0")

    # ---- a deny by a failed signature check (a CA the trust store does
    # not hold), cold then cached: the cached one is counted under the
    # same failing check and audited alike, from the summary stored with
    # the verdict (plugin/service.c, the cache's value)
    other = T.CaseLayout("003-jws-rsa3072-valid")
    reg.repos[other.repo] = T.regserver.Repo(other)
    mport3 = free_port()
    d3, audit3 = start(exe, work, "enforce-check", confdir,
                       {"workers": 1, "metricsListen": f"127.0.0.1:{mport3}", "cache": {"denySeconds": 600}})
    daemons.append(d3)
    if not check(d3.wait_ready(), "a third sigild starts", d3.log_text()):
        return
    s0 = M.Scrape(mport3)
    raw1 = one_call_raw(d3.sock, other.request(reg.host), timeout=20)
    raw2 = one_call_raw(d3.sock, other.request(reg.host))
    s1 = M.Scrape(mport3)
    c1, c2 = T.decode(raw1), T.decode(raw2)
    fc = M.failure_check(c1)
    check((T.n(c1, 1), T.n(c1, 7), T.s(c1, 5), T.n(c2, 1), T.n(c2, 7)) ==
          (T.VERDICT_DENY, 0, "signatures", T.VERDICT_DENY, 1) and fc not in ("signatures", "none")
          and raw2.endswith(CACHED_SUFFIX),
          "an untrusted signature: denied cold, then cached, for a failed check", repr((c1, c2, fc)))
    got = M.delta(s0, s1, "sigil_verification_failures_total", check=fc)
    check(got == 2, f"sigil_verification_failures_total{{check={fc}}} +2 (cold and cached)", f"got +{got}")
    lines = audit_lines(audit3)
    check(len(lines) == 2 and lines[0]["reason"] == lines[1]["reason"] != "" and
          lines[0]["failure"] == lines[1]["failure"] == "signatures" and
          [x["cached"] for x in lines] == [False, True],
          "the cold and cached deny's audit lines agree", repr(lines))
    for (what, r), line in zip((("failed check cold", c1), ("failed check cached", c2)), lines):
        matches(r, line, what)
    check(d3.stop() == 0, "the third sigild exits 0")
    hole.close()
    for dm in (d, dd, d3):
        text = M.log_of(dm)
        check("ERROR: AddressSanitizer" not in text and "runtime error:" not in text,
              "no sanitizer report in sigild's log", text[-3000:])


if __name__ == "__main__":
    sys.exit(main())
