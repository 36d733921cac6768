#!/usr/bin/python3
"""Benchmark 1 (issue 7): what an image verifier adds to `ctr image pull`
of an image already present, on real containerd 2.1 (integration/harness.py:
the packaged drop-in, sigild, a local docker-registry).

One containerd serves every configuration: its image-verifier bin_dir is
re-read on every pull (containerd.md §1.7), so each round switches what
the directory holds between pulls (outside the timed region):
  (a) none       the directory empty: containerd's own cost
  (b) true       /bin/true: the floor of any verifier (containerd's exec)
  (c) notation   a shell script running `notation verify` on the -name
                 and -digest it is given, with a notation configuration
                 equivalent to sigil's (the same trust policy and store):
                 the peer, as the shipping notation-based verifiers do it
  (d) sigil warm sigil-verifier, the verdict cached in sigild
  (e) sigil cold sigil-verifier, the verdict not cached: a present image
                 pulled for the first time with sigil in bin_dir (each round
                 its own image, pre-pulled with an empty bin_dir), so sigild
                 fetches the signature from the local registry and verifies
                 it - the cache miss of a sigild that has been running
  (f) restarted  sigil-verifier right after a sigild restart (outside the
                 timed region): empty cache and a new process. Reported,
                 without a target; it runs last in each round and is
                 followed by an untimed pull so that (d) never meets a
                 just-started sigild
(a)-(e) run in every round in an order that rotates from round to round,
after warm-up rounds. Overhead over (a): the median over rounds of the
difference to (a) in the same round (so that drifts of the machine's load
cancel), with its interquartile range. Before timing, each verifier must
deny an unsigned image (so a verifier that does nothing cannot win) and
allow the signed one; afterwards sigild's audit log must show that the
warm pulls were cache hits and each cold one a verification.

Targets: warm <= (b)'s overhead + 1 ms and <= 1/4 of (c)'s; cold <= 1/2 of (c)'s.
Needs root (containerd); skipped loudly (exit 77) otherwise.
"""
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402
from benchlib import R  # noqa: E402
import harness as H  # noqa: E402

CONFIGS = ("none", "true", "notation", "sigil-warm", "sigil-cold")
LABELS = {"none": "(a) no verifier", "true": "(b) /bin/true", "notation": "(c) notation verify script",
          "sigil-warm": "(d) sigil warm (verdict cached)", "sigil-cold": "(e) sigil cold (not cached)",
          "sigil-restart": "(f) sigil, sigild just restarted"}

NOTATION_SCRIPT = """#!/bin/sh
# The peer: an image verifier that runs `notation verify` on every pull.
# containerd calls: <this> -name REF -digest DIGEST -stdin-media-type TYPE
name= digest=
while [ $# -gt 0 ]; do
  case $1 in
    -name) name=$2; shift 2 ;;
    -digest) digest=$2; shift 2 ;;
    *) shift ;;
  esac
done
IFS= read -r _descriptor || :
repo=${name%@*}
case ${repo##*/} in *:*) repo=${repo%:*} ;; esac
HOME=@HOME@ XDG_CONFIG_HOME=@CONFIG@ exec @NOTATION@ verify --insecure-registry "$repo@$digest"
"""


