#!/usr/bin/env bash
# cases.nix through `straylight instantiate --walk-tsv` must give exactly
# cases.tsv (nix-instantiate's .drv and output paths), with a dry store and
# with a real one; with the real one every .drv must be readable back.
# cases.nix has content-addressed derivations, so ca-derivations is enabled
# as nix-instantiate had it (corpus/gen-drvpaths.sh); without it they are
# the experimental-feature error, worded as the conformance corpus words
# Nix's (eval-fail-pipe-operators.err.exp).
# usage: cases.sh STRAYLIGHT DRVPATHS_DIR CORPUS_DIR
set -euo pipefail
bin=$1; dir=$2; corpus=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH NIX_CONFIG
ca="--extra-experimental-features ca-derivations"
"$bin" instantiate $ca --dry-run --walk-tsv "$dir/cases.nix" > "$tmp/dry.tsv"
diff -u "$dir/cases.tsv" "$tmp/dry.tsv"
"$bin" instantiate $ca --store "local:$tmp/store" --walk-tsv "$dir/cases.nix" > "$tmp/store.tsv"
diff -u "$dir/cases.tsv" "$tmp/store.tsv"
n=0
for drv in $(awk -F'\t' 'NR > 1 { print $2 }' "$dir/cases.tsv"); do
  "$bin" store cat --store "local:$tmp/store" "$drv" > "$tmp/d" || { echo "not in the store: $drv"; exit 1; }
  head -c 7 "$tmp/d" | grep -q '^Derive(' || { echo "not a derivation: $drv"; exit 1; }
  n=$((n + 1))
done
# instantiate prints what nix-instantiate prints for a set of derivations:
# the .drv paths in attribute-name order
"$bin" instantiate $ca --dry-run "$dir/cases.nix" > "$tmp/paths"
awk -F'\t' 'NR > 1 { print $2 }' "$dir/cases.tsv" | diff -u - "$tmp/paths"
# a value with no derivation in it is an error, as in nix-instantiate
if "$bin" instantiate --dry-run -E '1' 2> "$tmp/err"; then echo "instantiate of 1 succeeded"; exit 1; fi
grep -qx "error: expression does not evaluate to a derivation (or a set or list of those)" "$tmp/err"
# the output a value stands for, when it is not "out", follows a "!"
"$bin" instantiate --dry-run -E '(import '"$dir"'/cases.nix).multi-out.dev' > "$tmp/dev"
[ "$(cat "$tmp/dev")" = "$(awk -F'\t' '$1 == "multi-out" { print $2 }' "$dir/cases.tsv")!dev" ]
# a derivation repeated in a list is printed once per attribute set, as
# nix-instantiate prints it (identity.nix, identity.txt)
"$bin" instantiate --dry-run "$dir/identity.nix" | diff -u "$dir/identity.txt" -

# ---- experimental-feature gates ----
# Nix's message ("error: ..."), from the conformance corpus's pipe-operators case
msg() { grep -m1 "experimental Nix feature" "$corpus/nix-conformance/tests/functional/lang/eval-fail-pipe-operators.err.exp" |
  sed "s/pipe-operators/$1/g; s/^ *//"; }
[ -n "$(msg ca-derivations)" ] || { echo "no pipe-operators message in the conformance corpus"; exit 1; }
gates=0
gate() { # feature attribute gates.nix-attribute
  local f=$1 attr=$2 e="(import $dir/gates.nix).$3" want p
  want=$(awk -F'\t' -v r="$3" '$1 == r { print $2 }' "$dir/gates.tsv")
  # refused without the feature: Nix's message, an uncatchable error, with
  # the attribute in the trace (without --show-trace, the message follows
  # the truncated trace, indented under it)
  if "$bin" instantiate --dry-run -E "$e" > /dev/null 2> "$tmp/gerr"; then echo "$attr accepted without $f"; exit 1; fi
  [ "$(grep -v "^$" "$tmp/gerr" | tail -n1 | sed 's/^ *//')" = "$(msg "$f")" ] || { echo "$attr without $f:"; cat "$tmp/gerr"; exit 1; }
  "$bin" instantiate --dry-run --show-trace -E "$e" 2> "$tmp/gerr" > /dev/null || true
  grep -q "while evaluating attribute '$attr' of derivation" "$tmp/gerr" || { echo "no trace for $attr:"; cat "$tmp/gerr"; exit 1; }
  [ "$(grep -v "^$" "$tmp/gerr" | tail -n1 | sed 's/^ *//')" = "$(msg "$f")" ] || { echo "$attr --show-trace:"; cat "$tmp/gerr"; exit 1; }
  if "$bin" eval -E "builtins.tryEval $e.drvPath" > /dev/null 2>&1; then echo "tryEval caught the $f error"; exit 1; fi
  # accepted with it: from the command line (either flag, several
  # features in one value or over several flags) and from NIX_CONFIG
  for flags in "--extra-experimental-features $f" "--experimental-features nix-command,$f" \
               "--extra-experimental-features nix-command --extra-experimental-features $f" \
               "--option extra-experimental-features $f"; do
    # shellcheck disable=SC2086
    p=$("$bin" instantiate --dry-run $flags -E "$e")
    [ "$p" = "$want" ] || { echo "$attr with $flags: $p, want $want"; exit 1; }
  done
  p=$(NIX_CONFIG=$'warn-dirty = false\n'"extra-experimental-features = nix-command $f # comment" "$bin" instantiate --dry-run -E "$e")
  [ "$p" = "$want" ] || { echo "$attr with NIX_CONFIG: $p, want $want"; exit 1; }
  p=$(NIX_CONFIG="experimental-features = $f" "$bin" eval -E "$e.drvPath")
  [ "$p" = "\"$want\"" ] || { echo "$attr with NIX_CONFIG (eval): $p, want $want"; exit 1; }
  # --experimental-features replaces what NIX_CONFIG enabled
  if NIX_CONFIG="extra-experimental-features = $f" "$bin" instantiate --dry-run --experimental-features nix-command \
       -E "$e" > /dev/null 2>&1; then echo "--experimental-features did not replace NIX_CONFIG's $f"; exit 1; fi
  gates=$((gates + 1))
}
gate ca-derivations __contentAddressed ca
gate impure-derivations __impure impure
# without the feature, cases.nix's content-addressed rows are that error
"$bin" instantiate --dry-run --walk-tsv "$dir/cases.nix" > "$tmp/noca.tsv"
nca=$(grep -c "__contentAddressed = true" "$dir/cases.nix")
[ "$(grep -c $'\tuncatchable:other$' "$tmp/noca.tsv")" = "$nca" ] || { echo "expected $nca failing rows without ca-derivations:"; cat "$tmp/noca.tsv"; exit 1; }

echo "derivation cases: $(($(wc -l < "$dir/cases.tsv") - 1)) match nix-instantiate; $n .drv files in the store;" \
  "repeated derivations printed as nix-instantiate prints them; $gates experimental-feature gates"
