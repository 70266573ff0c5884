#!/bin/sh
# Regenerates the reference data of the eval/pure tests from the Nix
# language conformance tests, with nix-instantiate as the reference
# evaluator. Usage: gen.sh <nix-conformance>/tests/functional/lang
# The outputs are committed; the tests do not need Nix.
set -eu
lang=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The TOML documents, as the strings Nix passes to fromTOML.
for t in fromTOML fromTOML-timestamps; do
  sed 's/builtins\.fromTOML/(s: s)/' "$lang/eval-okay-$t.nix" > "$tmp/$t.nix"
  nix-instantiate --eval --strict --json "$tmp/$t.nix" > "$here/$t.json"
done

# Every (regex, string, result) of eval-okay-regex-match2.nix.
sed 's/builtins\.match re str/[ re str (builtins.match re str) ]/' \
  "$lang/eval-okay-regex-match2.nix" > "$tmp/m2.nix"
nix-instantiate --eval --strict --json "$tmp/m2.nix" > "$here/regex-match2.json"
