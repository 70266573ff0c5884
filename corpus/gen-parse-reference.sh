#!/usr/bin/env bash
# Records what `nix-instantiate --parse` (the oracle; CI does not have it)
# prints for every .nix file of nixpkgs-core, as hashes, one line per file:
#   <raw> <normalised> <stripped> <path relative to nixpkgs-core>
# raw: sha256 of nix's output line, with the corpus directory (which starts
#   every absolute path) replaced by @ROOT@, so the hash does not depend on
#   where the corpus is unpacked;
# normalised: sha256 of that output parsed again and printed by `straylight
#   parse --each-line`, which removes the differences that are only printer
#   versions (attribute and formal order, `$` escaping; see
#   parse-reference/README.md).
# stripped: the same after deleting `"" + ` and ` + ""` before the re-parse:
#   2.8.0 kept the empty pieces stripIndentation leaves in indented strings
#   (''\n  ${x}'' was "" + x), current Nix drops them.
# "FAIL" stands for a hash when nix (or the re-parse) rejects the input.
#   usage: corpus/gen-parse-reference.sh STRAYLIGHT [NIXPKGS_CORE_DIR]
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
# ~/ paths print as $HOME/...: fix it so hashes do not depend on the user
export HOME=/homeless-shelter
here=$(cd "$(dirname "$0")" && pwd)
straylight=$(realpath "${1:?usage: $0 STRAYLIGHT [NIXPKGS_CORE_DIR]}")
root=$(realpath "${2:-$here/../build/corpus/nixpkgs/nixpkgs-core}")
out="$here/parse-reference/nixpkgs-core.sha256"
command -v nix-instantiate >/dev/null || { echo "nix-instantiate not found" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$root" && find . -name '*.nix' -type f | sed 's|^\./||' | LC_ALL=C sort) > "$tmp/files"
: > "$tmp/raw"
: > "$tmp/ok"
while IFS= read -r f; do
    if nix-instantiate --parse "$root/$f" > "$tmp/one" 2>/dev/null && [ "$(wc -l < "$tmp/one")" = 1 ]; then
        cat "$tmp/one" >> "$tmp/raw"
        echo 1 >> "$tmp/ok"
    else
        echo >> "$tmp/raw"
        echo 0 >> "$tmp/ok"
    fi
done < "$tmp/files"

hash_lines() {
    python3 -c '
import hashlib, sys
for line in sys.stdin.buffer:
    print(hashlib.sha256(line).hexdigest() if line.strip() else "FAIL")
'
}
sed "s|$root|@ROOT@|g" "$tmp/raw" | hash_lines > "$tmp/rawh"
{ "$straylight" parse --each-line < "$tmp/raw" 2>/dev/null || true; } | sed "s|$root|@ROOT@|g" | hash_lines > "$tmp/normh"
sed 's/"" + //g; s/ + ""//g' "$tmp/raw" > "$tmp/raw_stripped"
{ "$straylight" parse --each-line < "$tmp/raw_stripped" 2>/dev/null || true; } | sed "s|$root|@ROOT@|g" | hash_lines > "$tmp/striph"
for h in normh striph; do
    [ "$(wc -l < "$tmp/$h")" = "$(wc -l < "$tmp/files")" ] || { echo "re-parse printed the wrong number of lines" >&2; exit 1; }
done
{
    echo "# nix-instantiate --parse: $(nix-instantiate --version)"
    echo "# columns: raw normalised stripped path (see corpus/gen-parse-reference.sh)"
    paste -d' ' "$tmp/rawh" "$tmp/normh" "$tmp/striph" "$tmp/files"
} > "$tmp/result"
chmod 644 "$tmp/result"
mv "$tmp/result" "$out"
echo "wrote $out ($(wc -l < "$tmp/files") files)"
