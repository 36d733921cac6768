#!/usr/bin/python3
"""bench/startup-floor/setup-registry.py OUTDIR - bench-cli.py's set-up
(docker-registry on 127.0.0.1, one JWS- and one COSE-signed image, notation's
configuration) kept running for run.sh: writes OUTDIR/env.sh, then waits
until OUTDIR/stop exists, and stops everything (reglib's clean-ups)."""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib as B  # noqa: E402
from benchlib import R  # noqa: E402


def main():
    out = sys.argv[1]
    vals = R.tools(need_registry=True)
    st = B.Setup("startup-floor", vals, "bench/cli")
    work, tools, trusted, reg, scope = st.work, st.tools, st.trusted, st.reg, st.scope
    refs = {label: f"{scope}@{st.push(label, label)[0]}" for label in ("jws", "cose")}
    trust_root = R.trust_config(work, "trusted", scope, [trusted.root])
    hosts = os.path.join(work, "certs.d-empty")
    os.makedirs(hosts)
    env = tools._env({"XDG_CONFIG_HOME": trust_root})
    with open(os.path.join(out, "env.sh.tmp"), "w") as f:
        for k in ("XDG_CONFIG_HOME", "HOME"):
            f.write(f"export {k}='{env[k]}'\n")
        f.write(f"CFG='{os.path.join(trust_root, 'notation')}'\nHOSTS='{hosts}'\n"
                f"JWS='{refs['jws']}'\nCOSE='{refs['cose']}'\nNOTATION='{tools.notation}'\n"
                f"PORT='{reg.host.rsplit(':', 1)[1]}'\n")
    os.rename(os.path.join(out, "env.sh.tmp"), os.path.join(out, "env.sh"))
    while not os.path.exists(os.path.join(out, "stop")):
        time.sleep(0.5)


if __name__ == "__main__":
    R.main(main)
