#!/usr/bin/python3
"""integration/kind/ checked without Docker: kind-config.yaml's containerd
patch on a real containerd 2.1, and run.sh's steps in a dry run.

kind cannot run here (no Docker engine), so its parts are checked one by
one:
- run.sh --dry-run exits 0 and prints every step's command (build, stage,
  registry, cluster, sigild on each node, images, pods, assertions), runs
  nothing, and stages exactly the folders kind-config.yaml mounts; without
  Docker/kind/kubectl a real run refuses with exit 2, naming what is missing;
- kind-config.yaml: a v1alpha4 Cluster whose every node mounts sigil's
  forwarder directory (at the patch's bin_dir), binaries and configuration;
  its containerd patch has no `version` (kind skips a patch whose version
  differs from the node's) and the packaged drop-in's verifier settings;
- the patch applied the way kind applies containerdConfigPatches (a TOML
  merge patch, RFC 7386 on the TOML document) on top of a kind-like node
  config, loaded by the real containerd: a CRI PullImage of the unsigned
  image is denied with sigil's reason and the signed one pulled; the same
  config without the patch's discard_unpacked_layers line (kind's stock
  `true`) lets the unsigned image through CRI - containerd falls back to
  its local pull mode and never runs the verifier, though ctr's transfer
  service pulls still do - which is why the patch exists;
- run.sh --daemonset --dry-run (sigil installed by packaging/kubernetes/)
  prints the image build, `kind load image-archive`, the kubectl apply of
  the manifests with the image, enforce mode and the staged trust, the
  rollout wait, the forwarder check in containerd's default bin_dir, the
  same pod assertions, and uninstall.sh followed by the empty bin_dir
  check; kind-config-daemonset.yaml is kind-config.yaml's patch without
  bin_dir and no mounts, so that containerd uses its default bin_dir (the
  real containerd's `config dump` of the patched node config says so).

The kind-like node config is written from kind's own node configuration,
kubernetes-sigs/kind images/base/files/etc/containerd/config.toml (HEAD
fed26882, 2026-08-21; containerd.md §5), keeping every setting that bears
on image pulls and leaving out what cannot exist outside a kind node: the
fuse-overlayfs proxy snapshotter (rootless only; its socket is not there)
and base_runtime_spec (a file kind's image generates; CRI loads it at
start).
"""
import json
import os
import re
import subprocess
import sys
import tomllib

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import harness as H  # noqa: E402
from harness import R  # noqa: E402

KIND_DIR = os.path.join(H.ROOT, "integration", "kind")
KIND_CONFIG = os.path.join(KIND_DIR, "kind-config.yaml")
KIND_CONFIG_DS = os.path.join(KIND_DIR, "kind-config-daemonset.yaml")
K8S_DIR = os.path.join(H.ROOT, "packaging", "kubernetes")
DEFAULT_BIN_DIR = "/opt/containerd/image-verifier/bin"  # containerd 2.x, no bin_dir set
RUN_SH = os.path.join(KIND_DIR, "run.sh")
CRI = "io.containerd.grpc.v1.cri"
BINDIR_PLUGIN = "io.containerd.image-verifier.v1.bindir"
MOUNTS = ("/usr/libexec/sigil/verifier-bin", "/opt/sigil", "/etc/sigil")

# kind's node config (see the docstring): version 2, CRI's pull-related
# settings as kind sets them, discard_unpacked_layers = true among them.
KIND_NODE_CONFIG = """\
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  tolerate_missing_hugepages_controller = true
  restrict_oom_score_adj = false

[plugins."io.containerd.grpc.v1.cri".containerd]
  discard_unpacked_layers = true
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true
"""

FALLBACK_LOG = "local image pull"  # containerd's warning: "... Falling back to local image pull mode"


# ------------------------------------------------ kind's patch, in Python

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch, which kind applies to the node config
    converted from TOML (kind pkg/internal/patch/toml.go)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def kind_patch(node_text, patches):
    """The node config after containerdConfigPatches, as a dict. As kind
    does, a patch that sets a version other than the node config's is
    skipped, silently."""
    doc = tomllib.loads(node_text)
    version = doc.get("version", 0)
    if not version:
        raise R.Failed("the node config has no version (kind refuses it)")
    for p in patches:
        pd = tomllib.loads(p)
        if pd.get("version", 0) not in (0, version):
            continue
        doc = merge_patch(doc, pd)
    return doc


def _toml_key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise R.Failed(f"no TOML form for {v!r}")


