#!/usr/bin/python3
"""Generate a fresh differential corpus: new random names, new keys, new
images, signed by the real `notation sign --oci-layout`, with the verdict of
the real `notation verify` recorded as the expected outcome.

The cases are written in exactly the conformance corpus format
(tests/corpus/conformance/README.md): cases/<NNN-name>/{layout/, truststore/,
trustpolicy.json, trustpolicy.oci.json, reference, digest, expected.json},
so that tests/conformance/run-case.py --kind conformance can compare sigil
with notation on them.

Only the standard library; external programs: openssl and notation.

usage: make-corpus.py --notation PATH --out DIR [--jobs N]
"""
import argparse
import base64
import concurrent.futures
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import threading
import time

OPENSSL = shutil.which("openssl") or "openssl"
SIG_ARTIFACT = "application/vnd.cncf.notary.signature"
MANIFEST_MT = "application/vnd.oci.image.manifest.v1+json"
INDEX_MT = "application/vnd.oci.image.index.v1+json"

KEY_TYPES = ["rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384", "ec-p521"]
HASH_OF = {"rsa2048": "sha256", "rsa3072": "sha384", "rsa4096": "sha512",
           "ec-p256": "sha256", "ec-p384": "sha384", "ec-p521": "sha512"}

OPENSSL_CNF = """\
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


# --------------------------------------------------------------- helpers

def rand_word(n=None):
    """A pronounceable random word (fresh names nobody has seen)."""
    cons, vows = "bcdfghjklmnprstvwz", "aeiou"
    n = n or 2 + secrets.randbelow(3)
    w = "".join(secrets.choice(cons) + secrets.choice(vows) for _ in range(n))
    return w.capitalize()


def rand_tag():
    return secrets.token_hex(3)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_json(path, obj, compact=False):
    with open(path, "w") as f:
        if compact:
            json.dump(obj, f, separators=(",", ":"))
        else:
            json.dump(obj, f, indent=2)
            f.write("\n")


# ------------------------------------------------------------------- PKI

class PKI:
    """root -> intermediate -> leaf, Notary Project certificate profile."""

    def __init__(self, work, label, keytype):
        self.dir = os.path.join(work, "pki", label)
        os.makedirs(self.dir)
        self.keytype = keytype
        org = f"{rand_word()} {rand_word()} {secrets.choice(['Ltd', 'GmbH', 'Inc', 'BV', 'SA'])}"
        country = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(2))
        state = rand_word()
        self.root_subject = [("C", country), ("ST", state), ("O", org),
                             ("CN", f"{rand_word()} Root CA {rand_tag()}")]
        self.inter_subject = [("C", country), ("ST", state), ("O", org), ("OU", rand_word()),
                              ("CN", f"{rand_word()} Intermediate CA {rand_tag()}")]
        self.leaf_subject = [("C", country), ("ST", state), ("L", rand_word()), ("O", org),
                             ("OU", rand_word()), ("CN", f"{rand_word()} Signer {rand_tag()}")]
        cnf = os.path.join(self.dir, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write(OPENSSL_CNF)
        md = "-" + HASH_OF[keytype]
        p = lambda n: os.path.join(self.dir, n)
        for n in ("root", "inter", "leaf"):
            self._genkey(p(n + ".key"))
        run([OPENSSL, "req", "-new", "-x509", "-config", cnf, "-extensions", "root",
             "-key", p("root.key"), "-subj", self._subj(self.root_subject), "-days", "3650",
             md, "-set_serial", self._serial(), "-out", p("root.crt")])
        for n, issuer, ext, subj in (("inter", "root", "inter", self.inter_subject),
                                     ("leaf", "inter", "leaf", self.leaf_subject)):
            run([OPENSSL, "req", "-new", "-config", cnf, "-key", p(n + ".key"),
                 "-subj", self._subj(subj), "-out", p(n + ".csr")])
            run([OPENSSL, "x509", "-req", "-in", p(n + ".csr"), "-CA", p(issuer + ".crt"),
                 "-CAkey", p(issuer + ".key"), "-set_serial", self._serial(), "-days",
                 "3000" if n == "inter" else "2000", md, "-extfile", cnf, "-extensions", ext,
                 "-out", p(n + ".crt")])
        self.root, self.inter, self.leaf = p("root.crt"), p("inter.crt"), p("leaf.crt")
        self.key = p("leaf.key")
        self.chain = p("chain.pem")
        with open(self.chain, "w") as out:
            for n in (self.leaf, self.inter, self.root):
                with open(n) as f:
                    out.write(f.read())

    def _genkey(self, path):
        if self.keytype.startswith("rsa"):
            opts = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:" + self.keytype[3:]]
        else:
            opts = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-" + self.keytype[4:],
                    "-pkeyopt", "ec_param_enc:named_curve"]
        run([OPENSSL, "genpkey"] + opts + ["-out", path])

    @staticmethod
    def _serial():
        return "0x" + secrets.token_hex(12)

    @staticmethod
    def _subj(rdns):
        return "".join(f"/{k}={v}" for k, v in rdns)

    def identity(self, rdns=None):
        rdns = self.leaf_subject if rdns is None else rdns
        return "x509.subject: " + ", ".join(f"{k}={v}" for k, v in rdns)


# ----------------------------------------------------------------- image

def write_image(layout):
    """A tiny single-platform image written directly as an OCI layout."""
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        d = sha256(data)
        with open(os.path.join(blobs, d[7:]), "wb") as f:
            f.write(data)
        return d

    content = f"differential {secrets.token_hex(16)}\n".encode()
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        ti = tarfile.TarInfo("etc/diff-" + rand_tag())
        ti.size, ti.mtime, ti.mode = len(content), 0, 0o644
        tar.addfile(ti, io.BytesIO(content))
    tar_bytes = tbuf.getvalue()
    layer = gzip.compress(tar_bytes, mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/true"], "Labels": {"differential.nonce": secrets.token_hex(8)}},
        "created": "2025-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]},
    }, separators=(",", ":")).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_MT,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": put(layer), "size": len(layer)}],
    }, separators=(",", ":")).encode()
    digest = put(manifest)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    write_json(os.path.join(layout, "index.json"), {
        "schemaVersion": 2, "mediaType": INDEX_MT,
        "manifests": [{"mediaType": MANIFEST_MT, "digest": digest, "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, compact=True)
    return digest


def tamper_signature(layout, sig_manifest_digest):
    """Flip one bit of the signature value inside the envelope and rewrite
    the blob, the signature manifest and index.json to the new digests, so
    that only the cryptographic signature is wrong."""
    blobs = os.path.join(layout, "blobs", "sha256")
    mpath = os.path.join(blobs, sig_manifest_digest[7:])
    with open(mpath, "rb") as f:
        manifest = json.load(f)
    layer = manifest["layers"][0]
    epath = os.path.join(blobs, layer["digest"][7:])
    with open(epath, "rb") as f:
        env = f.read()
    if layer["mediaType"] == "application/jose+json":
        doc = json.loads(env)
        s = doc["signature"]
        sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        sig[len(sig) // 2] ^= 0x04
        doc["signature"] = base64.urlsafe_b64encode(bytes(sig)).decode().rstrip("=")
        new_env = json.dumps(doc, separators=(",", ":")).encode()
    else:
        # COSE_Sign1 = [protected, unprotected, payload, signature]: the
        # signature bstr is the last item, so the last bytes are in it.
        b = bytearray(env)
        b[-7] ^= 0x04
        new_env = bytes(b)
    os.unlink(epath)
    layer["digest"], layer["size"] = sha256(new_env), len(new_env)
    with open(os.path.join(blobs, layer["digest"][7:]), "wb") as f:
        f.write(new_env)
    new_manifest = json.dumps(manifest, separators=(",", ":")).encode()
    os.unlink(mpath)
    new_digest = sha256(new_manifest)
    with open(os.path.join(blobs, new_digest[7:]), "wb") as f:
        f.write(new_manifest)
    ipath = os.path.join(layout, "index.json")
    with open(ipath) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m["digest"] == sig_manifest_digest:
            m["digest"], m["size"] = new_digest, len(new_manifest)
    write_json(ipath, index, compact=True)
    return new_digest


# ------------------------------------------------------------- scenarios

class Sig:
    def __init__(self, pki, fmt, expiry=None, meta=None, tamper=False):
        self.pki, self.fmt, self.expiry = pki, fmt, expiry
        self.meta, self.tamper = meta or {}, tamper


def statement(name, scopes, level="strict", override=None, stores=(), identities=("*",)):
    sv = {"level": level}
    if override:
        sv["override"] = override
    st = {"name": name, "registryScopes": list(scopes), "signatureVerification": sv}
    if level != "skip":
        st["trustStores"] = list(stores)
        st["trustedIdentities"] = list(identities)
    return st


def scenarios(pkis, rogue):
    """(name, description, fmt, signatures, trust, policy-builder, verify metadata)

    trust: list of (store type, store name, [cert paths]).
    policy-builder: f(scope, stores) -> list of statements."""
    main = "ca:" + rand_word().lower()
    std = lambda level="strict", override=None, identities=("*",): (
        lambda scope: [statement(rand_word().lower() + "-policy", [scope], level, override,
                                 [main], identities)])
    store = main.split(":")[1]
    trust_root = lambda pki: [("ca", store, [pki.root])]
    out = []

    def add(name, desc, fmt, sigs, trust, policy, meta=None):
        out.append(dict(name=name, desc=desc, fmt=fmt, sigs=sigs, trust=trust, policy=policy,
                        meta=meta or {}))

    for kt in KEY_TYPES:
        for fmt in ("jws", "cose"):
            add(f"{fmt}-{kt}-valid", f"valid {fmt.upper()} signature, {kt} 3-level chain",
                fmt, [Sig(pkis[kt], fmt)], trust_root(pkis[kt]), std())
    a, b = pkis["ec-p256"], pkis["rsa3072"]
    for fmt, p in (("jws", a), ("cose", b)):
        add(f"{fmt}-untrusted-root", "trust store holds another root", fmt,
            [Sig(p, fmt)], trust_root(rogue), std())
        add(f"{fmt}-trust-intermediate-only", "only the intermediate CA is trusted", fmt,
            [Sig(p, fmt)], [("ca", store, [p.inter])], std())
        add(f"{fmt}-identity-mismatch", "trusted identity names another signer", fmt,
            [Sig(p, fmt)], trust_root(p),
            std(identities=[p.identity([(k, v if k != "CN" else v + " Other")
                                        for k, v in p.leaf_subject])]))
        add(f"{fmt}-identity-partial-match", "trusted identity is a subset (C, ST, O, CN) of the leaf DN",
            fmt, [Sig(p, fmt)], trust_root(p),
            std(identities=[p.identity([x for x in p.leaf_subject if x[0] in ("C", "ST", "O", "CN")])]))
        add(f"{fmt}-expired-signature-strict", "signed with --expiry 1s, verified later", fmt,
            [Sig(p, fmt, expiry="1s")], trust_root(p), std())
        add(f"{fmt}-audit-untrusted-root", "audit level, untrusted root", fmt,
            [Sig(p, fmt)], trust_root(rogue), std("audit"))
        add(f"{fmt}-override-authenticity-log", "strict with authenticity=log, untrusted root", fmt,
            [Sig(p, fmt)], trust_root(rogue), std(override={"authenticity": "log"}))
        add(f"{fmt}-tampered-signature", "one bit of the signature value flipped", fmt,
            [Sig(p, fmt, tamper=True)], trust_root(p), std())
        add(f"{fmt}-user-metadata-match", "signed and verified with the same user metadata", fmt,
            [Sig(p, fmt, meta={"team": "x" + rand_tag(), "build": rand_tag()})], trust_root(p), std(),
            meta=None)  # filled below
        out[-1]["meta"] = {"team": out[-1]["sigs"][0].meta["team"]}
        add(f"{fmt}-user-metadata-mismatch", "required user metadata has another value", fmt,
            [Sig(p, fmt, meta={"env": "prod"})], trust_root(p), std(), meta={"env": "staging"})
        add(f"{fmt}-multi-tampered-and-good", "two signatures: a tampered one, then a good one", fmt,
            [Sig(p, fmt, tamper=True), Sig(p, fmt)], trust_root(p), std())
    p = pkis["ec-p384"]
    add("jws-identity-full-match", "trusted identity is the full leaf DN", "jws",
        [Sig(p, "jws")], trust_root(p), std(identities=[p.identity()]))
    add("cose-identity-second-entry-matches", "second trusted identity matches", "cose",
        [Sig(p, "cose")], trust_root(p),
        std(identities=[rogue.identity(), p.identity()]))
    add("jws-identity-partial-mismatch", "subset identity with a wrong O", "jws",
        [Sig(p, "jws")], trust_root(p),
        std(identities=[p.identity([(k, v + " X" if k == "O" else v) for k, v in p.leaf_subject
                                    if k in ("C", "ST", "O")])]))
    add("jws-trust-leaf-only", "only the leaf certificate is trusted", "jws",
        [Sig(p, "jws")], [("ca", store, [p.leaf])], std())
    add("cose-trust-root-and-intermediate", "root and intermediate in the store", "cose",
        [Sig(p, "cose")], [("ca", store, [p.root, p.inter])], std())
    add("jws-signing-authority-store", "trust store of type signingAuthority", "jws",
        [Sig(p, "jws")], [("signingAuthority", store, [p.root])],
        lambda scope: [statement("sa-policy", [scope], stores=["signingAuthority:" + store])])
    add("cose-policy-missing-truststore", "the policy names a trust store that does not exist", "cose",
        [Sig(p, "cose")], trust_root(p),
        lambda scope: [statement("missing-policy", [scope], stores=["ca:" + rand_word().lower()])])
    add("jws-expired-signature-permissive", "expired signature, permissive level (expiry logged)", "jws",
        [Sig(p, "jws", expiry="1s")], trust_root(p), std("permissive"))
    add("cose-expired-signature-override-log", "expired signature, strict with expiry=log", "cose",
        [Sig(p, "cose", expiry="1s")], trust_root(p), std(override={"expiry": "log"}))
    add("cose-expired-signature-audit-override-enforce", "expired signature, audit with expiry=enforce",
        "cose", [Sig(p, "cose", expiry="1s")], trust_root(p), std("audit", override={"expiry": "enforce"}))
    add("jws-unexpired-signature", "signed with --expiry 24h", "jws",
        [Sig(p, "jws", expiry="24h")], trust_root(p), std())
    add("jws-permissive-untrusted-root", "permissive level, untrusted root (authenticity is enforced)", "jws",
        [Sig(p, "jws")], trust_root(rogue), std("permissive"))
    add("jws-tampered-signature-audit", "tampered signature at audit level (integrity is always enforced)",
        "jws", [Sig(p, "jws", tamper=True)], trust_root(p), std("audit"))
    add("cose-user-metadata-absent", "required user metadata not in the signature", "cose",
        [Sig(p, "cose")], trust_root(p), std(), meta={"env": "prod"})
    add("unsigned", "image without signatures", "none", [], trust_root(p), std())
    add("unsigned-audit", "image without signatures, audit level (notation fails, §8 #17)", "none",
        [], trust_root(p), std("audit"))
    add("multi-untrusted-and-trusted", "JWS from an untrusted root, then COSE from the trusted one", "mixed",
        [Sig(rogue, "jws"), Sig(p, "cose")], trust_root(p), std())
    add("multi-all-bad", "two signatures from an untrusted root", "mixed",
        [Sig(rogue, "cose"), Sig(rogue, "jws")], trust_root(p), std())
    add("scope-mismatch", "the only statement is for another repository", "jws",
        [Sig(p, "jws")], trust_root(p),
        lambda scope: [statement("other", [scope + "-other"], stores=[main])])
    add("scope-wildcard", "the only statement has scope *", "cose",
        [Sig(p, "cose")], trust_root(p),
        lambda scope: [statement("wild", ["*"], stores=[main])])
    add("scope-specific-wins", "specific statement (untrusted store) wins over * (trusted)", "jws",
        [Sig(p, "jws")], [("ca", store, [p.root]), ("ca", "rogue", [rogue.root])],
        lambda scope: [statement("specific", [scope], stores=["ca:rogue"]),
                       statement("wild", ["*"], stores=[main])])
    add("jws-identity-state-alias-s", "trusted identity spells ST as S (S1.1 alias)", "jws",
        [Sig(p, "jws")], trust_root(p),
        std(identities=[p.identity([("S" if k == "ST" else k, v) for k, v in p.leaf_subject])]))
    add("cose-identity-reordered", "full leaf DN with the attributes in another order", "cose",
        [Sig(p, "cose")], trust_root(p), std(identities=[p.identity(list(reversed(p.leaf_subject)))]))
    add("jws-identities-all-wrong", "two trusted identities, neither matches", "jws",
        [Sig(p, "jws")], trust_root(p), std(identities=[rogue.identity(), pkis["rsa2048"].identity()]))
    add("policy-wildcard-identity-mixed", "trustedIdentities mixes * with a DN (invalid policy)", "jws",
        [Sig(p, "jws")], trust_root(p), std(identities=["*", p.identity()]))
    add("policy-duplicate-statement-names", "two statements with the same name (invalid policy)", "jws",
        [Sig(p, "jws")], trust_root(p),
        lambda scope: [statement("dup", [scope], stores=[main]),
                       statement("dup", [scope + "-x"], stores=[main])])
    add("policy-override-integrity", "override tries to log integrity (invalid policy)", "cose",
        [Sig(p, "cose")], trust_root(p), std(override={"integrity": "log"}))
    add("policy-duplicate-scope", "one scope in two statements (invalid policy)", "cose",
        [Sig(p, "cose")], trust_root(p),
        lambda scope: [statement("one", [scope], stores=[main]),
                       statement("two", [scope], stores=[main])])
    add("audit-override-authenticity-enforce", "audit level with authenticity=enforce, untrusted root", "jws",
        [Sig(p, "jws")], trust_root(rogue), std("audit", override={"authenticity": "enforce"}))
    add("strict-override-revocation-skip", "strict with revocation=skip", "cose",
        [Sig(p, "cose")], trust_root(p), std(override={"revocation": "skip"}))
    add("expired-signature-audit", "expired signature, audit level", "jws",
        [Sig(p, "jws", expiry="1s")], trust_root(p), std("audit"))
    add("unsigned-permissive", "image without signatures, permissive level", "none",
        [], trust_root(p), std("permissive"))
    add("user-metadata-subset", "two of three signed user metadata pairs required", "cose",
        [Sig(p, "cose", meta={"a": "1", "b": "two", "c": rand_tag()})], trust_root(p), std(),
        meta={"a": "1", "b": "two"})
    add("user-metadata-one-missing", "one required pair present, one absent", "jws",
        [Sig(p, "jws", meta={"a": "1"})], trust_root(p), std(), meta={"a": "1", "z": "9"})
    add("multi-three-good", "three good signatures: JWS rsa4096, COSE ec-p521, JWS rsa2048", "mixed",
        [Sig(pkis["rsa4096"], "jws"), Sig(pkis["ec-p521"], "cose"), Sig(pkis["rsa2048"], "jws")],
        [("ca", store, [pkis["rsa4096"].root, pkis["ec-p521"].root, pkis["rsa2048"].root])], std())
    add("multi-expired-and-good", "an expired signature, then a valid one", "mixed",
        [Sig(p, "cose", expiry="1s"), Sig(p, "jws")], trust_root(p), std())
    add("second-registry-scope-matches", "statement with two scopes, the second is the artifact's", "jws",
        [Sig(p, "jws")], trust_root(p),
        lambda scope: [statement("two-scopes", [scope + "-a", scope], stores=[main])])
    add("second-trust-store-has-root", "policy names two stores, the second holds the root", "cose",
        [Sig(p, "cose")], [("ca", store, [rogue.root]), ("ca", "second", [p.root])],
        lambda scope: [statement("two-stores", [scope], stores=[main, "ca:second"])])
    add("truststore-extra-certificates", "store holds other roots besides the signing root", "jws",
        [Sig(p, "jws")], [("ca", store, [rogue.root, pkis["rsa2048"].root, p.root])], std())
    add("skip-level-unsigned", "skip level, unsigned image", "none", [], trust_root(p), std("skip"))
    add("skip-level-tampered", "skip level, tampered signature", "cose",
        [Sig(p, "cose", tamper=True)], trust_root(p), std("skip"))
    return out


# ---------------------------------------------------------------- oracle

VALIDATION_TYPE = {"integrity": "integrity", "authenticity": "authenticity", "expiry": "expiry",
                   "authenticTimestamp": "authentic-timestamp", "revocation": "revocation"}


def derive_failing_check(output):
    """The corpus's failing_check from notation's verbose output; "" when it
    cannot be told (the runner then asserts only the verdict)."""
    if "no signature is associated with" in output:
        return "no-signature", None
    if "has no applicable trust policy statement" in output:
        return "policy", None
    # configuration errors notation reports as the overall error instead of
    # failing a signature (an invalid trust policy document, a missing trust
    # store, an unusable (non-CA) certificate in a trust store): the corpus
    # calls them policy failures
    m = re.search(r"^Error: (.*)", output, re.M)
    if (m and not m.group(1).startswith("signature verification failed")
            and re.search(r"trust policy|trust store|registry scope", m.group(1))):
        return "policy", None
    checks, types = set(), set()
    for line in output.splitlines():
        m = re.match(r"level=error msg=(\w+) validation failed\. Failure reason: (.*)", line)
        if m:
            t = m.group(1)
            types.add(t)
            if t == "authenticity" and "does not match the X.509 trusted identities" in m.group(2):
                checks.add("trusted-identity")
            else:
                checks.add(VALIDATION_TYPE.get(t, ""))
        elif re.match(r"level=error msg=User required metadata .* is not present", line):
            checks.add("user-metadata")
    if len(checks) == 1:
        c = checks.pop()
        return c, (types.pop() if len(types) == 1 else None)
    return "", (types.pop() if len(types) == 1 else None)


class Builder:
    def __init__(self, notation, work, cases_dir):
        self.notation, self.work, self.cases_dir = notation, work, cases_dir
        self.lock = threading.Lock()
        self.last_expiring_sign = 0.0
        self.base_env = {k: v for k, v in os.environ.items()
                         if not k.startswith(("XDG_", "NOTATION_"))}
        self.base_env["HOME"] = os.path.join(work, "home")
        self.base_env["XDG_CACHE_HOME"] = os.path.join(work, "home", ".cache")
        self.base_env["NOTATION_EXPERIMENTAL"] = "1"
        os.makedirs(self.base_env["XDG_CACHE_HOME"], exist_ok=True)
        self.registry = f"reg-{rand_word().lower()}.invalid:{5000 + secrets.randbelow(4000)}"
        self.namespace = rand_word().lower()

    def build(self, num, sc):
        name = f"{num:03d}-{sc['name']}"
        case = os.path.join(self.cases_dir, name)
        os.makedirs(case)
        layout = os.path.join(case, "layout")
        digest = write_image(layout)
        repo = f"{self.namespace}/{sc['name']}-{rand_tag()}"
        scope = f"{self.registry}/{repo}"
        reference = f"{scope}@{digest}"
        # signer configuration: signingkeys.json in a private XDG_CONFIG_HOME
        signcfg = os.path.join(self.work, "sign", name)
        os.makedirs(os.path.join(signcfg, "notation"))
        keys = []
        for i, s in enumerate(sc["sigs"]):
            keys.append({"name": f"k{i}", "keyPath": s.pki.key, "certPath": s.pki.chain})
        write_json(os.path.join(signcfg, "notation", "signingkeys.json"),
                   {"keys": keys} if keys else {"keys": []})
        env = dict(self.base_env, XDG_CONFIG_HOME=signcfg)
        for i, s in enumerate(sc["sigs"]):
            with open(os.path.join(layout, "index.json")) as f:
                before = {m["digest"] for m in json.load(f)["manifests"]}
            cmd = [self.notation, "sign", "--oci-layout", "--key", f"k{i}",
                   "--signature-format", s.fmt]
            if s.expiry:
                cmd += ["--expiry", s.expiry]
            for k, v in sorted(s.meta.items()):
                cmd += ["--user-metadata", f"{k}={v}"]
            cmd.append(f"{layout}@{digest}")
            run(cmd, env=env)
            if s.expiry == "1s":
                with self.lock:
                    self.last_expiring_sign = max(self.last_expiring_sign, time.time())
            with open(os.path.join(layout, "index.json")) as f:
                new = [m["digest"] for m in json.load(f)["manifests"] if m["digest"] not in before]
            if len(new) != 1:
                raise RuntimeError(f"{name}: expected one new signature manifest, got {new}")
            if s.tamper:
                tamper_signature(layout, new[0])
        # trust store and policy
        for stype, sname, certs in sc["trust"]:
            d = os.path.join(case, "truststore", "x509", stype, sname)
            os.makedirs(d, exist_ok=True)
            for j, c in enumerate(certs):
                shutil.copy(c, os.path.join(d, f"{j:02d}-{os.path.basename(c)}"))
        policy = {"version": "1.0", "trustPolicies": sc["policy"](scope)}
        for fn in ("trustpolicy.json", "trustpolicy.oci.json"):
            write_json(os.path.join(case, fn), policy)
        with open(os.path.join(case, "reference"), "w") as f:
            f.write(reference + "\n")
        with open(os.path.join(case, "digest"), "w") as f:
            f.write(digest + "\n")
        return name, case, scope, digest

    def oracle(self, sc, name, case, scope, digest):
        root = os.path.join(self.work, "verify", name)
        os.makedirs(root)
        os.symlink(case, os.path.join(root, "notation"))
        cmd = [self.notation, "verify", "--oci-layout", f"layout@{digest}", "--scope", scope]
        for k, v in sorted(sc["meta"].items()):
            cmd += ["--user-metadata", f"{k}={v}"]
        env = dict(self.base_env, XDG_CONFIG_HOME=root)
        p = subprocess.run(cmd + ["--verbose"], capture_output=True, text=True, cwd=case, env=env,
                           timeout=120)
        verbose = "\n".join(l for l in (p.stdout + p.stderr).splitlines()
                            if "This feature is experimental" not in l).strip()
        plain = "\n".join(l for l in verbose.splitlines() if not l.startswith("level=")).strip()
        verdict = "pass" if p.returncode == 0 else "fail"
        check, ftype = derive_failing_check(verbose) if verdict == "fail" else ("", None)
        logged = [l for l in verbose.splitlines()
                  if re.match(r'level=warning msg=\w+ validation failed with validation action set to "logged"', l)]
        statements = json.load(open(os.path.join(case, "trustpolicy.json")))["trustPolicies"]
        lvl = statements[0]["signatureVerification"]
        level = lvl["level"] + ("+override" if lvl.get("override") else "")
        sigs = sc["sigs"]
        expected = {
            "verdict": verdict,
            "notation_exit": p.returncode,
            "notation_output": plain,
            "notation_output_verbose": verbose,
            "level": level,
            "failing_check": check,
            "notation_failed_validation": ftype,
            "logged_failures": logged if verdict == "pass" else [],
            "description": sc["desc"],
            "envelope_format": sc["fmt"],
            "signing_key": ",".join(sorted({s.pki.keytype for s in sigs})) or None,
            "reference": f"{scope}@{digest}",
            "registry": scope.split("/", 1)[0],
            "repository": scope.split("/", 1)[1],
            "digest": digest,
            "image_kind": "image-manifest",
            "signature_count": len(sigs),
            "user_metadata_required": sc["meta"],
            "timestamped": False,
            "requires_revocation_server": False,
            "layout_edited_after_signing": any(s.tamper for s in sigs),
            "oracle_command": "XDG_CONFIG_HOME=$NOTATION_CONFIG_ROOT NOTATION_EXPERIMENTAL=1 notation "
                              + " ".join(cmd[1:]) + " --verbose",
            "oracle_cwd": ".",
            "oracle_config_note": "$NOTATION_CONFIG_ROOT/notation must be this case folder (e.g. a symlink), "
                                  "so notation reads ./truststore and ./trustpolicy.oci.json",
            "generated_by": "tests/differential/make-corpus.py",
        }
        write_json(os.path.join(case, "expected.json"), expected)
        return expected


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--notation", required=True)
    ap.add_argument("--out", required=True, help="corpus folder (created; must not exist or be empty)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    t0 = time.time()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    if os.listdir(out):
        sys.exit(f"make-corpus: {out} is not empty")
    work = os.path.join(out, "work")
    cases_dir = os.path.join(out, "cases")
    os.makedirs(work)
    os.makedirs(cases_dir)
    jobs = max(1, args.jobs)

    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = {kt: ex.submit(PKI, work, kt, kt) for kt in KEY_TYPES}
        futs["rogue"] = ex.submit(PKI, work, "rogue", "ec-p256")
        pkis = {k: f.result() for k, f in futs.items()}
    rogue = pkis.pop("rogue")
    t_pki = time.time()

    b = Builder(args.notation, work, cases_dir)
    scs = scenarios(pkis, rogue)
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        built = list(ex.map(lambda a: b.build(*a), enumerate(scs, 1)))
    t_sign = time.time()
    # signatures made with --expiry 1s must have expired before the oracle runs
    wait = b.last_expiring_sign + 2.0 - time.time()
    if wait > 0:
        time.sleep(wait)
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        results = list(ex.map(lambda a: b.oracle(a[0], *a[1]), zip(scs, built)))
    index = []
    for (name, *_), e in zip(built, results):
        index.append({"case": name, "verdict": e["verdict"], "failing_check": e["failing_check"],
                      "envelope_format": e["envelope_format"], "level": e["level"],
                      "signing_key": e["signing_key"]})
    write_json(os.path.join(out, "index.json"), index)
    shutil.rmtree(work)
    print(f"make-corpus: {len(index)} cases in {out}/cases "
          f"(keys {t_pki - t0:.1f}s, signing {t_sign - t_pki:.1f}s, oracle {time.time() - t_sign:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
