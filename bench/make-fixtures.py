#!/usr/bin/python3
"""Generate the fixtures of the library (3) and growth (5) benchmarks: fresh
keys, images signed by the real `notation sign --oci-layout`, and for the
raw-OpenSSL comparator the exact bytes sigil verifies, taken out of each
envelope (signing input, signature, certificate chain).

Nothing here is committed: run.sh (or bench/smoke.py) makes a new folder on
every run. Standard library only; external programs: openssl and notation.

usage: make-fixtures.py --out DIR [--notation PATH] [--smoke] [--only lib|growth]

DIR/lib/index.txt      one line per case: NAME FORMAT KEYTYPE ALG
DIR/lib/NAME/          config/ (trustpolicy.json, truststore/x509/ca/bench/)
                       layout/ (OCI layout, one signature), scope, digest,
                       raw/{signing-input.bin, signature.bin (DER for ECDSA),
                       chain.pem (the envelope's chain, leaf first),
                       root.pem (the trust store's root), alg}
DIR/growth/index.txt   one line per case: NAME KIND N
DIR/growth/sigs-N/     N signatures on one image: N-1 by an untrusted key
                       listed first, then the trusted one (sigil stops at
                       the first valid signature, so this is the worst
                       case: every signature is fully verified)
DIR/growth/store-N/    the trusted root among N certificates in the named
                       trust store (sorted last: the worst case for a
                       scan); layout/ is a copy of sigs-1's image
"""
import argparse
import base64
import concurrent.futures
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
JWS_MT = "application/jose+json"
COSE_MT = "application/cose"
ALG_OF = {"rsa2048": "PS256", "rsa3072": "PS384", "rsa4096": "PS512",
          "ec-p256": "ES256", "ec-p384": "ES384", "ec-p521": "ES512"}


def corpus_helpers():
    """tests/differential/make-corpus.py (PKI, write_image, run), imported."""
    path = os.path.join(ROOT, "tests", "differential", "make-corpus.py")
    spec = importlib.util.spec_from_file_location("sigil_make_corpus", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mc = corpus_helpers()


def notation_from_env():
    cache = os.environ.get("SIGIL_TOOLS_CACHE", os.path.expanduser("~/.cache/sigil-tools"))
    envfile = os.path.join(cache, "env")
    if os.path.exists(envfile):
        for line in open(envfile):
            m = re.match(r"^NOTATION=(.*)$", line.strip())
            if m and os.access(m.group(1), os.X_OK):
                return m.group(1)
    return None


# ------------------------------------------------------------ signing

class Signer:
    """notation sign --oci-layout with a private XDG_CONFIG_HOME."""

    def __init__(self, notation, work):
        self.notation, self.work = notation, work
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "NOTATION_"))}
        self.env["HOME"] = os.path.join(work, "home")
        self.env["XDG_CACHE_HOME"] = os.path.join(work, "home", ".cache")
        self.env["NOTATION_EXPERIMENTAL"] = "1"
        os.makedirs(self.env["XDG_CACHE_HOME"], exist_ok=True)
        self.n = 0
        self.lock = threading.Lock()

    def sign(self, pki, fmt, layout, digest):
        """One new signature; returns its manifest descriptor from index.json.
        Signatures of different layouts may be made concurrently."""
        with self.lock:
            self.n += 1
            cfg = os.path.join(self.work, "sign", str(self.n))
        os.makedirs(os.path.join(cfg, "notation"))
        mc.write_json(os.path.join(cfg, "notation", "signingkeys.json"),
                      {"keys": [{"name": "k", "keyPath": pki.key, "certPath": pki.chain}]})
        index = os.path.join(layout, "index.json")
        before = {m["digest"] for m in json.load(open(index))["manifests"]}
        mc.run([self.notation, "sign", "--oci-layout", "--key", "k", "--signature-format", fmt,
                f"{layout}@{digest}"], env=dict(self.env, XDG_CONFIG_HOME=cfg))
        new = [m for m in json.load(open(index))["manifests"] if m["digest"] not in before]
        if len(new) != 1:
            raise RuntimeError(f"expected one new signature manifest in {layout}, got {len(new)}")
        return new[0]


