#!/usr/bin/env python3
"""test-sigild-revocation.py - sigild's revocation cache end to end (issue 6
"Done when"), with a real signature whose leaf certificate has a CRL
distribution point: conformance case 073-crl-good (signed by notation), its
image served by a registry, its CRL by an HTTP server on 127.0.0.1:5081 (the
port is fixed inside the certificate; the lock file the conformance suite
uses serialises the two).

- the first verification downloads the CRL; a second verification (verdict
  cache bypassed, so it really verifies) touches no network; /metrics'
  sigil_revocation_fetches_total counts exactly those downloads (crl/ok 1,
  then no more), and a failing one (crl/network_error) with the endpoint down;
- the CRL is in <stateDir>/revocation with its source record, and Status
  (and `sigil status`, text and json) reports the background refresher's
  passes and the cached CRL;
- with the CRL endpoint down, a restarted sigild still verifies from the
  cached CRL, while one without it denies on revocation (so the cache is
  what makes the difference);
- a cached verdict does not outlive the revocation information it relied
  on: an image signed (by the real notation) with a certificate of a test
  CA whose CRL's nextUpdate is half a minute away is a verdict-cache hit
  until then, and verified again (and denied: the CA has revoked it since)
  right after, although the certificates and maxAllowSeconds would allow
  an hour. Skipped, loudly, without notation (integration/tools.sh).

Usage: test-sigild-revocation.py --sigild PATH [--sigil PATH]
Exit status: 0 pass, 1 fail, 77 skipped (no python3-grpcio)."""
import argparse
import contextlib
import fcntl
import hashlib
import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("sigild_test", os.path.join(HERE, "test-sigild.py"))
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)  # exits 77 itself without python3-grpcio

CASE = "073-crl-good"
CRL_PORT = 5081
CRL_PATH = "/conformance/crl/sybkwqje.crl"
CRL_URL = f"http://127.0.0.1:{CRL_PORT}{CRL_PATH}"


class CRLServer:
    """The case's CRL on 127.0.0.1:5081, counting requests; stop() takes the
    endpoint down (connections refused) while the port lock is kept."""

    def __init__(self, crl):
        self.hits = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits += 1
                ok = self.path == CRL_PATH
                body = crl if ok else b"not found\n"
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        for attempt in range(50):
            try:
                http.server.ThreadingHTTPServer.allow_reuse_address = True
                self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", CRL_PORT), H)
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        if self.srv:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None


@contextlib.contextmanager
def port_lock():
    """The lock run-case.py takes for port 5081."""
    path = os.path.join(tempfile.gettempdir(), f"sigil-revocation-{CRL_PORT}.lock")
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def verify(d, layout, host, no_cache=True):
    req = layout.request(host)
    if no_cache:
        req += T.f_int(5, 1)
    return T.decode(d.call("/sigil.v1.Verifier/Verify", req, timeout=30))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


FETCH_SAMPLE = re.compile(
    r'^sigil_revocation_fetches_total\{kind="([a-z_]+)",outcome="([a-z_]+)"\} (\S+)$', re.M)


def fetches(mport):
    """sigil_revocation_fetches_total from /metrics: {(kind, outcome): value}."""
    for attempt in range(50):  # the endpoint may come up just after the socket
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                text = r.read().decode()
            break
        except OSError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    return {(k, o): float(v) for k, o, v in FETCH_SAMPLE.findall(text)}


def fetch_moves(before, after):
    """The series that moved, with how much: {(kind, outcome): delta}."""
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(keys)
            if after.get(k, 0) != before.get(k, 0)}


def revocation_stats(d):
    st = T.status(d.stub())
    raw = st.get(12)
    return T.decode(raw[-1]) if raw else None


class Files:
    """An HTTP server on a port chosen at run time serving path -> bytes
    (changeable while it runs), counting requests per path."""

    def __init__(self):
        self.routes, self.hits = {}, {}
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                body = outer.routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                body = body if body is not None else b"not found\n"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def notation_path():
    cache = os.environ.get("SIGIL_TOOLS_CACHE", os.path.expanduser("~/.cache/sigil-tools"))
    try:
        with open(os.path.join(cache, "env")) as f:
            vals = dict(line.strip().split("=", 1) for line in f if "=" in line and line[0] != "#")
    except OSError:
        return None, None
    n = vals.get("NOTATION")
    return (vals, n) if n and os.access(n, os.X_OK) else (None, None)


