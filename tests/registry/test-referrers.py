#!/usr/bin/python3
"""Referrers API and fault injection, against regserver.py (a registry
served from OCI layouts, since distribution 2.8 has no referrers API).
Signatures are made by the real notation (--oci-layout).

  --group referrers-api: signatures found through the referrers API across
      pages (page size 2), with the artifactType filter applied by the
      server or ignored (unrelated referrers mixed in, no
      OCI-Filters-Applied); sigil and notation verify must agree.
  --group faults: every fault ends in exit 1 or 2 with a one-line reason
      naming the registry and what happened, within --timeout + 2 s.

usage: test-referrers.py --group referrers-api|faults --sigil PATH
"""
import argparse
import concurrent.futures
import copy
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reglib as R  # noqa: E402
import regserver  # noqa: E402

SBOM_TYPE = "application/vnd.example.sbom.v1+json"


class World:
    def __init__(self, group):
        self.group = group
        self.vals = R.tools(need_registry=False)
        self.work = R.mkdtemp(f"ref-{group}")
        self.mc = R.load_corpus_helpers()
        self.t = R.Tools(self.work, self.vals, self.mc)
        self.trusted, self.rogue = R.signing_pkis(self.work, self.mc)
        self.sign_trusted = self.t.sign_key_config(self.trusted, "trusted")
        self.sign_rogue = self.t.sign_key_config(self.rogue, "rogue")
        self.lay = R.Layout(os.path.join(self.work, "layout"))

    def sign(self, digest, fmt, trusted):
        """Sign with notation; returns the new signature manifest's digest."""
        before = set(self.sig_manifests(digest))
        self.t.sign(self.sign_trusted if trusted else self.sign_rogue,
                    f"{self.lay.path}@{digest}", fmt, oci_layout=True)
        new = set(self.sig_manifests(digest)) - before
        assert len(new) == 1, new
        return new.pop()

    def descriptor(self, digest):
        """The referrers-response descriptor of a manifest in the layout."""
        data = self.lay.get(digest)
        doc = json.loads(data)
        d = {"mediaType": doc.get("mediaType", R.MANIFEST_MT), "digest": digest, "size": len(data),
             "artifactType": doc.get("artifactType") or doc["config"]["mediaType"]}
        if doc.get("annotations"):
            d["annotations"] = doc["annotations"]
        return d

    def sig_manifests(self, subject):
        self.lay.reload()
        out = []
        for m in self.lay.index:
            doc = json.loads(self.lay.get(m["digest"]))
            if doc.get("subject", {}).get("digest") == subject and \
                    doc.get("config", {}).get("mediaType") == R.SIG_ARTIFACT:
                out.append(m["digest"])
        return out

    def unrelated_referrer(self, subject, n):
        """An SBOM-like artifact that refers to `subject` (not a signature)."""
        self.lay.reload()
        blob = json.dumps({"sbom": n, "nonce": os.urandom(8).hex()}).encode()
        bd = self.lay.put(blob)
        empty = self.lay.put(b"{}")
        subj = json.loads(self.lay.get(subject))
        d, s = self.lay.put_json({
            "schemaVersion": 2, "mediaType": R.MANIFEST_MT, "artifactType": SBOM_TYPE,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [{"mediaType": SBOM_TYPE, "digest": bd, "size": len(blob)}],
            "subject": {"mediaType": subj.get("mediaType", R.MANIFEST_MT), "digest": subject,
                        "size": len(self.lay.get(subject))}})
        self.lay.tag(R.MANIFEST_MT, d, s)
        return d


