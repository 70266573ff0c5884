#!/usr/bin/env bash
# Regenerates corpus/show-derivation/hello.json with the oracle (Nix 2.8.0):
# `nix show-derivation --recursive` of hello's .drv, which must already be in
# the local store (corpus/gen-hello-closure.sh instantiates it). The compat
# test `compat.show_derivation` diffs `straylight show-derivation -r` on the
# committed copy of the closure (corpus/hello-closure) against this file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cat "$here/hello-closure/root")
mkdir -p "$here/show-derivation"
nix --extra-experimental-features nix-command show-derivation --recursive "$root" \
  > "$here/show-derivation/hello.json.new"
mv "$here/show-derivation/hello.json.new" "$here/show-derivation/hello.json"
echo "show-derivation: $(grep -c '^  "/' "$here/show-derivation/hello.json") derivations for $root"
