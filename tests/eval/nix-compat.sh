#!/usr/bin/env bash
# Single-expression results where straylight once differed from Nix; each
# expected value is what Nix prints (mapAttrs positions and the quoted
# argument name agree with nix-instantiate 2.8; the toJSON floats follow
# current Nix's JSON writer, which the conformance suite targets).
set -u
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
bin=$1
fail=0
same() { # expected-stdout args...
  local want=$1; shift
  out=$("$bin" eval "$@" 2>&1); rc=$?
  if [ $rc != 0 ] || [ "$out" != "$want" ]; then
    echo "FAIL: $* -> rc=$rc: $out (want $want)"; fail=1
  else
    echo "ok: $*"
  fi
}
err() { # expected-substring args...
  local want=$1; shift
  out=$("$bin" eval "$@" 2>&1); rc=$?
  if [ $rc != 1 ] || [[ "$out" != *"$want"* ]]; then
    echo "FAIL: $* -> rc=$rc: $(echo "$out" | head -3)"; fail=1
  else
    echo "ok: $*"
  fi
}
same null -E 'builtins.unsafeGetAttrPos "a" (builtins.mapAttrs (k: v: v) { a = 1; })'
same '"[100000000000000.0,1e+15,0.0001,1e-05,0.1,-2.5]"' \
  -E 'builtins.toJSON [ 1.0e14 1.0e15 1.0e-4 1.0e-5 0.1 (-2.5) ]'
same '"[null,null]"' -E 'builtins.toJSON [ (1.0e308 * 10) (-1.0e308 * 10) ]'
err "called with unexpected argument '\"b c\"'" -E '({ a }: a) { a = 1; "b c" = 1; }'
err "called with unexpected argument 'b'" -E '({ a }: a) { a = 1; b = 1; }'
exit $fail
