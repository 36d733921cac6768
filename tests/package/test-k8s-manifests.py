#!/usr/bin/python3
"""test-k8s-manifests.py - packaging/kubernetes/ against the Kubernetes API
schemas, offline, and against sigil's own invariants.

Schemas: the Kubernetes OpenAPI v3 documents for core/v1 and apps/v1 that
Debian's golang-k8s-kubectl-dev ships (kubectl's test copy, fetched into
the tools cache by integration/tools.sh: K8S_OPENAPI_V3). Validator:
python3-jsonschema (Debian 12), run strictly, as kubeconform -strict does:
every object schema with properties gets additionalProperties: false, so
a misspelt or misplaced field is an error rather than silently dropped by
the API server. The documents are of API v1.27.0, the oldest these
manifests claim to support (apps/v1 and core/v1 only gain fields), so a
field newer than 1.27 is reported too.

The validator is shown to catch errors (a misspelt field, a wrong type, a
missing required field) before the manifests are checked, so the test
cannot pass by validating nothing.

Invariants checked besides the schema: the forwarder is staged in a
sibling of bin_dir and renamed into it; bin_dir is containerd's default;
sigild's socket is the forwarder's compiled-in default; sigild.json has
only keys packaging/sigild.json knows; the trust volume puts every key
under trust/ and sigild's configDir is that directory; probes, resource
requests and limits on every container; images pinned (no :latest, no
missing tag); uninstall.sh removes the forwarder before deleting sigild.

Usage: test-k8s-manifests.py SOURCE_ROOT
"""
import copy
import json
import os
import re
import subprocess
import sys

try:
    import yaml
    import jsonschema
except ImportError as e:  # python3-yaml, python3-jsonschema
    print(f"SKIPPED {e.name} is not installed (apt-get install python3-yaml python3-jsonschema)")
    sys.exit(77)

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
K8S = os.path.join(ROOT, "packaging", "kubernetes")
CACHE = os.environ.get("SIGIL_TOOLS_CACHE", os.path.expanduser("~/.cache/sigil-tools"))
BIN_DIR = "/opt/containerd/image-verifier/bin"
failures = []
checks = 0


def check(cond, what, detail=""):
    global checks
    checks += 1
    print(("ok    " if cond else "FAIL  ") + what + ("" if cond else f": {detail}"), flush=True)
    if not cond:
        failures.append(what)


def openapi_dir():
    envfile = os.path.join(CACHE, "env")
    def from_env():
        if os.path.exists(envfile):
            for line in open(envfile):
                if line.startswith("K8S_OPENAPI_V3="):
                    return line.strip().split("=", 1)[1]
        return None
    d = from_env()
    if not d or not os.path.isdir(d):
        print(f"K8S_OPENAPI_V3 missing from {envfile}: running integration/tools.sh", flush=True)
        r = subprocess.run(["bash", os.path.join(ROOT, "integration", "tools.sh")],
                           stdout=subprocess.DEVNULL)
        d = from_env()
        if r.returncode != 0 or not d or not os.path.isdir(d):
            print("SKIPPED the Kubernetes OpenAPI documents (golang-k8s-kubectl-dev) could not be "
                  "fetched by integration/tools.sh")
            sys.exit(77)
    return d


