"""regserver.py - a small OCI distribution registry (read API only) served
from OCI image layouts, for what distribution 2.8 cannot do: the referrers
API (distribution spec v1.1 "Listing Referrers": artifactType filter with
OCI-Filters-Applied, Link pagination) and fault injection.

Each repository is configured separately (Repo): its layout, the page size
of referrers responses, whether the artifactType filter is applied, and an
optional fault. Every request is recorded (Server.log) so that tests can
assert what a client asked for.
"""
import http.server
import json
import os
import threading
import time
import urllib.parse

import reglib as R

FAULTS = (
    "manifest-500",        # HTTP 500 on every manifest request
    "slow",                # every repository request sleeps before answering
    "trickle",             # manifests sent one byte every 0.5 s
    "truncated",           # manifests: Content-Length larger than the body sent, then close
    "oversized-manifest",  # manifests by digest: a 5 MiB body (Content-Length honest)
    "manifest-mismatch",   # manifests by digest: other bytes than the digest names
    "blob-mismatch",       # blobs: one byte changed, same length
    "blob-huge",           # blobs: 20 MiB sent whatever the descriptor says
    "blob-redirect-loop",  # blobs: 302 to itself
    "auth-401",            # 401 with a Basic challenge on everything
    "link-loop",           # referrers: rel="next" points at the same page forever
    "link-other-host",     # referrers: rel="next" points at another host
)


class Repo:
    def __init__(self, layout, page_size=100, apply_filter=True, fault=None, extra=None,
                 referrers=None):
        self.layout = layout
        self.page_size = page_size
        self.apply_filter = apply_filter
        self.fault = fault
        self.extra = extra or {}          # digest -> manifest bytes not in the layout
        self.referrers = referrers        # subject digest -> [descriptor] (else computed)
        self._tags = None
        self._refs = None

    def tags(self):
        if self._tags is None:
            with open(os.path.join(self.layout.path, "index.json")) as f:
                idx = json.load(f)
            self._tags = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
                          for m in idx["manifests"]
                          if "org.opencontainers.image.ref.name" in m.get("annotations", {})}
        return self._tags

    def manifest(self, digest):
        if digest in self.extra:
            return self.extra[digest]
        if self.layout.has(digest):
            return self.layout.get(digest)
        return None

    def referrers_of(self, subject):
        if self.referrers is not None:
            return self.referrers.get(subject, [])
        if self._refs is None:
            # every manifest with a subject, in the layout index's order
            self._refs = {}
            with open(os.path.join(self.layout.path, "index.json")) as f:
                idx = json.load(f)
            for m in idx["manifests"]:
                try:
                    doc = json.loads(self.layout.get(m["digest"]))
                except (OSError, ValueError):
                    continue
                sub = doc.get("subject", {}).get("digest")
                if not sub:
                    continue
                d = {"mediaType": doc.get("mediaType", R.MANIFEST_MT), "digest": m["digest"],
                     "size": m["size"],
                     "artifactType": doc.get("artifactType") or doc.get("config", {}).get("mediaType")}
                if doc.get("annotations"):
                    d["annotations"] = doc["annotations"]
                self._refs.setdefault(sub, []).append(d)
        return self._refs.get(subject, [])


