#!/usr/bin/env bash
# Arithmetic computed ahead of time instead of thunked (eval/spec.c) must
# not be observable: values are what Nix prints, and an operation that
# would fail (overflow, division by zero) fails only if, when and where
# Nix's lazy evaluation reaches it. Expected values are nix-instantiate's,
# except that integer overflow is an error, as the conformance suite has it
# (Nix 2.8 wrapped around).
set -u
bin=$1
fail=0
same() { # expected-stdout expr
  out=$("$bin" eval --strict -E "$2" 2>&1); rc=$?
  if [ $rc != 0 ] || [ "$out" != "$1" ]; then
    echo "FAIL: $2 -> rc=$rc: $out (want $1)"; fail=1
  else
    echo "ok: $2"
  fi
}
err() { # expected-substring expr
  out=$("$bin" eval --strict -E "$2" 2>&1); rc=$?
  if [ $rc != 1 ] || [[ "$out" != *"$1"* ]]; then
    echo "FAIL: $2 -> rc=$rc: $(echo "$out" | head -3) (want $1)"; fail=1
  else
    echo "ok: $2"
  fi
}
# failing operations stay lazy: unused, they do not fail
same 1 'let f = x: 1; in f (9223372036854775807 + 1)'
same 3 'builtins.length (builtins.genList (x: 9223372036854775807 * (x + 2)) 3)'
same 10 'builtins.elemAt (builtins.genList (x: 10 / x) 3) 1'
same 3 'let l = builtins.genList (x: x + 9223372036854775806) 3; in builtins.length (map (x: x) l)'
same 9223372036854775807 'let l = builtins.genList (x: x + 9223372036854775806) 3; in builtins.elemAt (map (x: x) l) 1'
# ... and used, they fail as before
err 'division by zero' 'builtins.elemAt (builtins.genList (x: 10 / x) 3) 0'
err 'integer overflow' '(x: x) (9223372036854775807 + 1)'
err 'integer overflow' 'let l = builtins.genList (x: x + 9223372036854775806) 3; in builtins.elemAt (map (x: x - 1) l) 2'
err 'division by zero' 'builtins.seq ((x: 1 / x) 0) 1'
err 'infinite recursion encountered' 'let x = x + 1; in x'
err 'division by zero' 'builtins.tryEval ((x: 2 / x) 0)'
err 'cannot coerce an integer to a string' '(x: x + 1) "s"'
# numbers: int and float mixed as Nix mixes them
same '[ 2 3.5 ]' 'map (x: x + 1) [ 1 2.5 ]'
same '[ 3 -3 3.5 ]' 'map (x: x / 2) [ 7 (-7) 7.0 ]'
same '{ a = 3; b = 6; c = -0.5; }' '{ a = 1 + 2; b = 2 * 3.0; c = 1 - 1.5; }'
same '{ x = 2; y = 2.5; z = true; }' 'let a = 5; in { x = a / 2; y = a / 2.0; z = a < 6; }'
same 9.5 "builtins.foldl' (a: b: a + b) 0.5 (map (x: x * 1.5) [ 1 2 3 ])"
same true '(a: b: a < b) 1 2.5'
# comparisons and logic
same true '(x: x == 1.0) 1'
same false '(x: x == true) 1'
same false '(x: x != null) null'
same '[ null null 2 ]' 'builtins.genList (x: if x > 1 then x else null) 3'
same '[ true false true ]' 'builtins.genList (x: x < 1 || x > 1) 3'
same '[ false true false ]' 'builtins.genList (x: x >= 1 && x <= 1) 3'
same '[ true false true ]' 'builtins.genList (x: x == 1 -> false) 3'
same '[ true false true ]' 'builtins.genList (x: !(x == 1)) 3'
# bindings not made yet, closures, constants
same 3 'rec { a = b + 1; b = 2; }.a'
same 2 'let a = 1; b = a + 1; in b'
same '[ null null ]' 'builtins.genList (_: null) 2'
same '[ 5 5 ]' 'let k = 5; in builtins.genList (_: k) 2'
same '[ 2 3 ]' 'let f = x: y: x + y; in map (f 1) [ 1 2 ]'
same '[ 0 6 12 18 ]' 'map (x: x * 2) (builtins.genList (x: x * 3) 4)'
same 6765 'let f = n: if n < 2 then n else f (n - 1) + f (n - 2); in f 20'
same 499500 "builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 1000)"
same 7 '(x: y: x - y) 10 (1 + 2)'
# a stack environment whose argument cannot be computed ahead moves to the
# heap before a thunk captures it (with the environments it hangs from)
same 4 'let g = x: x * 2; f = n: g (n + 1); in f (builtins.length [ 1 ])'
same 3 'let g = x: x; f = a: b: g (a + b); in f (builtins.length [ 1 ]) 2'
same '[ 5 5 ]' 'let g = x: x; f = a: b: [ (g (a + b)) (g (b * a + 1)) ]; in f (builtins.length [ 1 ]) 4'
same 12 'let g = x: y: x * y; f = a: b: g (a + 1) (b - 1); in f (builtins.length [ 1 1 ]) 5'
# generated list elements passed on unforced (foldl', map, filter,
# concatLists) refer to their list: forced once, shared, recursion detected
same '[ 1 2 3 4 5 ]' "builtins.foldl' (acc: x: acc ++ [ x ]) [ ] (builtins.genList (x: x + 1) 5)"
same '[ { v = 0; } { v = 1; } ]' 'builtins.filter (x: true) (builtins.genList (x: { v = x; }) 2)'
same '[ 0 1 "s0" ]' 'builtins.concatLists [ (builtins.genList (x: x) 2) (builtins.genList (x: "s${toString x}") 1) ]'
same 49 "let l = builtins.genList (i: if i == 0 then 0 else builtins.elemAt l (i - 1) + 1) 50; in builtins.foldl' (a: b: b) 0 l"
same $'trace: once\n2' "let l = builtins.genList (x: builtins.trace \"once\" x) 3; m = map (x: x) l; in builtins.elemAt m 2 + builtins.elemAt l 2 - builtins.elemAt m 2"
err 'infinite recursion encountered' 'let l = builtins.genList (i: builtins.elemAt (map (x: x) l) i) 2; in builtins.elemAt (map (x: x) l) 0'
exit $fail