def main():
    args = B.parse_args(__doc__.splitlines()[0], need=("sigil", "sigild", "verifier", "dropin"))
    rounds = args.rounds or (2 if args.smoke else 30)
    warm = args.warmup if args.warmup is not None else (1 if args.smoke else 3)
    if os.geteuid() != 0:
        R.skip("benchmark 1 (pull overhead) starts containerd, which needs root")
    vals = H.preflight(args)
    rep = B.Report("pull", "1. Pull overhead: ctr image pull of a present image, per verifier", args)
    node = H.Node(args, vals, "bench-pull", repo="bench/pull")
    signed = node.push("signed")
    node.push("unsigned")
    node.sign(signed, "jws")
    # one image per cold pull (each verified once), present before it is timed
    colds = [f"cold{i}" for i in range(warm + rounds)]
    for c in colds:
        node.sign(node.push(c), "jws")
    node.start()
    ctd = node.containerd
    ref = f"{node.scope}:signed"

    # what each configuration puts in bin_dir
    stash = os.path.join(node.work, "verifiers")
    os.makedirs(stash)
    files = {"true": ("true", "/bin/true"),
             "sigil-warm": ("sigil-verifier", args.verifier),
             "sigil-cold": ("sigil-verifier", args.verifier),
             "sigil-restart": ("sigil-verifier", args.verifier)}
    nhome = os.path.join(node.work, "notation-home")
    os.makedirs(nhome)
    script = os.path.join(stash, "notation-verify")
    with open(script, "w") as f:
        f.write(NOTATION_SCRIPT.replace("@HOME@", nhome).replace("@CONFIG@", node.trust_root)
                .replace("@NOTATION@", node.tools.notation))
    os.chmod(script, 0o755)
    files["notation"] = ("notation-verify", script)

    def use(cfg):
        for e in os.listdir(ctd.bindir):
            os.unlink(os.path.join(ctd.bindir, e))
        if cfg in files:
            name, src = files[cfg]
            shutil.copy(src, os.path.join(ctd.bindir, name))

    def pull(what):
        t0 = time.perf_counter()
        ok, out = ctd.ctr_pull(what)
        return ok, out, time.perf_counter() - t0

    # correctness first: each verifier denies the unsigned image and allows the signed one
    for cfg in ("notation", "sigil-warm"):
        use(cfg)
        ok, out, _ = pull(f"{node.scope}:unsigned")
        R.check(not ok and "rejected image" in out, f"{LABELS[cfg]}: the unsigned image is blocked", out[-800:])
        ok, out, _ = pull(ref)
        R.check(ok, f"{LABELS[cfg]}: the signed image is pulled", out[-800:])
    use("none")
    for what in [ref] + [f"{node.scope}:{c}" for c in colds]:
        ok, out, _ = pull(what)
        R.check(ok, f"{what} is present", out[-800:])

    times = {c: [] for c in CONFIGS + ("sigil-restart",)}
    for r in range(-warm, rounds):
        order = list(CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)])
        cold_ref = f"{node.scope}:{colds[r + warm]}"
        for cfg in order + ["sigil-restart"]:
            use(cfg)
            if cfg == "sigil-restart":
                node.sigild.stop()
                node.sigild.start()
            ok, out, dt = pull(cold_ref if cfg == "sigil-cold" else ref)
            if not R.check(ok, f"round {r}: {LABELS[cfg]} pull succeeds", out[-800:]):
                raise R.Failed("a pull failed")
            if r >= 0:
                times[cfg].append(dt * 1000)
        ok, out, _ = pull(ref)  # untimed: sigild past its first calls again
        R.check(ok, f"round {r}: the untimed pull after the restart succeeds", out[-800:])
    use("none")

    # the audit log says what sigild did: warm pulls were cache hits, cold
    # ones (and the first after each restart) verified
    recs = node.sigild.records_for(signed)
    cached = sum(1 for x in recs if x.get("cached") and x.get("verdict") == "allow")
    fresh = sum(1 for x in recs if not x.get("cached") and x.get("verdict") == "allow")
    n = rounds + warm
    R.check(cached >= 2 * n and fresh >= n,
            f"sigild's audit log: >= {2 * n} cached allows and >= {n} verifications of the warm image",
            f"cached {cached}, fresh {fresh}")
    for c in colds:
        d = [x for x in node.sigild.audit() if x.get("image", "").endswith(f":{c}")]
        if not R.check(len(d) == 1 and not d[0].get("cached") and d[0].get("verdict") == "allow",
                       f"the cold pull of {c} was one fresh verification", str(d)):
            break

    # each round's own difference to (a): slow drifts of the machine's load
    # cancel; the median of those differences is the overhead
    med = {c: B.median(v) for c, v in times.items()}
    diffs = {c: sorted(x - y for x, y in zip(v, times["none"])) for c, v in times.items()}
    over = {c: B.median(d) for c, d in diffs.items()}
    iqr = {c: (d[len(d) // 4], d[(3 * len(d)) // 4]) if d else (0, 0) for c, d in diffs.items()}
    rep.param(rounds=rounds, warmup=warm, containerd=vals.get("CONTAINERD_VERSION"),
              notation=vals.get("NOTATION_VERSION"), registry="docker-registry on 127.0.0.1",
              signature="JWS, EC P-256 chain")
    rep.result("median_ms", med)
    rep.result("overhead_ms", over)
    rep.result("overhead_iqr_ms", iqr)
    rep.result("samples_ms", times)
    nover = over["notation"]
    rows = []
    for c in CONFIGS + ("sigil-restart",):
        frac = f"{over[c] / nover:.2f}" if c.startswith("sigil") and nover > 0 else ""
        rows.append([LABELS[c], B.fmt_ms(med[c]), "" if c == "none" else f"{over[c]:+.2f} ms",
                     "" if c == "none" else f"{iqr[c][0]:+.1f} .. {iqr[c][1]:+.1f}", frac])
    rep.table(["verifier in bin_dir", "ctr pull (median)", "overhead over (a), median of per-round differences",
               "interquartile range", "fraction of notation's overhead"], rows)
    w, cold, t = over["sigil-warm"], over["sigil-cold"], over["true"]
    rep.target("sigil warm overhead <= /bin/true overhead + 1 ms", f"{w:.2f} ms vs {t:.2f} + 1 ms", w <= t + 1)
    rep.target("sigil warm overhead <= 1/4 of notation's", f"{w / nover:.2f}" if nover > 0 else "n/a",
               nover > 0 and w <= nover / 4)
    rep.target("sigil cold overhead <= 1/2 of notation's", f"{cold / nover:.2f}" if nover > 0 else "n/a",
               nover > 0 and cold <= nover / 2)
    rep.finish()


if __name__ == "__main__":
    R.main(main)
