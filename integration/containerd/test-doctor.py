#!/usr/bin/python3
"""`sigil doctor` against a real containerd 2.1: every CRI setting it calls
a bypass is one, and the configuration it calls clean is.

- the harness's configuration (version 2 main file importing sigil's
  packaged drop-in): `sigil doctor` exits 0 with no problem and no warning,
  and a CRI PullImage of an unsigned image is denied by sigil;
- a stray file in bin_dir: doctor reports bin-dir-entry (exit 1) and
  containerd fails every pull, a signed one included; an empty bin_dir:
  doctor reports bin-dir-empty and containerd lets the unsigned image in;
- for each of CRI's local-pull fallback triggers, added to the main
  version 2 config where containerd 2.1 reads it (the version 2 CRI tables,
  or io.containerd.cri.v1.images for use_local_image_pull, which is not
  migrated): the unsigned image gets through CRI without sigild being
  asked, containerd logs its fallback (naming the setting), and doctor
  flags exactly that id with the file:line of the setting (exit 1);
- the same in a version 3 main config, in io.containerd.cri.v1.images;
- discard_unpacked_layers = true in a version 2 .containerd table without
  `runtimes`: containerd's migration does not copy it (plugins/cri/images/
  plugin.go returns early), the pull is denied, and doctor agrees (exit 0);
- per_verifier_timeout = "0s" in a drop-in loaded after sigil's: doctor
  reports per-verifier-timeout at its file:line (exit 1), and containerd
  fails the signed image's CRI pull without asking sigild;
- disabled_plugins naming the image-verifier plugin: doctor reports
  bindir-disabled saying that containerd 2.1 fails to load CRI (exit 1),
  and CRI does not answer at all.
One containerd (own root, so nothing is cached between cases) per case.
"""
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness as H  # noqa: E402
from harness import R  # noqa: E402

CRI2 = 'plugins."io.containerd.grpc.v1.cri"'
RUNTIMES = f'  [{CRI2}.containerd.runtimes.runc]\n    runtime_type = "io.containerd.runc.v2"\n'

# (id, TOML appended to the main config, the line of the setting in that
# TOML (1-based), the name containerd's fallback warning gives it)
CASES = [
    ("discard-unpacked-layers",
     f"[{CRI2}.containerd]\n  discard_unpacked_layers = true\n" + RUNTIMES, 2, "DiscardUnpackedLayers"),
    ("disable-snapshot-annotations",
     f"[{CRI2}.containerd]\n  disable_snapshot_annotations = false\n" + RUNTIMES, 2,
     "DisableSnapshotAnnotations"),
    ("registry-mirrors",
     f'[{CRI2}.registry.mirrors."mirror.invalid"]\n  endpoint = ["https://mirror.invalid"]\n', 1,
     "Registry.Mirrors"),
    ("registry-configs",
     f'[{CRI2}.registry.configs."config.invalid".tls]\n  insecure_skip_verify = true\n', 1,
     "Registry.Configs"),
    # ValidateImageConfig folds auths into configs before the check
    ("registry-auths",
     f'[{CRI2}.registry.auths."https://auth.invalid"]\n  username = "u"\n  password = "p"\n', 1,
     "Registry.Configs"),
    ("max-concurrent-downloads", f"[{CRI2}]\n  max_concurrent_downloads = 5\n", 2, "MaxConcurrentDownloads"),
    ("image-pull-with-sync-fs", f"[{CRI2}]\n  image_pull_with_sync_fs = true\n", 2, "ImagePullWithSyncFs"),
    ("use-local-image-pull",
     '[plugins."io.containerd.cri.v1.images"]\n  use_local_image_pull = true\n', 2, None),
]
FALLBACK = "Falling back to local image pull mode"


def doctor(args, vals, ctd, sock, output="json"):
    # sigil-verifier's deadline as containerd passes it (per_verifier_timeout
    # must exceed it), like SIGIL_SOCKET the doctor reads it from its own
    # environment
    env = dict(os.environ, SIGIL_VERIFIER_TIMEOUT_MS=str(H.VERIFIER_TIMEOUT_MS))
    p = R.run([args.sigil, "doctor", "--config", ctd.config, "--containerd", vals["CONTAINERD"],
               "--socket", sock, "--output", output], env=env, check_rc=False, timeout=60)
    if output != "json":
        return p.returncode, p.stdout, p.stderr
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        raise R.Failed(f"sigil doctor --output json (exit {p.returncode}): {p.stdout}{p.stderr}")
    return p.returncode, doc, p.stderr


def problems(doc):
    return sorted(f["id"] for f in doc["findings"] if f["severity"] == "problem")


def main_lines(ctd):
    with open(ctd.config) as f:
        return f.read().count("\n")


