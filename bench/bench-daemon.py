#!/usr/bin/python3
"""Benchmark 4 (issue 7): sigild and sigil-verifier.

1. Cached-verdict RPCs per second at concurrency 1, 2 and 10, from
   bench-daemon (one process, one thread per caller, the forwarder's own
   RPC code: a connection per call, as every sigil-verifier makes). In the
   same rounds, alternately, two comparators with the same client and load:
   sigild's Status RPC (gRPC core with a trivial handler: the server's own
   floor) and `bench-daemon serve` (a minimal h2c server on libnghttp2
   answering the same bytes from memory: what this machine can do per
   connection-per-call RPC). Target: >= 20 000 cached verdicts/s at
   concurrency 10 on 2 cores.
2. Cold verifications per second: Verify with no_cache (discovery,
   fetches and the checks, every time) against the local docker-registry.
3. sigild's resident memory after 10 000 distinct cached verdicts, two
   ways: allowed (10 000 images, each with its own valid JWS signature,
   served by tests/registry/regserver.py — the realistic case, a node's
   pulls are signed images) and denied (10 000 unsigned images, cached
   with cache.denySeconds = 3600). VmRSS and VmHWM from /proc, with the
   anonymous (RssAnon: sigild's own) and file-backed (RssFile: shared
   library text) parts. Target: <= 32 MiB resident.
4. sigil-verifier against /bin/true, alternately (a fresh process each,
   the verdict cached in sigild): wall time, and peak resident memory
   (VmHWM at exit, bench-daemon.c peak_kib). Target: sigil-verifier
   <= 8 MiB peak.

The allowed images' signatures: notation signs one image; its JWS
envelope is the template, and for every further image the payload's
targetArtifact is replaced and re-signed with the same leaf key
(ES256, python3-cryptography), the protected header (signing time,
signing scheme) and the certificate chain unchanged.
"""
import base64
import hashlib
import json
import os
import signal
import sys
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402
from benchlib import R  # noqa: E402
import harness as H  # noqa: E402
import regserver  # noqa: E402

SIG_MT = "application/vnd.cncf.notary.signature"


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def http_get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


