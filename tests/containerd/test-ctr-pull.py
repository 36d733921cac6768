#!/usr/bin/python3
"""containerd 2.1 from Debian unstable, with sigil's packaged drop-in and a
real sigild: `ctr image pull` of a notation-signed image is allowed, an
unsigned one is blocked with sigil's reason in ctr's error.

usage: test-ctr-pull.py --sigil CLI --sigild PATH --verifier PATH --dropin FILE
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "registry"))
import reglib as R  # noqa: E402

REPO = "ctrtest/app"


def wait_for(path, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise R.Failed(f"{what} did not create {path}")


def cri_client(work, vals):
    """CRI's ImageService over containerd's socket, as kubelet calls it:
    api.proto from Debian unstable's golang-k8s-cri-api-dev compiled with
    Debian 12's python3-grpc-tools (its protoc predates the debug_redact
    field option, which only marks fields for redaction: dropped here)."""
    try:
        import grpc  # noqa: F401
        from grpc_tools import protoc
    except ImportError:
        return None, "python3-grpcio / python3-grpc-tools are not installed"
    proto = vals.get("CRI_API_PROTO")
    if not proto or not os.path.exists(proto):
        return None, "CRI's api.proto is missing from the tools cache"
    d = os.path.join(work, "cri")
    os.makedirs(d)
    src = open(proto).read()
    src = re.sub(r" ?\[\(?debug_redact\)? ?= ?true\]", "", src)
    with open(os.path.join(d, "api.proto"), "w") as f:
        f.write(src)
    if protoc.main(["protoc", f"-I{d}", f"--python_out={d}", f"--grpc_python_out={d}",
                    os.path.join(d, "api.proto")]) != 0:
        return None, "compiling CRI's api.proto failed"
    sys.path.insert(0, d)
    import api_pb2  # noqa: E402
    import api_pb2_grpc  # noqa: E402
    return (api_pb2, api_pb2_grpc), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigil")
    ap.add_argument("--sigild", required=True)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--dropin", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        R.skip("containerd needs root to run")
    for exe in (args.sigild, args.verifier):
        if not os.access(exe, os.X_OK):
            R.skip(f"{exe} is not built")
    vals = R.tools(need_registry=True)
    for k in ("CONTAINERD", "CTR"):
        if not vals.get(k) or not os.access(vals[k], os.X_OK):
            R.skip(f"{k} is missing from the tools cache; rerun integration/tools.sh")

    work = R.mkdtemp("ctr")
    mc = R.load_corpus_helpers()
    t = R.Tools(work, vals, mc)
    trusted, _rogue = R.signing_pkis(work, mc)
    reg = R.Registry(work, "registry")
    scope = f"{reg.host}/{REPO}"
    R.log(f"registry http://{reg.host}")

    # images: one signed by the trusted identity, one unsigned
    lay = R.Layout(os.path.join(work, "layout"))
    signed = lay.image("signed", tag="signed")[0]
    unsigned = lay.image("unsigned", tag="unsigned")[0]
    for tag in ("signed", "unsigned"):
        t.oras_cp(lay.path, tag, f"{scope}:{tag}", plain_http=True)
    t.sign(t.sign_key_config(trusted), f"{scope}@{signed}", "jws", insecure=True)

    # sigild with the trust configuration, on a private socket
    trust = os.path.join(R.trust_config(work, "trusted", scope, [trusted.root]), "notation")
    sock = os.path.join(work, "run", "sigild.sock")
    conf = os.path.join(work, "sigild.json")
    with open(conf, "w") as f:
        json.dump({"socket": sock, "configDir": trust, "registryConfig": "",
                   "stateDir": os.path.join(work, "state"), "plainHttp": True,
                   "auditLog": os.path.join(work, "audit.log")}, f)
    sigild = R.start_process([args.sigild, "--config", conf, "--foreground"],
                             os.path.join(work, "sigild.log"))
    wait_for(sock, sigild, "sigild")

    # containerd: its own root, state and socket; the packaged drop-in
    # rendered with this test's bin_dir, imported by the main config
    cd = os.path.join(work, "containerd")
    bindir = os.path.join(work, "libexec", "sigil", "verifier-bin")
    os.makedirs(bindir)
    shutil.copy(args.verifier, os.path.join(bindir, "sigil-verifier"))
    confd = os.path.join(cd, "conf.d")
    os.makedirs(confd)
    dropin = open(args.dropin).read()
    # the installed drop-in names the installed bin_dir; point it at ours
    dropin = re.sub(r'bin_dir = "[^"]*"', f'bin_dir = "{bindir}"', dropin)
    with open(os.path.join(confd, "50-sigil.toml"), "w") as f:
        f.write(dropin)
    ctd_sock = os.path.join(cd, "containerd.sock")
    with open(os.path.join(cd, "config.toml"), "w") as f:
        f.write(f'version = 2\nimports = ["{confd}/*.toml"]\nroot = "{cd}/root"\nstate = "{cd}/state"\n'
                f'[grpc]\n  address = "{ctd_sock}"\n[ttrpc]\n  address = "{ctd_sock}.ttrpc"\n')
    env = dict(os.environ, SIGIL_SOCKET=sock)
    ctd = R.start_process([vals["CONTAINERD"], "--config", os.path.join(cd, "config.toml")],
                          os.path.join(cd, "containerd.log"), env=env)
    wait_for(ctd_sock, ctd, "containerd")

    def pull(ref):
        return R.run([vals["CTR"], "-a", ctd_sock, "image", "pull", "--plain-http", ref],
                     check_rc=False, timeout=60)

    p = pull(f"{scope}:signed")
    R.check(p.returncode == 0, "ctr pull of the signed image is allowed", p.stdout[-1500:] + p.stderr[-1500:])
    p = pull(f"{scope}:unsigned")
    out = p.stdout + p.stderr
    R.check(p.returncode != 0, "ctr pull of the unsigned image is blocked", out[-1500:])
    R.check("sigil-verifier rejected image" in out and "sigil: denied" in out and "no signature" in out,
            "ctr's error carries sigil's reason", out[-1500:])
    p = pull(f"{scope}@{signed}")
    R.check(p.returncode == 0, "ctr pull by digest of the signed image is allowed",
            p.stdout[-800:] + p.stderr[-800:])
    # the kubelet path: CRI ImageService/PullImage over containerd's socket
    cri, why = cri_client(work, vals)
    if cri is None:
        R.log(f"SKIPPED CRI pulls: {why}")
    else:
        import grpc
        api_pb2, api_pb2_grpc = cri
        stub = api_pb2_grpc.ImageServiceStub(grpc.insecure_channel("unix:" + ctd_sock))

        def cri_pull(ref):
            try:
                stub.PullImage(api_pb2.PullImageRequest(image=api_pb2.ImageSpec(image=ref)), timeout=60)
                return None
            except grpc.RpcError as e:
                return f"{e.code().name}: {e.details()}"
        err = cri_pull(f"{scope}@{signed}")
        R.check(err is None, "CRI PullImage of the signed image is allowed", err or "")
        err = cri_pull(f"{scope}:unsigned")
        R.check(err is not None and "sigil: denied" in err and "no signature" in err,
                "CRI PullImage of the unsigned image fails with sigil's reason (as kubelet sees it)",
                err or "pulled")
    if args.sigil:
        st = R.run([args.sigil, "status", "--socket", sock, "--output", "json"], check_rc=False)
        doc = {}
        try:
            doc = json.loads(st.stdout)
        except ValueError:
            pass
        R.check(st.returncode == 0 and doc.get("allows", 0) >= 2 and doc.get("denies", 0) >= 1
                and doc.get("mode") == "enforce",
                "sigil status reports sigild's counters (>= 2 allowed, >= 1 denied)", st.stdout + st.stderr)
    audit = open(os.path.join(work, "audit.log")).read() if os.path.exists(os.path.join(work, "audit.log")) else ""
    R.check(unsigned in audit and signed in audit, "sigild's audit log records both decisions", audit[-1500:])
    R.finish()


if __name__ == "__main__":
    R.main(main)
