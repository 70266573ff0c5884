#!/bin/sh
# Regenerates cases.exp: every expression of cases.txt evaluated by
# nix-instantiate (the reference evaluator), run from an empty directory
# so that ./. names the same contents everywhere.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"
cd "$work/empty"
grep -v '^#' "$here/cases.txt" | while IFS= read -r e; do
  nix-instantiate --eval --strict -E "$e" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
  echo
done > "$here/cases.exp"
