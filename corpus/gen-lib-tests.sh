#!/usr/bin/env bash
# Regenerates the reference outputs under corpus/lib-tests/ with the oracle
# (nix-instantiate 2.8.0):
#   suites/NAME.out   `--eval --strict` of nixpkgs-core's own pure lib test
#                     suites lib/tests/NAME.nix (misc and systems are
#                     lib.runTests lists, `[ ]` when all pass; check-eval
#                     throws unless both are empty)
#   exprs/NAME.out    `--eval --strict --arg lib <nixpkgs-core/lib>` of the
#                     hand-written lib expressions exprs/NAME.nix
#   modules-total.txt the number of checks lib/tests/modules.sh passes
#                     under nix-instantiate
# Usage: corpus/gen-lib-tests.sh CORPUS_DIR
#   CORPUS_DIR/nixpkgs/nixpkgs-core is the unpacked corpus.
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
core=$(cd "$1/nixpkgs/nixpkgs-core" && pwd)
out=$here/lib-tests
mkdir -p "$out/suites"
for s in misc systems check-eval; do
  nix-instantiate --eval --strict "$core/lib/tests/$s.nix" > "$out/suites/$s.out.tmp"
  mv "$out/suites/$s.out.tmp" "$out/suites/$s.out"
done
for f in "$out"/exprs/*.nix; do
  n=$(basename "$f" .nix)
  (cd "$out/exprs" && nix-instantiate --eval --strict --arg lib "import $core/lib" "./$n.nix") > "$out/exprs/$n.out.tmp"
  mv "$out/exprs/$n.out.tmp" "$out/exprs/$n.out"
done
# modules.sh prints "N Pass" and exits non-zero on any failure.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r "$core/lib" "$tmp/lib"
bash "$tmp/lib/tests/modules.sh" > "$tmp/log" 2>&1
sed -n 's/^\([0-9]*\) Pass$/\1/p' "$tmp/log" > "$out/modules-total.txt"
