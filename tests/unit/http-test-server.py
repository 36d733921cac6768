#!/usr/bin/python3
"""http-test-server.py - a local HTTP(S) server for test-http and test-auth.

Binds 127.0.0.1 on a port the kernel picks, prints "PORT <n>" on stdout,
and serves until stdin is closed (so it never outlives the test) or it is
terminated. Standard library only.

    http-test-server.py [--tls CERT KEY] [--client-ca CA]

Endpoints (see the tests for what each checks):
  /ok                 200 "hello world" with Content-Type, Link, digest headers
  /big?n=N            N bytes with Content-Length
  /chunked?n=N        N bytes, chunked (no Content-Length)
  /slow?ms=N          waits N ms before answering
  /truncated          Content-Length 100, 10 bytes sent, connection closed
  /redirect?n=K       K redirects, then /ok
  /loop               redirects to itself
  /to?url=U           302 to U
  /multi-auth         401 with two WWW-Authenticate headers
  /huge-header        a 20000-byte Link header
  /echo               the request line, headers and body
  /token/anon         {"token": "anon-token", "expires_in": 300}
  /token/basic        needs Basic alice:s3cr:et (else 401); POST: 405
  /token/oauth        POST refresh-token grant (GET: 405)
  /token/deny         always 401
  /token/notjson, /token/notoken, /token/badchars, /token/short
  /_state             JSON: request counts per path, last query/body/auth,
                      number of distinct client connections
"""
import base64
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"counts": {}, "last_query": "", "last_body": "", "last_auth": "", "conns": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one write per response and no Nagle: small split writes would meet
    # the client's delayed ACK (40 ms per request)
    wbufsize = 65536
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", headers=(), ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        self.do_GET()

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        n = int(q.get("n", ["0"])[0])
        body = b""
        if self.command == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            STATE["counts"][u.path] = STATE["counts"].get(u.path, 0) + 1
            if u.path != "/_state":
                STATE["last_query"] = u.query
                STATE["last_body"] = body.decode("latin-1")
                STATE["last_auth"] = self.headers.get("Authorization", "")
                STATE["last_method"] = self.command
                peer = "%s:%d" % self.client_address[:2]
                if peer not in STATE["conns"]:
                    STATE["conns"].append(peer)
        p = u.path
        if p == "/_state":
            with LOCK:
                return self.send(200, json.dumps(STATE), ctype="application/json")
        if p == "/ok":
            return self.send(200, "hello world", headers=[
                ("Link", '</v2/r/referrers/x?n=2>; rel="next"'),
                ("Docker-Content-Digest", "sha256:abc"),
                ("OCI-Filters-Applied", "artifactType")])
        if p == "/big":
            return self.send(200, b"a" * n)
        if p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            left = n
            while left > 0:
                c = min(left, 8192)
                self.wfile.write(b"%x\r\n" % c + b"a" * c + b"\r\n")
                left -= c
            self.wfile.write(b"0\r\n\r\n")
            return
        if p == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            return self.send(200, "late")
        if p == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        if p == "/redirect":
            loc = "/redirect?n=%d" % (n - 1) if n > 1 else "/ok"
            return self.send(302, "", headers=[("Location", loc)])
        if p == "/loop":
            return self.send(302, "", headers=[("Location", "/loop")])
        if p == "/to":
            return self.send(302, "", headers=[("Location", q["url"][0])])
        if p == "/multi-auth":
            return self.send(401, "unauthorized", headers=[
                ("WWW-Authenticate", 'Bearer realm="https://auth.example/token",service="reg"'),
                ("WWW-Authenticate", 'Basic realm="reg"')])
        if p == "/huge-header":
            return self.send(200, "x", headers=[("Link", "a" * 20000)])
        if p == "/echo":
            out = "%s %s\n%s\n%s" % (self.command, self.path, str(self.headers),
                                     body.decode("latin-1"))
            return self.send(200, out)
        if p.startswith("/token/"):
            return self.token(p[len("/token/"):], q, body)
        return self.send(404, "not found")

    def token(self, kind, q, body):
        auth = self.headers.get("Authorization", "")
        if kind == "anon":
            return self.send(200, json.dumps({"token": "anon-token", "expires_in": 300,
                                              "issued_at": "2026-01-01T00:00:00Z"}))
        if kind == "basic":
            if self.command == "POST":
                return self.send(405, "")   # no OAuth2 endpoint here
            want = "Basic " + base64.b64encode(b"alice:s3cr:et").decode()
            if auth != want:
                return self.send(401, '{"errors":[{"code":"UNAUTHORIZED"}]}')
            return self.send(200, json.dumps({"access_token": "basic-token"}))
        if kind == "oauth":
            if self.command != "POST":
                return self.send(405, "")
            f = urllib.parse.parse_qs(body.decode())
            ok = (f.get("grant_type") == ["refresh_token"] and f.get("client_id") == ["sigil"]
                  and f.get("refresh_token") == ["rt-123"]
                  and self.headers.get("Content-Type") == "application/x-www-form-urlencoded")
            if not ok:
                return self.send(401, "")
            return self.send(200, json.dumps({"access_token": "oauth-token", "expires_in": 600,
                                              "refresh_token": "rt-new"}))
        if kind == "deny":
            return self.send(403 if "403" in q.get("x", [""]) else 401, "")
        if kind == "notjson":
            return self.send(200, "<html>")
        if kind == "notoken":
            return self.send(200, json.dumps({"expires_in": 300}))
        if kind == "badchars":
            return self.send(200, json.dumps({"token": "a\r\nX-Evil: 1"}))
        if kind == "short":
            return self.send(200, json.dumps({"token": "short-token", "expires_in": 1}))
        if kind == "error":
            return self.send(500, "")
        return self.send(404, "")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass   # clients that hang up or fail the TLS handshake: expected


def main():
    args = sys.argv[1:]
    srv = Server(("127.0.0.1", 0), Handler)
    if "--tls" in args:
        i = args.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[i + 1], args[i + 2])
        if "--client-ca" in args:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args[args.index("--client-ca") + 1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        sys.stdin.read()   # until the test closes our stdin (or exits)
    except Exception:
        pass
    srv.shutdown()


if __name__ == "__main__":
    main()
