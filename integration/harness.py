"""harness.py - the real-containerd integration harness (issue 5).

Starts, on 127.0.0.1 and in a private temporary root, what a node has:
containerd 2.1 from Debian unstable (integration/tools.sh) with its own
root, state and socket, importing sigil's *packaged* drop-in rendered with
the test's bin_dir; sigild with its own socket, state and audit log; and a
CRI ImageService client that calls PullImage over containerd's socket as
kubelet does. The registry, notation, oras and the signing PKIs come from
tests/registry/reglib.py (imported, not copied). Every process started here
is stopped on exit, also on failure or SIGTERM.

Deadlines are short and configurable through the environment so that the
suite fits CI's budget: SIGIL_IT_VERIFIER_TIMEOUT_MS (the forwarder's RPC
deadline), SIGIL_IT_PER_VERIFIER_TIMEOUT (containerd's, a Go duration).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "registry"))
import reglib as R  # noqa: E402

VERIFIER_TIMEOUT_MS = int(os.environ.get("SIGIL_IT_VERIFIER_TIMEOUT_MS", "8000"))
PER_VERIFIER_TIMEOUT = os.environ.get("SIGIL_IT_PER_VERIFIER_TIMEOUT", "10s")
CTR_NAMESPACE = "default"  # ctr's; CRI uses k8s.io


def parse_args(extra=None):
    """The arguments every integration test takes (meson passes them)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigil", required=True)
    ap.add_argument("--sigild", required=True)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--dropin", required=True, help="the built (installed) containerd drop-in")
    for a in extra or ():
        ap.add_argument(a)
    return ap.parse_args()


def preflight(args):
    """Skip (exit 77, saying why) when this machine cannot run the suite;
    returns the tools cache's values."""
    if os.geteuid() != 0:
        R.skip("containerd needs root to run")
    for exe in (args.sigil, args.sigild, args.verifier):
        if not os.access(exe, os.X_OK):
            R.skip(f"{exe} is not built")
    vals = R.tools(need_registry=True)
    for k in ("CONTAINERD", "CTR"):
        if not vals.get(k) or not os.access(vals[k], os.X_OK):
            R.skip(f"{k} is missing from the tools cache; rerun integration/tools.sh")
    return vals


