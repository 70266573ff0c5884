{ lib }:
# Builtins that lib leans on, at their edges.
{
  substring = [ (builtins.substring 1 3 "hello") (builtins.substring 3 100 "hello") (builtins.substring 10 2 "hi") (builtins.substring 0 (-1) "abc") ];
  replace = [ (builtins.replaceStrings [ "" ] [ "-" ] "abc") (builtins.replaceStrings [ "a" "" ] [ "b" "_" ] "aXa") (builtins.replaceStrings [ "ab" "a" ] [ "1" "2" ] "aab") ];
  split = map (p: builtins.split (builtins.elemAt p 0) (builtins.elemAt p 1)) [ [ "," "a,b,,c" ] [ "(,)" "a,b" ] [ "" "ab" ] [ "x*" "abc" ] [ "([0-9]+)|([a-z]+)" "12ab3" ] [ "^" "ab" ] [ "$" "ab" ] ];
  match = map (p: builtins.match (builtins.elemAt p 0) (builtins.elemAt p 1)) [ [ "(.*)\\.(.*)" "a.b.c" ] [ "([^.]*)\\.(.*)" "a.b.c" ] [ "a|b" "b" ] [ "(a)?b" "b" ] [ "[[:alpha:]]+([[:digit:]]*)" "abc12" ] [ "(|a)b" "ab" ] [ "" "" ] [ "[^a-c]*" "def" ] ];
  splitVersion = map builtins.splitVersion [ "1.2.3" "1.2-rc1" "abc" "1..2" "1.2a" "" "2.0pre" ];
  hashes = map (a: builtins.hashString a "abc") [ "md5" "sha1" "sha256" "sha512" ];
  toStringNum = map toString [ 0.1 1.0 1.5e10 (-3) 1.0e-3 123456.7 true false null [ 1 "a" [ ] ] ];
  fromJSON = builtins.fromJSON ''{"a":"\u00e9\ud83d\ude00","b":[1e2,-0,0.5,123456789012],"c":{"":null},"d":"\/"}'';
  toJSONstr = builtins.toJSON [ "é\u{0001}" "\t\n\r\"\\" "/" { "" = 1; } ];
  toXML = builtins.toXML { a = [ 1 "x" null true ]; b = { c = 1.5; }; f = { x, y ? 1 }: x; g = z: z; };
  sortStable = builtins.sort (a: b: a.k < b.k) [ { k = 1; v = "a"; } { k = 0; v = "b"; } { k = 1; v = "c"; } { k = 0; v = "d"; } ];
  genericClosure = builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: if x.key < 5 then [ { key = x.key + 1; } { key = x.key * 2; } ] else [ ]; };
  concatStringsSep = builtins.concatStringsSep ", " [ "a" "" "c" ];
  attrNamesOrder = builtins.attrNames { b = 1; a = 2; B = 3; "1" = 4; "" = 5; _x = 6; };
  lessThan = [ (builtins.lessThan [ 1 2 ] [ 1 3 ]) (builtins.lessThan "B" "a") (builtins.lessThan 1 1.5) ];
  listOps = [ (builtins.elem 2 [ 1 2 ]) (builtins.length (builtins.filter (x: x > 1) [ 1 2 3 ])) (builtins.foldl' (a: b: a ++ [ b ]) [ ] [ 1 2 ]) (builtins.all (x: x) [ ]) (builtins.any (x: x) [ ]) ];
  groupBy = builtins.groupBy (x: builtins.substring 0 1 x) [ "apple" "avocado" "banana" "" ];
  partition = builtins.partition (x: x > 2) [ 5 1 3 2 ];
  tryEval = [ (builtins.tryEval (throw "x")) (builtins.tryEval (assert false; 1)) (builtins.tryEval 5) ];
  stringLength = map builtins.stringLength [ "" "é" "abc" ];
  bitOps = [ (builtins.bitAnd (-1) 255) (builtins.bitXor (-8) 3) ];
  mul = [ (builtins.mul 4611686018427387904 1) (9223372036854775807 - 1) (builtins.div 7 (-2)) (builtins.div (-7) 2) ];
  floats = [ (1.0 / 3) (2.0 / 3 * 3) 1.0e300 0.000001 100000000.0 (builtins.ceil (-0.5)) (builtins.floor 2.9999) ];
  ctx = builtins.getContext "${builtins.placeholder "out"}";
  placeholder = builtins.placeholder "dev";
  parseDrvName = builtins.parseDrvName "foo-1.2-bar";
  compareVersions = builtins.compareVersions "1.2.3pre4" "1.2.3";
  dirOf = [ (builtins.dirOf "/a/b/c") (builtins.dirOf "a") (builtins.dirOf "/") (builtins.baseNameOf "/a/b/") (builtins.baseNameOf "x.tar.gz") ];
  unsafeDiscard = builtins.hasContext (builtins.unsafeDiscardStringContext "abc");
  intersectAttrs = builtins.attrNames (builtins.intersectAttrs { a = 1; c = 2; } { a = 3; b = 4; c = 5; });
  mapAttrsOrder = builtins.attrValues (builtins.mapAttrs (n: v: n + v) { z = "1"; a = "2"; });
  escapes = [ "\${x}" ''$'{x}'' "a\tb" ''a''\tb'' ];
}
