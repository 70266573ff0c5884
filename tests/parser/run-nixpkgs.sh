#!/usr/bin/env bash
# Every .nix file of nixpkgs-core must parse; all in one `straylight parse`.
set -eu
straylight=$1
dir=$2
[ -d "$dir" ] || { echo "nixpkgs-core not found at $dir (run scripts/setup.sh)"; exit 1; }
list=$(mktemp)
trap 'rm -f "$list"' EXIT
find "$dir" -name '*.nix' -type f | LC_ALL=C sort > "$list"
n=$(wc -l < "$list")
[ "$n" -gt 0 ] || { echo "no .nix files under $dir"; exit 1; }
if xargs -d '\n' "$straylight" parse --quiet < "$list"; then
    echo "$n/$n files parse"
else
    echo "some of the $n files failed to parse (see above)"
    exit 1
fi
