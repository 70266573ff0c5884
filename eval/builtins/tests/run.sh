#!/bin/sh
# Evaluates every expression of cases.txt with the given straylight binary
# and compares with cases.exp. usage: run.sh STRAYLIGHT
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"
cd "$work/empty"
grep -v '^#' "$here/cases.txt" > "$work/cases"
fail=0; n=0
while IFS= read -r e <&3 && IFS= read -r want <&4; do
  n=$((n + 1))
  got=$("$bin" eval --eval --strict -E "$e" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$want" ]; then
    echo "FAIL: $e"; echo "  got:  $got"; echo "  want: $want"
    fail=$((fail + 1))
  fi
done 3<"$work/cases" 4<"$here/cases.exp"
echo "builtins: $((n - fail))/$n as nix-instantiate"
[ "$fail" = 0 ]