def group_referrers_api(w):
    x = w.lay.image("x", tag="x")[0]
    # 5 signatures (4 from an untrusted root, the trusted one LAST) and 3
    # unrelated referrers in between: with page size 2, the signatures span
    # 3 pages when the filter is applied and the referrers 4 when it is not
    plan = [("jws", False), "sbom", ("cose", False), ("jws", False), "sbom", ("cose", False), "sbom",
            ("jws", True)]
    sboms, sigs, order = [], [], {}
    for i, p in enumerate(plan):
        if p == "sbom":
            sboms.append(w.unrelated_referrer(x, i))
            order.setdefault(x, []).append(sboms[-1])
        else:
            sigs.append(w.sign(x, p[0], p[1]))
            order.setdefault(x, []).append(sigs[-1])
    y = w.lay.image("y", tag="y")[0]
    order[y] = [w.sign(y, "cose", False), w.unrelated_referrer(y, 99)]
    u = w.lay.image("u", tag="u")[0]
    order[u] = [w.unrelated_referrer(u, 100)]  # an unsigned image that has other referrers
    # the listing order is the test's (notation's layout store does not keep one)
    refs = {k: [w.descriptor(d) for d in v] for k, v in order.items()}

    srv = regserver.Server({
        "ref/applied": regserver.Repo(w.lay, page_size=2, apply_filter=True, referrers=refs),
        "ref/ignored": regserver.Repo(w.lay, page_size=2, apply_filter=False, referrers=refs),
    })
    scopes = [f"{srv.host}/ref/applied", f"{srv.host}/ref/ignored"]
    cfg = R.trust_config(w.work, "trusted", scopes, [w.trusted.root])
    R.log(f"referrers-api: server http://{srv.host}")
    nkw = {"insecure": True}

    for repo, pages in (("ref/applied", 3), ("ref/ignored", 4)):
        ref = f"{srv.host}/{repo}@{x}"
        before, conns = len(srv.requests(repo)), srv.connections
        s = R.sigil_verify(ref, cfg, "--plain-http")
        reqs = srv.requests(repo)[before:]
        conns = srv.connections - conns
        R.check(conns < len(reqs), f"{repo}: sigil reused connections ({len(reqs)} requests over "
                f"{conns} connections)")
        R.check(s.rc == 0 and s.sanitizer is None,
                f"{repo}: trusted signature on the last referrers page verifies", s.describe())
        rp = [p for m, p in reqs if "/referrers/" in p]
        R.check(len(rp) == pages, f"{repo}: sigil followed Link pagination through {pages} pages",
                "\n     ".join(p for _, p in reqs))
        R.check(all("artifactType=" in p for p in rp),
                f"{repo}: every referrers request keeps the artifactType filter", "\n     ".join(rp))
        fetched = [p for m, p in reqs if "/manifests/" in p]
        R.check(not any(sb in p for sb in sboms for p in fetched),
                f"{repo}: no unrelated referrer fetched", "\n     ".join(fetched))
        R.expect_agree(f"{repo}/x", w.t, cfg, ref, ["--plain-http"], nkw, "pass")
        R.expect_agree(f"{repo}/x-by-tag", w.t, cfg, f"{srv.host}/{repo}:x", ["--plain-http"], nkw, "pass")
        R.expect_agree(f"{repo}/untrusted-only", w.t, cfg, f"{srv.host}/{repo}@{y}", ["--plain-http"],
                       nkw, "fail")
        R.expect_agree(f"{repo}/unsigned-with-other-referrers", w.t, cfg, f"{srv.host}/{repo}@{u}",
                       ["--plain-http"], nkw, "fail")
        # at most 4 signatures examined: the trusted 5th is never reached
        before = len(srv.requests(repo))
        nv, s = R.expect_agree(f"{repo}/max-signatures-4", w.t, cfg, ref,
                               ["--plain-http", "--max-signatures", "4"],
                               dict(nkw, extra=["--max-signatures", "4"]), "fail")
        reqs = srv.requests(repo)[before:]
        R.check(s.rc == 1 and s.failure == "limit", f"{repo}/max-signatures-4: sigil stops at the limit",
                s.describe())
        sig_gets = {p.rsplit("/", 1)[1] for m, p in reqs if "/manifests/" in p and m == "GET"} & set(sigs)
        R.check(sig_gets <= set(sigs[:4]),
                f"{repo}/max-signatures-4: the 5th signature manifest was not fetched by sigil or notation",
                str(sig_gets))


def fault_world(w):
    """Image f with a trusted JWS and an untrusted COSE signature: it
    verifies when nothing goes wrong (the control), so every denial below
    is the fault's doing."""
    f = w.lay.image("f", tag="f")[0]
    good = w.sign(f, "jws", True)
    bad = w.sign(f, "cose", False)
    # 10000 distinct signature manifests (the untrusted one with a counter
    # annotation), all listed on one referrers page
    base = json.loads(w.lay.get(bad))
    extra, many = {}, []
    for i in range(10000):
        doc = copy.deepcopy(base)
        doc.setdefault("annotations", {})["test.sigil.n"] = str(i)
        data = json.dumps(doc, separators=(",", ":")).encode()
        d = R.sha256(data)
        extra[d] = data
        many.append({"mediaType": R.MANIFEST_MT, "digest": d, "size": len(data),
                     "artifactType": R.SIG_ARTIFACT})
    # a signature manifest declaring a 17 MiB envelope
    doc = json.loads(w.lay.get(good))
    doc["layers"][0]["size"] = 17 * 1024 * 1024
    data = json.dumps(doc, separators=(",", ":")).encode()
    huge = R.sha256(data)
    # the trusted signature first: without a fault, f verifies at once
    order = {f: [w.descriptor(good), w.descriptor(bad)]}
    repos = {f"fault/{k}": regserver.Repo(w.lay, fault=k, referrers=order) for k in regserver.FAULTS}
    repos["fault/none"] = regserver.Repo(w.lay, referrers=order)
    repos["fault/referrers-10000"] = regserver.Repo(w.lay, extra=extra, referrers={f: many})
    repos["fault/huge-envelope-declared"] = regserver.Repo(
        w.lay, extra={huge: data},
        referrers={f: [{"mediaType": R.MANIFEST_MT, "digest": huge, "size": len(data),
                        "artifactType": R.SIG_ARTIFACT}]})
    return f, regserver.Server(repos)


