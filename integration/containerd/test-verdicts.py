#!/usr/bin/python3
"""The verdict matrix of issue 5 on real containerd 2.1: what kubelet's
CRI ImageService/PullImage (and, for a few cases, `ctr image pull`) does
with each kind of image, and the reason the user is given for a deny.

One node (registry, sigild, containerd), one trust policy with a statement
per repository, so that containerd and sigild start once:

  <reg>/it/app       strict, any identity of the trusted CA
  <reg>/it/identity  strict, an x509.subject the signer does not have
  <reg>/it/audit     audit
  <reg>/it/skip      skip
  docker.io/library/<name>  strict; docker.io is mirrored to <reg> through
                     hosts.toml for containerd (CRI config_path) and sigild
                     (registryConfig) alike, so short names resolve to it

The registry's access log shows what was fetched: a skip scope must cause
no signature traffic (referrers API or `sha256-<hex>` referrers tag), a
strict one must, and a cached verdict must not again.
"""
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as H  # noqa: E402
from harness import R  # noqa: E402

SHORT = "sigil-verdicts"  # docker.io/library/<SHORT>


def by_sigild(reg):
    """The registry requests sigild made (its User-Agent is sigil/<version>;
    notation, oras and containerd have their own)."""
    return [f"{m} {p}" for m, p, agent in reg.requests() if agent.startswith("sigil/")]


def sig_requests(reg, repo, digest):
    """sigild's requests for `digest`'s signatures: the referrers API and
    the referrers tag schema (distribution 2.8 has no referrers API, so
    both are tried)."""
    hexd = digest.split(":", 1)[1]
    return [r for r in by_sigild(reg)
            if r.split(" ", 1)[1].startswith((f"/v2/{repo}/referrers/{digest}",
                                              f"/v2/{repo}/manifests/sha256-{hexd}"))]


def one_record(sigild, digest, image=None):
    """The newest audit record for `digest` (and `image`), or {}."""
    recs = [r for r in sigild.records_for(digest) if image is None or r.get("image") == image]
    return recs[-1] if recs else {}


def push_tampered(node, fmt):
    """An image signed (trusted key) in a layout, one bit of the signature
    value flipped (envelope blob, manifest and index rewritten to the new
    digests), then image and signature pushed together with oras cp -r."""
    tl = R.Layout(os.path.join(node.work, f"tampered-{fmt}"))
    d = tl.image(f"tampered-{fmt}", tag=f"tampered-{fmt}")[0]
    cfg = node.tools.sign_key_config(node.trusted, name=f"tamper-{fmt}")
    node.tools.sign(cfg, f"{tl.path}@{d}", fmt, oci_layout=True)
    tl.reload()
    sigs = []
    for m in tl.index:
        doc = json.loads(tl.get(m["digest"]))
        kind = doc.get("artifactType") or doc.get("config", {}).get("mediaType")
        if kind == R.SIG_ARTIFACT and doc.get("subject", {}).get("digest") == d:
            sigs.append(m["digest"])
    if len(sigs) != 1:
        raise R.Failed(f"notation --oci-layout made {len(sigs)} signatures for {d}")
    node.mc.tamper_signature(tl.path, sigs[0])
    node.tools.oras_cp(tl.path, f"tampered-{fmt}", f"{node.scope}:tampered-{fmt}", recursive=True,
                       plain_http=True)
    return d


