#!/usr/bin/python3
"""sigild's lifecycle under a real containerd 2.1, pulls through CRI
ImageService/PullImage as kubelet makes them (issue 5's daemon matrix):

- a second pull of a verified image is answered from the verdict cache;
- the trust policy changes while sigild runs (inotify, then SIGHUP) and
  the next pull follows the new policy; an invalid policy is refused, the
  old one stays in force and the error is logged and shown by `sigil status`;
- sigild stopped: pulls are denied with a reason naming its socket; sigild
  started again: pulls work without restarting containerd;
- the registry unreachable for sigild alone (its hosts.toml points the
  registry at a listener that never answers): denied with sigil's reason,
  well inside containerd's per_verifier_timeout;
- dry-run mode: an unsigned image is pulled, audited as a would-be deny and
  counted by `sigil status`.
Each sigild log is checked for sanitizer reports at the end.
"""
import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as H  # noqa: E402
from harness import R  # noqa: E402

# short on purpose (CI runs this under ASan on 2 cores): how long the
# forwarder retries a missing socket, and sigild's budgets when the
# registry does not answer
CONNECT_RETRY_MS = int(os.environ.get("SIGIL_IT_CONNECT_RETRY_MS", "300"))
HANG_VERIFY_MS = int(os.environ.get("SIGIL_IT_HANG_VERIFY_MS", "2000"))
HANG_REQUEST_MS = int(os.environ.get("SIGIL_IT_HANG_REQUEST_MS", "1000"))
RELOAD_WAIT_S = 10


def go_seconds(d):
    """containerd's per_verifier_timeout ("10s", "1m30s", "500ms") in seconds."""
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    i = 0
    while i < len(d):
        if d[i].isdigit() or d[i] == ".":
            num += d[i]
            i += 1
            continue
        u = "ms" if d.startswith("ms", i) else d[i]
        total += float(num) * units[u]
        num, i = "", i + len(u)
    return total


def wait_status(node, args, pred, what):
    deadline = time.time() + RELOAD_WAIT_S
    doc = {}
    while time.time() < deadline:
        doc = node.sigild.status(args.sigil)
        if pred(doc):
            return doc
        time.sleep(0.1)
    raise R.Failed(f"{what}: sigil status still says {doc}")


def wait_log(sd, text):
    deadline = time.time() + RELOAD_WAIT_S
    while time.time() < deadline:
        if text in sd.log():
            return True
        time.sleep(0.1)
    return False


def put_policy(node, pol):
    """trustpolicy.oci.json, the only policy file, replaced by one rename:
    inotify sees one change, never a half-written state."""
    path = os.path.join(node.config_dir, "trustpolicy.oci.json")
    with open(path + ".tmp", "w") as f:
        f.write(pol if isinstance(pol, str) else json.dumps({"version": "1.0", "trustPolicies": pol}))
    os.rename(path + ".tmp", path)


def timed_pull(cri, ref):
    t0 = time.monotonic()
    err = cri.pull(ref)
    return err, time.monotonic() - t0


def one_record(node, digest):
    recs = node.sigild.records_for(digest)
    return recs[-1] if recs else {}


