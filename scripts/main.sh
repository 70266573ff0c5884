#!/usr/bin/env bash
# The main job: set up, build, and instantiate GNU hello from the corpus
# <nixpkgs> stand-in (falls back to parsing every file of the package set while
# the evaluator cannot instantiate yet).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
"$here/scripts/build.sh" "$here/build" >/dev/null
sl="$here/build/straylight"
pkgs="$here/build/corpus/nixpkgs"
if "$sl" --help | grep -q '^  instantiate '; then
  exec "$sl" instantiate "$pkgs/nixpkgs.nix" -A hello
fi
find "$pkgs/nixpkgs-core" -name '*.nix' -print0 | xargs -0 "$sl" parse --quiet
echo "parsed $(find "$pkgs/nixpkgs-core" -name '*.nix' | wc -l) files of nixpkgs-core"
