#!/usr/bin/python3
"""stage.py - the trust material for integration/kind/run.sh.

Writes into STAGE:
  pki/kind/                  a root -> intermediate -> leaf signing PKI (EC
                             P-256, the Notary Project certificate profile;
                             tests/differential/make-corpus.py's PKI)
  etc-sigil/                 mounted at /etc/sigil on every node:
    trustpolicy.json         SCOPE must be signed by that root (strict)
    truststore/x509/ca/sigil-kind/root.crt
    sigild.json              the packaged defaults, plus an audit log file
  signer/notation/signingkeys.json
                             notation's signing key configuration (run
                             notation with XDG_CONFIG_HOME=STAGE/signer)

Only SCOPE has a trust policy statement, so any other image a pod asks
for is denied (notation's rule: no applicable policy, no pull). The node
images' own images (pause, kube-*, kindnet, coredns) are preloaded and
never pulled, so the cluster itself keeps working.
"""
import argparse
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "registry"))
import reglib as R  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", required=True)
    ap.add_argument("--scope", required=True, help="registry/repository the policy covers")
    args = ap.parse_args()

    mc = R.load_corpus_helpers()
    pki = mc.PKI(args.stage, "kind", "ec-p256")
    etc = os.path.join(args.stage, "etc-sigil")
    store = os.path.join(etc, "truststore", "x509", "ca", "sigil-kind")
    os.makedirs(store, exist_ok=True)
    shutil.copy(pki.root, os.path.join(store, "root.crt"))
    policy = {"version": "1.0", "trustPolicies": [{
        "name": "sigil-kind", "registryScopes": [args.scope],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:sigil-kind"],
        "trustedIdentities": [pki.identity()]}]}
    with open(os.path.join(etc, "trustpolicy.json"), "w") as f:
        json.dump(policy, f, indent=1)
    # the packaged defaults (/run/sigil/sigild.sock, /etc/containerd/certs.d
    # as containerd's config_path, enforce) and the audit log in a file
    with open(os.path.join(etc, "sigild.json"), "w") as f:
        json.dump({"auditLog": "/var/lib/sigil/audit.log", "auditFormat": "json"}, f, indent=1)

    signer = os.path.join(args.stage, "signer", "notation")
    os.makedirs(signer, exist_ok=True)
    with open(os.path.join(signer, "signingkeys.json"), "w") as f:
        json.dump({"default": "sigil-kind", "keys": [{"name": "sigil-kind", "keyPath": pki.key,
                                                      "certPath": pki.chain}]}, f)
    print(f"trusted identity: {pki.identity()}")


if __name__ == "__main__":
    main()