# root CA -> code-signing leaf with a CRL distribution point, and the
# root's CRLs: crl0 (revokes nothing, nextUpdate $NEXT seconds away) and
# crl1 (revokes the leaf)
PKI_SH = r"""set -e
cat > ca.cnf <<CNF
[ ca ]
default_ca = d
[ d ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
private_key = root.key
certificate = root.pem
default_md = sha256
policy = pol
unique_subject = no
[ pol ]
countryName = optional
stateOrProvinceName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
: > index.txt; echo 01 > serial; echo 1000 > crlnumber
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@"; }
ec -x509 -config ca.cnf -extensions v3_ca -keyout root.key -out root.pem -days 3 \
   -subj "/C=US/ST=WA/O=sigil test/CN=sigil revocation test root"
printf 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\ncrlDistributionPoints=URI:%s\n' "$CRL_URL" > leaf.ext
ec -config ca.cnf -keyout leaf.key -out leaf.csr -subj "/C=US/ST=WA/O=sigil test/CN=sigil revocation test signer"
openssl ca -batch -config ca.cnf -notext -days 2 -extfile leaf.ext -in leaf.csr -out leaf.pem
cat leaf.pem root.pem > chain.pem
openssl ca -config ca.cnf -gencrl -crl_lastupdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" \
   -crl_nextupdate "$(date -u -d "+$NEXT seconds" +%Y%m%d%H%M%SZ)" -out crl0.pem
openssl crl -in crl0.pem -outform DER -out crl0.der
openssl ca -config ca.cnf -revoke leaf.pem -crl_reason keyCompromise
openssl ca -config ca.cnf -gencrl -crldays 1 -out crl1.pem
openssl crl -in crl1.pem -outform DER -out crl1.der
date -u -d "$(openssl crl -in crl0.der -inform DER -noout -nextupdate | cut -d= -f2)" +%s
"""


