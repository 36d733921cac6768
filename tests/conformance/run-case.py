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
import json
import os
import re
import subprocess
import sys

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

    if expected.get("requires_revocation_server"):
        print(f"SKIPPED {label}: needs CRLs served on 127.0.0.1:5081 and revocation checking, "
              f"which is the issue \"Certificate revocation\" (not implemented yet)")
        return SKIP

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
