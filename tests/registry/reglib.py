"""reglib.py - shared machinery of the real-registry tests (issue 3).

Everything runs on 127.0.0.1 with ports chosen at run time, state lives in a
private mkdtemp() folder, and every process and server thread is stopped on
exit, also on failure or SIGTERM (meson's timeout). Standard library only;
external programs: docker-registry (Debian's distribution 2.8), htpasswd,
openssl, and notation + oras fetched by integration/tools.sh.

Key and certificate generation and notation's verbose-output parsing come
from tests/differential/make-corpus.py (imported, not copied).
"""
import atexit
import base64
import hashlib
import http.server
import importlib.util
import io
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
REGISTRY_BIN = "/usr/bin/docker-registry"
HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
SIG_ARTIFACT = "application/vnd.cncf.notary.signature"
MANIFEST_MT = "application/vnd.oci.image.manifest.v1+json"
INDEX_MT = "application/vnd.oci.image.index.v1+json"
CONFIG_MT = "application/vnd.oci.image.config.v1+json"
LAYER_MT = "application/vnd.oci.image.layer.v1.tar+gzip"


# ------------------------------------------------------------ test outcome

class Failed(Exception):
    pass


_failures = []
_checks = 0


def log(msg):
    print(msg, flush=True)


def check(cond, what, detail=""):
    """Record one assertion; the test fails at the end if any failed."""
    global _checks
    _checks += 1
    if cond:
        log(f"ok   {what}")
    else:
        log(f"FAIL {what}" + (f"\n     {detail}" if detail else ""))
        _failures.append(what)
    return cond


def skip(why):
    bar = "!" * 72
    # first line: what test.sh's summary shows for a skipped test
    print(f"SKIP: {why}\n{bar}\n!!! registry test skipped: {why}\n{bar}", flush=True)
    print(f"SKIP: {why}", file=sys.stderr, flush=True)
    sys.exit(SKIP)


# ------------------------------------------------------------- clean-up

_cleanups = []


def on_exit(fn):
    _cleanups.append(fn)


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # never mask the test's own outcome
            print(f"cleanup: {e}", file=sys.stderr)


atexit.register(_run_cleanups)


