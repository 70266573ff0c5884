#!/usr/bin/env bash
# Attribute set and list operations whose implementation takes shortcuts:
# `//` placing a small side into a large one from either side (a new set
# even when it has the names of one side, as in Nix), removeAttrs and
# intersectAttrs by binary search, names sorted by an eight-byte prefix
# key, formals bound into an environment that is not cleared first;
# concatMap and groupBy, whose results refer to an unforced generated
# element where it is (computed once, one trace); `[ ]` and `{ }`,
# constants shared by every evaluation. Each expected value is what
# nix-instantiate 2.8 prints.
set -u
bin=$1
fail=0
same() { # expected-stdout expression
  out=$("$bin" eval --strict -E "$2" 2>&1); rc=$?
  if [ $rc != 0 ] || [ "$out" != "$1" ]; then
    echo "FAIL: $2 -> rc=$rc: $out (want $1)"; fail=1
  else
    echo "ok: $2"
  fi
}
same '"0,a0,a1,a10,a11,a12,a13,a14,a15,a16,a17,a18,a19,a2,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29,a3,a30,a31,a32,a33,a34,a35,a36,a37,a38,a39,a4,a5,a6,a7,a8,a9,zz"' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.concatStringsSep "," (builtins.attrNames ({ a5 = 1; zz = 2; "0" = 3; } // big))'
same '[ 5 2 1 6 ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in [ ({ a5 = 1; zz = 2; } // big).a5 ({ a5 = 1; zz = 2; } // big).zz (big // { a5 = 1; zz = 2; }).a5 (big // { a5 = 1; }).a6 ]'
same '41' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.length (builtins.attrNames ({ a1 = 0; a2 = 0; } // big // { b = 1; } // big))'
same '[ true 1 false ]' \
  'let y = { a = 1; b = 2; c = 3; }; in [ (({ a = 0; } // y) == y) (({ a = 0; c = 0; } // y).a) (({ d = 0; } // y) == y) ]'
same '[ 1 56 ]' \
  'let p = builtins.unsafeGetAttrPos "a" ({ a = 0; } // { a = 1; b = 2; c = 3; d = 4; e = 5; f = 6; g = 7; h = 8; i = 9; }); in [ p.line p.column ]'
same '[ 1 42 ]' \
  'let p = builtins.unsafeGetAttrPos "z" ({ z = 0; } // { a = 1; b = 2; c = 3; d = 4; e = 5; f = 6; g = 7; h = 8; i = 9; }); in [ p.line p.column ]'
same '{ a = 1; b = 2; c = 4; d = 6; e = 5; }' \
  '{ a = 1; c = 3; e = 5; } // { b = 2; c = 4; d = 6; }'
same '{ a = 2; c = 4; d = 6; }' \
  '{ a = 1; c = 3; } // { a = 2; c = 4; d = 6; }'
same '[ "" "0" "00" "ABCDEFGHIJKLMNOO" "ABCDEFGHIJKLMNOP" "Z" "_" "a" "ab" "abcdefg" "abcdefgh" "abcdefgh0" "abcdefghZ" "abcdefghi" "nativeBuildInput" "nativeBuildInputs" "z" "~" "é" "ü" ]' \
  'builtins.attrNames (builtins.listToAttrs (map (n: { name = n; value = 1; }) [ "abcdefgh" "abcdefghi" "abcdefgh0" "abcdefg" "a" "ab" "" "ü" "z" "Z" "_" "abcdefghZ" "nativeBuildInputs" "nativeBuildInput" "é" "~" "ABCDEFGHIJKLMNOP" "ABCDEFGHIJKLMNOO" "0" "00" ]))'
same '[ 2 0 1 3 4 ]' \
  'builtins.attrValues { abcdefgh1 = 1; abcdefgh0 = 0; abcdefg = 2; abcdefgha = 3; b = 4; }'
same '"a1,a10,a11,a12,a13,a14,a15,a16,a18,a19,a2,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29,a30,a31,a32,a33,a34,a35,a36,a37,a38,a4,a5,a6,a7,a8,a9"' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.concatStringsSep "," (builtins.attrNames (builtins.removeAttrs big [ "a3" "a3" "zz" "a39" "a0" "a17" "a3" ]))'
same '"a1,a11,a13,a15,a17,a19,a21,a23,a25,a27,a29,a3,a31,a33,a35,a37,a39,a5,a7,a9"' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.concatStringsSep "," (builtins.attrNames (builtins.removeAttrs big (map (n: "a${toString (n * 2)}") (builtins.genList (x: 40 - x) 41))))'
same '[ true { } { a = 1; } { } { a = 1; b = 2; c = 3; } ]' \
  'let s = { a = 1; b = 2; c = 3; }; in [ (builtins.removeAttrs s [ "q" ] == s) (builtins.removeAttrs s [ "c" "b" "b" "a" ]) (builtins.removeAttrs s [ "c" "zz" "b" ]) (builtins.removeAttrs { } [ "c" ]) (builtins.removeAttrs s [ ]) ]'
same '[ 1 77 ]' \
  'let p = builtins.unsafeGetAttrPos "c" (builtins.removeAttrs { a = 1; b = 2; c = 3; } [ "a" ]); in [ p.line p.column ]'
same '[ 1 2 2 ]' \
  '(x: { y, z ? y }: [ x y z ]) 1 { y = 2; }'
same '[ 1 1 [ "a" "c" ] ]' \
  'let f = { a, b ? a, ... }@args: [ a b (builtins.attrNames args) ]; in f (builtins.removeAttrs { a = 1; c = 2; d = 3; } [ "d" ])'
same $'trace: hi\n1' \
  'let g = builtins.genList (i: builtins.trace "hi" i) 1; in builtins.deepSeq ((builtins.concatMap (x: g) [1]) ++ g) 1'
same $'trace: hi\n1' \
  'let g = builtins.genList (i: builtins.trace "hi" i) 1; in builtins.deepSeq [ (builtins.concatMap (x: g) [1]) g ] 1'
same '[ 0 1 2 0 2 4 ]' \
  'builtins.concatMap (x: builtins.genList (i: i * x) 3) [ 1 2 ]'
same $'trace: hi\n1' \
  'let g = builtins.genList (i: builtins.trace "hi" i) 1; r = builtins.groupBy (x: "a") g; in builtins.deepSeq [r g] 1'
same '"cdb8962626a7612a9f1f8f9a6e9abde917d45d90ccabf0feea7ce31798dd328a"' \
  'let n = i: "${builtins.substring 0 (i - 11 * (i / 11)) "nativeBuildInputs"}${builtins.substring 0 (i - 5 * (i / 5)) "_-Z9a"}${toString (i * 7919 - 37 * (i / 3) - 5000)}"; in builtins.hashString "sha256" (builtins.concatStringsSep "," (builtins.attrNames (builtins.listToAttrs (builtins.genList (i: { name = n i; value = i; }) 400))))'
same '[ [ 1 ] [ 2 1 ] [ [ ] [ ] ] true "{\"a\":[]}" ]' \
  'let f = { a ? [ ] }: a ++ [ 1 ]; g = x: [ ]; in [ (f { }) (f { a = [ 2 ]; }) [ (g 1) (g 2) ] ([ ] == g 3) (builtins.toJSON { a = g 4; }) ]'
same '[ { } { } { a = 1; } true [ ] { b = 1; } ]' \
  'let f = x: { }; g = { a ? { } }: a // { b = 1; }; in [ (f 1) (f 2) ((f 3) // { a = 1; }) ((f 4) == { }) (builtins.attrNames (f 5)) (g { }) ]'
same '[ { a5 = 5; a50 = 50; a99 = 99; } { a5 = 0; a50 = 0; a99 = 0; } { } { } 124 ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 100)); small = { a5 = 0; zz = 0; a99 = 0; "0" = 0; a50 = 0; }; p = builtins.unsafeGetAttrPos "a5" (builtins.intersectAttrs big small); in [ (builtins.intersectAttrs small big) (builtins.intersectAttrs big small) (builtins.intersectAttrs { } big) (builtins.intersectAttrs { zzz = 1; } big) p.column ]'
# `//` of a few names over a large set is a layer (value.h): lookups
# through chains of layers deeper than the limit, small // layer and
# layer // small, removeAttrs, intersectAttrs, ==, mapAttrs, toJSON,
# formals, `with`, unsafeGetAttrPos and derivations built on layers.
same '[ 60 0 19 5 true false 9 "x13" ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); s = builtins.foldl'\'' (acc: i: acc // { "x${toString i}" = i; }) big (builtins.genList (x: x) 20); in [ (builtins.length (builtins.attrNames s)) s.x0 s.x19 s.a5 (s ? x7) (s ? nope) (s.nope or 9) (builtins.elemAt (builtins.attrNames s) 45) ]'
same '[ 1 200 1 300 ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in [ ({ a1 = 100; new = 1; } // (big // { a2 = 200; })).a1 ({ a1 = 100; new = 1; } // (big // { a2 = 200; })).a2 ({ a1 = 100; new = 1; } // (big // { a2 = 200; })).new ((big // { a2 = 200; }) // { a2 = 300; a3 = 301; }).a2 ]'
same '"a0,a10,a11,a12,a13,a14,a15,a16,a17,a18,a19,a20,a21,a22,a23,a24,a25,a26,a27,a28,a29,a3,a30,a31,a32,a33,a34,a35,a36,a37,a38,a39,a4,a5,a6,a7,a8,a9,y"' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.concatStringsSep "," (builtins.attrNames (builtins.removeAttrs (big // { a1 = 0; z = 1; y = 2; }) [ "a1" "a2" "z" "a1" "nope" ]))'
same '{ a1 = 11; z = 5; }' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.intersectAttrs { a1 = null; z = null; q = null; } (big // { z = 5; a1 = 11; })'
same '[ true false true false true ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in [ ((big // { z = 1; }) == (big // { z = 1; })) ((big // { z = 1; }) == (big // { z = 2; })) ((big // { a0 = 0; }) == big) ((big // { a0 = 5; }) == big) (builtins.removeAttrs (big // { z = 1; }) [ "z" ] == big) ]'
same '"{\"a0\":14,\"a1\":2,\"a2\":4,\"z\":2}"' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in builtins.toJSON (builtins.mapAttrs (n: v: v * 2) (builtins.removeAttrs (big // { z = 1; a0 = 7; }) (builtins.genList (i: "a${toString (i + 3)}") 37)))'
same '[ 2 41 ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in [ (({ a1, z, ... }: a1 + z) (big // { z = 1; })) (({ z, ... }@args: builtins.length (builtins.attrNames args)) (big // { z = 1; })) ]'
same '10' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in with (big // { z = 7; }); z + a3'
same '[ true 9 3 [ 4 3 ] ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in [ (builtins.hasAttr "z" (big // { z = 1; })) (builtins.getAttr "a9" (big // { z = 1; })) (builtins.getAttr "z" ({ z = 3; } // big)) (builtins.attrValues (builtins.intersectAttrs { a4 = 1; z = 1; } ({ z = 3; } // big))) ]'
same '[ 1 172 ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); in let p = builtins.unsafeGetAttrPos "z" (big // { a1 = 0; z = 1; }); in [ p.line p.column ]'
same '[ 70 0 29 [ "k0" "k1" "k10" "k11" "k12" "k13" "k14" "k15" "k16" "k17" "k18" "k19" "k2" "k20" "k21" "k22" "k23" "k24" "k25" "k26" "k27" "k28" "k29" "k3" "k4" "k5" "k6" "k7" "k8" "k9" ] ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); l = builtins.foldl'\'' (acc: i: { "k${toString i}" = i; } // acc) big (builtins.genList (x: x) 30); in [ (builtins.length (builtins.attrNames l)) l.k0 l.k29 (builtins.attrNames (builtins.removeAttrs l (builtins.attrNames big))) ]'
same '[ "derivation" 2 12 ]' \
  'let big = builtins.listToAttrs (map (n: { name = "a${toString n}"; value = n; }) (builtins.genList (x: x) 40)); d = derivation { name = "x"; system = "x"; builder = "/bin/sh"; } // { extra = 1; }; in [ d.type (d // { extra = 2; }).extra (builtins.length (builtins.attrNames (d // { z = 1; }))) ]'
exit $fail
