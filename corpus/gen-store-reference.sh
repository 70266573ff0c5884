#!/usr/bin/env bash
# Regenerates corpus/store-reference/ with the oracle (nix 2.8): a signing key
# pair made by nix-store --generate-binary-cache-key, and two binary caches
# written by `nix copy` (one uncompressed, one xz) holding a tree added with
# nix-store --add and two builtins.toFile objects, one referring to the other.
# straylight's tests check its narinfo signatures, fingerprints, paths and
# NAR hashes against these, and substitute from both caches.
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
out="$here/store-reference"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NIX_CONFIG="experimental-features = nix-command"
nix-store --generate-binary-cache-key straylight-test-1 "$work/key.sec" "$work/key.pub"
mkdir -p "$work/tree/sub"
printf 'hello\n' > "$work/tree/a.txt"
printf '#!/bin/sh\necho run\n' > "$work/tree/sub/run.sh"
chmod +x "$work/tree/sub/run.sh"
ln -s a.txt "$work/tree/link"
store="$work/store"
tree=$(nix-store --store "$store" --add "$work/tree")
b=$(nix-instantiate --store "$store" --read-write-mode --eval --raw 2>/dev/null -E \
  'let a = builtins.toFile "a.txt" "A\n"; in builtins.toFile "b.txt" "refers to ${a}\n"' || true)
if [ -z "$b" ]; then
  b=$(nix-instantiate --store "$store" --read-write-mode --eval -E \
    'let a = builtins.toFile "a.txt" "A\n"; in builtins.toFile "b.txt" "refers to ${a}\n"' | tr -d '"')
fi
rm -rf "$out.new"
mkdir -p "$out.new"
cp -a "$work/tree" "$out.new/tree"
cp "$work/key.sec" "$work/key.pub" "$out.new/"
nix copy --store "$store" --to "file://$out.new/cache-none?compression=none&secret-key=$work/key.sec" "$tree" "$b"
nix copy --store "$store" --to "file://$out.new/cache-xz?compression=xz&secret-key=$work/key.sec" "$tree" "$b"
{
  for p in "$tree" $(nix-store --store "$store" -qR "$b"); do
    printf '%s\t%s\t%s\t%s\n' "$p" "$(nix-store --store "$store" -q --hash "$p")" \
      "$(nix-store --store "$store" -q --size "$p")" \
      "$(nix-store --store "$store" -q --references "$p" | sort | tr '\n' ' ' | sed 's/ $//')"
  done
} | sort > "$out.new/paths.tsv"
printf '%s\n' "$tree" > "$out.new/tree-path"
printf '%s\n' "$b" > "$out.new/text-path"
chmod -R u+w "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
echo "store reference: $(wc -l < "$out/paths.tsv") paths in $out"