def verdict_cache_bound(exe, work, daemons):
    vals, notation = notation_path()
    if not notation:
        T.log("SKIPPED verdict cache bounded by the CRL's nextUpdate: notation is not available "
              "(run integration/tools.sh)")
        return
    R = T.regserver.R
    files = Files()
    pki = os.path.join(work, "pki")
    os.makedirs(pki)
    url = f"http://127.0.0.1:{files.port}/root.crl"
    p = subprocess.run(["sh", "-c", PKI_SH], cwd=pki, capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "CRL_URL": url, "NEXT": "30"})
    if not T.check(p.returncode == 0, "test PKI with a CRL distribution point", p.stdout + p.stderr):
        return
    next_update = int(p.stdout.strip().splitlines()[-1])
    with open(os.path.join(pki, "crl0.der"), "rb") as f:
        files.routes["/root.crl"] = f.read()

    # an image in a layout, signed by notation with the leaf
    lay = R.Layout(os.path.join(work, "signed-layout"))
    digest, size = lay.image("revocation", tag="v1")
    key = type("K", (), {"key": os.path.join(pki, "leaf.key"),
                         "chain": os.path.join(pki, "chain.pem")})()
    tools = R.Tools(work, vals, None)
    try:
        tools.sign(tools.sign_key_config(key, "rev"), f"{lay.path}@{digest}", "jws", oci_layout=True)
    except R.Failed as e:
        T.check(False, "notation signs the image with the test leaf", str(e))
        return
    lay.reload()
    repo = "revtest/app"
    reg = T.regserver.Server({repo: T.regserver.Repo(lay)})
    request = T.verify_request(f"{reg.host}/{repo}:v1", digest, R.MANIFEST_MT, size)

    confdir = os.path.join(work, "conf-bound")
    store = os.path.join(confdir, "truststore", "x509", "ca", "test")
    os.makedirs(store)
    shutil.copy(os.path.join(pki, "root.pem"), os.path.join(store, "root.crt"))
    with open(os.path.join(confdir, "trustpolicy.json"), "w") as f:
        json.dump({"version": "1.0", "trustPolicies": [{
            "name": "revocation-test", "registryScopes": ["*"],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:test"], "trustedIdentities": ["*"]}]}, f)
    sub = os.path.join(work, "bound")
    os.makedirs(sub)
    with open(os.path.join(sub, "sigild.json"), "w") as f:
        json.dump({"stateDir": os.path.join(sub, "state"), "workers": 2, "plainHttp": True, "metricsListen": "",
                   "cache": {"maxAllowSeconds": 3600, "denySeconds": 0}}, f)
    d = T.Daemon(exe, sub, os.path.join(sub, "sigild.sock"), confdir)
    daemons.append(d)
    if not T.check(d.wait_ready(), "bound: sigild starts", d.log_text()):
        return
    resp = T.decode(d.call("/sigil.v1.Verifier/Verify", request, timeout=30))
    T.check(T.n(resp, 1) == T.VERDICT_ALLOW and T.n(resp, 7) == 0,
            "notation-signed image, its CRL lists nothing: ALLOW", repr(resp))
    T.check(files.hits.get("/root.crl") == 1, "its CRL was downloaded", repr(files.hits))
    # the CA revokes the leaf; the CRL sigil holds is valid for a while yet
    with open(os.path.join(pki, "crl1.der"), "rb") as f:
        files.routes["/root.crl"] = f.read()
    resp = T.decode(d.call("/sigil.v1.Verifier/Verify", request, timeout=30))
    T.check(T.n(resp, 1) == T.VERDICT_ALLOW and T.n(resp, 7) == 1,
            "before the CRL's nextUpdate: the verdict comes from the cache", repr(resp))
    wait = next_update + 1.5 - time.time()
    T.log(f"     waiting {wait:.0f} s for the CRL's nextUpdate")
    if wait > 0:
        time.sleep(wait)
    resp = T.decode(d.call("/sigil.v1.Verifier/Verify", request, timeout=30))
    T.check(T.n(resp, 7) == 0,
            "after the CRL's nextUpdate: not from the cache (maxAllowSeconds is an hour)",
            repr(resp))
    T.check(T.n(resp, 1) == T.VERDICT_DENY and "revoked" in T.s(resp, 2),
            "verified again: DENY, the leaf is revoked now", repr(resp))
    T.log(f"     reason: {T.s(resp, 2)}")
    d.stop()
    files.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigild", required=True)
    ap.add_argument("--sigil", help="the sigil CLI, for `sigil status`")
    args = ap.parse_args()

    def body(work, daemons):
        with port_lock():
            run(args, work, daemons)
        verdict_cache_bound(os.path.abspath(args.sigild), work, daemons)
    return T.run_main("sigil-daemon-rev-", body)


def start(exe, work, name, state, confdir, daemons, mport=None):
    sub = os.path.join(work, name)
    os.makedirs(sub)
    listen = f"127.0.0.1:{mport}" if mport else ""
    with open(os.path.join(sub, "sigild.json"), "w") as f:
        json.dump({"stateDir": state, "workers": 2, "plainHttp": True, "metricsListen": listen}, f)
    d = T.Daemon(exe, sub, os.path.join(sub, "sigild.sock"), confdir)
    daemons.append(d)
    if not T.check(d.wait_ready(), f"{name}: sigild starts", d.log_text()):
        raise SystemExit(1)
    return d


def run(args, work, daemons):
    exe = os.path.abspath(args.sigild)
    case = os.path.join(T.CASES, CASE)
    confdir, _ = T.case_config(case, work)
    with open(os.path.join(case, "revocation", "sybkwqje.crl"), "rb") as f:
        crl = f.read()

    layout = T.CaseLayout(CASE)
    reg = T.regserver.Server({layout.repo: T.regserver.Repo(layout)})
    crls = CRLServer(crl)
    state = os.path.join(work, "state")
    mport = free_port()
    d = start(exe, work, "first", state, confdir, daemons, mport)

    # ---- the first verification downloads the CRL; the second does not
    m0 = fetches(mport)
    T.check(len(m0) == 10 and set(m0.values()) == {0.0},
            "/metrics: sigil_revocation_fetches_total's 10 series exist at 0 from the start",
            repr(m0))
    resp = verify(d, layout, reg.host)
    T.check(T.n(resp, 1) == T.VERDICT_ALLOW, f"{CASE}: ALLOW with its CRL served", repr(resp))
    T.check(crls.hits == 1, "the first verification downloaded the CRL once", f"{crls.hits} requests")
    m1 = fetches(mport)
    T.check(fetch_moves(m0, m1) == {("crl", "ok"): 1.0},
            "/metrics: the download is counted once, as crl/ok", repr(fetch_moves(m0, m1)))
    resp = verify(d, layout, reg.host)
    T.check(T.n(resp, 1) == T.VERDICT_ALLOW and T.n(resp, 7) == 0,
            "a second verification (verdict cache bypassed): ALLOW, verified again", repr(resp))
    T.check(crls.hits == 1, "the second verification touched no network (CRL from the cache)",
            f"{crls.hits} requests")
    m2 = fetches(mport)
    T.check(fetch_moves(m1, m2) == {},
            "/metrics: the cached CRL is not counted as a fetch", repr(fetch_moves(m1, m2)))
    name = hashlib.sha256(CRL_URL.encode()).hexdigest()
    entry = os.path.join(state, "revocation", "crl", name)
    T.check(os.path.isfile(entry) and os.path.isfile(entry + ".src"),
            "the CRL and its source record are in <stateDir>/revocation/crl",
            repr(os.listdir(os.path.dirname(entry)) if os.path.isdir(os.path.dirname(entry)) else []))

    # ---- Status: the refresher's first pass (5 s after start) saw the CRL;
    # nextUpdate is years away, so nothing is downloaded again
    rs = T.wait_for(lambda: revocation_stats(d), lambda r: r is not None and T.n(r, 1) >= 1, 20)
    T.check(rs is not None and T.n(rs, 1) >= 1, "Status reports the refresher's passes", repr(rs))
    if rs is not None:
        T.check(T.n(rs, 5) == 1 and T.n(rs, 6) == 0,
                "Status: one cached CRL, no OCSP response", repr(rs))
        T.check(T.n(rs, 2) == 0 and T.n(rs, 3) == 0 and T.n(rs, 4) == 0,
                "Status: nothing refreshed, failed or deferred (the CRL is not due)", repr(rs))
    T.check(crls.hits == 1, "the refresher did not download a CRL that is not due",
            f"{crls.hits} requests")
    if args.sigil:
        env = {"PATH": "/usr/bin:/bin", "SIGIL_SOCKET": d.sock}
        p = subprocess.run([os.path.abspath(args.sigil), "status"], capture_output=True,
                           text=True, timeout=30, env=env)
        T.check(p.returncode == 0 and "revocation cache: 1 CRLs, 0 OCSP responses; refresh: " in p.stdout
                and " 0 refreshed, 0 failed, 0 deferred" in p.stdout,
                "sigil status prints the revocation cache and refresh counters", p.stdout + p.stderr)
        T.log("     " + "\n     ".join(l for l in p.stdout.splitlines() if "revocation" in l))
        p = subprocess.run([os.path.abspath(args.sigil), "status", "--output", "json"],
                           capture_output=True, text=True, timeout=30, env=env)
        try:
            doc = json.loads(p.stdout)
        except json.JSONDecodeError:
            doc = {}
        rev = doc.get("revocation", {})
        T.check(p.returncode == 0 and rev.get("cachedCrls") == 1 and rev.get("cachedOcspResponses") == 0
                and rev.get("refreshPasses", 0) >= 1 and rev.get("refreshFailures") == 0,
                "sigil status --output json: the revocation object", p.stdout + p.stderr)
    else:
        T.log("SKIPPED sigil status checks: no --sigil given (the CLI was not built)")
    d.stop()

    # ---- the CRL endpoint goes down: a restarted sigild verifies from the
    # CRL cached on disk ...
    crls.stop()
    d = start(exe, work, "restarted", state, confdir, daemons)
    resp = verify(d, layout, reg.host)
    T.check(T.n(resp, 1) == T.VERDICT_ALLOW,
            "CRL endpoint down, valid CRL cached: a restarted sigild still ALLOWs", repr(resp))
    d.stop()
    # ... which is what makes the difference: without it, revocation is
    # unknown and the strict policy denies
    mport = free_port()
    d = start(exe, work, "no-cache", os.path.join(work, "state-empty"), confdir, daemons, mport)
    m0 = fetches(mport)
    resp = verify(d, layout, reg.host)
    T.check(T.n(resp, 1) == T.VERDICT_DENY and T.s(resp, 5) == "signatures"
            and "revocation" in T.s(resp, 2),
            "CRL endpoint down, nothing cached: DENY on revocation", repr(resp))
    m1 = fetches(mport)
    T.check(fetch_moves(m0, m1) == {("crl", "network_error"): 1.0},
            "/metrics: the failed download is counted once, as crl/network_error",
            repr(fetch_moves(m0, m1)))
    T.log(f"     reason: {T.s(resp, 2)}")
    d.stop()


if __name__ == "__main__":
    sys.exit(main())