def toml_dump(d, path=()):
    """The dict as TOML text (what kind writes back to config.toml)."""
    scalars = [(k, v) for k, v in d.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in d.items() if isinstance(v, dict)]
    lines = []
    if path and (scalars or not tables):
        lines.append("[" + ".".join(_toml_key(k) for k in path) + "]")
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars]
    for k, v in tables:
        lines += toml_dump(v, path + (k,))
    return lines if path else "\n".join(lines) + "\n"


# ------------------------------------------------------------ the checks

def check_dry_run(work):
    """run.sh --dry-run: every step printed, nothing run; a real run
    without the tools refuses."""
    nobuild = os.path.join(work, "no-build")
    missing = {"DOCKER": "/nonexistent/docker", "KIND": "/nonexistent/kind",
               "KUBECTL": "/nonexistent/kubectl"}
    env = dict(os.environ, SIGIL_KIND_BUILD=nobuild, **missing)
    p = subprocess.run(["bash", RUN_SH, "--dry-run"], capture_output=True, text=True, env=env,
                       timeout=60)
    out = p.stdout
    R.check(p.returncode == 0, "run.sh --dry-run exits 0 without Docker, kind or kubectl",
            f"exit {p.returncode}: {p.stderr[-1500:]}")
    R.check(not os.path.exists(nobuild), "run.sh --dry-run runs nothing (no build directory made)")
    cmds = [ln for ln in out.splitlines() if ln.startswith("+ ")]
    expected = [
        ("build", f"+ meson setup {nobuild} -Dbuildtype=debugoptimized"),
        ("build", f"+ ninja -C {nobuild}"),
        ("stage: the static forwarder alone", "sigil-verifier 2>&1 | grep -qE 'not a dynamic|statically linked'"),
        ("stage: sigild's libraries", "xargs -r cp -L -t "),
        ("stage: trust material", "integration/kind/stage.py --stage "),
        ("registry", "run -d --restart=always -p 127.0.0.1:5001:5000"),
        ("cluster", f"/kind create cluster --name sigil --config {KIND_CONFIG}"),
        ("registry on kind's network", "network connect kind sigil-kind-registry"),
        ("images", "cp --to-plain-http registry.k8s.io/pause:3.10 localhost:5001/sigil-kind/app:signed"),
        ("images", "--platform linux/"),
        ("signing", "notation sign --insecure-registry --key sigil-kind 'localhost:5001/sigil-kind/app@<SIGNED>'"),
        ("pods", "/kubectl --context kind-sigil apply -f "),
        ("signed pod runs", "wait --for=condition=Ready pod/sigil-signed"),
        ("unsigned pod refused", "involvedObject.name=sigil-unsigned,reason=Failed"),
    ]
    for node in ("sigil-control-plane", "sigil-worker"):
        expected += [
            (f"{node}: containerd >= 2.1", f"exec {node} containerd --version"),
            (f"{node}: patch in force", f"exec {node} containerd config dump | grep -q 'discard_unpacked_layers = false'"),
            (f"{node}: sigil doctor", f"exec {node} env LD_LIBRARY_PATH=/opt/sigil/lib /opt/sigil/bin/sigil doctor --config /etc/containerd/config.toml"),
            (f"{node}: registry hosts.toml", f"hosts.toml {node}:/etc/containerd/certs.d/localhost:5001/hosts.toml"),
            (f"{node}: sigild started", f"exec {node} sh -c 'cp /opt/sigil/sigild.service"),
            (f"{node}: sigild answers", f"exec {node} env LD_LIBRARY_PATH=/opt/sigil/lib /opt/sigil/bin/sigil status"),
        ]
    absent = [f"{what}: {frag}" for what, frag in expected if frag not in out]
    R.check(not absent, f"run.sh --dry-run prints all {len(expected)} expected commands",
            "missing: " + "; ".join(absent) + "\n" + out[-3000:])
    for unit in ("[Service]", "ExecStart=/opt/sigil/sbin/sigild --config /etc/sigil/sigild.json",
                 "Environment=LD_LIBRARY_PATH=/opt/sigil/lib"):
        R.check(unit in out, f"run.sh --dry-run shows sigild's systemd drop-in line {unit!r}")

    # the staged folders are the ones kind-config.yaml mounts
    mk = next((c for c in cmds if c.startswith("+ mkdir -p ") and "verifier-bin" in c), "")
    stage = re.search(r"(\S+)/verifier-bin", mk)
    cfg = load_yaml(KIND_CONFIG)
    host_paths = {m["hostPath"] for n in cfg["nodes"] for m in n["extraMounts"]}
    staged = stage and all(any(d == f"{stage.group(1)}/{hp[2:]}" or d.startswith(f"{stage.group(1)}/{hp[2:]}/")
                               for d in mk.split()) for hp in host_paths)
    R.check(bool(staged) and all(hp.startswith("./") for hp in host_paths),
            "run.sh stages every hostPath kind-config.yaml mounts (relative to the stage)",
            f"{sorted(host_paths)} vs {mk}")
    R.check(f"+ cd {stage.group(1) if stage else '?'} && /nonexistent/kind create cluster" in out,
            "run.sh runs kind create cluster in the stage (where the relative hostPaths resolve)")

    p = subprocess.run(["bash", RUN_SH], capture_output=True, text=True, env=env, timeout=60)
    R.check(p.returncode == 2 and "needs Docker" in p.stderr and all(v in p.stderr for v in missing.values()),
            "run.sh without Docker/kind/kubectl refuses (exit 2), naming what is missing",
            f"exit {p.returncode}: {p.stderr[-1500:]}")