def write_config(cfg, scope, root_files):
    """trustpolicy.json with one strict statement for scope, trusting the
    ca store "bench" that holds root_files (name -> PEM bytes)."""
    store = os.path.join(cfg, "truststore", "x509", "ca", "bench")
    os.makedirs(store)
    for name, pem in root_files:
        with open(os.path.join(store, name), "wb") as f:
            f.write(pem)
    mc.write_json(os.path.join(cfg, "trustpolicy.json"), {
        "version": "1.0",
        "trustPolicies": [{
            "name": "bench", "registryScopes": [scope],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:bench"], "trustedIdentities": ["*"]}]})


def write_text(path, s):
    with open(path, "w") as f:
        f.write(s + "\n")


# ------------------------------------------------- envelope extraction

def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def cbor_head(buf, i):
    ib = buf[i]
    major, ai = ib >> 5, ib & 31
    i += 1
    if ai < 24:
        return major, ai, i
    if ai in (24, 25, 26, 27):
        n = 1 << (ai - 24)
        return major, int.from_bytes(buf[i:i + n], "big"), i + n
    raise ValueError(f"CBOR: unsupported additional info {ai} (indefinite length?)")


def cbor_decode(buf, i=0):
    """One CBOR item from buf[i:] -> (value, next index). Definite lengths
    only (what notation writes); tags are returned as ("tag", n, value)."""
    major, arg, i = cbor_head(buf, i)
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major == 2:
        return bytes(buf[i:i + arg]), i + arg
    if major == 3:
        return bytes(buf[i:i + arg]).decode(), i + arg
    if major == 4:
        out = []
        for _ in range(arg):
            v, i = cbor_decode(buf, i)
            out.append(v)
        return out, i
    if major == 5:
        out = {}
        for _ in range(arg):
            k, i = cbor_decode(buf, i)
            v, i = cbor_decode(buf, i)
            out[k] = v
        return out, i
    if major == 6:
        v, i = cbor_decode(buf, i)
        return ("tag", arg, v), i
    return ("simple", arg), i


def cbor_bstr(b):
    return cbor_len(2, len(b)) + b


def cbor_len(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("CBOR length too large")


def ecdsa_raw_to_der(sig):
    half = len(sig) // 2
    ints = b"".join(der_int(int.from_bytes(x, "big")) for x in (sig[:half], sig[half:]))
    return der(0x30, ints)


def extract(env_bytes, media_type, alg):
    """(signing input, signature as OpenSSL verifies it, [DER certs])."""
    if media_type == JWS_MT:
        doc = json.loads(env_bytes)
        signing_input = (doc["protected"] + "." + doc["payload"]).encode()
        sig = b64url(doc["signature"])
        chain = [base64.b64decode(c) for c in doc["header"]["x5c"]]
    elif media_type == COSE_MT:
        item, end = cbor_decode(env_bytes)
        if end != len(env_bytes) or not (isinstance(item, tuple) and item[:2] == ("tag", 18)):
            raise ValueError("not a tagged COSE_Sign1")
        protected, unprotected, payload, sig = item[2]
        x5 = unprotected[33]
        chain = x5 if isinstance(x5, list) else [x5]
        # RFC 9052 §4.4 Sig_structure ["Signature1", protected, external_aad, payload]
        signing_input = (b"\x84" + cbor_len(3, 10) + b"Signature1" + cbor_bstr(protected)
                         + cbor_bstr(b"") + cbor_bstr(payload))
    else:
        raise ValueError(f"unknown envelope media type {media_type}")
    if alg.startswith("ES"):
        sig = ecdsa_raw_to_der(sig)
    return signing_input, sig, chain


def pem(der_bytes, label="CERTIFICATE"):
    b = base64.encodebytes(der_bytes).decode().replace("\n", "")
    lines = "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode()


def envelope_of(layout, sig_desc):
    blobs = os.path.join(layout, "blobs", "sha256")
    m = json.load(open(os.path.join(blobs, sig_desc["digest"][7:])))
    layer = m["layers"][0]
    with open(os.path.join(blobs, layer["digest"][7:]), "rb") as f:
        return f.read(), layer["mediaType"]


# ---------------------------------------- decoy trust-store certificates

def der(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + content


def der_int(n):
    """A non-negative INTEGER, with the leading zero byte DER needs."""
    return der(0x02, n.to_bytes((n.bit_length() + 8) // 8, "big"))


def der_oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def der_seq(*items):
    return der(0x30, b"".join(items))


def der_name(rdns):
    return der_seq(*(der(0x31, der_seq(der_oid(oid), der(0x0C, v.encode()))) for oid, v in rdns))


def der_read(buf, i):
    """(tag, content, next index) of one DER TLV."""
    tag, n = buf[i], buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return tag, buf[i:i + n], i + n


def der_ints(seq_content):
    out, i = [], 0
    while i < len(seq_content):
        tag, c, i = der_read(seq_content, i)
        if tag == 0x02:
            out.append(int.from_bytes(c, "big"))
    return out


class DecoyCA:
    """Self-signed CA certificates (RSA-2048, sha256WithRSAEncryption)
    made in Python: a thousand `openssl req` processes would take a minute
    on a loaded two-core machine. One RSA key from openssl, signed here
    with the CRT (RFC 8017 §5.2.1, EMSA-PKCS1-v1_5 §9.2)."""

    SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")

    def __init__(self, work):
        key = os.path.join(work, "decoy.der")
        mc.run([OPENSSL, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                "-outform", "DER", "-out", key])
        p8 = open(key, "rb").read()  # PKCS#1 or PKCS#8
        _, rsa, _ = der_read(p8, 0)
        if len(der_ints(rsa)) < 9:
            # PKCS#8 (RFC 5208): version, AlgorithmIdentifier, OCTET STRING
            # holding the PKCS#1 RSAPrivateKey; OpenSSL 3.0 writes PKCS#1
            i = 0
            for _ in range(2):
                _, _, i = der_read(rsa, i)
            _, inner, _ = der_read(rsa, i)
            _, rsa, _ = der_read(inner, 0)
        _, self.n, self.e, self.d, self.p, self.q, self.dp, self.dq, self.qinv = der_ints(rsa)[:9]
        self.k = (self.n.bit_length() + 7) // 8
        rsa_pub = der_seq(der_int(self.n), der_int(self.e))
        self.spki = der_seq(der_seq(der_oid("1.2.840.113549.1.1.1"), b"\x05\x00"),
                            der(0x03, b"\x00" + rsa_pub))

    def _sign(self, msg):
        t = self.SHA256_DIGESTINFO + hashlib.sha256(msg).digest()
        em = b"\x00\x01" + b"\xff" * (self.k - len(t) - 3) + b"\x00" + t
        m = int.from_bytes(em, "big")
        s1, s2 = pow(m, self.dp, self.p), pow(m, self.dq, self.q)
        s = s2 + self.q * ((self.qinv * (s1 - s2)) % self.p)
        return s.to_bytes(self.k, "big")

    def cert(self, cn, org):
        alg = der_seq(der_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
        name = der_name([("2.5.4.10", org), ("2.5.4.3", cn)])
        now = int(time.time())
        utc = lambda t: der(0x17, time.strftime("%y%m%d%H%M%SZ", time.gmtime(t)).encode())
        ext = der_seq(
            der_seq(der_oid("2.5.29.19"), b"\x01\x01\xff", der(0x04, der_seq(b"\x01\x01\xff"))),
            der_seq(der_oid("2.5.29.15"), b"\x01\x01\xff", der(0x04, der(0x03, b"\x01\x06"))))
        tbs = der_seq(der(0xA0, der_int(2)), der_int(int.from_bytes(secrets.token_bytes(12), "big")),
                      alg, name, der_seq(utc(now - 86400), utc(now + 3650 * 86400)), name,
                      self.spki, der(0xA3, ext))
        return der_seq(tbs, alg, der(0x03, b"\x00" + self._sign(tbs)))


# ------------------------------------------------------------ fixtures

def make_lib_case(out, signer, kt, fmt, pki):
    name = f"{fmt}-{kt}"
    case = os.path.join(out, "lib", name)
    layout = os.path.join(case, "layout")
    os.makedirs(case)
    digest = mc.write_image(layout)
    scope = f"bench.invalid/lib/{name}"
    desc = signer.sign(pki, fmt, layout, digest)
    env_bytes, mt = envelope_of(layout, desc)
    alg = ALG_OF[kt]
    signing_input, sig, chain = extract(env_bytes, mt, alg)
    raw = os.path.join(case, "raw")
    os.makedirs(raw)
    with open(os.path.join(raw, "signing-input.bin"), "wb") as f:
        f.write(signing_input)
    with open(os.path.join(raw, "signature.bin"), "wb") as f:
        f.write(sig)
    with open(os.path.join(raw, "chain.pem"), "wb") as f:
        f.write(b"".join(pem(c) for c in chain))
    root_pem = open(pki.root, "rb").read()
    shutil.copy(pki.root, os.path.join(raw, "root.pem"))
    write_text(os.path.join(raw, "alg"), alg)
    write_config(os.path.join(case, "config"), scope, [("root.crt", root_pem)])
    write_text(os.path.join(case, "scope"), scope)
    write_text(os.path.join(case, "digest"), digest)
    return f"{name} {fmt} {kt} {alg}"


def make_lib(out, signer, key_types, pkis, jobs):
    cases = [(kt, fmt) for kt in key_types for fmt in ("jws", "cose")]
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        lines = list(ex.map(lambda c: make_lib_case(out, signer, c[0], c[1], pkis[c[0]]), cases))
    write_text(os.path.join(out, "lib", "index.txt"), "\n".join(lines))


def copy_layout_with(src, dst, manifests):
    shutil.copytree(src, dst)
    index = json.load(open(os.path.join(src, "index.json")))
    index["manifests"] = manifests
    mc.write_json(os.path.join(dst, "index.json"), index, compact=True)


def sign_many(signer, pki, base, digest, count, jobs):
    """count signatures of base's image, made concurrently in copies of the
    layout (notation rewrites index.json, so one layout signs serially) and
    gathered into base; returns their descriptors in a stable order."""
    chunks = [count // jobs + (1 if i < count % jobs else 0) for i in range(jobs)]

    def one(i):
        copy = f"{base}-part{i}"
        shutil.copytree(base, copy)
        return copy, [signer.sign(pki, "jws", copy, digest) for _ in range(chunks[i])]

    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        parts = list(ex.map(one, [i for i in range(jobs) if chunks[i]]))
    descs = []
    for copy, made in parts:
        src = os.path.join(copy, "blobs", "sha256")
        dst = os.path.join(base, "blobs", "sha256")
        for name in os.listdir(src):
            if not os.path.exists(os.path.join(dst, name)):
                shutil.copy(os.path.join(src, name), os.path.join(dst, name))
        descs += made
    return descs


def make_growth(out, work, signer, trusted, rogue, sig_counts, store_sizes, jobs):
    gdir = os.path.join(out, "growth")
    base = os.path.join(work, "growth-layout")
    digest = mc.write_image(base)
    image_desc = json.load(open(os.path.join(base, "index.json")))["manifests"][0]
    # sign once per signature needed by the largest case, then list subsets
    rogues = sign_many(signer, rogue, base, digest, max(sig_counts) - 1, jobs)
    good = signer.sign(trusted, "jws", base, digest)
    root_pem = open(trusted.root, "rb").read()
    lines = []
    for n in sig_counts:
        case = os.path.join(gdir, f"sigs-{n}")
        os.makedirs(case)
        scope = f"bench.invalid/growth/sigs-{n}"
        copy_layout_with(base, os.path.join(case, "layout"), [image_desc] + rogues[:n - 1] + [good])
        write_config(os.path.join(case, "config"), scope, [("root.crt", root_pem)])
        write_text(os.path.join(case, "scope"), scope)
        write_text(os.path.join(case, "digest"), digest)
        lines.append(f"sigs-{n} sigs {n}")
    decoys = DecoyCA(work) if max(store_sizes) > 1 else None
    org = f"Bench Decoys {mc.rand_tag()}"
    decoy_pems = [pem(decoys.cert(f"Decoy Root CA {i:04d} {mc.rand_tag()}", org))
                  for i in range(max(store_sizes) - 1)] if decoys else []
    for n in store_sizes:
        case = os.path.join(gdir, f"store-{n}")
        os.makedirs(case)
        scope = f"bench.invalid/growth/store-{n}"
        copy_layout_with(base, os.path.join(case, "layout"), [image_desc, good])
        files = [(f"decoy-{i:04d}.pem", decoy_pems[i]) for i in range(n - 1)]
        files.append(("zz-trusted-root.pem", root_pem))  # sorted last
        write_config(os.path.join(case, "config"), scope, files)
        write_text(os.path.join(case, "scope"), scope)
        write_text(os.path.join(case, "digest"), digest)
        lines.append(f"store-{n} store {n}")
    write_text(os.path.join(gdir, "index.txt"), "\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="fixtures folder (created; must be empty)")
    ap.add_argument("--notation", help="notation binary (default: NOTATION= from ~/.cache/sigil-tools/env)")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny set: ec-p256 only, 1 and 3 signatures, stores of 1 and 10")
    ap.add_argument("--only", choices=("lib", "growth"))
    args = ap.parse_args()
    notation = args.notation or notation_from_env()
    if not notation or not os.access(notation, os.X_OK):
        print("make-fixtures: notation not found: pass --notation or run integration/tools.sh",
              file=sys.stderr)
        return 2

    t0 = time.time()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    if os.listdir(out):
        print(f"make-fixtures: {out} is not empty", file=sys.stderr)
        return 2
    work = os.path.join(out, "work")
    os.makedirs(work)
    key_types = ["ec-p256"] if args.smoke else list(mc.KEY_TYPES)
    sig_counts = [1, 3] if args.smoke else [1, 10, 100]
    store_sizes = [1, 10] if args.smoke else [1, 100, 1000]
    signer = Signer(notation, work)
    need = set(key_types) if args.only != "growth" else set()
    if args.only != "lib":
        need.update(["ec-p256", "rogue"])
    jobs = max(1, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = {kt: ex.submit(mc.PKI, work, kt, "ec-p256" if kt == "rogue" else kt)
                for kt in sorted(need)}
        pkis = {kt: f.result() for kt, f in futs.items()}
    if args.only != "growth":
        make_lib(out, signer, key_types, pkis, jobs)
    if args.only != "lib":
        make_growth(out, work, signer, pkis["ec-p256"], pkis["rogue"], sig_counts, store_sizes,
                    jobs)
    shutil.rmtree(work)
    mc.write_json(os.path.join(out, "fixtures.json"), {
        "generated_by": "bench/make-fixtures.py", "notation": notation, "smoke": args.smoke,
        "key_types": key_types, "signature_counts": sig_counts, "store_sizes": store_sizes,
        "signatures_signed": signer.n, "seconds": round(time.time() - t0, 1)})
    print(f"make-fixtures: {out} ({signer.n} signatures, {time.time() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
