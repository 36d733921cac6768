#!/usr/bin/env python3
"""Run one corpus case through `sigil verify --oci-layout` and compare the
outcome with the case's expected.json.

Conformance cases (../shared/conformance format): sigil must give the
verdict `notation verify` gave and fail on the same check, unless the case
is listed in spec-overrides.json (where the specification decides against
notation). Adversarial cases: sigil must give the specification's verdict
(any of acceptable_verdicts where the spec leaves it open) and, when it
fails, fail on the intended check. Logged (audit/permissive) failures must
match too.

Exit status: 0 agreement, 1 disagreement, 77 skipped (meson's skip code).
"""
import argparse
import contextlib
import fcntl
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SKIP = 77

# sigil's check names -> the validation types notation logs.
NOTATION_TYPE = {
    "integrity": "integrity",
    "authenticity": "authenticity",
    "trusted-identity": "authenticity",
    "expiry": "expiry",
    "authentic-timestamp": "authenticTimestamp",
    "revocation": "revocation",
}


def list_cases(root):
    cases = os.path.join(root, "cases")
    return sorted(d for d in os.listdir(cases)
                  if os.path.isfile(os.path.join(cases, d, "expected.json")))


def sigil_failing_check(exit_code, out):
    """The corpus's failing_check vocabulary for sigil's outcome."""
    if out.get("verdict") == "error":
        # the configuration (trust policy or a referenced trust store)
        # could not be used: the corpus calls this a policy failure
        return "policy" if out.get("category") == "policy" else "error:" + out.get("stage", "")
    failure = out.get("failure", "")
    if failure == "no-policy":
        return "policy"
    if failure in ("no-signature", "signature-manifest"):
        return failure
    if failure == "signatures":
        sigs = out.get("signatures", [])
        if not sigs:
            return ""
        check = sigs[0].get("failedCheck", "")
        # a trust store that cannot be loaded fails authenticity with a
        # policy-category error: the corpus calls that a policy failure
        for c in sigs[0].get("checks", []):
            if c.get("check") == check == "authenticity" and c.get("category") == "policy":
                return "policy"
        return check
    return failure


def logged_failures(out):
    """notation validation types of the checks that failed but were logged
    on the signature that passed."""
    for s in out.get("signatures", []):
        if s.get("verdict") == "pass":
            return sorted({NOTATION_TYPE.get(c["check"], c["check"])
                           for c in s.get("checks", [])
                           if c.get("outcome") == "fail" and c.get("action") == "log"})
    return []


def expected_logged(expected):
    found = set()
    for line in expected.get("logged_failures", []):
        m = re.search(r"msg=(\w+) validation failed", line)
        found.add(m.group(1) if m else line)
    return sorted(found)


REVOCATION_HOST, REVOCATION_PORT = "127.0.0.1", 5081