def check_dry_run_daemonset(work):
    """run.sh --daemonset --dry-run: sigil installed by its manifests, every
    step printed, nothing run."""
    nobuild = os.path.join(work, "no-build-ds")
    env = dict(os.environ, SIGIL_KIND_BUILD=nobuild, DOCKER="/nonexistent/docker",
               KIND="/nonexistent/kind", KUBECTL="/nonexistent/kubectl")
    p = subprocess.run(["bash", RUN_SH, "--daemonset", "--dry-run"], capture_output=True, text=True,
                       env=env, timeout=60)
    out = p.stdout
    R.check(p.returncode == 0, "run.sh --daemonset --dry-run exits 0 without Docker, kind or kubectl",
            f"exit {p.returncode}: {p.stderr[-1500:]}")
    R.check(not os.path.exists(nobuild), "run.sh --daemonset --dry-run runs nothing (no build directory made)")
    ref = "sigil.kind.local/sigil/sigil:kind"
    k = "/nonexistent/kubectl --context kind-sigil"
    stage = os.path.join(H.ROOT, "build", "kind-stage")  # run.sh's
    expected = [
        ("build", f"+ ninja -C {nobuild}"),
        ("image build", f"packaging/image/build.sh --build {nobuild} --no-build --out "),
        ("image named for containerd's import", f"io.containerd.image.name\"] = sys.argv[3]"),
        ("image archive", "image/sigil-image.tar oci-layout index.json blobs"),
        ("trust material", "integration/kind/stage.py --stage "),
        ("manifests: enforce", f"""sed '/^#/!s/"mode": "dry-run",/"mode": "enforce",/' {K8S_DIR}/10-config.yaml > """),
        ("manifests: image", f"sed 's|image: registry.example.com/sigil/sigil:0.1.0|image: {ref}|' {K8S_DIR}/20-daemonset.yaml > "),
        ("cluster without sigil's bin_dir", f"/kind create cluster --name sigil --config {KIND_CONFIG_DS}"),
        ("image load", "+ /nonexistent/kind load image-archive "),
        ("apply namespace", f"+ {k} apply -f {stage}/k8s/00-namespace.yaml"),
        ("apply config", f"+ {k} apply -f {stage}/k8s/10-config.yaml"),
        ("trust ConfigMap", "create configmap sigil-trust"),
        ("trust ConfigMap keys", "--from-file=ca-example-root.crt="),
        ("apply DaemonSet", f"+ {k} apply -f {stage}/k8s/20-daemonset.yaml"),
        ("rollout wait", f"+ {k} -n sigil-system rollout status daemonset/sigil --timeout="),
        ("pods", f"+ {k} apply -f {stage}/pods.yaml"),
        ("signed pod runs", "wait --for=condition=Ready pod/sigil-signed"),
        ("unsigned pod refused", "involvedObject.name=sigil-unsigned,reason=Failed"),
        ("uninstall", f"KUBECTL=/nonexistent/kubectl bash {K8S_DIR}/uninstall.sh --timeout "),
        ("namespace gone", f"+ ! {k} get namespace sigil-system"),
    ]
    for node in ("sigil-control-plane", "sigil-worker"):
        expected += [
            (f"{node}: containerd >= 2.1", f"exec {node} containerd --version"),
            (f"{node}: default bin_dir in force",
             f"exec {node} containerd config dump | grep -qF \"bin_dir = '{DEFAULT_BIN_DIR}'\""),
            (f"{node}: image imported", f"exec {node} ctr --namespace=k8s.io images ls -q | grep -qxF {ref}"),
            (f"{node}: forwarder listing", f"LISTING=$(/nonexistent/docker exec {node} ls -A {DEFAULT_BIN_DIR})"),
        ]
    absent = [f"{what}: {frag}" for what, frag in expected if frag not in out]
    R.check(not absent, f"run.sh --daemonset --dry-run prints all {len(expected)} expected commands",
            "missing: " + "; ".join(absent) + "\n" + out[-3000:])
    # the order that matters: load before apply, trust before the DaemonSet,
    # the rollout before the pods, the pods' assertions before uninstall.sh
    order = ["kind load image-archive", "create configmap sigil-trust", f"apply -f {stage}/k8s/20-daemonset.yaml",
             "rollout status daemonset/sigil", "wait --for=condition=Ready pod/sigil-signed",
             "involvedObject.name=sigil-unsigned", "uninstall.sh --timeout"]
    pos = [out.find(o) for o in order]
    R.check(all(x >= 0 for x in pos) and pos == sorted(pos),
            "run.sh --daemonset: load, trust, DaemonSet, rollout, pods, uninstall, in that order", str(pos))
    # the mode's own kind config: no sigil mounts, no systemd unit, no
    # forwarder copied from the host
    for gone in ("/usr/libexec/sigil/verifier-bin", "systemctl daemon-reload", "sigild-kind.conf",
                 "sigil doctor"):
        R.check(gone not in out, f"run.sh --daemonset does not do the direct mode's {gone!r}")
    # the per-node listings come after the rollout (installed) and after
    # uninstall.sh (gone): two for each node
    R.check(out.count(f"ls -A {DEFAULT_BIN_DIR}") == 4,
            "run.sh --daemonset lists each node's bin_dir after the rollout and after uninstall.sh",
            str(out.count(f"ls -A {DEFAULT_BIN_DIR}")))
    p = subprocess.run(["bash", RUN_SH, "--daemonset", "--no-uninstall", "--dry-run"], capture_output=True,
                       text=True, env=env, timeout=60)
    R.check(p.returncode == 0 and "uninstall.sh" not in p.stdout and "rollout status" in p.stdout,
            "run.sh --daemonset --no-uninstall --dry-run: everything but uninstall.sh",
            f"exit {p.returncode}: {p.stderr[-500:]}")
    p = subprocess.run(["bash", RUN_SH, "--no-uninstall", "--dry-run"], capture_output=True, text=True,
                       env=env, timeout=60)
    R.check(p.returncode == 2 and "--daemonset" in p.stderr,
            "run.sh --no-uninstall without --daemonset is a usage error (exit 2)", f"exit {p.returncode}")


