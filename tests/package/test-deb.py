#!/usr/bin/python3
"""test-deb.py SOURCE_DIR - build the Debian packages from a copy of the
source tree (packaging/debian as debian/) with dpkg-buildpackage, install
them into a throwaway root, and check what an operator gets:

  - the installed file list, exactly (tests/package/expected-files.txt);
  - the conffiles (everything in /etc) and sigild.json in dry-run mode;
  - the maintainer scripts: unit enabled on install, the imports message,
    the verifier removed before sigild stops;
  - `systemd-analyze verify` on the unit;
  - the installed `sigil --version`, sigild serving `sigil status` with the
    packaged configuration and trust policy (mode dry-run), sigil-verifier
    failing closed;
  - the man pages without groff warnings;
  - Breaks: dpkg refuses sigil next to a containerd older than 2.1;
  - lintian: no tag left but those overridden in packaging/debian/*.
    lintian-overrides (each with its reason) or allowed below.

Installing: `dpkg --root=R --unpack --force-depends`. A full `dpkg -i`
configures the package, which runs postinst chrooted into R: that needs a
shell, deb-systemd-helper (perl) and the libraries in R - a debootstrapped
Debian, which takes minutes and a mirror. --force-script-chrootless would
run the postinst on this machine instead, and deb-systemd-helper would
enable sigild here. So the files are unpacked and registered (dpkg's own
file list and conffiles come from its database in R), and the scripts are
checked as text. The binaries run from R with LD_LIBRARY_PATH pointing at
R's libsigil; their other libraries come from this (Debian 12) machine.

Skips (exit 77, loudly) when dpkg-buildpackage, debhelper, lintian or the
build dependencies are missing and cannot be installed.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))

# lintian tags left after packaging/debian/*.lintian-overrides, with why.
ALLOWED_TAGS = {
    # dh_gencontrol copies sigil's Static-Built-Using to the automatic
    # -dbgsym package, which cannot carry lintian overrides; bookworm's
    # lintian does not know the field (policy 4.6.2 §7.8 does).
    "W: sigil-dbgsym: unknown-field Static-Built-Using",
}

TOOLS = {  # program -> Debian 12 package
    "dpkg-buildpackage": "dpkg-dev",
    "dh": "debhelper",
    "lintian": "lintian",
    "fakeroot": "fakeroot",
    "systemd-analyze": "systemd",
}

failures = []


def skip(why):
    bar = "!" * 72
    print(f"SKIP: {why}\n{bar}\n!!! package test skipped: {why}\n{bar}", flush=True)
    print(f"SKIP: {why}", file=sys.stderr, flush=True)
    sys.exit(SKIP)


def check(ok, what, detail=""):
    print(("ok    " if ok else "FAIL  ") + what + (f"\n      {detail}" if detail and not ok else ""),
          flush=True)
    if not ok:
        failures.append(what)


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def ensure_tools():
    missing = sorted({pkg for prog, pkg in TOOLS.items() if not shutil.which(prog)})
    if missing and os.geteuid() == 0:
        # the toolchain is not in scripts/deps.sh: a machine without it (or
        # without a mirror) skips this test instead of failing the others
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing, env=env)
        if r.returncode != 0:
            run(["apt-get", "update", "-q"], env=env)
            r = run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing, env=env)
        missing = sorted({pkg for prog, pkg in TOOLS.items() if not shutil.which(prog)})
        if missing:
            skip("Debian packaging tools missing and apt-get could not install them "
                 f"({' '.join(missing)}): {r.stdout.strip().splitlines()[-1:]}")
    if missing:
        skip(f"Debian packaging tools missing ({' '.join(missing)}) and not root to install them")


def copy_tree(src, dst):
    """The source tree as git sees it (tracked and new files, not ignored
    build directories), else everything but build*/ and .git."""
    files = None
    if os.path.isdir(os.path.join(src, ".git")) and shutil.which("git"):
        r = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], stdout=subprocess.PIPE)
        if r.returncode == 0:
            files = [f for f in r.stdout.decode().split("\0") if f]
    if files is None:
        files = []
        for root, dirs, names in os.walk(src):
            rel = os.path.relpath(root, src)
            if rel == ".":
                dirs[:] = [d for d in dirs if not d.startswith("build") and d != ".git"]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    for f in files:
        s = os.path.join(src, f)
        if not os.path.lexists(s):
            continue  # deleted in the work tree
        d = os.path.join(dst, f)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d, follow_symlinks=False)
    shutil.copytree(os.path.join(src, "packaging", "debian"), os.path.join(dst, "debian"))


def project_version(src):
    with open(os.path.join(src, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def wait_socket(path, proc, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            return False
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                return True
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.1)
    return False


def main():
    if len(sys.argv) != 2:
        print("usage: test-deb.py SOURCE_DIR", file=sys.stderr)
        return 2
    src = os.path.abspath(sys.argv[1])
    ensure_tools()
    version = project_version(src)
    multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()

    work = tempfile.mkdtemp(prefix="sigil-deb-")
    try:
        tree = os.path.join(work, "sigil")
        copy_tree(src, tree)
        r = run(["dpkg-checkbuilddeps"], cwd=tree)
        if r.returncode != 0:
            skip(f"build dependencies missing: {r.stdout.strip()}")

        # nocheck: the unit suite has run in the normal build already;
        # parallel=2: CI's two cores. dh builds with meson's buildtype=plain
        # and dpkg-buildflags' -O2 and hardening: a release build.
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
        env.pop("MAKEFLAGS", None)
        t0 = time.time()
        print("building: dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS='nocheck parallel=2')",
              flush=True)
        r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree, env=env)
        if r.returncode != 0:
            print(r.stdout[-6000:])
            check(False, "dpkg-buildpackage -us -uc -b")
            return 1
        check(True, f"dpkg-buildpackage -us -uc -b ({time.time() - t0:.0f} s)")
        full = f"{version}-1"
        debs = {p: os.path.join(work, f"{p}_{full}_{arch}.deb")
                for p in ("sigil", "libsigil0", "libsigil-dev")}
        for p, d in debs.items():
            check(os.path.isfile(d), f"built {os.path.basename(d)}")
        if failures:
            return 1

        # ---- install into a throwaway root
        root = os.path.join(work, "root")
        admin = os.path.join(root, "var", "lib", "dpkg")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admin, d))
        open(os.path.join(admin, "status"), "w").close()
        os.makedirs(os.path.join(root, "var", "log"))
        for p, d in debs.items():
            # --unpack runs a preinst, and chrootless it would run here
            if run(["dpkg-deb", "-I", d, "preinst"]).returncode == 0:
                check(False, f"{p} has no preinst (the test unpacks without running scripts)")
                return 1
        r = run(["dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless",
                 "--unpack"] + list(debs.values()))
        check(r.returncode == 0, "dpkg --root --unpack sigil libsigil0 libsigil-dev", r.stdout)
        dq = ["dpkg-query", f"--admindir={admin}"]
        st = run(dq + ["-W", "-f=${Package} ${Status}\n"]).stdout.split("\n")
        check(sorted(filter(None, st)) == sorted(f"{p} install ok unpacked" for p in debs),
              "dpkg's database in the root lists the three packages as unpacked", st)

        # dpkg --unpack leaves conffiles as <file>.dpkg-new; configuring a
        # fresh install renames them into place, which is all of the
        # configure step that touches files: do that here.
        for c in run(dq + ["-W", "-f=${Conffiles}\n", "sigil"]).stdout.split():
            if c.startswith("/") and os.path.exists(root + c + ".dpkg-new"):
                os.rename(root + c + ".dpkg-new", root + c)

        # the file list, exactly (directories aside)
        with open(os.path.join(HERE, "expected-files.txt")) as f:
            expected = sorted(line.strip().replace("@MULTIARCH@", multiarch) for line in f
                              if line.strip() and not line.startswith("#"))
        listed = []
        for p in debs:
            for path in run(dq + ["-L", p]).stdout.splitlines():
                if path.startswith("/") and not os.path.isdir(root + path):
                    listed.append(f"{p} {path}")
                    check(os.path.lexists(root + path), f"{path} is in the root")
        listed.sort()
        missing = sorted(set(expected) - set(listed))
        extra = sorted(set(listed) - set(expected))
        check(not missing and not extra, f"installed files match expected-files.txt ({len(listed)})",
              f"missing: {missing} unexpected: {extra}")
        for d in ("/etc/sigil/truststore/x509/ca", "/etc/sigil/truststore/x509/signingAuthority",
                  "/etc/sigil/truststore/x509/tsa"):
            check(os.path.isdir(root + d), f"{d}/ exists (empty trust store)")
        vdir = root + "/usr/libexec/sigil/verifier-bin"
        check(os.listdir(vdir) == ["sigil-verifier"],
              "verifier bin_dir holds sigil-verifier only (containerd runs every entry)",
              os.listdir(vdir))
        dropin = open(root + "/etc/containerd/conf.d/50-sigil.toml").read()
        check('bin_dir = "/usr/libexec/sigil/verifier-bin"' in dropin,
              "the drop-in's bin_dir is the installed verifier directory")
        unit = open(root + "/lib/systemd/system/sigild.service").read()
        check("ExecStart=/usr/sbin/sigild --config /etc/sigil/sigild.json" in unit,
              "the unit runs the installed sigild with /etc/sigil/sigild.json")

        # conffiles: every file in /etc, nothing else
        cf = run(dq + ["-W", "-f=${Conffiles}\n", "sigil"]).stdout.split()
        cf = sorted(x for x in cf if x.startswith("/"))
        etc = sorted(x.split(" ", 1)[1] for x in expected if x.split(" ", 1)[1].startswith("/etc/"))
        check(cf == etc, "conffiles are exactly the files in /etc", f"{cf} != {etc}")

        # sigild.json: the documented defaults, but dry-run
        with open(root + "/etc/sigil/sigild.json") as f:
            installed = json.load(f)
        with open(os.path.join(src, "packaging", "sigild.json")) as f:
            defaults = json.load(f)
        check(installed.get("mode") == "dry-run", '/etc/sigil/sigild.json has "mode": "dry-run"')
        check({k: v for k, v in installed.items() if k != "mode"} ==
              {k: v for k, v in defaults.items() if k != "mode"},
              "/etc/sigil/sigild.json is packaging/sigild.json apart from mode")
        with open(root + "/etc/sigil/trustpolicy.oci.json") as f:
            tp = json.load(f)
        skips = [s for s in tp["trustPolicies"] if s["signatureVerification"]["level"] == "skip"]
        check(any("registry.k8s.io/pause" in s["registryScopes"] for s in skips),
              "the trust policy skips the pause image (a node must start pods)")

        # maintainer scripts, as text (see the header for why not run)
        info = os.path.join(admin, "info")
        postinst = open(os.path.join(info, "sigil.postinst")).read()
        check("deb-systemd-helper enable 'sigild.service'" in postinst,
              "postinst enables sigild.service (dh_installsystemd)")
        check("deb-systemd-invoke $_dh_action 'sigild.service'" in postinst,
              "postinst starts sigild.service")
        check('imports = ["/etc/containerd/conf.d/*.toml"]' in postinst,
              "postinst prints the imports line to add")
        prerm = open(os.path.join(info, "sigil.prerm")).read()
        rm_at = prerm.find("rm -f /usr/libexec/sigil/verifier-bin/sigil-verifier")
        stop_at = prerm.find("deb-systemd-invoke stop 'sigild.service'")
        check(0 <= rm_at < stop_at, "prerm removes sigil-verifier before it stops sigild")
        # the message itself, from a postinst run in a sandbox with
        # the systemd helpers absent and no containerd config
        fake = os.path.join(work, "fakebin")
        os.makedirs(fake)
        for tool in ("deb-systemd-helper", "deb-systemd-invoke", "systemctl"):
            with open(os.path.join(fake, tool), "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(os.path.join(fake, tool), 0o755)
        r = run(["sh", os.path.join(info, "sigil.postinst"), "configure", ""],
                env={"PATH": f"{fake}:/usr/bin:/bin"})
        check(r.returncode == 0 and "imports = [\"/etc/containerd/conf.d/*.toml\"]" in r.stdout,
              "postinst configure prints what to add to config.toml", r.stdout)

        # the unit
        # verified against this machine's systemd (sysinit.target, /bin/kill):
        # the throwaway root has no systemd of its own. The copy runs the
        # unpacked sigild instead of /usr/sbin/sigild; the man page named in
        # Documentation= is checked below, not by systemd-analyze.
        unit_dir = os.path.join(work, "unit")
        os.makedirs(unit_dir)
        unit = open(os.path.join(root, "lib/systemd/system/sigild.service")).read()
        check("ExecStart=/usr/sbin/sigild " in unit, "the unit starts /usr/sbin/sigild", unit)
        with open(os.path.join(unit_dir, "sigild.service"), "w") as f:
            f.write(unit.replace("ExecStart=/usr/sbin/sigild ", f"ExecStart={root}/usr/sbin/sigild "))
        r = run(["systemd-analyze", "verify", "--man=no", os.path.join(unit_dir, "sigild.service")])
        out = "\n".join(line for line in r.stdout.splitlines()
                        if "containerd.service" not in line)  # Before=: not installed here
        check(r.returncode == 0 and not out.strip(), "systemd-analyze verify sigild.service", r.stdout)

        # the binaries
        env = dict(os.environ, LD_LIBRARY_PATH=f"{root}/usr/lib/{multiarch}")
        r = run([root + "/usr/bin/sigil", "--version"], env=env)
        check(r.returncode == 0 and r.stdout == f"sigil {version}\n", "installed sigil --version",
              r.stdout)
        ldd = run(["ldd", root + "/usr/bin/sigil"], env=env).stdout
        check(f"{root}/usr/lib/{multiarch}/libsigil.so.0" in ldd,
              "sigil runs with the package's libsigil.so.0", ldd)
        r = run([root + "/usr/libexec/sigil/verifier-bin/sigil-verifier"], env=env,
                stdin=subprocess.DEVNULL)
        check(r.returncode == 1 and r.stdout.startswith("sigil: denied"),
              "sigil-verifier runs and fails closed on bad arguments", r.stdout)
        check_sigild(root, work, env)

        for page in ("man1/sigil.1.gz", "man8/sigild.8.gz", "man8/sigil-verifier.8.gz",
                     "man5/sigild.json.5.gz"):
            r = run(["man", "--warnings", "-l", f"{root}/usr/share/man/{page}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            check(r.returncode == 0 and not r.stderr.strip(), f"man page {page} renders cleanly",
                  r.stderr)

        check_breaks(work, debs["sigil"])

        # lintian
        print("running lintian (pedantic, info)", flush=True)
        r = run(["lintian", "--pedantic", "--info", "--display-info", "--tag-display-limit", "0",
                 os.path.join(work, f"sigil_{full}_{arch}.changes")])
        print(r.stdout)
        tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIPXO]: ", line)]
        left = [t for t in tags if not any(t.startswith(a) for a in ALLOWED_TAGS)]
        check(not left and r.returncode == 0, "lintian: no tag but the overridden or allowed ones",
              "\n      ".join(left) or f"exit {r.returncode}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}")
    return 1 if failures else 0


def check_sigild(root, work, env):
    """sigild with the packaged sigild.json and trust policy: starts, and
    `sigil status` says dry-run. Paths that would touch this machine (the
    socket, stateDir, configDir) point into the test's directories."""
    with open(root + "/etc/sigil/sigild.json") as f:
        cfg = json.load(f)
    sock = os.path.join(work, "sigild.sock")
    cfg.update(socket=sock, stateDir=os.path.join(work, "state"), configDir=root + "/etc/sigil")
    if "metricsListen" in cfg:
        cfg["metricsListen"] = ""  # no fixed port in a test
    path = os.path.join(work, "sigild.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.Popen([root + "/usr/sbin/sigild", "--config", path], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        up = wait_socket(sock, p, 20)
        check(up, "sigild starts with the packaged configuration and trust policy")
        if up:
            r = run([root + "/usr/bin/sigil", "status", "--socket", sock], env=env)
            check(r.returncode == 0 and ": mode dry-run," in r.stdout,
                  "sigil status: the packaged sigild runs in dry-run mode", r.stdout)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log = p.stdout.read()
        if failures:
            print(log)


def check_breaks(work, sigil_deb):
    """Debian 12's containerd is 1.6, without image verifiers: dpkg must
    refuse sigil next to it and say why."""
    pkg = os.path.join(work, "fake-containerd")
    os.makedirs(os.path.join(pkg, "DEBIAN"))
    with open(os.path.join(pkg, "DEBIAN", "control"), "w") as f:
        f.write("Package: containerd\nVersion: 1.6.20~ds1-1+b1\nArchitecture: all\n"
                "Maintainer: test <test@example.invalid>\nDescription: stand-in\n stand-in\n")
    deb = os.path.join(work, "containerd-1.6.deb")
    check(run(["dpkg-deb", "--build", pkg, deb]).returncode == 0, "built a containerd 1.6 stand-in")
    root = os.path.join(work, "root-old")
    admin = os.path.join(root, "var", "lib", "dpkg")
    for d in ("info", "updates", "triggers"):
        os.makedirs(os.path.join(admin, d))
    open(os.path.join(admin, "status"), "w").close()
    os.makedirs(os.path.join(root, "var", "log"))
    # no --force-depends: it would turn the Breaks refusal into a warning
    # (unpacking does not check Depends, so the empty root needs no libc)
    base = ["dpkg", f"--root={root}", "--force-script-chrootless"]
    # installed (configured): dpkg checks Breaks against configured packages
    check(run(base + ["--install", deb]).returncode == 0, "containerd 1.6 stand-in installed")
    r = run(base + ["--unpack", sigil_deb])
    check(r.returncode != 0 and "breaks containerd (<< 2.1~)" in r.stdout,
          "dpkg refuses sigil next to containerd 1.6, naming the Breaks", r.stdout)


if __name__ == "__main__":
    sys.exit(main())