@contextlib.contextmanager
def revocation_server(case):
    """Serve the case's revocation/urls.json on 127.0.0.1:5081 (the port is
    fixed inside the certificates): a "file" entry with 200 and its content
    type, "file": null with its status (404). The port is shared by every
    revocation case of every build directory on this machine, so a lock
    file serialises them."""
    with open(os.path.join(case, "revocation", "urls.json")) as f:
        urls = json.load(f)
    routes = {}
    for url, entry in urls.items():
        u = urllib.parse.urlsplit(url)
        if (u.hostname, u.port) != (REVOCATION_HOST, REVOCATION_PORT):
            raise SystemExit(f"{url}: not on {REVOCATION_HOST}:{REVOCATION_PORT}")
        if entry.get("file"):
            with open(os.path.join(case, entry["file"]), "rb") as b:
                routes[u.path] = (200, entry.get("content_type", "application/octet-stream"), b.read())
        else:
            routes[u.path] = (entry.get("status", 404), "text/plain", b"not found\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            status, ctype, body = routes.get(urllib.parse.urlsplit(self.path).path,
                                             (404, "text/plain", b"not found\n"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    lock_path = os.path.join(tempfile.gettempdir(), f"sigil-revocation-{REVOCATION_PORT}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # the previous holder's socket may linger for a moment
        for attempt in range(50):
            try:
                http.server.ThreadingHTTPServer.allow_reuse_address = True
                srv = http.server.ThreadingHTTPServer((REVOCATION_HOST, REVOCATION_PORT), Handler)
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            yield
        finally:
            srv.shutdown()
            srv.server_close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", metavar="CORPUS", help="print the case names of a corpus")
    ap.add_argument("--sigil")
    ap.add_argument("--kind", choices=["conformance", "adversarial"])
    ap.add_argument("--case")
    ap.add_argument("--overrides")
    args = ap.parse_args()
    if args.list:
        print("\n".join(list_cases(args.list)))
        return 0

    case = args.case
    name = os.path.basename(case.rstrip("/"))
    with open(os.path.join(case, "expected.json")) as f:
        expected = json.load(f)
    label = f"{args.kind}/{name}"

    want_verdict = expected["verdict"]
    acceptable = expected.get("acceptable_verdicts") or [want_verdict]
    want_check = expected.get("failing_check", "")
    source = "notation"
    if args.kind == "adversarial":
        source = "specification"
    if args.overrides and args.kind == "conformance":
        with open(args.overrides) as f:
            overrides = json.load(f).get("conformance", {})
        if name in overrides:
            o = overrides[name]
            want_verdict = o["verdict"]
            acceptable = [want_verdict]
            want_check = o.get("failing_check", "")
            source = "specification (" + o["clause"] + ")"

    with open(os.path.join(case, "reference")) as f:
        reference = f.read().strip()
    with open(os.path.join(case, "digest")) as f:
        digest = f.read().strip()
    scope = reference.rsplit("@", 1)[0]
    cmd = [args.sigil, "verify", "--oci-layout", "--scope", scope, "--config-dir", case,
           "--output", "json"]
    for k, v in sorted(expected.get("user_metadata_required", {}).items()):
        cmd += ["--user-metadata", f"{k}={v}"]
    cmd.append(os.path.join(case, "layout") + "@" + digest)
    # revocation cases: their CRLs served while sigil runs; sigil keeps no
    # revocation cache on disk unless asked (--revocation-cache), so
    # nothing is cached across cases
    server = contextlib.nullcontext()
    if expected.get("requires_revocation_server"):
        if not os.path.isfile(os.path.join(case, "revocation", "urls.json")):
            print(f"FAIL {label}: requires_revocation_server but no revocation/urls.json")
            return 1
        server = revocation_server(case)
    with server:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        out = {}
    problems = []
    if proc.returncode not in (0, 1, 2) or not out:
        problems.append(f"sigil exited {proc.returncode} without a JSON result")
    got_verdict = "pass" if proc.returncode == 0 else "fail"
    if out and out.get("verdict") not in (got_verdict, "error"):
        problems.append(f"exit status {proc.returncode} disagrees with JSON verdict {out.get('verdict')}")
    if got_verdict not in acceptable:
        problems.append(f"verdict {got_verdict}, {source} says {'/'.join(acceptable)}")
    got_check = sigil_failing_check(proc.returncode, out) if got_verdict == "fail" else ""
    # the check is asserted when sigil fails where failing was expected
    if got_verdict == "fail" and want_verdict == "fail" and want_check and got_check != want_check:
        problems.append(f"failed on check '{got_check}', expected '{want_check}'")
    if got_verdict == "pass" and args.kind == "conformance":
        gl, wl = logged_failures(out), expected_logged(expected)
        if gl != wl:
            problems.append(f"logged failures {gl}, expected {wl}")
    reason = out.get("reason") or out.get("message") or proc.stderr.strip()
    if problems:
        print(f"FAIL {label}: " + "; ".join(problems))
        print(f"  command: {' '.join(cmd)}")
        print(f"  sigil: {reason}")
        if proc.stderr.strip():
            print(f"  stderr: {proc.stderr.strip()}")
        return 1
    print(f"ok   {label}: {got_verdict}{' (' + got_check + ')' if got_check else ''} - {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
