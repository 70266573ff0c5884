#!/usr/bin/env bash
# Every attribute of the corpus package set (and one level into sets marked
# recurseForDerivations), each evaluated on its own by one straylight
# process, against nix-instantiate 2.8.0's list (CORPUS_DIR/nixpkgs-core-
# drvpaths.tsv; corpus/gen-drvpaths.sh makes it). A derivation matches when
# its .drv path and all its output paths are equal. Fails when fewer match
# than the floor, when straylight gives a derivation different paths, or
# when it evaluates an attribute nix-instantiate fails on.
# usage: drvpaths.sh STRAYLIGHT CORPUS_DIR FLOOR_FILE
set -euo pipefail
bin=$1; corpus=$2; floor_file=$3
ref="$corpus/nixpkgs-core-drvpaths.tsv"
core="$corpus/nixpkgs/nixpkgs-core"
[ -e "$ref" ] && [ -d "$core" ] || { echo "no corpus at $corpus (run scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH
# Errors caught per attribute unwind with longjmp past C temporaries of the
# frames unwound (the evaluator's rule, as in tests/eval), so leak checking is
# off for this run; every other sanitizer check stays on.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
  "$bin" instantiate --dry-run --walk-tsv -E "import $core { system = \"x86_64-linux\"; }" > "$tmp/got.tsv" 2> "$tmp/err"
floor=$(grep -v '^#' "$floor_file" | head -1)
python3 - "$ref" "$tmp/got.tsv" "$floor" <<'PY'
import sys, collections, os
def load(p):
    rows = {}
    for line in open(p, encoding="utf-8", errors="surrogateescape"):
        f = line.rstrip("\n").split("\t")
        if f[0] != "attr":
            rows[f[0]] = f[1:]
    return rows
ref, got, floor = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
drvs = [a for a in ref if ref[a][0]]
match = [a for a in drvs if a in got and got[a][:2] == ref[a][:2]]
wrong = [a for a in drvs if a in got and got[a][0] and got[a][:2] != ref[a][:2]]
failed = [a for a in drvs if a not in got or not got[a][0]]
errs = [a for a in ref if not ref[a][0]]
err_same = [a for a in errs if a in got and got[a][2] == ref[a][2]]
err_drv = [a for a in errs if a in got and got[a][0]]
extra = [a for a in got if a not in ref]
print(f"derivations: {len(match)}/{len(drvs)} match nix-instantiate "
      f"({len(wrong)} with different paths, {len(failed)} fail to evaluate)")
print(f"failing attributes: {len(err_same)}/{len(errs)} fail with the same error class, "
      f"{len(err_drv)} evaluate here; {len(extra)} rows nix-instantiate does not have")
kinds = collections.Counter(got[a][2] for a in failed if a in got)
for k, n in kinds.most_common(10):
    print(f"  not evaluated: {n} x {k}")
for a in wrong[:20]:
    print(f"  DIFFERENT: {a}: {got[a][0]} (expected {ref[a][0]})")
for a in err_drv[:20]:
    print(f"  EVALUATES HERE: {a} (nix-instantiate: {ref[a][2]})")
if wrong or err_drv:
    sys.exit(1)
if len(match) < floor:
    print(f"below the floor of {floor}")
    sys.exit(1)
PY
