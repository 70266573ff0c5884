#!/usr/bin/env bash
# Regenerates corpus/hello-closure/ with the oracle (nix-instantiate 2.8.0):
# the .drv closure of `hello` from the corpus <nixpkgs> stand-in, every store
# object in it (the .drv files and the sources they reference) copied under
# its base name, and closure.tsv: path, NAR hash (nix32), NAR size, references.
# Usage: corpus/gen-hello-closure.sh CORPUS_DIR   (CORPUS_DIR/nixpkgs/nixpkgs.nix)
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:?usage: gen-hello-closure.sh CORPUS_DIR}
out="$here/hello-closure"
drv=$(nix-instantiate --option sandbox false "$corpus/nixpkgs/nixpkgs.nix" -A hello 2>/dev/null)
rm -rf "$out.new"
mkdir -p "$out.new/store"
echo "$drv" > "$out.new/root"
nix-store -qR "$drv" | sort | while read -r p; do
  cp -a "$p" "$out.new/store/"
  printf '%s\t%s\t%s\t%s\n' "$p" "$(nix-store -q --hash "$p")" "$(nix-store -q --size "$p")" \
    "$(nix-store -q --references "$p" | sort | tr '\n' ' ' | sed 's/ $//')"
done > "$out.new/closure.tsv"
chmod -R u+w "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
echo "hello closure: $(wc -l < "$out/closure.tsv") store objects, root $drv"
