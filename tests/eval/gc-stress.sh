#!/usr/bin/env bash
# Evaluations that keep environments alive only through the value stack,
# run with a collection at every safe point (STRAYLIGHT_GC_STRESS=1, which
# also poisons dead objects so a stale reference reads garbage). Expected
# values were produced by nix-instantiate 2.8.0.
# usage: gc-stress.sh STRAYLIGHT CORPUS_DIR
set -uo pipefail
bin=$1; corpus=$2
lib="$corpus/nixpkgs/nixpkgs-core/lib"
[ -d "$lib" ] || { echo "no corpus at $corpus (run scripts/setup.sh)"; exit 1; }
export STRAYLIGHT_GC_STRESS=1
pass=0; fail=0
err=$(mktemp); trap 'rm -f "$err"' EXIT
check() {   # name expected expr
  local got
  got=$("$bin" eval --strict -E "$3" 2>"$err")
  if [ "$got" = "$2" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $1"; echo "  expected: $2"; echo "  got:      $got"; head -5 "$err"
  fi
}
# `a.b or default` inside a let: the default runs after the select's slot
# is popped, and must still see the let's environment.
check let-select-default 20500 \
  'let f = n: let y = [ n n n ]; in {}.a or (if builtins.seq (builtins.genList (i: { x = i; }) 64) true && builtins.isInt 1 then builtins.length y + n else 0); in builtins.foldl'"'"' (a: b: a + f b) 0 (builtins.genList (x: x) 200)'
check with-select-default 6 \
  'let s = { k = 3; }; in with s; {}.a or (if builtins.seq (builtins.genList (i: [ i ]) 64) true && builtins.isInt 1 then k + k else 0)'
check nixpkgs-lib '[ "24.05pre-git" "8a2fe0d82eb9d66752d06aab9dfad975f6d11951a9ce98649ad41aaa38b868c0" "x86_64-unknown-linux-gnu" ]' \
  "let lib = import $lib; in [ lib.version (builtins.hashString \"sha256\" (lib.concatStringsSep \",\" (lib.attrNames (lib.filterAttrs (n: v: lib.isFunction v) lib.strings)))) (lib.systems.elaborate \"x86_64-linux\").config ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