def _on_signal(signum, _frame):
    _run_cleanups()
    os._exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def mkdtemp(label):
    d = tempfile.mkdtemp(prefix=f"sigil-{label}-")
    if os.environ.get("SIGIL_KEEP_TMP"):
        on_exit(lambda: print(f"kept {d}", file=sys.stderr))
    else:
        on_exit(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def start_process(cmd, logpath, **kw):
    logf = open(logpath, "wb")
    p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, **kw)

    def stop():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        logf.close()
    on_exit(stop)
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, env=None, timeout=120, check_rc=True, text=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=text, env=env, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise Failed(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p


# ---------------------------------------------------------------- tools

def load_corpus_helpers():
    path = os.path.join(ROOT, "tests", "differential", "make-corpus.py")
    spec = importlib.util.spec_from_file_location("sigil_make_corpus", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tools(need_registry=True, need_htpasswd=False):
    """NOTATION and ORAS paths from integration/tools.sh (fetched if the
    cache is empty); exits 77 with the reason when something is missing."""
    cache = os.environ.get("SIGIL_TOOLS_CACHE", os.path.expanduser("~/.cache/sigil-tools"))
    envfile = os.path.join(cache, "env")
    if not os.path.exists(envfile):
        log(f"{envfile} missing: running integration/tools.sh to fetch notation and oras")
        p = subprocess.run(["bash", os.path.join(ROOT, "integration", "tools.sh")],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0 or not os.path.exists(envfile):
            skip("notation/oras are not available and integration/tools.sh could not fetch them: "
                 + (p.stderr.strip().splitlines() or ["?"])[-1])
    vals = {}
    for line in open(envfile):
        m = re.match(r"^([A-Z_]+)=(.*)$", line.strip())
        if m:
            vals[m.group(1)] = m.group(2)
    for k in ("NOTATION", "ORAS"):
        if not vals.get(k) or not os.access(vals[k], os.X_OK):
            skip(f"{k} from {envfile} is not executable ({vals.get(k)}); rerun integration/tools.sh")
    if need_registry and not os.access(REGISTRY_BIN, os.X_OK):
        skip(f"{REGISTRY_BIN} missing: install Debian's docker-registry (scripts/deps.sh)")
    if need_htpasswd and not os.access(HTPASSWD, os.X_OK):
        skip(f"{HTPASSWD} missing: install apache2-utils (scripts/deps.sh)")
    return vals


# ------------------------------------------------------------ OCI layout

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    """An OCI image layout written directly (no tool involved)."""

    def __init__(self, path):
        self.path = path
        self.blobs = os.path.join(path, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        self.index = []
        self._write_index()

    def _write_index(self):
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": INDEX_MT, "manifests": self.index}, f,
                      separators=(",", ":"))

    def reload(self):
        with open(os.path.join(self.path, "index.json")) as f:
            self.index = json.load(f)["manifests"]

    def put(self, data):
        d = sha256(data)
        with open(os.path.join(self.blobs, d[7:]), "wb") as f:
            f.write(data)
        return d

    def get(self, digest):
        with open(os.path.join(self.blobs, digest.split(":", 1)[1]), "rb") as f:
            return f.read()

    def has(self, digest):
        return os.path.exists(os.path.join(self.blobs, digest.split(":", 1)[1]))

    def put_json(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode()
        return self.put(data), len(data)

    def tag(self, mt, digest, size, tag=None, extra=None):
        d = {"mediaType": mt, "digest": digest, "size": size}
        if tag:
            d["annotations"] = {"org.opencontainers.image.ref.name": tag}
        if extra:
            d.update(extra)
        self.index.append(d)
        self._write_index()

    def image(self, label, arch="amd64", tag=None):
        """A tiny single-layer image; returns (digest, size)."""
        content = f"{label} {secrets.token_hex(16)}\n".encode()
        tbuf = io.BytesIO()
        with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            ti = tarfile.TarInfo(f"etc/{label}")
            ti.size, ti.mtime, ti.mode = len(content), 0, 0o644
            tar.addfile(ti, io.BytesIO(content))
        raw = tbuf.getvalue()
        layer = gzip.compress(raw, mtime=0)
        ld = self.put(layer)
        cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/true"]},
                          "rootfs": {"type": "layers", "diff_ids": [sha256(raw)]}},
                         separators=(",", ":")).encode()
        cd = self.put(cfg)
        md, ms = self.put_json({
            "schemaVersion": 2, "mediaType": MANIFEST_MT,
            "config": {"mediaType": CONFIG_MT, "digest": cd, "size": len(cfg)},
            "layers": [{"mediaType": LAYER_MT, "digest": ld, "size": len(layer)}]})
        if tag:
            self.tag(MANIFEST_MT, md, ms, tag)
        return md, ms

    def multiarch(self, label, tag):
        mans = []
        for arch in ("amd64", "arm64"):
            d, s = self.image(f"{label}-{arch}", arch)
            mans.append({"mediaType": MANIFEST_MT, "digest": d, "size": s,
                         "platform": {"architecture": arch, "os": "linux"}})
        d, s = self.put_json({"schemaVersion": 2, "mediaType": INDEX_MT, "manifests": mans})
        self.tag(INDEX_MT, d, s, tag)
        return d, s


def tamper_envelope(env_bytes, layer_mt):
    """Flip one bit of the signature value (JWS) or a byte in the COSE
    signature bstr: only the cryptographic signature becomes wrong."""
    if layer_mt == "application/jose+json":
        doc = json.loads(env_bytes)
        s = doc["signature"]
        sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        sig[len(sig) // 2] ^= 0x04
        doc["signature"] = base64.urlsafe_b64encode(bytes(sig)).decode().rstrip("=")
        return json.dumps(doc, separators=(",", ":")).encode()
    b = bytearray(env_bytes)
    b[-7] ^= 0x04
    return bytes(b)


# ----------------------------------------------------------------- PKI

class TLSAuthority:
    """A private CA and a server certificate for 127.0.0.1 (openssl CLI)."""

    def __init__(self, d):
        os.makedirs(d, exist_ok=True)
        self.dir = d
        p = lambda n: os.path.join(d, n)
        self.ca, self.ca_key = p("ca.pem"), p("ca.key")
        self.cert, self.key = p("server.pem"), p("server.key")
        run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
             "-subj", f"/CN=sigil test registry CA {secrets.token_hex(4)}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        run([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.key, "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"])
        with open(p("ext.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")
        run([OPENSSL, "x509", "-req", "-in", p("server.csr"), "-CA", self.ca, "-CAkey", self.ca_key,
             "-set_serial", "0x" + secrets.token_hex(8), "-days", "2", "-extfile", p("ext.cnf"),
             "-out", self.cert])


def signing_pkis(work, mc):
    """(trusted, rogue) root->intermediate->leaf chains (EC P-256: fast)."""
    return mc.PKI(work, "trusted", "ec-p256"), mc.PKI(work, "rogue", "ec-p256")


# --------------------------------------------------------------- registry

class Registry:
    """Debian's docker-registry (distribution 2.8: no referrers API)."""

    def __init__(self, work, name, htpasswd=None, tls=None, token=None, access_log=False):
        """`access_log`: distribution's access log (one line per request)
        goes to the registry's log file, read back with requests()."""
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.tls = tls
        self.scheme = "https" if tls else "http"
        last = ""
        for _ in range(3):
            self.port = free_port()
            self.host = f"127.0.0.1:{self.port}"
            cfg = os.path.join(self.dir, "config.yml")
            lines = [
                "version: 0.1",
                "log:",
                "  level: warn",
                "  accesslog:",
                f"    disabled: {'false' if access_log else 'true'}",
                "storage:",
                "  filesystem:",
                f"    rootdirectory: {os.path.join(self.dir, 'data')}",
                "  delete:",
                "    enabled: true",
                "http:",
                f"  addr: 127.0.0.1:{self.port}",
                "  headers:",
                "    X-Content-Type-Options: [nosniff]",
            ]
            if tls:
                lines += ["  tls:", f"    certificate: {tls.cert}", f"    key: {tls.key}"]
            if htpasswd:
                lines += ["auth:", "  htpasswd:", "    realm: sigil-test", f"    path: {htpasswd}"]
            if token:
                lines += ["auth:", "  token:", f"    realm: {token.realm}",
                          f"    service: {token.service}", f"    issuer: {token.issuer}",
                          f"    rootcertbundle: {token.cert}"]
            with open(cfg, "w") as f:
                f.write("\n".join(lines) + "\n")
            self.logpath = os.path.join(self.dir, f"registry-{self.port}.log")
            self.proc = start_process([REGISTRY_BIN, "serve", cfg], self.logpath)
            if self._wait_ready():
                return
            last = open(self.logpath, errors="replace").read()[-2000:]
            self.proc.terminate()
        raise Failed(f"docker-registry did not start:\n{last}")

    def requests(self):
        """(method, path, user agent) of every request so far, oldest
        first (needs access_log=True): distribution's Apache combined log."""
        out = []
        with open(self.logpath, errors="replace") as f:
            for line in f:
                m = re.search(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" \d+ \S+ "[^"]*" "([^"]*)"', line)
                if m:
                    out.append(m.groups())
        return out

    def _wait_ready(self):
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls.ca)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                urllib.request.urlopen(f"{self.scheme}://{self.host}/v2/", timeout=2, context=ctx)
                return True
            except urllib.error.HTTPError:
                return True  # 401 is an answer
            except Exception:
                time.sleep(0.1)
        return False


def htpasswd_file(work, user, password):
    path = os.path.join(work, "htpasswd")
    p = run([HTPASSWD, "-Bbn", user, password])
    with open(path, "w") as f:
        f.write(p.stdout)
    return path


def docker_config(work, name, host, user, password):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "config.json")
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    with open(path, "w") as f:
        json.dump({"auths": {host: {"auth": auth}}}, f)
    return path


def hosts_dir(work, host, ca, name="certs.d"):
    """containerd's config_path layout: <dir>/<host>/hosts.toml naming the
    host explicitly, with the CA file (or none: system CAs only)."""
    d = os.path.join(work, name)
    hd = os.path.join(d, host)
    os.makedirs(hd, exist_ok=True)
    if ca:
        shutil.copy(ca, os.path.join(hd, "ca.pem"))
    with open(os.path.join(hd, "hosts.toml"), "w") as f:
        f.write(f'server = "https://{host}"\n\n[host."https://{host}"]\n'
                f'  capabilities = ["pull", "resolve"]\n' + ('  ca = "ca.pem"\n' if ca else ""))
    return d


# ----------------------------------------------------------- token server

def _b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


class TokenServer:
    """A docker registry token endpoint (distribution docs/spec/auth/token):
    RS256 JWTs signed with `openssl dgst -sha256 -sign`, key id in libtrust
    form so that distribution finds the key in rootcertbundle. Basic
    credentials are checked; anonymous pull is allowed or denied by
    `allow_anonymous` (switchable at run time)."""

    def __init__(self, work, user, password, allow_anonymous=True):
        self.dir = os.path.join(work, "token")
        os.makedirs(self.dir)
        self.user, self.password = user, password
        self.allow_anonymous = allow_anonymous
        self.service, self.issuer = "sigil-test-registry", "sigil-test-issuer"
        self.key, self.cert = os.path.join(self.dir, "key.pem"), os.path.join(self.dir, "cert.pem")
        run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
             "-out", self.cert, "-days", "2", "-subj", "/CN=sigil test token issuer"])
        spki = run([OPENSSL, "pkey", "-in", self.key, "-pubout", "-outform", "DER"],
                   text=False).stdout
        enc = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode().rstrip("=")
        self.kid = ":".join(enc[i:i + 4] for i in range(0, len(enc), 4))
        self.requests = []  # (authorized user or None, scope)
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body in one segment: no Nagle/delayed-ACK stalls
            wbufsize = 1 << 16

            def log_message(self, *a):
                pass

            def _answer(self, params, user):
                scopes = params.get("scope", [])
                outer.requests.append((user, " ".join(scopes)))
                if user is None and not outer.allow_anonymous:
                    return self._send(401, {"errors": [{"code": "UNAUTHORIZED",
                                                         "message": "anonymous access denied"}]})
                access = []
                for sc in scopes:
                    for one in sc.split(" "):
                        parts = one.split(":")
                        if len(parts) >= 3 and parts[0] == "repository":
                            acts = parts[-1].split(",")
                            allowed = [a for a in acts if a == "pull" or (user and a in ("push", "delete", "*"))]
                            access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                                           "actions": allowed})
                tok = outer.sign(user or "", access)
                self._send(200, {"token": tok, "access_token": tok, "expires_in": 300,
                                 "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _user(self):
                a = self.headers.get("Authorization", "")
                if not a.lower().startswith("basic "):
                    return None, True
                try:
                    u, p = base64.b64decode(a[6:].strip()).decode().split(":", 1)
                except Exception:
                    return None, False
                return (u, True) if (u, p) == (outer.user, outer.password) else (None, False)

            def do_GET(self):
                from urllib.parse import urlparse, parse_qs
                q = parse_qs(urlparse(self.path).query)
                user, ok = self._user()
                if not ok:
                    outer.requests.append(("<bad credentials>", " ".join(q.get("scope", []))))
                    return self._send(401, {"errors": [{"code": "UNAUTHORIZED",
                                                         "message": "bad credentials"}]})
                self._answer(q, user)

            def do_POST(self):
                from urllib.parse import parse_qs
                n = int(self.headers.get("Content-Length", "0"))
                q = parse_qs(self.rfile.read(n).decode())
                user = None
                if q.get("grant_type") == ["password"]:
                    if (q.get("username", [""])[0], q.get("password", [""])[0]) != (outer.user, outer.password):
                        return self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                    user = outer.user
                elif q.get("grant_type") == ["refresh_token"]:
                    return self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                self._answer(q, user)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        t = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        t.start()
        on_exit(self.httpd.shutdown)

    def sign(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "." +
                         _b64url(json.dumps(claims).encode())).encode()
        p = subprocess.run([OPENSSL, "dgst", "-sha256", "-sign", self.key], input=signing_input,
                           capture_output=True, timeout=30)
        if p.returncode != 0:
            raise Failed("openssl dgst -sign failed: " + p.stderr.decode())
        return signing_input.decode() + "." + _b64url(p.stdout)


# ------------------------------------------------------- notation and oras

class Tools:
    """notation and oras with private configuration folders."""

    def __init__(self, work, vals, mc):
        self.notation, self.oras = vals["NOTATION"], vals["ORAS"]
        self.mc = mc
        self.work = work
        home = os.path.join(work, "home")
        os.makedirs(os.path.join(home, ".cache"), exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("XDG_", "NOTATION_", "DOCKER_", "SSL_CERT", "ORAS_"))}
        self.env.update(HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"),
                        DOCKER_CONFIG=os.path.join(home, ".docker"))
        os.makedirs(self.env["DOCKER_CONFIG"], exist_ok=True)

    def _env(self, extra=None):
        e = dict(self.env)
        e.update(extra or {})
        return e

    def oras_cp(self, layout, tag, dest, recursive=False, plain_http=False, ca=None, creds=None):
        cmd = [self.oras, "cp", "--from-oci-layout", f"{layout}:{tag}", dest]
        if recursive:
            cmd.insert(2, "-r")
        if plain_http:
            cmd.append("--to-plain-http")
        if ca:
            cmd += ["--to-ca-file", ca]
        if creds:
            cmd += ["--to-username", creds[0], "--to-password", creds[1]]
        run(cmd, env=self._env())

    def sign_key_config(self, pki, name="default"):
        cfg = os.path.join(self.work, f"signcfg-{name}")
        os.makedirs(os.path.join(cfg, "notation"), exist_ok=True)
        with open(os.path.join(cfg, "notation", "signingkeys.json"), "w") as f:
            json.dump({"default": "k", "keys": [{"name": "k", "keyPath": pki.key,
                                                 "certPath": pki.chain}]}, f)
        return cfg

    def sign(self, signcfg, ref, fmt, insecure=False, ca=None, creds=None, oci_layout=False):
        cmd = [self.notation, "sign", "--key", "k", "--signature-format", fmt]
        if insecure:
            cmd.append("--insecure-registry")
        if oci_layout:
            cmd.append("--oci-layout")
        if creds:
            cmd += ["--username", creds[0], "--password", creds[1]]
        cmd.append(ref)
        extra = {"XDG_CONFIG_HOME": signcfg}
        if oci_layout:
            extra["NOTATION_EXPERIMENTAL"] = "1"
        if ca:
            extra["SSL_CERT_FILE"] = ca
        run(cmd, env=self._env(extra))

    def verify(self, cfgroot, ref, insecure=False, ca=None, creds=None, meta=None, extra=()):
        """notation verify: (verdict, failing check as the corpus names it, output)."""
        cmd = [self.notation, "verify", "--verbose", *extra]
        if insecure:
            cmd.append("--insecure-registry")
        if creds:
            cmd += ["--username", creds[0], "--password", creds[1]]
        for k, v in (meta or {}).items():
            cmd += ["--user-metadata", f"{k}={v}"]
        cmd.append(ref)
        extra = {"XDG_CONFIG_HOME": cfgroot}
        if ca:
            extra["SSL_CERT_FILE"] = ca
        p = run(cmd, env=self._env(extra), check_rc=False)
        out = (p.stdout + p.stderr).strip()
        verdict = "pass" if p.returncode == 0 else "fail"
        chk = self.mc.derive_failing_check(out)[0] if verdict == "fail" else ""
        return verdict, chk, out


def trust_config(work, name, scope, roots, identities=("*",), level="strict"):
    """A notation configuration root (XDG_CONFIG_HOME) whose notation/ is
    also sigil's --config-dir: trustpolicy(.oci).json + truststore."""
    root = os.path.join(work, "trust", name)
    nd = os.path.join(root, "notation")
    store = os.path.join(nd, "truststore", "x509", "ca", "regtest")
    os.makedirs(store)
    for i, r in enumerate(roots):
        shutil.copy(r, os.path.join(store, f"{i:02d}-root.crt"))
    pol = {"version": "1.0", "trustPolicies": [{
        "name": f"{name}-policy", "registryScopes": [scope] if isinstance(scope, str) else list(scope),
        "signatureVerification": {"level": level},
        "trustStores": ["ca:regtest"], "trustedIdentities": list(identities)}]}
    for fn in ("trustpolicy.json", "trustpolicy.oci.json"):
        with open(os.path.join(nd, fn), "w") as f:
            json.dump(pol, f, indent=1)
    return root


# ------------------------------------------------------------------ sigil

def sigil_path():
    for i, a in enumerate(sys.argv):
        if a == "--sigil" and i + 1 < len(sys.argv):
            return os.path.abspath(sys.argv[i + 1])
    for cand in ("build/sanitize/cli/sigil", "build/release/cli/sigil"):
        p = os.path.join(ROOT, cand)
        if os.access(p, os.X_OK):
            return p
    raise Failed("no sigil binary: pass --sigil PATH")


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ERROR: UndefinedBehaviorSanitizer")


class SigilRun:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.stdout, self.stderr, self.elapsed = rc, out, err, elapsed
        self.doc = None
        try:
            self.doc = json.loads(out) if out.strip() else None
        except ValueError:
            pass
        d = self.doc or {}
        self.verdict = {0: "pass", 1: "fail"}.get(rc, "error")
        self.reason = d.get("reason") or d.get("message") or ""
        if not self.reason:
            lines = [l for l in err.splitlines() if l.startswith("sigil verify:")]
            self.reason = lines[-1] if lines else ""
        self.failure = d.get("failure", "")
        sigs = d.get("signatures") or []
        self.failed_check = sigs[0].get("failedCheck", "") if sigs else ""
        self.sanitizer = next((m for m in SANITIZER_MARKS if m in err), None)

    def check_name(self):
        """The failing check in the corpus's vocabulary."""
        if self.failure == "no-signature":
            return "no-signature"
        if self.failure in ("no-policy",):
            return "policy"
        return self.failed_check or ""

    def describe(self):
        return (f"rc={self.rc} elapsed={self.elapsed:.2f}s failure={self.failure!r} "
                f"check={self.failed_check!r}\n     reason: {self.reason}\n     stderr: "
                + self.stderr.strip().replace("\n", "\n             ")[:3000])


_empty_home = None


def sigil_verify(ref, cfgroot, *args, timeout=60, env_extra=None):
    cmd = [sigil_path(), "verify", "--output", "json", "--config-dir",
           os.path.join(cfgroot, "notation"), *args, ref]
    env = dict(os.environ)
    # HOME without a .docker/config.json: credentials only from --docker-config
    global _empty_home
    if not _empty_home:
        _empty_home = mkdtemp("home")
    env["HOME"] = _empty_home
    env.pop("DOCKER_CONFIG", None)
    env.update(env_extra or {})
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = -999, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            f"sigil did not finish within {timeout}s (hang)"
    r = SigilRun(rc, out, err, time.monotonic() - t0)
    r.cmd = cmd
    return r


def expect_agree(label, tools_, cfgroot, ref, sigil_args=(), notation_kw=None, expect=None):
    """Run notation verify and sigil verify on `ref`; assert the same
    verdict and failing check (where notation names one), and that the
    verdict is `expect` when given (guards against both being wrong)."""
    nv, nchk, nout = tools_.verify(cfgroot, ref, **(notation_kw or {}))
    s = sigil_verify(ref, cfgroot, *sigil_args)
    detail = f"notation: {nv} check={nchk!r}\n     {nout[-700:]}\n     sigil: {s.describe()}"
    check(s.sanitizer is None, f"{label}: sigil ran clean under the sanitizers", detail)
    check(s.rc in (0, 1), f"{label}: sigil gave a verdict (exit 0/1)", detail)
    ok = check(s.verdict == nv, f"{label}: sigil and notation agree ({nv})", detail)
    if expect:
        check(nv == expect, f"{label}: notation's verdict is the expected {expect}", detail)
    if ok and nv == "fail" and nchk:
        check(s.check_name() == nchk, f"{label}: same failing check ({nchk})", detail)
    if s.verdict == "fail":
        check(s.reason and "\n" not in s.reason, f"{label}: one-line reason", detail)
    return nv, s


def finish():
    log(f"{_checks - len(_failures)} of {_checks} checks passed")
    if _failures:
        log("failed: " + "; ".join(_failures))
        sys.exit(1)
    sys.exit(0)


def main(body):
    try:
        body()
    except Failed as e:
        check(False, "harness", str(e))
    except subprocess.TimeoutExpired as e:
        check(False, "harness", f"timed out: {e}")
    finish()
