#!/usr/bin/python3
"""Real-registry tests against Debian's docker-registry (distribution 2.8,
which has no referrers API: notation and sigil both use the referrers tag
schema). Images are pushed with the real oras, signed with the real
notation (JWS and COSE), and `notation verify` and `sigil verify` must agree.

usage: test-distribution.py --group anonymous|basic|tls|token --sigil PATH
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reglib as R  # noqa: E402

USER, PASSWORD = "sigiltest", "pw-" + os.urandom(6).hex()
REPO = "regtest/app"


class World:
    """One registry, one repository, the images and signatures every group
    checks, and the trust configurations."""

    def __init__(self, group):
        self.group = group
        self.vals = R.tools(need_registry=True, need_htpasswd=(group == "basic"))
        self.work = R.mkdtemp(f"reg-{group}")
        self.mc = R.load_corpus_helpers()
        self.t = R.Tools(self.work, self.vals, self.mc)
        self.trusted, self.rogue = R.signing_pkis(self.work, self.mc)
        self.tls = self.token = None
        self.creds = None
        kw = {}
        if group == "basic":
            kw["htpasswd"] = R.htpasswd_file(self.work, USER, PASSWORD)
            self.creds = (USER, PASSWORD)
        elif group == "tls":
            self.tls = R.TLSAuthority(os.path.join(self.work, "tls"))
            kw["tls"] = self.tls
        elif group == "token":
            self.token = R.TokenServer(self.work, USER, PASSWORD, allow_anonymous=True)
            kw["token"] = self.token
            self.creds = (USER, PASSWORD)
        self.reg = R.Registry(self.work, "registry", **kw)
        self.host = self.reg.host
        self.scope = f"{self.host}/{REPO}"
        R.log(f"{group}: registry {self.reg.scheme}://{self.host}")
        self.ca = self.tls.ca if self.tls else None
        self.plain = self.reg.scheme == "http"
        # sigil's view of the registry: credentials and hosts.toml
        self.sigil_args = []
        if self.plain:
            self.sigil_args.append("--plain-http")
        if self.tls:
            self.sigil_args += ["--registry-config", R.hosts_dir(self.work, self.host, self.tls.ca)]
        self.dcfg = None
        if self.creds:
            self.dcfg = R.docker_config(self.work, "docker", self.host, *self.creds)
        self.notation_kw = {"insecure": self.plain, "ca": self.ca, "creds": self.creds}
        self.signcfg = self.t.sign_key_config(self.trusted)
        self.cfg = {
            "trusted": R.trust_config(self.work, "trusted", self.scope, [self.trusted.root]),
            "rogue": R.trust_config(self.work, "rogue", self.scope, [self.rogue.root]),
            "identity": R.trust_config(
                self.work, "identity", self.scope, [self.trusted.root],
                identities=[self.trusted.identity([(k, v + " Other" if k == "CN" else v)
                                                   for k, v in self.trusted.leaf_subject])]),
        }

    def ref(self, d):
        return f"{self.scope}{'@' if d.startswith('sha256:') else ':'}{d}"

    def push(self, layout, tag, recursive=False):
        self.t.oras_cp(layout, tag, f"{self.scope}:{tag}", recursive=recursive,
                       plain_http=self.plain, ca=self.ca, creds=self.creds)

    def sign(self, digest, fmt):
        self.t.sign(self.signcfg, self.ref(digest), fmt, insecure=self.plain, ca=self.ca,
                    creds=self.creds)

    def agree(self, label, cfg, ref, extra=(), expect=None, creds=True):
        args = list(self.sigil_args) + list(extra)
        nkw = dict(self.notation_kw)
        if creds and self.dcfg:
            args += ["--docker-config", self.dcfg]
        elif not creds:
            nkw["creds"] = None
        return R.expect_agree(f"{self.group}/{label}", self.t, self.cfg[cfg], ref, args, nkw, expect)

    def sigil(self, ref, *extra, cfg="trusted"):
        return R.sigil_verify(ref, self.cfg[cfg], *self.sigil_args, *extra)


def build_images(w, full):
    lay = R.Layout(os.path.join(w.work, "layout"))
    img = {}
    for tag in ("jws", "cose", "unsigned"):
        img[tag] = lay.image(tag, tag=tag)[0]
    if full:
        img["multi"] = lay.multiarch("multi", "multi")[0]
    for tag in img:
        w.push(lay.path, tag)
    w.sign(img["jws"], "jws")
    w.sign(img["cose"], "cose")
    if full:
        w.sign(img["multi"], "jws")
        with open(os.path.join(lay.blobs, img["multi"][7:]), "rb") as f:
            img["multi-child"] = json.load(f)["manifests"][1]["digest"]
        # tampered: signed in a layout, one bit of the signature flipped,
        # then the image and its (modified) signature pushed with oras cp -r
        tl = R.Layout(os.path.join(w.work, "tampered"))
        for fmt in ("jws", "cose"):
            d = tl.image(f"tampered-{fmt}", tag=f"tampered-{fmt}")[0]
            w.t.sign(w.signcfg, f"{tl.path}@{d}", fmt, oci_layout=True)
            tl.reload()
            sig = []
            for m in tl.index:
                doc = json.loads(tl.get(m["digest"]))
                if (doc.get("artifactType") or doc.get("config", {}).get("mediaType")) == R.SIG_ARTIFACT and \
                        doc.get("subject", {}).get("digest") == d:
                    sig.append(m)
            assert len(sig) == 1, sig
            w.mc.tamper_signature(tl.path, sig[0]["digest"])
            tl.reload()
            img[f"tampered-{fmt}"] = d
            w.push(tl.path, f"tampered-{fmt}", recursive=True)
    return img


def common(w, img):
    w.agree("jws-by-digest", "trusted", w.ref(img["jws"]), expect="pass")
    w.agree("cose-by-tag", "trusted", w.ref("cose"), expect="pass")
    w.agree("unsigned", "trusted", w.ref(img["unsigned"]), expect="fail")


def group_anonymous(w):
    img = build_images(w, full=True)
    common(w, img)
    w.agree("cose-by-digest", "trusted", w.ref(img["cose"]), expect="pass")
    w.agree("jws-by-tag", "trusted", w.ref("jws"), expect="pass")
    w.agree("untrusted-root-jws", "rogue", w.ref(img["jws"]), expect="fail")
    w.agree("untrusted-root-cose", "rogue", w.ref(img["cose"]), expect="fail")
    w.agree("wrong-identity-jws", "identity", w.ref(img["jws"]), expect="fail")
    w.agree("wrong-identity-cose", "identity", w.ref(img["cose"]), expect="fail")
    w.agree("tampered-jws", "trusted", w.ref(img["tampered-jws"]), expect="fail")
    w.agree("tampered-cose", "trusted", w.ref(img["tampered-cose"]), expect="fail")
    w.agree("index-signed-by-digest", "trusted", w.ref(img["multi"]), expect="pass")
    w.agree("index-signed-by-tag", "trusted", w.ref("multi"), expect="pass")
    w.agree("index-child-unsigned", "trusted", w.ref(img["multi-child"]), expect="fail")
    # a repository that does not exist, and a tag that does not exist
    s = w.sigil(f"{w.host}/regtest/nothing@sha256:" + "ab" * 32, "--timeout", "5")
    R.check(s.rc in (1, 2) and w.host in s.reason and s.sanitizer is None,
            "anonymous/unknown-repository: denied, reason names the registry", s.describe())
    s = w.sigil(w.ref("no-such-tag"), "--timeout", "5")
    R.check(s.rc in (1, 2) and w.host in (s.reason + s.stderr) and s.sanitizer is None,
            "anonymous/unknown-tag: denied, reason names the registry", s.describe())
    # containerd's host order (hosts.toml): a mirror that is down is passed
    # over for the next host, the registry itself
    md = os.path.join(w.work, "certs-mirror")
    os.makedirs(os.path.join(md, w.host))
    with open(os.path.join(md, w.host, "hosts.toml"), "w") as f:
        f.write(f'server = "http://{w.host}"\n\n'
                f'[host."http://127.0.0.1:{R.free_port()}"]\n  capabilities = ["pull", "resolve"]\n')
    s = R.sigil_verify(w.ref(img["jws"]), w.cfg["trusted"], "--registry-config", md, "--timeout", "20")
    R.check(s.rc == 0, "anonymous/dead-mirror-then-registry: the next host in hosts.toml order verifies",
            s.describe())
    # without --plain-http: 127.0.0.1 is plain HTTP the way containerd treats localhost
    s = R.sigil_verify(w.ref(img["jws"]), w.cfg["trusted"])
    R.check(s.rc == 0, "anonymous/localhost-plain-http-by-default: 127.0.0.1 works without --plain-http",
            s.describe())


def no_creds_denied(w, img, label):
    s = w.sigil(w.ref(img["jws"]))
    R.check(s.rc in (1, 2) and s.sanitizer is None, f"{label}: denied without credentials", s.describe())
    R.check("401" in s.reason and w.host in s.reason and "credential" in s.reason.lower(),
            f"{label}: reason names 401, the registry and credentials", s.describe())
    R.check("\n" not in s.reason, f"{label}: one-line reason", s.describe())
    nv, _, nout = w.t.verify(w.cfg["trusted"], w.ref(img["jws"]), insecure=w.plain, ca=w.ca)
    R.check(nv == "fail", f"{label}: notation also fails without credentials", nout[-800:])


def wrong_creds_denied(w, img, label):
    bad = R.docker_config(w.work, "docker-bad", w.host, USER, "not-the-password")
    s = w.sigil(w.ref(img["jws"]), "--docker-config", bad)
    R.check(s.rc in (1, 2) and s.sanitizer is None, f"{label}: denied with wrong credentials", s.describe())
    R.check("401" in s.reason and "credential" in s.reason.lower(),
            f"{label}: reason names 401 and credentials", s.describe())
    nv, _, nout = w.t.verify(w.cfg["trusted"], w.ref(img["jws"]), insecure=w.plain, ca=w.ca,
                             creds=(USER, "not-the-password"))
    R.check(nv == "fail", f"{label}: notation also fails with wrong credentials", nout[-800:])


def group_basic(w):
    img = build_images(w, full=False)
    common(w, img)
    w.agree("untrusted-root", "rogue", w.ref(img["cose"]), expect="fail")
    no_creds_denied(w, img, "basic/no-credentials")
    wrong_creds_denied(w, img, "basic/wrong-credentials")


def group_tls(w):
    img = build_images(w, full=False)
    common(w, img)
    w.agree("wrong-identity", "identity", w.ref(img["jws"]), expect="fail")
    # a hosts.toml that names the host but not the CA, and one with another
    # CA: TLS verification (on by default) must fail
    other = R.TLSAuthority(os.path.join(w.work, "other-ca"))
    for label, hd in (("no-ca-in-hosts-toml", R.hosts_dir(w.work, w.host, None, "certs-noca")),
                      ("other-ca-in-hosts-toml", R.hosts_dir(w.work, w.host, other.ca, "certs-other"))):
        s = R.sigil_verify(w.ref(img["jws"]), w.cfg["trusted"], "--timeout", "10", "--registry-config", hd)
        R.check(s.rc in (1, 2) and s.sanitizer is None, f"tls/{label}: denied", s.describe())
        R.check(w.host in s.reason and any(x in s.reason.lower() for x in ("certificate", "tls", "ssl")),
                f"tls/{label}: reason names the registry and the certificate problem", s.describe())
    nv, _, nout = w.t.verify(w.cfg["trusted"], w.ref(img["jws"]))
    R.check(nv == "fail", "tls/unknown-ca: notation also fails without the CA", nout[-800:])
    # no hosts.toml at all: containerd skips TLS verification for a
    # localhost registry (remotes/docker/config/hosts.go), and so does sigil
    s = R.sigil_verify(w.ref(img["jws"]), w.cfg["trusted"], "--timeout", "10",
                       "--registry-config", R.mkdtemp("empty-hosts"))
    R.check(s.rc == 0 and s.sanitizer is None,
            "tls/localhost-without-hosts-toml: verification skipped for localhost as containerd does",
            s.describe())


def group_token(w):
    img = build_images(w, full=False)
    # anonymous pull allowed: no credentials needed (sigil alone first, so
    # that the token endpoint's log shows what sigil asked for)
    w.token.requests.clear()
    s = w.sigil(w.ref(img["jws"]))
    R.check(s.rc == 0 and s.sanitizer is None, "token/anonymous-allowed: sigil verifies without credentials",
            s.describe())
    R.check(len(w.token.requests) >= 1 and all(u is None for u, _ in w.token.requests),
            "token/anonymous-allowed: sigil fetched anonymous tokens", str(w.token.requests))
    R.check(all(sc == f"repository:{REPO}:pull" for _, sc in w.token.requests),
            "token/anonymous-allowed: scope repository:<name>:pull", str(w.token.requests))
    R.check(len(w.token.requests) == 1, "token/anonymous-allowed: one token for the whole verification "
            "(cached per scope)", str(w.token.requests))
    w.agree("anonymous-allowed-jws", "trusted", w.ref(img["jws"]), expect="pass", creds=False)
    common(w, img)
    # anonymous pull denied: only with the docker config's credentials
    w.token.allow_anonymous = False
    no_creds_denied(w, img, "token/anonymous-denied")
    w.token.requests.clear()
    s = w.sigil(w.ref(img["cose"]), "--docker-config", w.dcfg)
    R.check(s.rc == 0 and s.sanitizer is None, "token/anonymous-denied: sigil verifies with the docker "
            "config's credentials", s.describe())
    R.check(len(w.token.requests) >= 1 and all(u == USER for u, _ in w.token.requests),
            "token/anonymous-denied: sigil authenticated to the token endpoint with Basic credentials",
            str(w.token.requests))
    w.agree("anonymous-denied-with-credentials", "trusted", w.ref(img["cose"]), expect="pass")
    wrong_creds_denied(w, img, "token/wrong-credentials")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", required=True, choices=["anonymous", "basic", "tls", "token"])
    ap.add_argument("--sigil")
    a = ap.parse_args()

    def body():
        w = World(a.group)
        globals()["group_" + a.group](w)
    R.main(body)


if __name__ == "__main__":
    main()
