{ lib }:
with lib.attrsets; {
  attrByPath = [ (attrByPath [ "a" "b" ] 0 { a.b = 5; }) (attrByPath [ "a" "c" ] 0 { a.b = 5; }) (hasAttrByPath [ "a" "b" ] { a.b = null; }) ];
  setAttrByPath = setAttrByPath [ "x" "y" ] 1;
  getAttrFromPath = getAttrFromPath [ "a" "b" ] { a.b = "v"; };
  updateManyAttrsByPath = updateManyAttrsByPath [ { path = [ "a" "b" ]; update = old: old + 1; } { path = [ "c" ]; update = _: 3; } ] { a.b = 1; };
  catAttrs = catAttrs "a" [ { a = 1; } { b = 2; } { a = 3; } ];
  filterAttrs = filterAttrs (n: v: v > 1) { a = 1; b = 2; c = 3; };
  filterAttrsRecursive = filterAttrsRecursive (n: v: v != null) { a = null; b = { c = null; d = 1; }; };
  foldAttrs = foldAttrs (n: a: [ n ] ++ a) [ ] [ { a = 2; } { a = 3; b = 7; } ];
  collect = collect lib.isInt { a = 1; b = { c = 2; d = "x"; }; };
  nameValuePair = nameValuePair "k" "v";
  mapAttrs' = mapAttrs' (n: v: nameValuePair "p_${n}" (v * 2)) { a = 1; b = 2; };
  mapAttrsToList = mapAttrsToList (n: v: "${n}=${toString v}") { z = 1; a = 2; };
  mapAttrsRecursive = mapAttrsRecursive (path: v: lib.concatStringsSep "." path) { a.b = 1; c = 2; };
  mapAttrsRecursiveCond = mapAttrsRecursiveCond (as: !(as ? stop)) (p: v: v) { a.stop = 1; b.c = 2; };
  genAttrs = genAttrs [ "x" "y" ] (n: n + n);
  isDerivation = [ (isDerivation { type = "derivation"; }) (isDerivation { }) ];
  toDerivation = (toDerivation "/nix/store/00000000000000000000000000000000-foo").outPath;
  optionalAttrs = [ (optionalAttrs true { a = 1; }) (optionalAttrs false { b = 2; }) ];
  zipAttrs = [ (zipAttrsWith (n: vs: vs) [ { a = 1; } { a = 2; b = 3; } ]) (zipAttrs [ { x = 1; } { x = 2; } ]) ];
  recursiveUpdate = recursiveUpdate { a.b = 1; a.c = 2; d = 3; } { a.b = 9; d = { e = 4; }; };
  recursiveUpdateUntil = recursiveUpdateUntil (path: l: r: path == [ "a" ]) { a.b = 1; } { a.c = 2; };
  matchAttrs = [ (matchAttrs { cpu = { bits = 64; }; } { cpu = { bits = 64; x = 1; }; }) (matchAttrs { a = 1; } { a = 2; }) ];
  overrideExisting = overrideExisting { a = 1; b = 2; } { a = 3; c = 4; };
  showAttrPath = [ (showAttrPath [ "a" "b c" "d.e" ]) (showAttrPath [ ]) ];
  getOutput = getOutput "dev" { outputs = [ "out" "dev" ]; dev = "D"; out = "O"; outputSpecified = false; };
  cartesian = cartesianProduct { x = [ 1 2 ]; y = [ 3 ]; };
  mapCartesian = mapCartesianProduct ({ x, y }: x * y) { x = [ 1 2 ]; y = [ 3 4 ]; };
  attrsToList = attrsToList { b = 1; a = 2; };
  unionOfDisjoint = unionOfDisjoint { a = 1; } { b = 2; };
  concatMapAttrs = concatMapAttrs (n: v: { "${n}1" = v; "${n}2" = v + 1; }) { a = 1; };
  attrValues = [ (attrValues { b = 1; a = 2; }) (attrVals [ "a" "b" ] { a = 1; b = 2; c = 3; }) ];
  recurseIntoAttrs = recurseIntoAttrs { a = 1; };
  dontRecurse = dontRecurseIntoAttrs { a = 1; };
  listToAttrs = listToAttrs [ (nameValuePair "a" 1) (nameValuePair "a" 2) ];
  intersect = [ (builtins.intersectAttrs { a = 1; } { a = 2; b = 3; }) (builtins.removeAttrs { a = 1; b = 2; } [ "a" "z" ]) ];
}