def check_config_daemonset(vals, work, patch_text):
    """kind-config-daemonset.yaml: kind-config.yaml's patch minus bin_dir, no
    mounts; on the real containerd the default bin_dir is in force."""
    cfg = load_yaml(KIND_CONFIG_DS)
    R.check(cfg.get("kind") == "Cluster" and cfg.get("apiVersion") == "kind.x-k8s.io/v1alpha4",
            "kind-config-daemonset.yaml is a kind v1alpha4 Cluster", str(cfg)[:300])
    patches = cfg.get("containerdConfigPatches") or []
    R.check(len(patches) == 1, "kind-config-daemonset.yaml has one containerd patch", str(patches))
    ds = tomllib.loads(patches[0])
    want = tomllib.loads(patch_text)
    del want["plugins"][BINDIR_PLUGIN]["bin_dir"]
    R.check(ds == want, "kind-config-daemonset.yaml's patch is kind-config.yaml's without bin_dir",
            f"{ds} vs {want}")
    nodes = cfg.get("nodes") or []
    R.check(len(nodes) == 2 and all(not n.get("extraMounts") for n in nodes),
            "kind-config-daemonset.yaml: two nodes, no mounts (the DaemonSet brings sigil)", json.dumps(nodes))
    d = os.path.join(work, "kind-ds-node")
    os.makedirs(d, exist_ok=True)
    doc = kind_patch(KIND_NODE_CONFIG, patches)
    doc = {"root": f"{d}/root", "state": f"{d}/state", **doc}
    path = os.path.join(d, "config.toml")
    with open(path, "w") as f:
        f.write(toml_dump(doc))
    dump = config_dump(vals, path)
    R.check(f"bin_dir = '{DEFAULT_BIN_DIR}'" in dump and "discard_unpacked_layers = false" in dump,
            f"containerd config dump of the --daemonset node config: bin_dir {DEFAULT_BIN_DIR} "
            "(where the DaemonSet installs the forwarder), discard_unpacked_layers = false", dump[-2000:])


