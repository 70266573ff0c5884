#!/usr/bin/env python3
"""Regenerates expected.json: the results nix-instantiate (the reference
implementation) gives for fxlib.CASES, fetching from the same local server
and repository the tests build. Needs nix-instantiate on PATH; the tests
themselves do not.

    python3 gen_expected.py [OUT.json]"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fxlib  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "expected.json")
    with tempfile.TemporaryDirectory() as root:
        www = fxlib.make_files(root)
        repo, revs = fxlib.make_repo(root)
        fxlib.make_dirty_repo(root, repo)
        shas = {n: fxlib.nix32(fxlib.sha256_of(os.path.join(www, n))) for n in os.listdir(www)}
        env = dict(os.environ, HOME=root, XDG_CACHE_HOME=os.path.join(root, "cache"))
        version = subprocess.run(["nix-instantiate", "--version"], capture_output=True, check=True).stdout.decode()
        res = {"_generator": version.strip(), "cases": {}}
        with fxlib.Server(www) as srv:
            for name, tmpl in sorted(fxlib.CASES.items()):
                expr = fxlib.substitute(tmpl, srv.port, repo, revs, shas)
                cmd = ["nix-instantiate", "--eval", "--strict"]
                if "fetchTree" in tmpl:
                    cmd += ["--extra-experimental-features", "flakes"]
                p = subprocess.run(cmd + ["-E", expr], env=env, capture_output=True, timeout=120)
                if p.returncode != 0:
                    sys.exit("%s: nix-instantiate failed:\n%s" % (name, p.stderr.decode()))
                res["cases"][name] = p.stdout.decode()
                print(name, p.stdout.decode().strip()[:100])
    with open(out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
