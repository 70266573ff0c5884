#!/usr/bin/env bash
# Regenerates corpus/show-derivation/ with the oracle (Nix 2.8.0):
#   hello.json  `nix show-derivation --recursive` of hello's .drv, which must
#               already be in the local store (corpus/gen-hello-closure.sh
#               instantiates it);
#   ca/         a small content-addressed pair made here: a floating CA
#               derivation with two outputs and a deferred one using both
#               (their .drv files, and ca.json, their show-derivation).
# The compat tests run `straylight show-derivation -r` on the committed
# copies and diff against these files.
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
out="$here/show-derivation"
root=$(cat "$here/hello-closure/root")
mkdir -p "$out"
nix --extra-experimental-features nix-command show-derivation --recursive "$root" > "$out/hello.json.new"
mv "$out/hello.json.new" "$out/hello.json"
echo "show-derivation: $(grep -c '^  "/' "$out/hello.json") derivations for $root"

expr='let
  fl = derivation { name = "fl"; system = "x86_64-linux"; builder = "/bin/sh";
    args = ["-c" "echo > $out"]; __contentAddressed = true;
    outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputs = ["out" "dev"]; };
in derivation { name = "dep"; system = "x86_64-linux"; builder = "/bin/sh";
  args = ["-c" "echo ${fl} ${fl.dev} > $out"]; }'
drv=$(nix-instantiate --extra-experimental-features ca-derivations -E "$expr" 2>/dev/null)
rm -rf "$out/ca.new"
mkdir -p "$out/ca.new/store"
nix-store -qR "$drv" | while read -r p; do cp "$p" "$out/ca.new/store/"; done
chmod -R u+w "$out/ca.new"
echo "$drv" > "$out/ca.new/root"
nix --extra-experimental-features 'nix-command ca-derivations' show-derivation --recursive "$drv" > "$out/ca.new/ca.json"
rm -rf "$out/ca"
mv "$out/ca.new" "$out/ca"
echo "show-derivation: content-addressed example $drv"