def load_yaml(path):
    try:
        import yaml
    except ImportError:
        R.skip("python3-yaml is not installed (scripts/deps.sh installs it)")
    with open(path) as f:
        return yaml.safe_load(f)


def check_config(args):
    """kind-config.yaml's structure; returns its containerd patch text."""
    cfg = load_yaml(KIND_CONFIG)
    R.check(cfg.get("kind") == "Cluster" and cfg.get("apiVersion") == "kind.x-k8s.io/v1alpha4",
            "kind-config.yaml is a kind v1alpha4 Cluster", str(cfg)[:300])
    patches = cfg.get("containerdConfigPatches") or []
    R.check(len(patches) == 1, "kind-config.yaml has one containerd patch", str(patches))
    patch = tomllib.loads(patches[0])
    R.check("version" not in patch, "the patch sets no version (kind skips a mismatching one)")
    cri = patch.get("plugins", {}).get(CRI, {})
    R.check(cri.get("containerd", {}).get("discard_unpacked_layers") is False,
            "the patch sets CRI's discard_unpacked_layers = false")
    R.check(set(cri) <= {"containerd", "registry"} and "mirrors" not in cri.get("registry", {})
            and "configs" not in cri.get("registry", {}),
            "the patch uses config_path, not the registry.mirrors/configs that disable verifiers",
            json.dumps(cri))
    bindir = patch.get("plugins", {}).get(BINDIR_PLUGIN, {})
    packaged = tomllib.loads(open(args.dropin).read())["plugins"][BINDIR_PLUGIN]
    R.check({k: v for k, v in bindir.items() if k != "bin_dir"}
            == {k: v for k, v in packaged.items() if k != "bin_dir"},
            "the patch's verifier settings are the packaged drop-in's",
            f"{bindir} vs {packaged}")
    nodes = cfg.get("nodes") or []
    ok = len(nodes) >= 1
    for n in nodes:
        mounts = {m.get("containerPath"): m for m in n.get("extraMounts") or []}
        ok = ok and all(c in mounts and mounts[c].get("readOnly") is True for c in MOUNTS)
    R.check(ok, f"every node mounts {', '.join(MOUNTS)} read-only", json.dumps(nodes)[:1000])
    R.check(bindir.get("bin_dir") == MOUNTS[0], "the patch's bin_dir is the mounted forwarder directory",
            str(bindir.get("bin_dir")))
    return patches[0]


def node_config(node, ctd, patch_text, stock):
    """The kind node's config.toml after the patch (with the forwarder
    directory and registry paths of this test), written for containerd
    `ctd`. `stock`: without the patch's discard_unpacked_layers line."""
    if stock:
        patch_text, n = re.subn(r"(?m)^\s*discard_unpacked_layers\s*=.*$", "", patch_text)
        if n != 1:
            raise R.Failed("the patch has no single discard_unpacked_layers line")
    # the same rendering the packaged drop-in gets (harness.render_dropin)
    patch_text = H.render_dropin(patch_text, ctd.bindir, H.PER_VERIFIER_TIMEOUT)
    doc = kind_patch(KIND_NODE_CONFIG, [patch_text])
    hosts = os.path.join(ctd.dir, "certs.d")
    os.makedirs(hosts, exist_ok=True)
    doc["plugins"][CRI]["registry"]["config_path"] = hosts
    # test-only: containerd's own root, state and socket
    own = {"root": f"{ctd.dir}/root", "state": f"{ctd.dir}/state",
           "grpc": {"address": ctd.sock}, "ttrpc": {"address": ctd.sock + ".ttrpc"}}
    doc = {**own, **doc}
    # the harness's packaged drop-in is not used: a kind node has no imports
    os.unlink(os.path.join(ctd.confd, "50-sigil.toml"))
    with open(ctd.config, "w") as f:
        f.write(toml_dump(doc))
    return doc