def main():
    args = H.parse_args()
    vals = H.preflight(args)
    node = H.Node(args, vals, "doctor")
    signed = node.push("signed")
    node.push("unsigned")
    node.sign(signed, "jws")
    node.start()
    sd = node.sigild
    ref_s, ref_u = f"{node.scope}@{signed}", f"{node.scope}:unsigned"
    R.log(f"registry http://{node.registry.host}, sigild {sd.sock}")

    # --- the harness's configuration: clean, and sigil decides ---------------
    ctd = node.containerd
    rc, out, err = doctor(args, vals, ctd, sd.sock, output="text")
    R.check(rc == 0 and out.startswith("sigil doctor: no problems\n") and "\nwarning " not in out,
            "harness config: sigil doctor exits 0 with no problem and no warning", f"exit {rc}: {out}{err}")
    for ok_id in ("containerd-version", "use-local-image-pull", "verifier-missing", "dropin-not-imported",
                  "sigild-unreachable"):
        R.check(f"\nok {ok_id}: " in out, f"harness config: doctor's '{ok_id}' check passes", out)
    cri = ctd.cri()
    H.expect_denied("harness config: CRI PullImage of the unsigned image is denied by sigil",
                    cri.pull(ref_u), "no signature")
    H.expect_pulled("harness config: CRI PullImage of the signed image is allowed", cri.pull(ref_s))
    cri.remove(ref_s)

    # --- bin_dir: a stray file fails every pull; an empty one lets all in ---
    stray = os.path.join(ctd.bindir, "README")
    with open(stray, "w") as f:
        f.write("not a verifier\n")
    rc, doc, err = doctor(args, vals, ctd, sd.sock)
    entry = [f for f in doc["findings"] if f["id"] == "bin-dir-entry"]
    R.check(rc == 1 and problems(doc) == ["bin-dir-entry"] and entry and stray in entry[0]["message"]
            and "is not executable" in entry[0]["message"] and "move " + stray in (entry[0]["fix"] or ""),
            "a README in bin_dir: doctor reports bin-dir-entry naming it (exit 1)", f"exit {rc}: {doc}")
    err_pull = cri.pull(ref_s)
    R.check(err_pull is not None and "README" in err_pull and "permission denied" in err_pull,
            "a README in bin_dir: containerd fails even the signed image's pull (it executes README)",
            err_pull or "pulled")
    os.unlink(stray)
    hidden = os.path.join(node.work, "sigil-verifier.away")
    shutil.move(os.path.join(ctd.bindir, "sigil-verifier"), hidden)
    rc, doc, err = doctor(args, vals, ctd, sd.sock)
    R.check(rc == 1 and problems(doc) == ["bin-dir-empty"],
            "an empty bin_dir: doctor reports bin-dir-empty (exit 1)", f"exit {rc}: {doc}")
    H.expect_pulled("an empty bin_dir: CRI PullImage of the unsigned image gets through (no verifier runs)",
                    cri.pull(ref_u))
    cri.remove(ref_u)
    shutil.move(hidden, os.path.join(ctd.bindir, "sigil-verifier"))
    ctd.stop()

    # --- each CRI fallback trigger ------------------------------------------
    for cid, toml, line, name in CASES:
        c = H.Containerd(node.work, vals, args.verifier, args.dropin, sd.sock, name=f"ctd-{cid}")
        base = main_lines(c)
        with open(c.config, "a") as f:
            f.write(toml)
        rc, doc, err = doctor(args, vals, c, sd.sock)
        found = [f for f in doc["findings"] if f["id"] == cid]
        R.check(rc == 1 and problems(doc) == [cid] and found and found[0]["file"] == c.config
                and found[0]["line"] == base + line and "CRI falls back to its local pull" in found[0]["message"],
                f"{cid}: doctor flags exactly it, at {os.path.basename(c.config)}:{base + line} (exit 1)",
                f"exit {rc}: {json.dumps(doc)[:2000]}{err}")
        before = len(sd.audit())
        c.start()
        H.expect_pulled(f"{cid}: an unsigned CRI PullImage gets through (verifiers bypassed)",
                        c.cri().pull(ref_u))
        R.check(len(sd.audit()) == before, f"{cid}: sigild was never asked",
                str(sd.audit()[before:])[:1500])
        if name:  # use_local_image_pull asks for the local pull: nothing is logged
            log = c.log()
            R.check(FALLBACK in log and f"'{name}'" in log,
                    f"{cid}: containerd logs its fallback to local pulls naming {name}", log[-1500:])
        c.stop()

    # --- version 3: the setting in io.containerd.cri.v1.images --------------
    c = H.Containerd(node.work, vals, args.verifier, args.dropin, sd.sock, name="ctd-v3")
    with open(c.config) as f:
        text = f.read()
    R.check(text.startswith("version = 2\n"), "the harness's main config starts with version = 2", text[:200])
    text = "version = 3\n" + text[len("version = 2\n"):]
    base = text.count("\n")
    with open(c.config, "w") as f:
        f.write(text + "[plugins.'io.containerd.cri.v1.images']\n  discard_unpacked_layers = true\n")
    rc, doc, err = doctor(args, vals, c, sd.sock)
    found = [f for f in doc["findings"] if f["id"] == "discard-unpacked-layers"]
    R.check(rc == 1 and problems(doc) == ["discard-unpacked-layers"] and found and found[0]["line"] == base + 2
            and "io.containerd.cri.v1.images" in found[0]["fix"],
            "version 3: doctor flags discard_unpacked_layers in io.containerd.cri.v1.images (exit 1)",
            f"exit {rc}: {doc}")
    before = len(sd.audit())
    c.start()
    H.expect_pulled("version 3: an unsigned CRI PullImage gets through", c.cri().pull(ref_u))
    R.check(len(sd.audit()) == before and "'DiscardUnpackedLayers'" in c.log(),
            "version 3: sigild was never asked; containerd logs the fallback", c.log()[-1500:])
    c.stop()

    # --- a version 2 .containerd table without runtimes is not migrated -----
    c = H.Containerd(node.work, vals, args.verifier, args.dropin, sd.sock, name="ctd-no-runtimes")
    with open(c.config, "a") as f:
        f.write(f"[{CRI2}.containerd]\n  discard_unpacked_layers = true\n")
    rc, doc, err = doctor(args, vals, c, sd.sock)
    R.check(rc == 0 and not problems(doc),
            "discard_unpacked_layers = true without a runtimes table (not migrated): doctor exits 0",
            f"exit {rc}: {doc}")
    c.start()
    H.expect_denied("discard_unpacked_layers = true without a runtimes table: the unsigned pull is denied",
                    c.cri().pull(ref_u), "no signature")
    R.check(FALLBACK not in c.log(), "... and containerd does not fall back to local pulls", c.log()[-1500:])
    c.stop()

    # --- per_verifier_timeout = "0s": an expired deadline fails every pull --
    c = H.Containerd(node.work, vals, args.verifier, args.dropin, sd.sock, name="ctd-timeout-0s")
    late = os.path.join(c.confd, "60-timeout.toml")
    with open(late, "w") as f:
        f.write('[plugins."io.containerd.image-verifier.v1.bindir"]\n  per_verifier_timeout = "0s"\n')
    rc, doc, err = doctor(args, vals, c, sd.sock)
    found = [f for f in doc["findings"] if f["id"] == "per-verifier-timeout"]
    R.check(rc == 1 and problems(doc) == ["per-verifier-timeout"] and found and found[0]["file"] == late
            and found[0]["line"] == 2 and "already expired deadline" in found[0]["message"],
            "per_verifier_timeout = \"0s\": doctor reports per-verifier-timeout at 60-timeout.toml:2 (exit 1)",
            f"exit {rc}: {doc}{err}")
    before = len(sd.audit())
    c.start()
    err_pull = c.cri().pull(ref_s)
    R.check(err_pull is not None and "failed to call verifier sigil-verifier" in err_pull
            and "context deadline exceeded" in err_pull and len(sd.audit()) == before,
            "per_verifier_timeout = \"0s\": containerd fails the signed image's CRI pull without asking sigild",
            f"{err_pull or 'pulled'}; audit {sd.audit()[before:]}")
    R.log(f"per_verifier_timeout = \"0s\": containerd says {err_pull}")
    c.stop()

    # --- disabled_plugins: containerd 2.1 loads no CRI at all -----------------
    c = H.Containerd(node.work, vals, args.verifier, args.dropin, sd.sock, name="ctd-disabled")
    with open(c.config) as f:
        text = f.read()
    with open(c.config, "w") as f:
        f.write(text.replace("version = 2\n", 'version = 2\ndisabled_plugins = ["io.containerd.image-verifier.v1.bindir"]\n', 1))
    rc, doc, err = doctor(args, vals, c, sd.sock)
    found = [f for f in doc["findings"] if f["id"] == "bindir-disabled"]
    R.check(rc == 1 and problems(doc) == ["bindir-disabled"] and found and found[0]["file"] == c.config
            and found[0]["line"] == 2 and "fails to load its transfer service" in found[0]["message"],
            "disabled_plugins: doctor reports bindir-disabled at config.toml:2 (exit 1)", f"exit {rc}: {doc}{err}")
    c.start()
    err_pull = c.cri().pull(ref_s)
    R.check(err_pull is not None and err_pull.startswith("UNIMPLEMENTED"),
            "disabled_plugins: containerd 2.1 serves no CRI (every kubelet pull fails)", err_pull or "pulled")
    c.stop()
    R.finish()


if __name__ == "__main__":
    R.main(main)
