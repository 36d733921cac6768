#!/usr/bin/python3
"""demo.py - sigil's main job in a dozen lines, on real parts (run by
scripts/demo.sh, which builds sigil and fetches the tools first).

Starts on 127.0.0.1, in a temporary directory (integration/harness.py's
Node): Debian's docker-registry, sigild with a notation trust policy, and
containerd 2.1 from Debian unstable with sigil's packaged drop-in. Pushes
one image signed with the real notation CLI and one unsigned image, pulls
both through CRI ImageService/PullImage as kubelet does, and prints what
happened: the signed one allowed, the unsigned one denied with sigil's
reason exactly as kubelet receives it. Everything started is stopped and
the temporary directory removed on exit (harness/reglib clean-ups).

Unlike a test, the demo never skips: a missing piece is a failure with
its reason. Exit 0 when the outcomes are the expected ones, 1 otherwise.
"""
import argparse
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from harness import R  # noqa: E402


class DemoFailed(Exception):
    pass


def _no_skip(why):
    # reglib/harness call skip() (exit 77) when a tool is missing: right
    # for a test suite, wrong for the README's first command, which must
    # say plainly that it could not run.
    raise DemoFailed(f"cannot run: {why}")


R.skip = _no_skip
sys.stdout.reconfigure(line_buffering=True)


def kubelet_view(err):
    """The CRI error as kubelet puts it in the pod's events, with
    containerd's long middle part ("image verifier bindir blocked pull of
    <ref> with digest <digest> for reason: ...") elided and sigil's reason
    kept verbatim on a line of its own."""
    code, _, msg = err.partition(": ")
    head, sep, reason = msg.partition("sigil: denied")
    if not sep:
        return [f"rpc error: code = {code.title()} desc = {msg}"]
    verifier = head.rfind("verifier sigil-verifier")
    front = head.split(": ")[0]  # failed to pull and unpack image "<ref>"
    middle = head[verifier:].strip() if verifier >= 0 else head.strip()
    return [f"rpc error: code = {code.title()} desc = {front}: … {middle}",
            "sigil: denied" + reason]


def main():
    ap = argparse.ArgumentParser()
    for a in ("--sigil", "--sigild", "--verifier", "--dropin"):
        ap.add_argument(a, required=True)
    ap.add_argument("--log", required=True, help="where details go on failure")
    ap.add_argument("--audit-copy", required=True, help="where to keep the audit log")
    args = ap.parse_args()

    vals = H.preflight(args)
    node = H.Node(args, vals, "demo", repo="demo/app")
    reg = node.registry.host
    print(f"sigil demo: containerd asks sigil before each image pull. Started in {node.work}:")
    print(f"  registry    http://{reg} (Debian's docker-registry, on 127.0.0.1)")
    print(f"  sigild      trust policy: images in {node.scope} must be signed by the demo CA")
    print(f"  containerd  {vals.get('CONTAINERD_VERSION', '2.1')}, running sigil-verifier on every pull"
          " (sigil's packaged drop-in)")
    signed = node.push("signed")
    node.push("unsigned")
    node.sign(signed, "jws")
    print(f"  images      demo/app:signed (signed with notation {vals.get('NOTATION_VERSION', '')}),"
          " demo/app:unsigned (no signature)")
    node.start()
    cri = node.containerd.cri()

    print("\nPulling both as kubelet does (CRI PullImage):")
    ok = True
    ref = f"{node.scope}:signed"
    err = cri.pull(ref)
    recs = node.sigild.records_for(signed)
    allow = recs[-1] if recs and recs[-1].get("verdict") == "allow" else None
    if err is None and allow and cri.status(ref) is not None:
        print(f"  ALLOWED  {ref}")
        print(f"           signed by \"{allow.get('signer')}\"; trust policy \"{allow.get('policy')}\" satisfied")
    else:
        ok = False
        print(f"  UNEXPECTED: {ref} was " + (f"not pulled: {err}" if err
                                            else "pulled without sigild allowing it (no audit record)"))

    ref = f"{node.scope}:unsigned"
    err = cri.pull(ref)
    # expected: denied by sigil, for the reason that it has no signature
    if err is not None and "sigil: denied" in err and "no signature" in err and cri.status(ref) is None:
        print(f"  DENIED   {ref}; containerd's answer (kubelet's ErrImagePull):")
        for line in kubelet_view(err):
            print(f"           {line}")
    else:
        ok = False
        print(f"  UNEXPECTED: {ref} was " + (f"refused, but not for want of a signature: {err}" if err
                                            else "pulled although it is not signed"))

    os.makedirs(os.path.dirname(os.path.abspath(args.audit_copy)), exist_ok=True)
    shutil.copy(node.sigild.audit_path, args.audit_copy)
    print(f"Audit log (one JSON line per decision, sigild.json \"auditLog\"): {args.audit_copy}")
    if not ok:
        with open(args.log, "a") as f:
            f.write("\n==== containerd log\n" + node.containerd.log()[-20000:])
            f.write("\n==== sigild log\n" + node.sigild.log()[-20000:])
        print(f"demo FAILED: the outcomes above are not the expected ones; details in {args.log}")
        return 1
    print("As expected. Stopping the registry, sigild and containerd and removing the directory.")
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    except (DemoFailed, R.Failed, H.subprocess.TimeoutExpired) as e:
        log = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--log"), None)
        if log:
            with open(log, "a") as f:
                f.write(f"\n==== demo.py\n{e}\n")
        print(f"demo FAILED: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
              + (f"\n  details: {log}" if log else ""), file=sys.stderr)
        rc = 1
    sys.exit(rc)
