#!/usr/bin/python3
"""containerd 2.1 from Debian unstable, with sigil's packaged drop-in and a
real sigild: through both pull paths - `ctr image pull` (the transfer
service) and CRI ImageService/PullImage (kubelet's) - a notation-signed
image is pulled and an unsigned one is blocked with sigil's reason in the
error the user sees; `sigil status` and the audit log record both.
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as H  # noqa: E402
from harness import R  # noqa: E402


def main():
    args = H.parse_args()
    vals = H.preflight(args)
    node = H.Node(args, vals, "ctr")
    signed = node.push("signed")
    unsigned = node.push("unsigned")
    node.sign(signed, "jws")
    node.start()
    R.log(f"registry http://{node.registry.host}, containerd {node.containerd.sock}")
    ctd = node.containerd

    ok, out = ctd.ctr_pull(f"{node.scope}:signed")
    R.check(ok, "ctr pull of the signed image is allowed", out[-1500:])
    ok, out = ctd.ctr_pull(f"{node.scope}:unsigned")
    R.check(not ok, "ctr pull of the unsigned image is blocked", out[-1500:])
    R.check("verifier sigil-verifier rejected image" in out and "sigil: denied" in out
            and "no signature" in out, "ctr's error carries sigil's reason", out[-1500:])
    ok, out = ctd.ctr_pull(f"{node.scope}@{signed}")
    R.check(ok, "ctr pull by digest of the signed image is allowed", out[-1500:])

    cri = ctd.cri()
    H.expect_pulled("CRI PullImage of the signed image is allowed", cri.pull(f"{node.scope}@{signed}"))
    H.expect_denied("CRI PullImage of the unsigned image fails with sigil's reason (as kubelet sees it)",
                    cri.pull(f"{node.scope}:unsigned"), "no signature")

    doc = node.sigild.status(args.sigil)
    R.check(doc.get("allows", 0) >= 2 and doc.get("denies", 0) >= 1 and doc.get("mode") == "enforce",
            "sigil status reports sigild's counters (>= 2 allowed, >= 1 denied)", str(doc))
    R.check(node.sigild.records_for(signed) and node.sigild.records_for(unsigned),
            "sigild's audit log records both decisions", str(node.sigild.audit())[-1500:])
    R.finish()


if __name__ == "__main__":
    R.main(main)
