#!/usr/bin/env bash
# cases.nix through `straylight instantiate --walk-tsv` must give exactly
# cases.tsv (nix-instantiate's .drv and output paths), with a dry store and
# with a real one; with the real one every .drv must be readable back.
# usage: cases.sh STRAYLIGHT DRVPATHS_DIR
set -euo pipefail
bin=$1; dir=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH
"$bin" instantiate --dry-run --walk-tsv "$dir/cases.nix" > "$tmp/dry.tsv"
diff -u "$dir/cases.tsv" "$tmp/dry.tsv"
"$bin" instantiate --store "local:$tmp/store" --walk-tsv "$dir/cases.nix" > "$tmp/store.tsv"
diff -u "$dir/cases.tsv" "$tmp/store.tsv"
n=0
for drv in $(awk -F'\t' 'NR > 1 { print $2 }' "$dir/cases.tsv"); do
  "$bin" store cat --store "local:$tmp/store" "$drv" > "$tmp/d" || { echo "not in the store: $drv"; exit 1; }
  head -c 7 "$tmp/d" | grep -q '^Derive(' || { echo "not a derivation: $drv"; exit 1; }
  n=$((n + 1))
done
# instantiate prints what nix-instantiate prints for a set of derivations:
# the .drv paths in attribute-name order
"$bin" instantiate --dry-run "$dir/cases.nix" > "$tmp/paths"
awk -F'\t' 'NR > 1 { print $2 }' "$dir/cases.tsv" | diff -u - "$tmp/paths"
# a value with no derivation in it is an error, as in nix-instantiate
if "$bin" instantiate --dry-run -E '1' 2> "$tmp/err"; then echo "instantiate of 1 succeeded"; exit 1; fi
grep -qx "error: expression does not evaluate to a derivation (or a set or list of those)" "$tmp/err"
# the output a value stands for, when it is not "out", follows a "!"
"$bin" instantiate --dry-run -E '(import '"$dir"'/cases.nix).multi-out.dev' > "$tmp/dev"
[ "$(cat "$tmp/dev")" = "$(awk -F'\t' '$1 == "multi-out" { print $2 }' "$dir/cases.tsv")!dev" ]
echo "derivation cases: $(($(wc -l < "$dir/cases.tsv") - 1)) match nix-instantiate; $n .drv files in the store"
