#!/usr/bin/python3
"""Concurrent CRI pulls under a real containerd 2.1 (issue 5's daemon
matrix, continued from test-lifecycle.py):

- 10 concurrent CRI PullImage calls of 10 different signed images (and 2
  unsigned ones in the same burst): every verdict right, every audit
  record about the right digest;
- 10 concurrent CRI PullImage calls of one image: all pulled, and the
  image verified once - exactly one audit record that is not from the
  verdict cache, one cache miss in `sigil status`, and as many registry
  requests for its signatures as one verification of any other image
  makes.
sigild reaches the registry through a proxy that delays every request, so
that one verification outlasts the time containerd takes to send all ten
pulls: the requests overlap inside sigild rather than arriving one after
another (which would meet the verdict cache, not the single flight).
"""
import http.server
import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as H  # noqa: E402
from harness import R  # noqa: E402

BURST = 10
DELAY_S = float(os.environ.get("SIGIL_IT_PROXY_DELAY_MS", "250")) / 1000


class SlowProxy:
    """Plain HTTP forwarder to the registry that sleeps before every
    request and counts the paths asked for."""

    def __init__(self, upstream):
        self.paths = []
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _forward(self):
                with lock:
                    outer.paths.append(self.path)
                time.sleep(DELAY_S)
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() in ("accept", "authorization")}
                req = urllib.request.Request(f"http://{upstream}{self.path}", method=self.command,
                                             headers=hdrs)
                try:
                    resp = urllib.request.urlopen(req, timeout=10)
                except urllib.error.HTTPError as e:
                    resp = e
                body = resp.read()
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    if k.lower() not in ("connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)

            do_GET = do_HEAD = _forward

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.host = f"127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        R.on_exit(self.srv.shutdown)

    def count(self, digest):
        hexd = digest.split(":", 1)[1]
        return sum(1 for p in self.paths if hexd in p)


def burst(cri, refs):
    """PullImage for every ref at once; returns [error or None] in order."""
    out = [None] * len(refs)
    go = threading.Barrier(len(refs))

    def one(i):
        go.wait()
        out[i] = cri.pull(refs[i])

    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(refs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    return out


def main():
    args = H.parse_args()
    vals = H.preflight(args)
    node = H.Node(args, vals, "concurrency")
    signed = {f"s{i}": node.push(f"s{i}") for i in range(BURST)}
    signed["same"] = node.push("same")
    unsigned = {f"u{i}": node.push(f"u{i}") for i in range(2)}
    for d in signed.values():
        node.sign(d, "jws")
    proxy = SlowProxy(node.registry.host)
    hosts = os.path.join(node.work, "sigild-certs.d")
    os.makedirs(os.path.join(hosts, node.registry.host))
    with open(os.path.join(hosts, node.registry.host, "hosts.toml"), "w") as f:
        f.write(f'server = "http://{proxy.host}"\n')
    node.sigild.conf["registryConfig"] = hosts
    node.start()
    sd, cri = node.sigild, node.containerd.cri()
    R.log(f"registry http://{node.registry.host} (sigild via {proxy.host}), "
          f"containerd {node.containerd.sock}")

    # --- different images at once -----------------------------------------
    names = [f"s{i}" for i in range(BURST)] + ["u0", "u1"]
    t0 = time.monotonic()
    errs = burst(cri, [f"{node.scope}:{n}" for n in names])
    R.log(f"burst of {len(names)} different images: {time.monotonic() - t0:.1f} s")
    for n, err in zip(names, errs):
        if n in signed:
            H.expect_pulled(f"concurrent pull of signed image {n}", err)
            rec = sd.records_for(signed[n])
            R.check(len(rec) == 1 and rec[0]["verdict"] == "allow" and not rec[0]["cached"] and
                    rec[0]["image"].endswith(f":{n}") and rec[0]["signer"],
                    f"{n}: one audit record, allowed, verified (not cached), with its signer", str(rec))
        else:
            H.expect_denied(f"concurrent pull of unsigned image {n}", err, "no signature",
                            unsigned[n])
    per_verification = proxy.count(signed["s0"])
    R.check(per_verification > 0 and all(proxy.count(signed[n]) == per_verification
                                         for n in names if n in signed),
            f"every verification asked the registry the same {per_verification} questions",
            str([proxy.count(signed[n]) for n in names if n in signed]))

    # --- one image, ten times at once -----------------------------------------
    before = sd.status(args.sigil)["cache"]
    t0 = time.monotonic()
    errs = burst(cri, [f"{node.scope}:same"] * BURST)
    R.log(f"burst of {BURST} pulls of one image: {time.monotonic() - t0:.1f} s")
    R.check(all(e is None for e in errs), f"all {BURST} concurrent pulls of one signed image succeed",
            "\n".join(e for e in errs if e))
    recs = sd.records_for(signed["same"])
    fresh = [r for r in recs if not r["cached"]]
    R.log(f"{len(recs)} of the {BURST} pulls reached sigild")
    R.check(len(fresh) == 1 and all(r["verdict"] == "allow" for r in recs),
            "the image was verified once: one audit record not from the cache, every record an allow",
            str(recs))
    # the verification's record comes first: the requests that waited for
    # it are answered (and audited) only after it is written
    R.check(recs and not recs[0]["cached"],
            "the audit log has the verification before the cached answers it gave",
            str([(r["time"], r["cached"]) for r in recs]))
    # the audit's elapsedUs is the time sigild spent on the request: a
    # waiter on the verification in progress took about as long as it
    waited = [r for r in recs if r["cached"] and r["elapsedUs"] >= DELAY_S * 1e6]
    R.check(waited, "some pulls waited for the verification in progress (the single flight was "
            "exercised, not just the cache)", str([(r["cached"], r["elapsedUs"]) for r in recs]))
    after = sd.status(args.sigil)["cache"]
    R.check(after["misses"] - before["misses"] == 1 and after["hits"] - before["hits"] == len(recs) - 1,
            "sigil status: one cache miss for the burst, the other requests were hits",
            f"before {before}, after {after}")
    R.check(proxy.count(signed["same"]) == per_verification,
            f"the registry was asked about it {per_verification} times, as for one verification",
            str(proxy.count(signed["same"])))

    sd.stop()  # LeakSanitizer reports at exit
    log = sd.log()
    bad = [m for m in R.SANITIZER_MARKS if m in log]
    R.check(not bad, "no sanitizer report in sigild's log", ", ".join(bad))
    R.finish()


if __name__ == "__main__":
    R.main(main)