class MemLayout:
    """What regserver.Repo reads from a layout (has/get), in memory."""

    def __init__(self):
        self.path = None
        self.blobs = {}

    def put(self, data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[d] = data
        return d

    def has(self, d):
        return d in self.blobs

    def get(self, d):
        return self.blobs[d]


class Fill:
    """N images on a regserver repository, each signed (a fresh envelope
    from the template) or unsigned; writes bench-daemon's list file."""

    def __init__(self, work, tmpl, key_path, n, signed, label):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        self.layout = MemLayout()
        refs = {}
        extra = {}
        for d, data in tmpl["blobs"].items():
            self.layout.blobs[d] = data
        key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
        env = json.loads(tmpl["envelope"])
        payload = json.loads(b64url_dec(env["payload"]))
        sigman = json.loads(tmpl["sig_manifest"])
        image = json.loads(tmpl["image_manifest"])
        self.items = []
        for i in range(n):
            man = dict(image, annotations={"dev.sigil.bench/n": f"{label}-{i}"})
            mb = json.dumps(man, separators=(",", ":")).encode()
            md = "sha256:" + hashlib.sha256(mb).hexdigest()
            extra[md] = mb
            self.items.append((md, len(mb)))
            if not signed:
                continue
            payload["targetArtifact"].update(mediaType=R.MANIFEST_MT, digest=md, size=len(mb))
            p64 = b64url(json.dumps(payload, separators=(",", ":")).encode())
            der = key.sign((env["protected"] + "." + p64).encode(), ec.ECDSA(hashes.SHA256()))
            r_, s_ = decode_dss_signature(der)
            sig = r_.to_bytes(32, "big") + s_.to_bytes(32, "big")
            eb = json.dumps(dict(env, payload=p64, signature=b64url(sig)), separators=(",", ":")).encode()
            ed = self.layout.put(eb)
            sm = dict(sigman, subject={"mediaType": R.MANIFEST_MT, "digest": md, "size": len(mb)})
            sm["layers"] = [dict(sigman["layers"][0], digest=ed, size=len(eb))]
            smb = json.dumps(sm, separators=(",", ":")).encode()
            smd = "sha256:" + hashlib.sha256(smb).hexdigest()
            extra[smd] = smb
            desc = {"mediaType": R.MANIFEST_MT, "digest": smd, "size": len(smb), "artifactType": SIG_MT}
            if sm.get("annotations"):
                desc["annotations"] = sm["annotations"]
            refs[md] = [desc]
        self.repo = regserver.Repo(self.layout, extra=extra, referrers=refs)

    def write_list(self, path, host, repo, skip=0):
        with open(path, "w") as f:
            for d, size in self.items[skip:]:
                f.write(f"{host}/{repo}@{d} {d} {size}\n")


def template(reg_host, repo, digest):
    """The notation-signed image and its signature, as served by the
    registry: manifests, blobs and the JWS envelope."""
    base = f"http://{reg_host}/v2/{repo}"
    man = http_get(f"{base}/manifests/{digest}", R.MANIFEST_MT)
    doc = json.loads(man)
    blobs = {}
    for d in [doc["config"]["digest"]] + [l["digest"] for l in doc["layers"]]:
        blobs[d] = http_get(f"{base}/blobs/{d}")
    # distribution 2.8: the referrers tag schema
    idx = json.loads(http_get(f"{base}/manifests/{digest.replace(':', '-')}", R.INDEX_MT))
    sigd = idx["manifests"][0]["digest"]
    sm = http_get(f"{base}/manifests/{sigd}", R.MANIFEST_MT)
    smd = json.loads(sm)
    if smd["layers"][0]["mediaType"] != "application/jose+json":
        raise R.Failed("the template signature is not JWS")
    for d in [smd["config"]["digest"]]:
        blobs[d] = http_get(f"{base}/blobs/{d}")
    env = http_get(f"{base}/blobs/{smd['layers'][0]['digest']}")
    return {"image_manifest": man, "blobs": blobs, "sig_manifest": sm, "envelope": env}


def main():
    args = B.parse_args(__doc__.splitlines()[0], need=("sigil", "sigild", "verifier", "client"),
                        extra={"--entries": {"type": int, "help": "distinct cached verdicts (default 10000)"},
                               "--seconds": {"type": float, "help": "length of one RPC measurement"}})
    smoke = args.smoke
    rounds = args.rounds or (1 if smoke else 5)
    seconds = args.seconds or (0.3 if smoke else 1.5)
    warm_s = 0.1 if smoke else 0.3
    entries = args.entries or (50 if smoke else 10000)
    spawn_rounds = 3 if smoke else 50
    vals = R.tools(need_registry=True)
    try:
        import cryptography  # noqa: F401
    except ImportError:
        R.skip("python3-cryptography is not installed (the memory fill signs its images with it)")
    rep = B.Report("daemon", "4. Daemon: sigild and sigil-verifier", args)
    repo = "bench/daemon"
    st = B.Setup("bench-daemon", vals, repo)
    work, trusted, reg, scope = st.work, st.trusted, st.reg, st.scope
    digest, size = st.push("signed", "jws")
    mem_server = regserver.Server({})
    mem_scope = f"{mem_server.host}/bench/mem"
    trust_root = R.trust_config(work, "trusted", [scope, mem_scope], [trusted.root])
    config_dir = os.path.join(trust_root, "notation")
    sd = H.Sigild(work, args.sigild, config_dir).start()
    name = f"{scope}@{digest}"
    rep.param(rounds=rounds, seconds_per_measurement=seconds, warmup_seconds=warm_s, entries=entries,
              sigild_workers="8 (default)", audit_log="JSON lines to a file (as the integration harness)",
              cpus=os.cpu_count())

    client = args.client
    verify = [client, "rpc", "--socket", sd.sock, "--name", name, "--digest", digest, "--size", str(size),
              "--expect", "allow"]
    # the first call verifies and caches; its answer is the floor server's
    resp = os.path.join(work, "cached-response.bin")
    B.run_client(verify + ["--calls", "1"])
    B.run_client(verify + ["--calls", "1",
                           "--expect-cached", "yes", "--save-response", resp])
    R.check(os.path.getsize(resp) > 0, "a cached VerifyResponse was captured for the comparator")
    floor_sock = os.path.join(work, "floor.sock")
    floor = R.start_process([client, "serve", "--socket", floor_sock, "--response", resp, "--threads", "8"],
                            os.path.join(work, "floor.log"))
    H.wait_for(floor_sock, floor, "bench-daemon serve")

    # --- 1. cached-verdict RPCs per second -------------------------------
    kinds = {
        "verify": verify + ["--expect-cached", "yes"],
        "status": [client, "rpc", "--socket", sd.sock, "--method", "status"],
        "floor": [client, "rpc", "--socket", floor_sock, "--name", name, "--digest", digest,
                  "--expect", "allow", "--expect-cached", "yes"],
    }
    rps = {}
    rows = []
    for conc in (1, 2, 10):
        got = {k: [] for k in kinds}
        for r in range(rounds):
            order = list(kinds)
            order = order[r % 3:] + order[:r % 3]
            for k in order:
                doc = B.run_client(kinds[k] + ["--concurrency", str(conc), "--seconds", str(seconds),
                                               "--warmup", str(warm_s)])
                got[k].append(doc)
        med = {k: B.median([d["calls_per_second"] for d in v]) for k, v in got.items()}
        p50 = {k: B.median([d["latency_us"]["p50"] for d in v]) for k, v in got.items()}
        rps[conc] = {"calls_per_second": med, "latency_p50_us": p50, "runs": got}
        rows.append([f"cached Verify, concurrency {conc}", f"{med['verify']:.0f}/s",
                     f"Status {med['status']:.0f}/s; nghttp2 floor {med['floor']:.0f}/s",
                     f"{med['verify'] / med['floor']:.2f} of the floor, {med['verify'] / med['status']:.2f} of Status",
                     f"p50 {p50['verify']:.0f} µs"])
    rep.result("cached_rpc", rps)
    c10 = rps[10]["calls_per_second"]
    rep.target("sigild >= 20000 cached verdicts/s at concurrency 10 (2 cores)",
               f"{c10['verify']:.0f}/s (the nghttp2 floor server: {c10['floor']:.0f}/s, on a shared machine)",
               c10["verify"] >= 20000)

    # --- 2. cold verifications per second --------------------------------
    cold = {}
    for conc in (1, 2):
        docs = [B.run_client(verify + ["--no-cache", "--expect-cached", "no", "--concurrency", str(conc),
                                       "--seconds", str(seconds), "--warmup", str(warm_s)])
                for _ in range(max(1, rounds // 2))]
        cold[conc] = {"calls_per_second": B.median([d["calls_per_second"] for d in docs]),
                      "latency_p50_us": B.median([d["latency_us"]["p50"] for d in docs]), "runs": docs}
        rows.append([f"cold Verify (no cache), concurrency {conc}", f"{cold[conc]['calls_per_second']:.0f}/s",
                     "docker-registry on 127.0.0.1", "", f"p50 {cold[conc]['latency_p50_us'] / 1000:.1f} ms"])
    rep.result("cold_rpc", cold)
    sd.stop()

    # --- 3. sigild resident memory with N distinct cached verdicts ---------
    tmpl = template(reg.host, repo, digest)
    mem = {}
    for kind, signed, conf in (("allowed", True, {}), ("denied", False, {"cache": {"denySeconds": 3600}})):
        fill = Fill(work, tmpl, trusted.key, entries, signed, kind)
        mem_server.repos["bench/mem"] = fill.repo
        lst = os.path.join(work, f"list-{kind}")
        # the first image is verified alone below (the baseline)
        fill.write_list(lst, mem_server.host, "bench/mem", skip=1)
        s = H.Sigild(work, args.sigild, config_dir, name=f"sigild-{kind}", **conf).start()
        # one verification first: the baseline has its libraries and
        # first-use allocations in place
        first, fsize = fill.items[0]
        B.run_client([client, "rpc", "--socket", s.sock, "--name", f"{mem_server.host}/bench/mem@{first}",
                      "--digest", first, "--size", str(fsize), "--calls", "1",
                      "--expect", "allow" if signed else "deny"])
        base = B.proc_mem(s.proc.pid)
        doc = B.run_client([client, "list", "--socket", s.sock, "--file", lst, "--concurrency", "8",
                            "--expect", "allow" if signed else "deny"], timeout=1800)
        after = B.proc_mem(s.proc.pid)
        st = s.status(args.sigil)
        entries_now = st.get("cache", {}).get("entries", 0)
        R.check(int(entries_now) == entries, f"sigild holds {entries} {kind} verdicts in its cache",
                json.dumps(st))
        mem[kind] = {"baseline_kib": base, "after_kib": after, "cache_entries": int(entries_now),
                     "fill": doc,
                     "per_entry_bytes": (after["RssAnon"] - base["RssAnon"]) * 1024 / entries}
        s.stop()
        rows.append([f"sigild with {entries} {kind} verdicts cached",
                     f"VmRSS {after['VmRSS'] / 1024:.1f} MiB (VmHWM {after['VmHWM'] / 1024:.1f})",
                     f"at 1 verdict: {base['VmRSS'] / 1024:.1f} MiB",
                     f"RssAnon {after['RssAnon'] / 1024:.1f} MiB + RssFile {after['RssFile'] / 1024:.1f} MiB",
                     f"{mem[kind]['per_entry_bytes']:.0f} B/verdict; filled at {doc['calls_per_second']:.0f}/s"])
    rep.result("memory", mem)
    a = mem["allowed"]["after_kib"]
    rep.target(f"sigild <= 32 MiB resident with {entries} cached verdicts (allowed)",
               f"VmRSS {a['VmRSS'] / 1024:.1f} MiB, VmHWM {a['VmHWM'] / 1024:.1f} MiB", a["VmHWM"] <= 32 * 1024)

    # --- 4. sigil-verifier: start-up and peak memory ----------------------
    sd.start()
    B.run_client(verify + ["--calls", "1"])
    stdin = os.path.join(work, "descriptor.json")
    with open(stdin, "w") as f:
        f.write(json.dumps({"mediaType": R.MANIFEST_MT, "digest": digest, "size": size}) + "\n")
    env = dict(os.environ, SIGIL_SOCKET=sd.sock)
    doc = B.run_client([client, "spawn", "--rounds", str(spawn_rounds), "--warmup", "1" if smoke else "5",
                        "--stdin", stdin, "--expect-exit-a", "0", "--expect-exit-b", "0", "--",
                        args.verifier, "-name", name, "-digest", digest,
                        "-stdin-media-type", "application/vnd.oci.descriptor.v1+json", "--", "/bin/true"], env=env)
    fv, tr = doc["a"], doc["b"]
    rep.result("forwarder", doc)
    rows.append(["sigil-verifier (cached verdict) vs /bin/true", f"{fv['wall_ms']['median']:.2f} ms",
                 f"/bin/true {tr['wall_ms']['median']:.2f} ms",
                 f"+{fv['wall_ms']['median'] - tr['wall_ms']['median']:.2f} ms",
                 f"peak RSS {fv['peak_rss_kib'] / 1024:.2f} MiB (/bin/true {tr['peak_rss_kib'] / 1024:.2f})"])
    rep.target("sigil-verifier <= 8 MiB peak resident", f"{fv['peak_rss_kib'] / 1024:.2f} MiB (VmHWM at exit)",
               fv["peak_rss_kib"] <= 8 * 1024)
    rep.table(["what", "sigil", "comparator", "ratio / difference", "detail"], rows)
    floor.send_signal(signal.SIGTERM)
    rep.finish()


if __name__ == "__main__":
    R.main(main)