def main():
    args = H.parse_args()
    vals = H.preflight(args)
    node = H.Node(args, vals, "lifecycle")
    node.containerd.env["SIGIL_VERIFIER_CONNECT_RETRY_MS"] = str(CONNECT_RETRY_MS)
    signed = {k: node.push(k) for k in ("a", "b", "c", "d", "e", "f")}
    unsigned = {k: node.push(k) for k in ("u1", "u2")}
    for d in signed.values():
        node.sign(d, "jws")
    os.unlink(os.path.join(node.config_dir, "trustpolicy.json"))  # see put_policy
    node.start()
    ctd, sd, cri = node.containerd, node.sigild, node.containerd.cri()

    def ref(tag):
        return f"{node.scope}:{tag}"
    R.log(f"registry http://{node.registry.host}, containerd {ctd.sock}, sigild {sd.sock}")

    # --- the verdict cache ------------------------------------------------
    H.expect_pulled("signed image a is pulled", cri.pull(ref("a")))
    H.expect_pulled("signed image a is pulled again", cri.pull(ref("a")))
    recs = sd.records_for(signed["a"])
    R.check([r.get("cached") for r in recs] == [False, True] and
            all(r.get("verdict") == "allow" for r in recs),
            "the second pull of a is answered from the verdict cache (audit: cached false, then true)",
            str(recs))

    # --- policy changes while sigild runs -----------------------------------
    rev0 = sd.status(args.sigil)["policyRevision"]
    strict = node.statement("trusted-policy", [node.scope])
    other = node.statement("trusted-policy", [node.scope],
                           identities=["x509.subject: C=US, ST=WA, O=Nobody, CN=nobody.example"])
    put_policy(node, [other])  # inotify, no signal
    doc = wait_status(node, args, lambda d: d["policyRevision"] != rev0, "inotify reload")
    rev1 = doc["policyRevision"]
    H.expect_denied("after an inotify reload to a policy trusting another identity, signed image b is "
                    "denied", cri.pull(ref("b")), "trusted identities [x509.subject: C=US, ST=WA, O=Nobody, "
                    'CN=nobody.example] defined in the trust policy "trusted-policy"')
    R.check(wait_log(sd, "reloaded the trust policy and trust store (configuration files changed), "
                     f"revision {rev1}"),
            "sigild logs the inotify reload with the new revision", sd.log()[-1500:])

    put_policy(node, [strict])
    sd.reload()  # SIGHUP: handled at once, inotify's reload waits for 300 ms of quiet
    doc = wait_status(node, args, lambda d: d["policyRevision"] != rev1, "SIGHUP reload")
    rev2 = doc["policyRevision"]
    R.check(wait_log(sd, f"reloaded the trust policy and trust store (SIGHUP), revision {rev2}"),
            "SIGHUP reloads the trust configuration (logged with the new revision)", sd.log()[-1500:])
    H.expect_pulled("after the reload back to the strict policy, b (denied before) is pulled",
                    cri.pull(ref("b")))

    put_policy(node, '{"version": "1.0", "trustPolicies": [{"name": ')
    doc = wait_status(node, args, lambda d: d.get("lastReloadError"), "invalid policy")
    R.check(doc["policyRevision"] == rev2 and "previous trust configuration stays in force"
            in doc["lastReloadError"], "an invalid policy is refused: sigil status shows the old "
            "revision and last_reload_error", str(doc))
    R.check(wait_log(sd, "reload (configuration files changed) failed, the configuration in force stays"),
            "sigild logs the refused reload", sd.log()[-1500:])
    H.expect_pulled("with the invalid policy on disk, signed image c is still allowed by the old "
                    "policy", cri.pull(ref("c")))
    H.expect_denied("with the invalid policy on disk, unsigned u1 is still denied by the old policy",
                    cri.pull(ref("u1")), "no signature")
    put_policy(node, [strict])
    wait_status(node, args, lambda d: not d.get("lastReloadError"), "valid policy again")

    # --- sigild stopped, then started again -------------------------------
    ctd_pid = ctd.proc.pid
    sd.stop()
    err, took = timed_pull(cri, ref("d"))
    H.expect_denied("with sigild stopped, signed image d is denied with a reason naming the socket",
                    err, f"sigild is not reachable at {sd.sock}", "is sigild running?")
    R.check(took < go_seconds(H.PER_VERIFIER_TIMEOUT),
            f"the deny came before containerd's timeout ({took:.1f} s)")
    sd.start()
    H.expect_pulled("sigild started again: d is pulled, containerd was not restarted",
                    cri.pull(ref("d")))
    R.check(ctd.proc.pid == ctd_pid and ctd.proc.poll() is None, "containerd kept running throughout")

    # --- the registry unreachable for sigild only ---------------------------
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)  # connections complete in the kernel; nothing ever answers
    R.on_exit(hang.close)
    hosts = os.path.join(node.work, "sigild-certs.d")
    os.makedirs(os.path.join(hosts, node.registry.host))
    with open(os.path.join(hosts, node.registry.host, "hosts.toml"), "w") as f:
        f.write(f'server = "http://127.0.0.1:{hang.getsockname()[1]}"\n')
    sd.stop()
    sd.conf.update(registryConfig=hosts, verifyTimeoutMs=HANG_VERIFY_MS, requestTimeoutMs=HANG_REQUEST_MS)
    sd.start()
    budget = go_seconds(H.PER_VERIFIER_TIMEOUT)
    err, took = timed_pull(cri, ref("e"))
    H.expect_denied("with the registry not answering sigild, signed image e is denied with sigil's reason "
                    "naming the registry endpoint", err, f"unable to resolve {node.scope}@{signed['e']}",
                    f"127.0.0.1:{hang.getsockname()[1]}", "timed out after")
    R.check(err is not None and "signal: killed" not in err and "deadline exceeded" not in err.lower(),
            "the reason is sigil's, not containerd's timeout", err or "")
    R.check(took < budget and took < (HANG_VERIFY_MS / 1000) + 4,
            f"the deny came within sigild's budget ({took:.1f} s; per_verifier_timeout {budget:.0f} s)")
    rec = one_record(node, signed["e"])
    R.check(rec.get("verdict") == "deny" and rec.get("failure") == "retrieval",
            "the audit record says deny, failure retrieval", str(rec))

    # --- dry-run --------------------------------------------------------------
    sd.stop()
    for k in ("registryConfig", "verifyTimeoutMs", "requestTimeoutMs"):
        sd.conf.pop(k)
    sd.conf.update(registryConfig="", mode="dry-run")
    sd.start()
    H.expect_pulled("in dry-run mode, unsigned image u2 is pulled", cri.pull(ref("u2")))
    rec = one_record(node, unsigned["u2"])
    R.check(rec.get("verdict") == "allow" and rec.get("dryRunOverride") is True and
            rec.get("reason", "").startswith("dry-run: would deny: ") and "no signature" in rec["reason"],
            "its audit record: allowed, dryRunOverride true, 'dry-run: would deny: ... no signature'",
            str(rec))
    doc = sd.status(args.sigil)
    R.check(doc.get("mode") == "dry-run" and doc.get("dryRunWouldDeny") == 1,
            "sigil status: mode dry-run, 1 would-be deny", str(doc))
    H.expect_pulled("in dry-run mode, signed image f is pulled", cri.pull(ref("f")))
    rec = one_record(node, signed["f"])
    R.check(rec.get("verdict") == "allow" and rec.get("dryRunOverride") is False,
            "a verified image is a plain allow in dry-run mode", str(rec))

    sd.stop()  # LeakSanitizer reports at exit
    log = sd.log()
    bad = [m for m in R.SANITIZER_MARKS if m in log]
    R.check(not bad, "no sanitizer report in sigild's logs", ", ".join(bad))
    R.finish()


if __name__ == "__main__":
    R.main(main)