# (case, repo, extra sigil args, every group must match one alternative
#  in the reason (lower-cased), expected failure or None)
TIMEOUT = 3
ANY_LIMIT = ("limit", "too large", "more than", "exceed", "bytes", "mib", "big")
CASES = [
    ("registry-down", None, [], [("refused", "connect", "could not", "couldn't")], None),
    ("manifest-500", "fault/manifest-500", [], [("500",)], None),
    ("slow-beyond-deadline", "fault/slow", [], [("timed out", "timeout", "deadline")], None),
    ("trickle-beyond-deadline", "fault/trickle", [], [("timed out", "timeout", "deadline")], None),
    ("truncated-body", "fault/truncated", [], [("partial", "closed", "truncat", "remaining",
                                                "short", "incomplete", "transfer", "end of")], None),
    ("oversized-manifest", "fault/oversized-manifest", [], [ANY_LIMIT], None),
    ("manifest-digest-mismatch", "fault/manifest-mismatch", [], [("digest",)], None),
    ("blob-digest-mismatch", "fault/blob-mismatch", [], [("digest",)], None),
    ("blob-oversized-body", "fault/blob-huge", [], [ANY_LIMIT], None),
    ("envelope-declared-17MiB", "fault/huge-envelope-declared", [], [ANY_LIMIT], None),
    ("blob-redirect-loop", "fault/blob-redirect-loop", [], [("redirect",)], None),
    ("401-without-credentials", "fault/auth-401", [], [("401",), ("credential",)], None),
    ("referrers-link-loop", "fault/link-loop", [], [("pages",)], None),
    ("referrers-link-other-host", "fault/link-other-host", [], [("host",)], None),
    ("referrers-10000-max-5", "fault/referrers-10000", ["--max-signatures", "5"], [("limit",)], "limit"),
    ("referrers-10000-default-max", "fault/referrers-10000", ["--timeout", "60"], [("limit",)], "limit"),
]


def group_faults(w):
    f, srv = fault_world(w)
    cfg = R.trust_config(w.work, "trusted", ["*"], [w.trusted.root])
    R.log(f"faults: server http://{srv.host}")
    s = R.sigil_verify(f"{srv.host}/fault/none@{f}", cfg, "--plain-http", "--timeout", str(TIMEOUT))
    R.check(s.rc == 0 and s.sanitizer is None, "faults/control: verifies without a fault", s.describe())
    down = R.free_port()

    def one(case):
        name, repo, extra, groups, failure = case
        host = srv.host if repo else f"127.0.0.1:{down}"
        ref = f"{host}/{repo or 'fault/down'}@{f}"
        s = R.sigil_verify(ref, cfg, "--plain-http", "--timeout", str(TIMEOUT), *extra, timeout=90)
        return case, host, s

    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        results = list(ex.map(one, CASES))
    for (name, repo, extra, groups, failure), host, s in results:
        label = f"faults/{name}"
        R.log(f"---- {label}: exit {s.rc} after {s.elapsed:.2f} s, failure {s.failure!r}: {s.reason}")
        R.check(s.sanitizer is None, f"{label}: sigil ran clean under the sanitizers", s.describe())
        R.check(s.rc in (1, 2), f"{label}: denied with exit 1 or 2", s.describe())
        limit = int(extra[extra.index("--timeout") + 1]) if "--timeout" in extra else TIMEOUT
        R.check(s.elapsed < limit + 2, f"{label}: finished within --timeout {limit} + 2 s "
                f"({s.elapsed:.2f} s)", s.describe())
        R.check(bool(s.reason) and "\n" not in s.reason, f"{label}: one-line reason", s.describe())
        R.check(host in s.reason, f"{label}: reason names the registry {host}", s.describe())
        low = s.reason.lower()
        R.check(all(any(a in low for a in alts) for alts in groups),
                f"{label}: reason says what happened ({' and '.join('/'.join(a) for a in groups)})",
                s.describe())
        if failure:
            R.check(s.failure == failure, f"{label}: failure is {failure}", s.describe())
    many = [p for m, p in srv.requests("fault/referrers-10000", "manifests")]
    R.check(len(many) <= 5 + 100 + 4, "faults/referrers-10000: sigil fetched no more signature "
            f"manifests than its limits ({len(many)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", required=True, choices=["referrers-api", "faults"])
    ap.add_argument("--sigil")
    a = ap.parse_args()

    def body():
        w = World(a.group)
        globals()["group_" + a.group.replace("-", "_")](w)
    R.main(body)


if __name__ == "__main__":
    main()
