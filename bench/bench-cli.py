#!/usr/bin/python3
"""Benchmark 2 (issue 7): `sigil verify` against `notation verify` on the
same reference in the same local registry, a fresh process each time.

A local docker-registry (distribution 2.8, as in tests/registry) holds one
image signed by the real notation with a JWS and one with a COSE envelope
(EC P-256 chain, as reglib's PKIs). Both verifiers read the same
configuration: notation's configuration directory (XDG_CONFIG_HOME) is
sigil's --config-dir. Before timing, both must pass the signed images and
fail an unsigned one (a verifier that fails fast would win otherwise).

Timing: bench-daemon's spawn mode runs sigil and notation alternately
(which one goes first alternates too), wall time from spawn to reaped and
CPU time (user + system), output discarded; medians over the rounds after
a warm-up. The same for start-up alone (`sigil --version`, `notation
version`), to show where the time goes.
Target: sigil >= 3x faster (wall).

The bound (--bound, bench-startup-bound): a program that does nothing,
loaded with exactly sigil's shared libraries (checked with ldd), timed
against `notation verify` in the same rounds. notation's time over its time
is the largest speed-up any `sigil verify` on these libraries can reach on
this machine; when it is below 3, the target is out of reach for this
dependency set here, and the run says so with the number.
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402
from benchlib import R  # noqa: E402


def main():
    args = B.parse_args(__doc__.splitlines()[0], need=("sigil", "client"),
                        extra={"--bound": {"help": "bench-startup-bound: sigil's libraries, no work"}})
    rounds = args.rounds or (2 if args.smoke else 20)
    warm = args.warmup if args.warmup is not None else (1 if args.smoke else 3)
    vals = R.tools(need_registry=True)
    rep = B.Report("cli", "2. CLI: sigil verify vs notation verify (fresh process each)", args)
    st = B.Setup("bench-cli", vals, "bench/cli")
    work, tools, trusted, scope = st.work, st.tools, st.trusted, st.scope
    refs = {}
    for label in ("jws", "cose", "unsigned"):
        refs[label] = f"{scope}@{st.push(label, None if label == 'unsigned' else label)[0]}"
    trust_root = R.trust_config(work, "trusted", scope, [trusted.root])
    config_dir = os.path.join(trust_root, "notation")
    hosts = os.path.join(work, "certs.d-empty")
    os.makedirs(hosts)
    # one environment for both: notation reads XDG_CONFIG_HOME, sigil its
    # --config-dir (the same folder); HOME has no docker credentials
    env = tools._env({"XDG_CONFIG_HOME": trust_root})

    def sigil_cmd(ref):
        return [args.sigil, "verify", "--config-dir", config_dir, "--registry-config", hosts,
                "--plain-http", ref]

    def notation_cmd(ref):
        return [tools.notation, "verify", "--insecure-registry", ref]

    for label, want in (("jws", 0), ("cose", 0), ("unsigned", 1)):
        for who, cmd in (("sigil", sigil_cmd(refs[label])), ("notation", notation_cmd(refs[label]))):
            p = R.run(cmd, env=env, check_rc=False)
            R.check(p.returncode == want, f"{who} verify of the {label} image exits {want}",
                    (p.stdout + p.stderr)[-1500:])
    rep.param(rounds=rounds, warmup=warm, registry="docker-registry (distribution 2.8) on 127.0.0.1",
              pki="EC P-256 root -> intermediate -> leaf", notation_version=vals.get("NOTATION_VERSION"))

    def row(label, s, n):
        return [label, B.fmt_ms(s["wall_ms"]["median"]), B.fmt_ms(n["wall_ms"]["median"]),
                f"{n['wall_ms']['median'] / s['wall_ms']['median']:.1f}x",
                B.fmt_ms(s["cpu_ms"]["median"]), B.fmt_ms(n["cpu_ms"]["median"]),
                f"{n['cpu_ms']['median'] / s['cpu_ms']['median']:.1f}x",
                f"{s['peak_rss_kib'] / 1024:.1f} / {n['peak_rss_kib'] / 1024:.1f} MiB"]

    rows = []
    for label in ("jws", "cose"):
        doc = B.run_client([args.client, "spawn", "--rounds", str(rounds), "--warmup", str(warm),
                            "--expect-exit-a", "0", "--expect-exit-b", "0",
                            "--", *sigil_cmd(refs[label]), "--", *notation_cmd(refs[label])], env=env)
        s, n = doc["a"], doc["b"]
        speedup = n["wall_ms"]["median"] / s["wall_ms"]["median"]
        rep.result(label, {"sigil": s, "notation": n, "speedup": speedup})
        rows.append(row(label.upper(), s, n))
        rep.target(f"sigil verify >= 3x faster than notation verify ({label.upper()})",
                   f"{speedup:.1f}x ({s['wall_ms']['median']:.1f} vs {n['wall_ms']['median']:.1f} ms)",
                   speedup >= 3)
    # start-up alone (no verification): where the time goes
    doc = B.run_client([args.client, "spawn", "--rounds", str(rounds), "--warmup", str(warm),
                        "--expect-exit-a", "0", "--expect-exit-b", "0",
                        "--", args.sigil, "--version", "--", tools.notation, "version"], env=env)
    s, n = doc["a"], doc["b"]
    rep.result("startup", {"sigil": s, "notation": n})
    rows.append(row("start-up only (--version / version)", s, n))
    jws = rep.doc["results"]["jws"]
    rep.note(f"of sigil verify's {jws['sigil']['wall_ms']['median']:.1f} ms (JWS), "
             f"{s['wall_ms']['median']:.1f} ms is process start-up (the dynamic loader mapping and relocating "
             f"libcurl's tree of 30+ shared libraries, see bench/README.md); "
             f"notation's start-up is {n['wall_ms']['median']:.1f} ms of its {jws['notation']['wall_ms']['median']:.1f} ms. "
             f"Beyond start-up: sigil {jws['sigil']['wall_ms']['median'] - s['wall_ms']['median']:.1f} ms, "
             f"notation {jws['notation']['wall_ms']['median'] - n['wall_ms']['median']:.1f} ms "
             f"(wall: mostly waiting for the registry and, on a loaded machine, for a CPU). "
             f"CPU beyond start-up: sigil {jws['sigil']['cpu_ms']['median'] - s['cpu_ms']['median']:.1f} ms, "
             f"notation {jws['notation']['cpu_ms']['median'] - n['cpu_ms']['median']:.1f} ms.")
    if args.bound:
        bound_exe = os.path.abspath(args.bound)

        def libs(exe):
            p = R.run(["ldd", exe], check_rc=False)
            return sorted(line.split()[0] for line in p.stdout.splitlines() if line.strip())
        R.check(libs(bound_exe) == libs(args.sigil), "the bound program loads exactly sigil's shared libraries",
                f"sigil: {libs(args.sigil)}\nbound: {libs(bound_exe)}")
        doc = B.run_client([args.client, "spawn", "--rounds", str(rounds), "--warmup", str(warm),
                            "--expect-exit-a", "0", "--expect-exit-b", "0",
                            "--", bound_exe, "--", *notation_cmd(refs["jws"])], env=env)
        s, n = doc["a"], doc["b"]
        bound = n["wall_ms"]["median"] / s["wall_ms"]["median"]
        rep.result("bound", {"empty_with_sigil_libraries": s, "notation_verify_jws": n, "bound": bound})
        rows.append(row("bound: nothing, with sigil's libraries / notation verify (JWS)", s, n))
        speed = rep.doc["results"]["jws"]["speedup"]
        rep.note(f"bound: a program that does nothing, loaded with sigil's shared libraries, takes "
                 f"{s['wall_ms']['median']:.1f} ms against notation verify's {n['wall_ms']['median']:.1f} ms "
                 f"(JWS) in the same rounds: no sigil verify on these libraries can be more than "
                 f"{bound:.1f}x faster on this machine; sigil verify reaches {speed:.1f}x, "
                 f"{speed / bound:.2f} of that bound.")
        for tg in rep.doc["targets"]:
            if tg["target"].startswith("sigil verify >= 3x"):
                tg["measured"] += (f"; bound with sigil's libraries here {bound:.1f}x"
                                   + (": out of reach for this dependency set" if bound < 3 else ""))
    rep.table(["envelope", "sigil verify wall", "notation verify wall", "sigil faster (wall)",
               "sigil CPU", "notation CPU", "sigil faster (CPU)", "peak RSS sigil / notation"], rows)
    rep.finish()


if __name__ == "__main__":
    R.main(main)
