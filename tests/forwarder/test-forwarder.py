#!/usr/bin/python3
"""Integration test for sigil-verifier (suite `daemon`).

Runs the forwarder the way containerd does (containerd.md §1: `-name N
-digest D -stdin-media-type application/vnd.oci.descriptor.v1+json`, the
descriptor JSON plus a newline on stdin) against a fake sigild: a real gRPC
server (python3-grpcio, i.e. gRPC C core, the same stack sigild uses) with a
generic handler and hand-written protobuf encoding, on a private temporary
unix socket.

usage: test-forwarder.py /path/to/sigil-verifier
"""
import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import grpc
except ImportError:
    print("SKIP: python3-grpcio is not installed (scripts/deps.sh)")
    sys.exit(77)

VERIFIER = os.path.abspath(sys.argv[1])
MEDIA = "application/vnd.oci.descriptor.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
D1 = "sha256:" + "e1d6" * 16
D2 = "sha256:" + "0b5c" * 16
DENY_REASON = 'no signature from a trusted identity (policy "prod", 2 signatures examined)'
EM = "\u2014"


# --- minimal protobuf (proto/sigil/v1/verifier.proto) ---------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def fields(buf):
    """{field number: value} for varint and length-delimited fields."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            out[num], i = read_varint(buf, i)
        elif wt == 2:
            ln, i = read_varint(buf, i)
            out[num] = bytes(buf[i:i + ln])
            i += ln
        else:
            raise ValueError("wire type %d" % wt)
    return out


def ld(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def vi(num, n):
    return varint(num << 3) + varint(n)


def response(verdict, reason, **flags):
    out = vi(1, verdict) + ld(2, reason.encode())
    for num, name in ((7, "cached"), (9, "dry_run_override"), (10, "allow_listed")):
        if flags.get(name):
            out += vi(num, 1)
    return out


ALLOW, DENY = 1, 2


class FakeSigild:
    """Behaviour chosen by a word in the image name."""

    def __init__(self, path):
        self.path = path
        self.requests = []
        self.remaining = []
        self.lock = threading.Lock()
        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=32))
        handler = grpc.method_handlers_generic_handler("sigil.v1.Verifier", {
            "Verify": grpc.unary_unary_rpc_method_handler(self.verify),
        })
        self.server.add_generic_rpc_handlers((handler,))
        self.server.add_insecure_port("unix:" + path)

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop(0).wait()

    def verify(self, raw, context):
        req = fields(raw)
        desc = fields(req.get(3, b""))
        name = req.get(1, b"").decode()
        with self.lock:
            self.requests.append((name, req.get(2, b"").decode(), desc.get(1, b"").decode(),
                                  desc.get(2, b"").decode(), desc.get(3, 0)))
            self.remaining.append(context.time_remaining())
        if "slow" in name:
            time.sleep(5)
        if "error" in name:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "policy store unavailable: \u00fc 100%")
        if "deny" in name:
            return response(DENY, DENY_REASON)
        if "huge" in name:
            return response(ALLOW, "x" * (2 << 20))
        if "noverdict" in name:
            return b""
        if "garbage" in name:
            return b"\xff\xff\xff"
        if "newline" in name:
            return response(DENY, "line one\nline two")
        if "dryrun" in name:
            return response(ALLOW, DENY_REASON, dry_run_override=True)
        return response(ALLOW, "signed by CN=test", cached="cached" in name)


# --- a raw HTTP/2 server that misbehaves on purpose -------------------------

def frame(ftype, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


def hpack(*headers):
    """Literal header fields without indexing, new names (RFC 7541 §6.2.2)."""
    out = b""
    for name, value in headers:
        out += b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return out


SETTINGS = frame(4, 0, 0)
END_STREAM, END_HEADERS = 0x1, 0x4
GRPC_CT = ("content-type", "application/grpc")


def raw_server(path, reply, hold=0.0):
    """Accepts one connection, reads the request, sends reply bytes, keeps
    the connection open for hold seconds, closes. Returns the thread."""
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(4)

    def serve():
        c, _ = ls.accept()
        c.settimeout(5)
        try:
            c.recv(65536)
            if reply:
                c.sendall(reply)
            time.sleep(hold)
        finally:
            c.close()
            ls.close()
    th = threading.Thread(target=serve)
    th.start()
    return th


# --- harness ---------------------------------------------------------------

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def check_eq(got, want, what):
    if got != want:
        failures.append(what)
        print("FAIL %s\n   got:      %r\n   expected: %r" % (what, got, want))


def descriptor(digest=D1, media=MANIFEST, size=539):
    return ('{"mediaType":"%s","digest":"%s","size":%d}\n' % (media, digest, size)).encode()


def run(sock, name="docker.io/library/app:v1", digest=D1, stdin=None, args=None, env=None,
        extra_env=None, cwd=None):
    if args is None:
        args = ["-name", name, "-digest", digest, "-stdin-media-type", MEDIA]
    if env is None:
        env = {"PATH": "/usr/bin:/bin"}
    env = dict(env)
    if sock is not None:
        env["SIGIL_SOCKET"] = sock
    env.update(extra_env or {})
    t0 = time.monotonic()
    p = subprocess.run([VERIFIER] + args, input=descriptor(digest) if stdin is None else stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                       timeout=30)
    elapsed = time.monotonic() - t0
    out = p.stdout.decode("utf-8", "replace")
    check(out.endswith("\n") and out.count("\n") == 1, "one line on stdout: %r" % out)
    return p.returncode, out.rstrip("\n"), elapsed


def main():
    tmp = tempfile.mkdtemp(prefix="sigil-fwd-")
    sock = os.path.join(tmp, "sigild.sock")
    srv = FakeSigild(sock).start()
    try:
        # allow: the exact line, and what sigild received
        rc, out, _ = run(sock)
        check_eq(rc, 0, "allow exit code")
        check_eq(out, "sigil: allowed docker.io/library/app:v1@%s: signed by CN=test" % D1, "allow line")
        check_eq(srv.requests[-1], ("docker.io/library/app:v1", D1, MANIFEST, D1, 539), "request fields")
        # grpc-timeout reached the server: time left is positive and within 8 s
        rem = srv.remaining[-1]
        check(rem is not None and 6.0 < rem <= 8.0, "grpc-timeout propagated (%r s left)" % rem)

        # the timeout setting is what sigild sees as its deadline
        run(sock, extra_env={"SIGIL_VERIFIER_TIMEOUT_MS": "3000"})
        rem = srv.remaining[-1]
        check(rem is not None and 1.0 < rem <= 3.0, "SIGIL_VERIFIER_TIMEOUT_MS propagated (%r s left)" % rem)

        # other flag spellings and unknown flags with and without values
        rc, out, _ = run(sock, args=["--operation", "pull", "--name=docker.io/library/app:v1", "-verbose",
                                     "--digest", D1, "-future=x", "-stdin-media-type=" + MEDIA, "-extra", "v"])
        check_eq((rc, out), (0, "sigil: allowed docker.io/library/app:v1@%s: signed by CN=test" % D1),
                 "flag spellings")

        # pull by digest: the name already carries the digest
        rc, out, _ = run(sock, name="docker.io/library/app@" + D1)
        check_eq(out, "sigil: allowed docker.io/library/app@%s: signed by CN=test" % D1, "pull by digest")

        rc, out, _ = run(sock, name="docker.io/library/cached:v1")
        check_eq(out, "sigil: allowed docker.io/library/cached:v1@%s: signed by CN=test (cached)" % D1, "cached")
        rc, out, _ = run(sock, name="docker.io/library/dryrun:v1")
        check_eq((rc, out), (0, "sigil: allowed docker.io/library/dryrun:v1@%s: dry-run, the policy denies: %s"
                             % (D1, DENY_REASON)), "dry-run allow")

        # deny: sigild's reason, verbatim
        rc, out, _ = run(sock, name="docker.io/library/deny:v1", digest=D2)
        check_eq((rc, out), (1, "sigil: denied docker.io/library/deny:v1@%s: %s" % (D2, DENY_REASON)), "deny")

        # a gRPC error status denies with the (percent-decoded) message
        rc, out, _ = run(sock, name="docker.io/library/error:v1")
        check_eq((rc, out), (1, "sigil: denied docker.io/library/error:v1@%s: sigild at %s failed: "
                             "PERMISSION_DENIED: policy store unavailable: \u00fc 100%%" % (D1, sock)), "grpc error")

        # malformed answers fail closed
        rc, out, _ = run(sock, name="docker.io/library/huge:v1")
        check_eq((rc, out), (1, "sigil: denied docker.io/library/huge:v1@%s: sigild at %s sent a response "
                             "larger than 1048576 bytes" % (D1, sock)), "huge response")
        rc, out, _ = run(sock, name="docker.io/library/noverdict:v1")
        check_eq((rc, out), (1, "sigil: denied docker.io/library/noverdict:v1@%s: sigild returned no verdict (0)"
                             % D1), "no verdict")
        rc, out, _ = run(sock, name="docker.io/library/garbage:v1")
        check_eq((rc, out), (1, "sigil: denied docker.io/library/garbage:v1@%s: sigild sent an answer that "
                             "is not a VerifyResponse" % D1), "garbage response")
        rc, out, _ = run(sock, name="docker.io/library/newline:v1")
        check_eq((rc, out), (1, "sigil: denied docker.io/library/newline:v1@%s: line one?line two" % D1),
                 "reason stays one line")

        # sigild slower than the deadline: deny within deadline + margin
        rc, out, el = run(sock, name="docker.io/library/slow:v1", extra_env={"SIGIL_VERIFIER_TIMEOUT_MS": "1000"})
        check_eq(rc, 1, "slow exit code")
        check(out == "sigil: denied docker.io/library/slow:v1@%s: sigild at %s did not answer within 1000 ms"
              % (D1, sock) or out.startswith("sigil: denied docker.io/library/slow:v1@%s: sigild at %s failed: "
                                             "DEADLINE_EXCEEDED" % (D1, sock)), "slow line: %r" % out)
        check(0.9 <= el < 1.6, "slow denied within the deadline (%.3f s)" % el)

        # input errors end to end (reasons are unit-tested in test-forwarder.c)
        rc, out, _ = run(sock, args=["-name", "docker.io/library/app:v1"])
        check_eq((rc, out), (1, "sigil: denied: missing -digest argument"), "missing digest")
        rc, out, _ = run(sock, stdin=descriptor(D2))
        check_eq((rc, out), (1, "sigil: denied docker.io/library/app:v1@%s: descriptor digest %s does not "
                             "match -digest %s" % (D1, D2, D1)), "digest mismatch")
        rc, out, _ = run(sock, stdin=b" " * (64 * 1024 + 1))
        check_eq((rc, out), (1, "sigil: denied docker.io/library/app:v1@%s: descriptor on stdin exceeds "
                             "65536 bytes" % D1), "huge stdin")
        rc, out, _ = run(sock, extra_env={"SIGIL_VERIFIER_TIMEOUT_MS": "soon"})
        check_eq((rc, out), (1, "sigil: denied docker.io/library/app:v1@%s: invalid SIGIL_VERIFIER_TIMEOUT_MS "
                             "\"soon\" (expected milliseconds, 1-3600000)" % D1), "bad timeout env")

        # containerd's environment: nothing but what it inherits; no HOME, no
        # PATH, LD_LIBRARY_PATH=<opt>/lib: (empty element = cwd), cwd "/"
        rc, out, _ = run(sock, env={})
        check_eq(rc, 0, "empty environment")
        rc, out, _ = run(sock, env={"LD_LIBRARY_PATH": "/opt/containerd/lib:"}, cwd=tmp)
        check_eq(rc, 0, "LD_LIBRARY_PATH quirk")

        # many pulls at once
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            res = list(ex.map(lambda i: run(sock, name="docker.io/library/app%d:v1" % i), range(40)))
        check(all(r[0] == 0 for r in res), "40 concurrent allows")
    finally:
        srv.stop()

    # nobody there: deny after the retry window, naming the socket
    absent = os.path.join(tmp, "absent.sock")
    rc, out, el = run(absent, extra_env={"SIGIL_VERIFIER_CONNECT_RETRY_MS": "500"})
    check_eq((rc, out), (1, "sigil: denied docker.io/library/app:v1@%s: sigild is not reachable at %s "
                         "(no such socket) %s is sigild running?" % (D1, absent, EM)), "absent socket")
    check(0.45 <= el < 1.5, "absent: denied after the retry window (%.3f s)" % el)
    rc, out, el = run(absent, extra_env={"SIGIL_VERIFIER_CONNECT_RETRY_MS": "0"})
    check(rc == 1 and el < 0.5, "no retry window: immediate deny (%.3f s)" % el)

    # a socket file with nobody listening (sigild died): connection refused
    dead = os.path.join(tmp, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(dead)
    rc, out, el = run(dead, extra_env={"SIGIL_VERIFIER_CONNECT_RETRY_MS": "300"})
    s.close()
    check_eq((rc, out), (1, "sigil: denied docker.io/library/app:v1@%s: sigild is not reachable at %s "
                         "(connection refused) %s is sigild running?" % (D1, dead, EM)), "refused socket")

    # something that is not an HTTP/2 server: fail closed, quickly
    http1 = os.path.join(tmp, "http1.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(http1)
    ls.listen(4)

    def http1_server():
        c, _ = ls.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        c.close()
    th = threading.Thread(target=http1_server)
    th.start()
    rc, out, el = run(http1)
    th.join()
    ls.close()
    check(rc == 1 and out.startswith("sigil: denied docker.io/library/app:v1@%s: sigild at %s " % (D1, http1))
          and el < 2, "not HTTP/2: %r" % out)

    # protocol violations from the server fail closed, naming the socket
    raw_cases = [
        ("silent", b"", 2.0, {"SIGIL_VERIFIER_TIMEOUT_MS": "700"},
         "sigild at {s} did not answer within 700 ms"),
        ("closes", None, 0, {}, "sigild at {s} closed the connection without answering"),
        ("http503", SETTINGS + frame(1, END_HEADERS | END_STREAM, 1, hpack((":status", "503"))), 0.5, {},
         "sigild at {s} answered HTTP 503, not gRPC"),
        ("no-status", SETTINGS + frame(1, END_HEADERS | END_STREAM, 1, hpack((":status", "200"), GRPC_CT)),
         0.5, {}, "sigild at {s} answered without a grpc-status"),
        ("reset", SETTINGS + frame(1, END_HEADERS, 1, hpack((":status", "200"), GRPC_CT)) +
         frame(3, 0, 1, (2).to_bytes(4, "big")), 0.5, {}, "sigild at {s} reset the call (HTTP/2 error 2)"),
        ("bad-status", SETTINGS + frame(1, END_HEADERS | END_STREAM, 1,
                                        hpack((":status", "200"), GRPC_CT, ("grpc-status", "x0"))), 0.5, {},
         "sigild at {s} sent a malformed gRPC answer (HTTP 200)"),
        ("not-grpc-ct", SETTINGS + frame(1, END_HEADERS, 1, hpack((":status", "200"),
                                                                    ("content-type", "text/html"))) +
         frame(0, 0, 1, b"\0\0\0\0\0") + frame(1, END_HEADERS | END_STREAM, 1, hpack(("grpc-status", "0"))),
         0.5, {}, "sigild at {s} answered without content-type application/grpc"),
        ("no-message", SETTINGS + frame(1, END_HEADERS, 1, hpack((":status", "200"), GRPC_CT)) +
         frame(1, END_HEADERS | END_STREAM, 1, hpack(("grpc-status", "0"))), 0.5, {},
         "sigild at {s} answered OK without a response message"),
        ("compressed", SETTINGS + frame(1, END_HEADERS, 1, hpack((":status", "200"), GRPC_CT)) +
         frame(0, 0, 1, b"\1\0\0\0\2\x08\x01") + frame(1, END_HEADERS | END_STREAM, 1, hpack(("grpc-status", "0"))),
         0.5, {}, "sigild at {s} sent a malformed response message"),
        ("two-messages", SETTINGS + frame(1, END_HEADERS, 1, hpack((":status", "200"), GRPC_CT)) +
         frame(0, 0, 1, b"\0\0\0\0\2\x08\x01" * 2) + frame(1, END_HEADERS | END_STREAM, 1, hpack(("grpc-status", "0"))),
         0.5, {}, "sigild at {s} sent a malformed response message"),
        ("not-settings-first", frame(1, END_HEADERS | END_STREAM, 1, hpack((":status", "200"))), 0.5, {},
         None),
        ("garbage", b"\xff" * 64, 0.5, {}, None),
    ]
    for label, reply, hold, extra, want in raw_cases:
        path = os.path.join(tmp, label + ".sock")
        th = raw_server(path, reply, hold)
        rc, out, el = run(path, extra_env=extra)
        th.join()
        prefix = "sigil: denied docker.io/library/app:v1@%s: " % D1
        if want is None:
            check(rc == 1 and out.startswith(prefix + "sigild at %s " % path) and el < 2.0,
                  "raw %s: %r" % (label, out))
        else:
            check_eq((rc, out), (1, prefix + want.format(s=path)), "raw " + label)
        if label == "silent":
            check(0.65 <= el < 1.2, "silent server: denied at the deadline (%.3f s)" % el)

    # sigild restarting: the socket appears during the retry window
    late = os.path.join(tmp, "late.sock")
    holder = {}

    def start_late():
        time.sleep(0.6)
        holder["srv"] = FakeSigild(late).start()
    th = threading.Thread(target=start_late)
    th.start()
    rc, out, el = run(late, extra_env={"SIGIL_VERIFIER_CONNECT_RETRY_MS": "3000"})
    th.join()
    holder["srv"].stop()
    check_eq((rc, out), (0, "sigil: allowed docker.io/library/app:v1@%s: signed by CN=test" % D1),
             "server appears during the retry window")
    check(el >= 0.55, "waited for the late server (%.3f s)" % el)

    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
