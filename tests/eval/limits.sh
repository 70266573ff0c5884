#!/usr/bin/env bash
# Recursion limits end in clean errors (exit 1, Nix's message), never a
# crash: max-call-depth for calls, the C-stack guard for deep thunk chains
# that make no calls, blackholing for self-reference.
set -u
bin=$1
fail=0
expect() { # expected-substring expr...
  local want=$1; shift
  out=$("$bin" eval --strict "$@" 2>&1); rc=$?
  if [ $rc != 1 ] || [[ "$out" != *"$want"* ]]; then
    echo "FAIL: $* -> rc=$rc: $(echo "$out" | head -3)"; fail=1
  else
    echo "ok: $*"
  fi
}
expect "stack overflow; max-call-depth exceeded" -E 'let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 1000000'
expect "stack overflow; max-call-depth exceeded" -E '(x: x x) (x: x x)'
expect "stack overflow; max-call-depth exceeded" --max-call-depth 50 -E 'let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100'
expect "infinite recursion encountered" -E 'let x = x; in x'
expect "infinite recursion encountered" -E 'let a = { } // a; in a.foo'
expect "stack overflow" -E 'let c = builtins.foldl'"'"' (acc: i: { v = acc.v + 1; }) { v = 0; } (builtins.genList (x: x) 3000000); in c.v'
expect "stack overflow" -E 'builtins.deepSeq (builtins.foldl'"'"' (t: h: { inherit h t; }) null (builtins.genList (x: x) 100000)) 1'
# a caught error must not leave thunks blackholed
out=$("$bin" eval --strict -E 'let x = throw "a"; y = builtins.tryEval x; in [ y.success (builtins.tryEval x).success ]' 2>&1)
if [ "$out" != "[ false false ]" ]; then echo "FAIL: tryEval twice -> $out"; fail=1; else echo "ok: tryEval twice"; fi
exit $fail