def strict(node):
    """additionalProperties: false wherever an object lists its properties."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            strict(v)
    elif isinstance(node, list):
        for v in node:
            strict(v)


def load_schemas():
    d = openapi_dir()
    schemas, gvk, versions = {}, {}, set()
    for rel in ("api/v1.json", "apis/apps/v1.json"):
        doc = json.load(open(os.path.join(d, rel)))
        versions.add(doc["info"]["version"])
        for name, s in doc["components"]["schemas"].items():
            schemas[name] = s
            for k in s.get("x-kubernetes-group-version-kind", []):
                api = f"{k['group']}/{k['version']}" if k["group"] else k["version"]
                gvk[(api, k["kind"])] = name
    strict(schemas)
    return {"components": {"schemas": schemas}}, gvk, versions


def validator_for(root, gvk, doc):
    name = gvk.get((doc.get("apiVersion"), doc.get("kind")))
    if name is None:
        return None
    resolver = jsonschema.RefResolver.from_schema(root)
    return jsonschema.Draft7Validator({"$ref": f"#/components/schemas/{name}"}, resolver=resolver)


def errors_of(root, gvk, doc):
    v = validator_for(root, gvk, doc)
    if v is None:
        return [f"no schema for {doc.get('apiVersion')} {doc.get('kind')}"]
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc))


def load_manifests():
    docs = {}
    for f in sorted(os.listdir(K8S)):
        if f.endswith(".yaml"):
            for doc in yaml.safe_load_all(open(os.path.join(K8S, f))):
                if doc is not None:
                    docs[(f, doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def containers(ds):
    spec = ds["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def main():
    root, gvk, versions = load_schemas()
    print(f"schemas: Kubernetes OpenAPI v3, {sorted(versions)}, {len(root['components']['schemas'])} types")
    docs = load_manifests()
    ds = next(d for (f, k, n), d in docs.items() if k == "DaemonSet" and n == "sigil")
    cleanup = next(d for (f, k, n), d in docs.items() if k == "DaemonSet" and n == "sigil-cleanup")

    # --- the validator rejects what it must
    bad = copy.deepcopy(ds)
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    errs = errors_of(root, gvk, bad)
    check(errs == ["spec/template/spec/containers/0: Additional properties are not allowed "
                   "('imagePullPolicyy' was unexpected)"], "validator: misspelt field rejected", errs)
    bad = copy.deepcopy(ds)
    bad["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "30"
    errs = errors_of(root, gvk, bad)
    check(errs == ["spec/template/spec/terminationGracePeriodSeconds: '30' is not of type 'integer'"],
          "validator: wrong type rejected", errs)
    bad = copy.deepcopy(ds)
    del bad["spec"]["selector"]
    errs = errors_of(root, gvk, bad)
    check(errs == ["spec: 'selector' is a required property"], "validator: missing required field rejected", errs)
    bad = copy.deepcopy(ds)
    del bad["spec"]["template"]["spec"]["containers"][0]["name"]
    errs = errors_of(root, gvk, bad)
    check(errs == ["spec/template/spec/containers/0: 'name' is a required property"],
          "validator: container without a name rejected", errs)

    # --- every manifest
    kinds = sorted({(k, n) for (f, k, n) in docs})
    check(kinds == [("ConfigMap", "sigil-config"), ("ConfigMap", "sigil-trust"), ("DaemonSet", "sigil"),
                    ("DaemonSet", "sigil-cleanup"), ("Namespace", "sigil-system"), ("ServiceAccount", "sigil")],
          "the manifests are the expected objects", kinds)
    for (f, k, n), doc in sorted(docs.items()):
        errs = errors_of(root, gvk, doc)
        check(errs == [], f"{f}: {k} {n} validates", "; ".join(errs))
        if k != "Namespace":
            check(doc["metadata"].get("namespace") == "sigil-system", f"{f}: {k} {n} in sigil-system",
                  doc["metadata"].get("namespace"))

    # --- images pinned, probes, resources, security contexts
    for d in (ds, cleanup):
        for c in containers(d):
            img = c["image"]
            tag = img.rsplit("/", 1)[-1]
            check(("@sha256:" in img or ":" in tag) and not tag.endswith(":latest"),
                  f"{d['metadata']['name']}/{c['name']}: image pinned ({img})")
            r = c.get("resources", {})
            check(set(r.get("requests", {})) == {"cpu", "memory"} and "memory" in r.get("limits", {}),
                  f"{d['metadata']['name']}/{c['name']}: requests and a memory limit", r)
            sc = c.get("securityContext", {})
            check(sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
                  and sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("privileged"),
                  f"{d['metadata']['name']}/{c['name']}: no privilege escalation, read-only root, caps dropped", sc)
    spec = ds["spec"]["template"]["spec"]
    check(not spec.get("hostPID") and not spec.get("hostNetwork") and not spec.get("hostIPC"),
          "sigil pods: no host PID/network/IPC namespace")
    sigild = next(c for c in spec["containers"] if c["name"] == "sigild")
    check(sigild["securityContext"].get("runAsNonRoot") is True and sigild["securityContext"]["runAsUser"] != 0,
          "sigild runs as non-root", sigild["securityContext"])
    status = ["sigil", "status", "--socket", "/run/sigil/sigild.sock"]
    for p in ("startupProbe", "readinessProbe", "livenessProbe"):
        check(sigild.get(p, {}).get("exec", {}).get("command") == status, f"sigild: {p} is `sigil status`",
              sigild.get(p))
    req = sigild["resources"]["requests"]
    check(req == {"cpu": "50m", "memory": "64Mi"} and sigild["resources"]["limits"]["memory"] == "256Mi",
          "sigild: requests 50m/64Mi, limit 256Mi (bench/README.md: 21-37 MiB RSS)", sigild["resources"])
    ru = ds["spec"]["updateStrategy"]
    check(ru == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
          "rolling update surges (the new image is pulled while the old sigild serves)", ru)
    check({"operator": "Exists"} in spec.get("tolerations", []), "sigil runs on every node (tolerates all taints)")

    # --- the forwarder: default bin_dir, staged in a sibling, renamed in
    vols = {v["name"]: v for v in spec["volumes"]}
    init = next(c for c in spec["initContainers"] if c["name"] == "install-forwarder")
    mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    check(vols["image-verifier"]["hostPath"]["path"] == os.path.dirname(BIN_DIR),
          "the init container mounts the parent of containerd's default bin_dir", vols["image-verifier"])
    script = init["command"][-1]
    hv = mounts["image-verifier"]
    lines = [l.strip() for l in script.splitlines() if l.strip() and not l.strip().startswith("#")]
    check(f'd={hv}' in lines, "init: $d is the mounted image-verifier directory", lines[:1])
    cp = [l for l in lines if l.startswith("cp ")]
    mv = [l for l in lines if l.startswith("mv ")]
    check(cp == ['cp /usr/libexec/sigil/sigil-verifier "$d/.sigil-staging/sigil-verifier"'],
          "init: copies into the staging directory, a sibling of bin/ (never into bin_dir)", cp)
    check(mv == ['mv -f "$d/.sigil-staging/sigil-verifier" "$d/bin/sigil-verifier"'],
          "init: renames into bin/ (same file system: rename(2))", mv)
    check(lines.index(mv[0]) > lines.index(cp[0]) and
          any(l.startswith("chmod 0755") and ".sigil-staging" in l for l in lines[:lines.index(mv[0])]),
          "init: chmod before the rename")
    check(not re.search(r'\$d/bin/[^s"]|\$d/bin/\.', script), "init: writes nothing else into bin/")
    # cleanup removes exactly that file
    cl = cleanup["spec"]["template"]["spec"]
    check(cl["volumes"][0]["hostPath"]["path"] == os.path.dirname(BIN_DIR) and
          "rm -f /host/image-verifier/bin/sigil-verifier" in cl["containers"][0]["command"][-1],
          "cleanup DaemonSet removes bin/sigil-verifier from the same host path")
    check(cl["containers"][0]["image"] == sigild["image"] == init["image"],
          "one image for sigild, the installer and the clean-up (present on every node)")

    # --- sigild.json: known keys, socket = forwarder default, configDir = trust volume
    cfgmap = next(d for (f, k, n), d in docs.items() if n == "sigil-config")
    cfg = json.loads(cfgmap["data"]["sigild.json"])
    known = set(json.load(open(os.path.join(ROOT, "packaging", "sigild.json"))))
    check(set(cfg) <= known, "sigild.json: only keys sigild knows (packaging/sigild.json)", set(cfg) - known)
    hdr = open(os.path.join(ROOT, "plugin", "forwarder_args.h")).read()
    m = re.search(r'#define SIGIL_FORWARDER_DEFAULT_SOCKET "([^"]+)"', hdr)
    check(m is not None and cfg["socket"] == m.group(1), "sigild's socket is the forwarder's default",
          (cfg["socket"], m and m.group(1)))
    smounts = {mm["name"]: mm["mountPath"] for mm in sigild["volumeMounts"]}
    check(os.path.dirname(cfg["socket"]) == smounts["run-sigil"] == vols["run-sigil"]["hostPath"]["path"],
          "the socket directory is the host's /run/sigil in the pod at the same path")
    check(cfg["mode"] == "dry-run", "applying the manifests never breaks pulls (mode dry-run)", cfg["mode"])
    trust_items = vols["trust"]["configMap"]["items"]
    check(cfg["configDir"] == smounts["trust"] + "/trust", "configDir is the trust volume's trust/",
          (cfg["configDir"], smounts["trust"]))
    check(all(i["path"].startswith("trust/") for i in trust_items) and
          any(i["path"] == "trust/trustpolicy.json" for i in trust_items),
          "every trust item is under trust/ (regular files below one top-level link)", trust_items)
    trust = next(d for (f, k, n), d in docs.items() if n == "sigil-trust")
    check({i["key"] for i in trust_items} == set(trust["data"]), "the trust items are the ConfigMap's keys",
          ({i["key"] for i in trust_items}, set(trust["data"])))
    json.loads(trust["data"]["trustpolicy.json"])
    check(smounts["config"] + "/sigild.json" in sigild["command"][-1], "sigild reads the mounted sigild.json")

    # --- uninstall.sh: the forwarder goes first
    r = subprocess.run(["bash", os.path.join(K8S, "uninstall.sh"), "--dry-run"], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, KUBECTL="kubectl"))
    cmds = [l[2:] for l in r.stdout.splitlines() if l.startswith("+ ")]
    def at(pat):
        return next((i for i, c in enumerate(cmds) if re.search(pat, c)), -1)
    a, w, dl = at(r"cleanup-daemonset\.yaml \| kubectl apply"), at(r"rollout status daemonset/sigil-cleanup"), \
        at(r"delete daemonset sigil --wait")
    check(r.returncode == 0 and 0 <= a < w < dl,
          "uninstall.sh: cleanup deployed, then waited for, then sigild deleted", (r.returncode, a, w, dl, cmds))

    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


main()