def wait_for(path, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    raise R.Failed(f"{what} did not create {path}")


def stop_proc(p, sig=signal.SIGTERM, timeout=10):
    if p is None or p.poll() is not None:
        return
    p.send_signal(sig)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


# ------------------------------------------------------------------ sigild

class Sigild:
    """sigild with a private socket, state directory and JSON audit log.
    `conf` overrides sigild.json keys (packaging/sigild.json.md)."""

    def __init__(self, work, exe, config_dir, name="sigild", **conf):
        self.dir = os.path.join(work, name)
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        self.exe = exe
        self.sock = os.path.join(self.dir, "run", "sigild.sock")
        self.audit_path = os.path.join(self.dir, "audit.log")
        self.conf_path = os.path.join(self.dir, "sigild.json")
        self.log_path = os.path.join(self.dir, "sigild.log")
        self.conf = {"socket": self.sock, "configDir": config_dir, "registryConfig": "",
                     "stateDir": os.path.join(self.dir, "state"), "plainHttp": True,
                     "auditLog": self.audit_path, "auditFormat": "json", "metricsListen": ""}
        self.conf.update(conf)
        self.proc = None
        self._logs = 0

    def write_conf(self):
        with open(self.conf_path, "w") as f:
            json.dump(self.conf, f, indent=1)

    def start(self):
        self.write_conf()
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self._logs += 1
        self.proc = R.start_process([self.exe, "--config", self.conf_path, "--foreground"],
                                    f"{self.log_path}.{self._logs}")
        wait_for(self.sock, self.proc, "sigild")
        return self

    def stop(self):
        stop_proc(self.proc)
        self.proc = None

    def reload(self):
        """SIGHUP: reload the trust configuration now."""
        self.proc.send_signal(signal.SIGHUP)

    def log(self):
        out = ""
        for i in range(1, self._logs + 1):
            try:
                out += open(f"{self.log_path}.{i}", errors="replace").read()
            except OSError:
                pass
        return out

    def audit(self):
        """Every audit record so far (JSON lines), oldest first."""
        recs = []
        try:
            with open(self.audit_path) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        recs.append(json.loads(line))
        except OSError:
            pass
        return recs

    def records_for(self, digest):
        return [r for r in self.audit() if r.get("digest") == digest]

    def status(self, sigil):
        p = R.run([sigil, "status", "--socket", self.sock, "--output", "json"], check_rc=False)
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise R.Failed(f"sigil status: {p.stdout}{p.stderr}")


# -------------------------------------------------------------- containerd

def render_dropin(dropin_text, bindir, per_verifier_timeout=None):
    """The packaged drop-in with its bin_dir pointed at `bindir` - the only
    change made to it (the same function renders it for kind's check)."""
    text, n = re.subn(r'bin_dir = "[^"]*"', f'bin_dir = "{bindir}"', dropin_text)
    if n != 1:
        raise R.Failed("the packaged drop-in has no single bin_dir line")
    if per_verifier_timeout:
        text = re.sub(r'per_verifier_timeout = "[^"]*"',
                      f'per_verifier_timeout = "{per_verifier_timeout}"', text)
    return text


class Containerd:
    """containerd 2.1 with its own root, state and socket; the packaged
    drop-in (rendered) imported from conf.d; sigil-verifier alone in
    bin_dir. `cri` is extra TOML appended to the main (version 2) config,
    e.g. a [plugins."io.containerd.grpc.v1.cri".containerd] table;
    `hosts_dir` becomes CRI's registry config_path and ctr's --hosts-dir."""

    def __init__(self, work, vals, verifier, dropin, sigil_socket, name="containerd",
                 cri="", hosts_dir=None, env=None):
        self.vals = vals
        self.dir = os.path.join(work, name)
        self.bindir = os.path.join(self.dir, "libexec", "sigil", "verifier-bin")
        os.makedirs(self.bindir)
        shutil.copy(verifier, os.path.join(self.bindir, "sigil-verifier"))
        self.confd = os.path.join(self.dir, "conf.d")
        os.makedirs(self.confd)
        with open(os.path.join(self.confd, "50-sigil.toml"), "w") as f:
            f.write(render_dropin(open(dropin).read(), self.bindir, PER_VERIFIER_TIMEOUT))
        self.sock = os.path.join(self.dir, "containerd.sock")
        self.config = os.path.join(self.dir, "config.toml")
        self.hosts_dir = hosts_dir
        main = (f'version = 2\nimports = ["{self.confd}/*.toml"]\nroot = "{self.dir}/root"\n'
                f'state = "{self.dir}/state"\n'
                f'[grpc]\n  address = "{self.sock}"\n[ttrpc]\n  address = "{self.sock}.ttrpc"\n')
        if hosts_dir:
            main += f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{hosts_dir}"\n'
        main += cri
        with open(self.config, "w") as f:
            f.write(main)
        self.env = dict(os.environ, SIGIL_SOCKET=sigil_socket,
                        SIGIL_VERIFIER_TIMEOUT_MS=str(VERIFIER_TIMEOUT_MS))
        shim = vals.get("CONTAINERD_SHIM")
        if shim:
            self.env["PATH"] = os.path.dirname(shim) + ":" + self.env.get("PATH", "")
        self.env.update(env or {})
        self.proc = None
        self._cri = None
        self._logs = 0
        self.work = work

    def start(self):
        self._logs += 1
        self.proc = R.start_process([self.vals["CONTAINERD"], "--config", self.config],
                                    os.path.join(self.dir, f"containerd.log.{self._logs}"), env=self.env)
        wait_for(self.sock, self.proc, "containerd")
        return self

    def stop(self):
        stop_proc(self.proc)
        self.proc = None
        for s in (self.sock, self.sock + ".ttrpc"):
            if os.path.exists(s):
                os.unlink(s)

    def log(self):
        out = ""
        for i in range(1, self._logs + 1):
            try:
                out += open(os.path.join(self.dir, f"containerd.log.{i}"), errors="replace").read()
            except OSError:
                pass
        return out

    def ctr(self, *a, timeout=60):
        return R.run([self.vals["CTR"], "-a", self.sock, "-n", CTR_NAMESPACE, *a],
                     check_rc=False, timeout=timeout)

    def ctr_pull(self, ref, timeout=60):
        """`ctr image pull` (the transfer service): (ok, ctr's output)."""
        a = ["image", "pull", "--plain-http"]
        if self.hosts_dir:
            a += ["--hosts-dir", self.hosts_dir]
        p = self.ctr(*a, ref, timeout=timeout)
        return p.returncode == 0, (p.stdout + p.stderr).strip()

    def ctr_rmi(self, ref):
        self.ctr("image", "rm", ref)

    def cri(self):
        if self._cri is None:
            self._cri = CRI(self.work, self.vals, self.sock)
        return self._cri


# --------------------------------------------------------------------- CRI

_CRI_MODULES = None


def _cri_modules(work, vals):
    """CRI's api.proto from Debian unstable's golang-k8s-cri-api-dev,
    compiled with Debian 12's python3-grpc-tools (whose protoc predates the
    debug_redact field option; it only marks fields for log redaction and
    is dropped here)."""
    global _CRI_MODULES
    if _CRI_MODULES is not None:
        return _CRI_MODULES
    try:
        import grpc  # noqa: F401
        from grpc_tools import protoc
    except ImportError:
        R.skip("python3-grpcio / python3-grpc-tools are not installed (scripts/deps.sh)")
    proto = vals.get("CRI_API_PROTO")
    if not proto or not os.path.exists(proto):
        R.skip("CRI's api.proto is missing from the tools cache; rerun integration/tools.sh")
    d = os.path.join(work, "cri-api")
    os.makedirs(d, exist_ok=True)
    src = re.sub(r" ?\[\(?debug_redact\)? ?= ?true\]", "", open(proto).read())
    with open(os.path.join(d, "api.proto"), "w") as f:
        f.write(src)
    if protoc.main(["protoc", f"-I{d}", f"--python_out={d}", f"--grpc_python_out={d}",
                    os.path.join(d, "api.proto")]) != 0:
        raise R.Failed("compiling CRI's api.proto failed")
    sys.path.insert(0, d)
    import api_pb2  # noqa: E402
    import api_pb2_grpc  # noqa: E402
    _CRI_MODULES = (api_pb2, api_pb2_grpc)
    return _CRI_MODULES


class CRI:
    """runtime.v1.ImageService over containerd's socket, as kubelet calls it."""

    def __init__(self, work, vals, sock):
        import grpc
        self.grpc = grpc
        self.pb, pbg = _cri_modules(work, vals)
        self.stub = pbg.ImageServiceStub(grpc.insecure_channel("unix:" + sock))

    def pull(self, ref, timeout=60):
        """None when pulled, else "CODE: message" as kubelet gets it."""
        try:
            self.stub.PullImage(self.pb.PullImageRequest(image=self.pb.ImageSpec(image=ref)),
                                timeout=timeout)
            return None
        except self.grpc.RpcError as e:
            return f"{e.code().name}: {e.details()}"

    def status(self, ref):
        """The image's CRI status, or None when it is not on the node."""
        r = self.stub.ImageStatus(self.pb.ImageStatusRequest(image=self.pb.ImageSpec(image=ref)),
                                  timeout=30)
        return r.image if r.HasField("image") else None

    def remove(self, ref):
        try:
            self.stub.RemoveImage(self.pb.RemoveImageRequest(image=self.pb.ImageSpec(image=ref)),
                                  timeout=30)
        except self.grpc.RpcError:
            pass


# ------------------------------------------------------------------- node

class Node:
    """One node's worth of parts: a registry, a trusted and a rogue signing
    PKI, notation and oras, an OCI layout to build images in, sigild with
    a trust policy for `repo` on the registry, and containerd.
    Start sigild and containerd with start(); tests change what they need
    (sigild.conf, containerd cri=...) before."""

    def __init__(self, args, vals, label, repo="it/app", cri="", sigild_conf=None,
                 identities=("*",), level="strict", hosts=False, access_log=False):
        self.args, self.vals = args, vals
        self.work = R.mkdtemp(label)
        self.mc = R.load_corpus_helpers()
        self.tools = R.Tools(self.work, vals, self.mc)
        self.trusted, self.rogue = R.signing_pkis(self.work, self.mc)
        self.registry = R.Registry(self.work, "registry", access_log=access_log)
        self.repo = repo
        self.scope = f"{self.registry.host}/{repo}"
        self.layout = R.Layout(os.path.join(self.work, "layout"))
        self.trust_root = R.trust_config(self.work, "trusted", self.scope, [self.trusted.root],
                                         identities=identities, level=level)
        self.config_dir = os.path.join(self.trust_root, "notation")
        self.hosts_dir = None
        if hosts:
            self.hosts_dir = os.path.join(self.work, "certs.d")
            os.makedirs(self.hosts_dir)
        conf = dict(sigild_conf or {})
        if self.hosts_dir:
            conf.setdefault("registryConfig", self.hosts_dir)
        self.sigild = Sigild(self.work, args.sigild, self.config_dir, **conf)
        self.containerd = Containerd(self.work, vals, args.verifier, args.dropin, self.sigild.sock,
                                     cri=cri, hosts_dir=self.hosts_dir)
        self._signcfg = {}

    def start(self):
        self.sigild.start()
        self.containerd.start()
        return self

    def mirror(self, upstream):
        """hosts.toml: pulls of `upstream` (e.g. docker.io) go to the local
        registry over plain HTTP, for containerd and sigild alike."""
        d = os.path.join(self.hosts_dir, upstream)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "hosts.toml"), "w") as f:
            f.write(f'server = "https://{upstream}"\n\n[host."http://{self.registry.host}"]\n'
                    f'  capabilities = ["pull", "resolve"]\n')

    def push(self, label, repo=None, multiarch=False):
        """A fresh image pushed as <repo>:<label>; returns its digest."""
        repo = repo or self.repo
        if multiarch:
            digest = self.layout.multiarch(label, tag=label)[0]
        else:
            digest = self.layout.image(label, tag=label)[0]
        self.tools.oras_cp(self.layout.path, label, f"{self.registry.host}/{repo}:{label}",
                           recursive=multiarch, plain_http=True)
        return digest

    def sign(self, digest, fmt="jws", pki=None, repo=None, expiry=None):
        """notation sign <registry>/<repo>@<digest> with `pki`'s leaf key."""
        pki = pki or self.trusted
        if id(pki) not in self._signcfg:
            self._signcfg[id(pki)] = self.tools.sign_key_config(pki, name=f"k{len(self._signcfg)}")
        ref = f"{self.registry.host}/{repo or self.repo}@{digest}"
        cmd = [self.tools.notation, "sign", "--key", "k", "--signature-format", fmt,
               "--insecure-registry"]
        if expiry:
            cmd += ["--expiry", expiry]
        R.run(cmd + [ref], env=self.tools._env({"XDG_CONFIG_HOME": self._signcfg[id(pki)]}))

    def write_policy(self, statements):
        """Replace the trust policy (both file names) with `statements`."""
        pol = {"version": "1.0", "trustPolicies": statements}
        for fn in ("trustpolicy.json", "trustpolicy.oci.json"):
            tmp = os.path.join(self.config_dir, fn + ".tmp")
            with open(tmp, "w") as f:
                json.dump(pol, f, indent=1)
            os.rename(tmp, os.path.join(self.config_dir, fn))

    def statement(self, name, scopes, level="strict", identities=("*",), stores=("ca:regtest",)):
        st = {"name": name, "registryScopes": list(scopes),
              "signatureVerification": {"level": level}, "trustedIdentities": list(identities),
              "trustStores": list(stores)}
        if level == "skip":
            st.pop("trustedIdentities")
            st.pop("trustStores")
        return st


def expect_pulled(what, err):
    R.check(err is None, what, err or "")


def expect_denied(what, err, *reason_parts):
    """A deny through CRI or ctr: sigil's reason, one line, in the error."""
    ok = err is not None and "sigil: denied" in err and all(p in err for p in reason_parts)
    R.check(ok, what + (f" (reason names: {', '.join(reason_parts)})" if reason_parts else ""),
            err or "pulled")