class Server:
    def __init__(self, repos):
        self.repos = repos
        self.log = []
        self.connections = 0  # TCP connections accepted
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body in one segment: no Nagle/delayed-ACK stalls
            wbufsize = 1 << 16

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with outer.lock:
                    outer.connections += 1

            def do_GET(self):
                outer._handle(self, "GET")

            def do_HEAD(self):
                outer._handle(self, "HEAD")

        class Quiet(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request, client_address):
                pass  # clients that give up (deadlines, limits) reset connections

        self.httpd = Quiet(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        R.on_exit(self.httpd.shutdown)

    def requests(self, repo, kind=None):
        with self.lock:
            return [(m, p) for r, m, k, p in self.log if r == repo and (kind is None or k == kind)]

    # ------------------------------------------------------------------

    def _send(self, h, method, code, body=b"", ctype="application/json", headers=None):
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if method != "HEAD":
            try:
                h.wfile.write(body)
            except OSError:
                pass

    def _error(self, h, method, code, errcode, msg):
        body = json.dumps({"errors": [{"code": errcode, "message": msg}]}).encode()
        self._send(h, method, code, body)

    def _handle(self, h, method):
        u = urllib.parse.urlparse(h.path)
        path = u.path
        if path in ("/v2/", "/v2"):
            return self._send(h, method, 200, b"{}")
        parts = path[len("/v2/"):].split("/") if path.startswith("/v2/") else []
        kind = None
        for i in range(len(parts) - 2, 0, -1):
            if parts[i] in ("manifests", "blobs", "referrers"):
                kind = i
                break
        if kind is None or kind != len(parts) - 2:
            return self._error(h, method, 404, "NOT_FOUND", "no such endpoint")
        name, what, ref = "/".join(parts[:kind]), parts[kind], parts[kind + 1]
        with self.lock:
            self.log.append((name, method, what, h.path))
        repo = self.repos.get(name)
        if repo is None:
            return self._error(h, method, 404, "NAME_UNKNOWN", f"repository {name} not known")
        f = repo.fault
        if f == "auth-401":
            return self._send(h, method, 401, json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                                                      "message": "authentication required"}]}).encode(),
                              headers={"WWW-Authenticate": 'Basic realm="sigil-test"'})
        if f == "slow":
            time.sleep(20)
        if what == "manifests":
            return self._manifest(h, method, repo, ref)
        if what == "blobs":
            return self._blob(h, method, repo, ref)
        return self._referrers(h, method, repo, name, ref, urllib.parse.parse_qs(u.query))

    def _manifest(self, h, method, repo, ref):
        f = repo.fault
        if f == "manifest-500":
            return self._error(h, method, 500, "UNKNOWN", "internal server error (injected)")
        digest = ref if ref.startswith("sha256:") else repo.tags().get(ref)
        body = repo.manifest(digest) if digest else None
        if body is None:
            return self._error(h, method, 404, "MANIFEST_UNKNOWN", f"manifest {ref} unknown")
        ctype = json.loads(body).get("mediaType", R.MANIFEST_MT)
        hdrs = {"Docker-Content-Digest": digest}
        if f == "oversized-manifest" and ref.startswith("sha256:"):
            body = body[:-1] + b',"padding":"' + b"x" * (5 * 1024 * 1024) + b'"}'
        if f == "manifest-mismatch" and ref.startswith("sha256:"):
            body = body.replace(b'"schemaVersion":2', b'"schemaVersion":2 ', 1)
        if f == "truncated":
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body) + 1000))
            h.send_header("Docker-Content-Digest", digest)
            h.send_header("Connection", "close")
            h.end_headers()
            if method != "HEAD":
                h.wfile.write(body)
                h.wfile.flush()
            h.close_connection = True
            return
        if f == "trickle" and method == "GET":
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            try:
                for b in body:
                    h.wfile.write(bytes([b]))
                    h.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return
        self._send(h, method, 200, body, ctype, hdrs)

    def _blob(self, h, method, repo, ref):
        f = repo.fault
        if f == "blob-redirect-loop":
            return self._send(h, method, 302, b"", headers={"Location": h.path})
        if not repo.layout.has(ref):
            return self._error(h, method, 404, "BLOB_UNKNOWN", f"blob {ref} unknown")
        body = repo.layout.get(ref)
        if f == "blob-mismatch":
            b = bytearray(body)
            b[len(b) // 2] ^= 0x01
            body = bytes(b)
        if f == "blob-huge":
            body = body + b" " * (20 * 1024 * 1024)
        self._send(h, method, 200, body, "application/octet-stream", {"Docker-Content-Digest": ref})

    def _referrers(self, h, method, repo, name, subject, q):
        refs = repo.referrers_of(subject)
        want = q.get("artifactType", [None])[0]
        hdrs = {}
        if want and repo.apply_filter:
            refs = [d for d in refs if d.get("artifactType") == want]
            hdrs["OCI-Filters-Applied"] = "artifactType"
        page = int(q.get("page", ["0"])[0])
        chunk = refs[page * repo.page_size:(page + 1) * repo.page_size]
        more = (page + 1) * repo.page_size < len(refs)
        base = f"/v2/{name}/referrers/{subject}"
        keep = {"artifactType": want} if want else {}
        if repo.fault == "link-loop":
            hdrs["Link"] = f'<{base}?{urllib.parse.urlencode(keep)}>; rel="next"'
        elif repo.fault == "link-other-host":
            hdrs["Link"] = f'<http://127.0.0.2:1{base}?page=1>; rel="next"'
        elif more:
            hdrs["Link"] = f'<{base}?{urllib.parse.urlencode(dict(keep, page=page + 1))}>; rel="next"'
        body = json.dumps({"schemaVersion": 2, "mediaType": R.INDEX_MT, "manifests": chunk},
                          separators=(",", ":")).encode()
        self._send(h, method, 200, body, R.INDEX_MT, hdrs)
