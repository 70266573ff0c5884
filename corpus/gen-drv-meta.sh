#!/usr/bin/env bash
# Regenerates tests/drv-data/meta/: the `meta` of packages in the hello
# closure, evaluated by the oracle (nix-instantiate 2.8.0) from the corpus
# <nixpkgs> stand-in, as straylight's evaluator will record it beside each
# .drv ("<drv>.meta.json", docs/sbom.md). Only attributes whose .drv is in
# corpus/hello-closure are written.
# Usage: corpus/gen-drv-meta.sh CORPUS_DIR   (CORPUS_DIR/nixpkgs/nixpkgs.nix)
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:?usage: gen-drv-meta.sh CORPUS_DIR}
nixpkgs="$corpus/nixpkgs/nixpkgs.nix"
out="$here/../tests/drv-data/meta"
rm -rf "$out.new" && mkdir -p "$out.new"
for attr in hello bash gnumake xz zlib perl gettext; do
  drv=$(nix-instantiate --eval --json "$nixpkgs" -A "$attr.drvPath" 2>/dev/null | tr -d '"')
  [ -e "$here/hello-closure/store/$(basename "$drv")" ] || continue
  # Some metas do not evaluate in the stand-in (maintainers it lacks), or
  # hold functions Nix cannot print as JSON; those packages are skipped.
  if ! json=$(nix-instantiate --eval --strict --json "$nixpkgs" -A "$attr.meta" 2>/dev/null); then
    echo "meta: $attr: meta does not evaluate to JSON, skipped"
    continue
  fi
  # positions name the corpus relative to its folder, not this machine
  printf '%s' "$json" | CORPUS="$(cd "$corpus" && pwd)/" python3 -c 'import json,os,sys
m = json.load(sys.stdin)
if isinstance(m.get("position"), str): m["position"] = m["position"].replace(os.environ["CORPUS"], "corpus/")
json.dump(m, sys.stdout, indent=1, sort_keys=True); print()' \
    > "$out.new/$(basename "$drv").meta.json"
done
rm -rf "$out" && mv "$out.new" "$out"
echo "meta: $(ls "$out" | wc -l) files"
