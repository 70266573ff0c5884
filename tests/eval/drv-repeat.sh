#!/usr/bin/env bash
# Derivations made more than once in an evaluation (identical attributes,
# so identical contents) get their paths from the first one without
# hashing again; every path must still be what Nix computes: repeated
# multi-output, fixed-output and structured-attrs derivations, and
# derivations that depend on a repeated one through different outputs.
# The expected value is what nix-instantiate 2.8 prints (--readonly-mode).
set -u
bin=$1
want='"17b7a0e12d35d12cac8a680bb1232963da50d81e75b09199cb75b2f0630f581c"'
out=$("$bin" eval --strict -E \
  'let mk = args: derivation ({ name = "m"; builder = "/bin/sh"; system = "x86_64-linux"; } // args); a = mk { outputs = [ "out" "dev" ]; }; b = mk { outputs = [ "out" "dev" ]; }; c = mk { outputs = [ "dev" "out" ]; }; f1 = mk { outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat"; }; f2 = mk { outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat"; }; d1 = mk { x = a; args = [ "-c" "${a.dev}" ]; }; d2 = mk { x = b; args = [ "-c" "${b.dev}" ]; }; d3 = mk { x = a; args = [ "-c" "${a.out}" ]; }; s1 = mk { __structuredAttrs = true; y = [ 1 2 ]; }; s2 = mk { __structuredAttrs = true; y = [ 1 2 ]; }; s3 = mk { __structuredAttrs = true; y = [ 1 3 ]; }; in builtins.hashString "sha256" (builtins.toJSON (map (d: [ d.drvPath d.outPath ] ++ map (o: d.${o}.outPath) (d.outputs or [ ])) [ a b c f1 f2 d1 d2 d3 s1 s2 s3 ]))' 2>&1); rc=$?
if [ $rc != 0 ] || [ "$out" != "$want" ]; then
  echo "FAIL: rc=$rc: $out (want $want)"
  exit 1
fi
echo ok