def config_dump(vals, path):
    p = R.run([vals["CONTAINERD"], "--config", path, "config", "dump"], check_rc=False, timeout=60)
    R.check(p.returncode == 0, f"containerd loads {os.path.basename(os.path.dirname(path))}'s config",
            p.stderr[-1500:])
    return p.stdout


def doctor(args, vals, node, path):
    """`sigil doctor --config path` (with this node's containerd binary and
    sigild socket, as on a node): its exit status and output."""
    p = R.run([args.sigil, "doctor", "--config", path, "--containerd", vals["CONTAINERD"],
               "--socket", node.sigild.sock], check_rc=False, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def main():
    args = H.parse_args()
    vals = H.preflight(args)
    node = H.Node(args, vals, "kind", repo="kind/app")
    check_dry_run(node.work)
    check_dry_run_daemonset(node.work)
    patch = check_config(args)
    check_config_daemonset(vals, node.work, patch)

    signed = node.push("signed")
    unsigned = node.push("unsigned")
    node.sign(signed, "jws")
    node.sigild.start()
    have_doctor = os.path.exists(os.path.join(H.ROOT, "cli", "cmd_doctor.c"))

    # --- with kind-config.yaml's patch: CRI pulls go through sigil
    ctd = H.Containerd(node.work, vals, args.verifier, args.dropin, node.sigild.sock, name="kind-patched")
    node_config(node, ctd, patch, stock=False)
    dump = config_dump(vals, ctd.config)
    R.check("discard_unpacked_layers = false" in dump and f"'{ctd.bindir}'" in dump,
            "containerd config dump shows what run.sh checks on each node (patch in force)",
            dump[-2000:])
    if have_doctor:
        rc, out = doctor(args, vals, node, ctd.config)
        R.check(rc == 0 and "no problems" in out.splitlines()[0],
                "sigil doctor finds nothing to fix in the patched kind config (exit 0)",
                f"exit {rc}: {out[-1500:]}")
    ctd.start()
    cri = ctd.cri()
    H.expect_pulled("patched kind config: CRI PullImage of the signed image is allowed",
                    cri.pull(f"{node.scope}:signed"))
    H.expect_denied("patched kind config: CRI PullImage of the unsigned image is denied by sigil",
                    cri.pull(f"{node.scope}:unsigned"), "no signature")
    R.check(cri.status(f"{node.scope}:unsigned") is None,
            "patched kind config: the unsigned image is not on the node")
    R.check(FALLBACK_LOG not in ctd.log(),
            "patched kind config: containerd does not fall back to local pulls", ctd.log()[-1500:])
    ctd.stop()

    # --- kind's stock discard_unpacked_layers = true: CRI bypasses sigil
    ctd = H.Containerd(node.work, vals, args.verifier, args.dropin, node.sigild.sock, name="kind-stock")
    node_config(node, ctd, patch, stock=True)
    dump = config_dump(vals, ctd.config)
    R.check("discard_unpacked_layers = true" in dump and f"'{ctd.bindir}'" in dump,
            "without the patch's line, kind's discard_unpacked_layers = true is in force "
            "(and sigil's bin_dir still set)", dump[-2000:])
    if have_doctor:
        rc, out = doctor(args, vals, node, ctd.config)
        R.check(rc == 1 and "problem discard-unpacked-layers" in out,
                "sigil doctor flags discard_unpacked_layers = true in the stock kind config (exit 1)",
                f"exit {rc}: {out[-1500:]}")
    ctd.start()
    ok, out = ctd.ctr_pull(f"{node.scope}:unsigned")
    R.check(not ok and "sigil: denied" in out,
            "stock kind config: ctr (transfer service) pulls still run sigil: unsigned denied", out[-1500:])
    cri = ctd.cri()
    before = len(node.sigild.records_for(unsigned))
    err = cri.pull(f"{node.scope}:unsigned")
    R.check(err is None and cri.status(f"{node.scope}:unsigned") is not None,
            "stock kind config: CRI PullImage of the UNSIGNED image gets through (why the patch exists)",
            err or "")
    R.check(len(node.sigild.records_for(unsigned)) == before,
            "stock kind config: sigil was never asked about the CRI pull", str(node.sigild.audit())[-1500:])
    log = ctd.log()
    R.check(FALLBACK_LOG in log and "DiscardUnpackedLayers" in log,
            "stock kind config: containerd logs its fallback to local pulls (DiscardUnpackedLayers)",
            log[-1500:])
    ctd.stop()
    R.finish()


if __name__ == "__main__":
    R.main(main)