def main():
    args = H.parse_args()
    vals = H.preflight(args)
    node = H.Node(args, vals, "verdicts", hosts=True, access_log=True)
    reg = node.registry
    host = reg.host
    app = node.scope
    ident = f"{host}/it/identity"
    audit = f"{host}/it/audit"
    skip = f"{host}/it/skip"
    short_repo = f"library/{SHORT}"
    node.mirror("docker.io")

    # the trust policy: one statement per repository
    wrong_subject = [(k, v if k != "O" else v + " Elsewhere") for k, v in node.trusted.leaf_subject]
    node.write_policy([
        node.statement("app", [app]),
        node.statement("wrong-identity", [ident], identities=[node.trusted.identity(wrong_subject)]),
        node.statement("audit-only", [audit], level="audit"),
        node.statement("skipped", [skip], level="skip"),
        node.statement("docker-library", [f"docker.io/{short_repo}"]),
    ])

    # images; the one that must expire is signed first so that its second
    # is over by the time it is pulled
    img = {}
    img["expired"] = node.push("expired")
    node.sign(img["expired"], "jws", expiry="1s")
    expired_at = time.monotonic() + 1.0
    for lbl in ("jws", "cose", "unsigned", "rogue"):
        img[lbl] = node.push(lbl)
    img["multi"] = node.push("multi", multiarch=True)
    node.sign(img["jws"], "jws")
    node.sign(img["cose"], "cose")
    node.sign(img["rogue"], "jws", pki=node.rogue)
    node.sign(img["multi"], "jws")
    index = json.loads(node.layout.get(img["multi"]))
    children = [m["digest"] for m in index["manifests"]]
    img["tampered-jws"] = push_tampered(node, "jws")
    img["tampered-cose"] = push_tampered(node, "cose")
    img["identity"] = node.push("identity", repo="it/identity")
    node.sign(img["identity"], "cose", repo="it/identity")
    img["audit-rogue"] = node.push("audit-rogue", repo="it/audit")
    node.sign(img["audit-rogue"], "jws", pki=node.rogue, repo="it/audit")
    img["audit-unsigned"] = node.push("audit-unsigned", repo="it/audit")
    img["skip"] = node.push("skip", repo="it/skip")
    img["short"] = node.push("short", repo=short_repo)
    node.sign(img["short"], "jws", repo=short_repo)
    img["short-unsigned"] = node.push("short-unsigned", repo=short_repo)

    node.start()
    R.log(f"registry http://{host}, containerd {node.containerd.sock}, work {node.work}")
    ctd = node.containerd
    cri = ctd.cri()
    sigild = node.sigild

    # --- signed by a trusted identity -----------------------------------
    H.expect_pulled("CRI: JWS-signed by a trusted identity, by tag: pulled", cri.pull(f"{app}:jws"))
    rec = one_record(sigild, img["jws"])
    R.check(rec.get("verdict") == "allow" and rec.get("policy") == "app" and rec.get("cached") is False
            and node.trusted.leaf_subject[-1][1] in rec.get("signer", ""),
            "audit: JWS allow under policy \"app\", first verification (not cached), signer named", str(rec))
    H.expect_pulled("CRI: COSE-signed by a trusted identity, by digest: pulled", cri.pull(f"{app}@{img['cose']}"))
    ok, out = ctd.ctr_pull(f"{app}:cose")
    R.check(ok, "ctr: COSE-signed by a trusted identity: pulled", out[-1500:])

    # --- the verdict cache -------------------------------------------------
    R.check(sig_requests(reg, "it/app", img["jws"]),
            "registry: sigild looked up the JWS image's signatures (referrers API / sha256- tag)",
            str(by_sigild(reg)[-20:]))
    before = by_sigild(reg)
    H.expect_pulled("CRI: second pull of the verified JWS image: pulled", cri.pull(f"{app}:jws"))
    rec = one_record(sigild, img["jws"])
    R.check(rec.get("verdict") == "allow" and rec.get("cached") is True,
            "audit: the second pull is served from sigild's cache (cached: true)", str(rec))
    R.check(by_sigild(reg) == before, "registry: sigild made no request for the cached verdict",
            str(by_sigild(reg)[len(before):]))

    # --- denies --------------------------------------------------------------
    H.expect_denied("CRI: unsigned: denied", cri.pull(f"{app}:unsigned"),
                    img["unsigned"], "no signature is associated")
    ok, out = ctd.ctr_pull(f"{app}:unsigned")
    R.check(not ok and "sigil: denied" in out and "no signature is associated" in out,
            "ctr: unsigned: denied with sigil's reason", out[-1500:])
    H.expect_denied("CRI: signed by an untrusted CA: denied", cri.pull(f"{app}:rogue"),
                    "authenticity check failed", "does not contain any trusted certificate",
                    "to fix: add the signer's root CA")
    H.expect_denied("CRI: trusted CA, identity not in trustedIdentities: denied",
                    cri.pull(f"{ident}:identity"), "trusted-identity check failed",
                    "does not match the X.509 trusted identities",
                    "wrong-identity", "to fix: add the signer's certificate subject")
    wait = expired_at - time.monotonic()
    if wait > 0:
        time.sleep(wait + 0.1)
    H.expect_denied("CRI: signature expired: denied", cri.pull(f"{app}:expired"),
                    "expiry check failed", "to fix: re-sign")
    ok, out = ctd.ctr_pull(f"{app}@{img['expired']}")
    R.check(not ok and "sigil: denied" in out and "expiry check failed" in out,
            "ctr: signature expired: denied with sigil's reason", out[-1500:])
    for fmt in ("jws", "cose"):
        H.expect_denied(f"CRI: {fmt.upper()} envelope tampered in the registry: denied",
                        cri.pull(f"{app}:tampered-{fmt}"), "integrity check failed",
                        "to fix: the signature is malformed, tampered with")
    ok, out = ctd.ctr_pull(f"{app}:tampered-jws")
    R.check(not ok and "sigil: denied" in out and "integrity check failed" in out,
            "ctr: tampered envelope: denied with an integrity reason", out[-1500:])

    # --- multi-arch index signed at the index ------------------------------
    H.expect_pulled("CRI: multi-arch index signed at the index: pulled", cri.pull(f"{app}:multi"))
    p = ctd.ctr("image", "pull", "--plain-http", "--hosts-dir", node.hosts_dir, "--all-platforms",
                f"{app}:multi")
    R.check(p.returncode == 0, "ctr: --all-platforms pull of the signed index: pulled",
            (p.stdout + p.stderr)[-1500:])
    p = ctd.ctr("content", "ls", "-q")
    have = set(p.stdout.split())
    R.check(all(c in have for c in children) and img["multi"] in have,
            "ctr: the index and both platform manifests are in containerd's content store",
            f"want {children}, have {sorted(have)}")
    recs = sigild.records_for(img["multi"])
    R.check(recs and all(r.get("verdict") == "allow" for r in recs) and
            not any(sigild.records_for(c) for c in children),
            "audit: the index digest is what was verified (not its platform manifests)", str(recs))

    # --- short names, docker.io normalisation -------------------------------
    H.expect_pulled(f"CRI: short name {SHORT}:short (docker.io/{short_repo}) by tag: pulled",
                    cri.pull(f"{SHORT}:short"))
    rec = one_record(sigild, img["short"])
    R.check(rec.get("image") == f"docker.io/{short_repo}:short" and rec.get("policy") == "docker-library"
            and rec.get("verdict") == "allow" and rec.get("cached") is False,
            "audit: sigild verified the normalised docker.io name under the docker.io scope's statement",
            str(rec))
    R.check(sig_requests(reg, short_repo, img["short"]),
            "registry: sigild fetched the short-name image's signatures through the docker.io mirror",
            str(by_sigild(reg)[-20:]))
    H.expect_pulled(f"CRI: short name {SHORT}@<digest>: pulled", cri.pull(f"{SHORT}@{img['short']}"))
    ok, out = ctd.ctr_pull(f"docker.io/{short_repo}:short")
    R.check(ok, f"ctr: docker.io/{short_repo}:short through the mirror: pulled", out[-1500:])
    H.expect_denied(f"CRI: unsigned short name {SHORT}:short-unsigned: denied",
                    cri.pull(f"{SHORT}:short-unsigned"), f"docker.io/{short_repo}@{img['short-unsigned']}",
                    "no signature is associated")

    # --- audit level ---------------------------------------------------------
    H.expect_pulled("CRI: audit scope, signed by an untrusted CA: pulled", cri.pull(f"{audit}:audit-rogue"))
    rec = one_record(sigild, img["audit-rogue"])
    R.check(rec.get("verdict") == "allow" and rec.get("level") == "audit" and rec.get("policy") == "audit-only"
            and "authenticity check failed (logged, not enforced)" in rec.get("reason", "")
            and "does not contain any trusted certificate" in rec.get("reason", ""),
            "audit: the audit-level allow records the authenticity failure", str(rec))
    H.expect_denied("CRI: audit scope, unsigned: denied (as notation does)", cri.pull(f"{audit}:audit-unsigned"),
                    "no signature is associated")

    # --- skip level ------------------------------------------------------------
    before = by_sigild(reg)
    H.expect_pulled("CRI: skip scope, unsigned: pulled", cri.pull(f"{skip}:skip"))
    rec = one_record(sigild, img["skip"])
    R.check(rec.get("verdict") == "allow" and rec.get("level") == "skip" and rec.get("policy") == "skipped",
            "audit: the skip allow names the skip statement", str(rec))
    pulled = [p for m, p, agent in reg.requests() if agent.startswith("containerd/")
              and p == f"/v2/it/skip/manifests/{img['skip']}"]
    R.check(pulled, "registry: containerd's fetch of the skip image is in the access log",
            str(reg.requests()[-20:]))
    R.check(by_sigild(reg) == before and not any(
                r.split(" ", 1)[1].startswith(("/v2/it/skip/referrers/", "/v2/it/skip/manifests/sha256-"))
                for r in by_sigild(reg)),
            "registry: the skip scope cost no registry request by sigild (no referrers API, no sha256- tag)",
            str(by_sigild(reg)[len(before):]))

    # --- sigild's health ---------------------------------------------------
    doc = sigild.status(args.sigil)
    recs = sigild.audit()
    n_allow = sum(r.get("verdict") == "allow" for r in recs)
    n_deny = sum(r.get("verdict") == "deny" for r in recs)
    R.check(doc.get("mode") == "enforce" and doc.get("allows") == n_allow and doc.get("denies") == n_deny
            and doc.get("errors") == 0 and (n_allow, n_deny) == (11, 11),
            f"sigil status counts every audited decision ({n_allow} allowed, {n_deny} denied, 0 errors)",
            str(doc))
    alive = sigild.proc.poll() is None
    proc = sigild.proc
    sigild.stop()  # LeakSanitizer reports at exit
    log = sigild.log()
    bad = [m for m in R.SANITIZER_MARKS if m in log]
    R.check(alive and proc.returncode == 0 and not bad,
            f"sigild ran to the end, exited 0 on SIGTERM (got {proc.returncode}), no sanitizer report in its log",
            log[-3000:])
    R.finish()


if __name__ == "__main__":
    R.main(main)
