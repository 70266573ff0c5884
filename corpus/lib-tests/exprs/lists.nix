{ lib }:
with lib.lists; {
  fold = [ (foldr (x: acc: acc + x) 0 [ 1 2 3 ]) (foldl (acc: x: acc * 10 + x) 0 [ 1 2 3 ]) (foldl' builtins.add 0 (range 1 100)) ];
  imaps = [ (imap0 (i: v: i * v) [ 5 6 7 ]) (imap1 (i: v: "${toString i}${v}") [ "a" "b" ]) ];
  flatten = flatten [ 1 [ 2 [ 3 [ 4 ] ] ] [ ] 5 ];
  remove = remove 3 [ 1 3 2 3 ];
  findFirst = [ (findFirst (x: x > 2) null [ 1 2 3 4 ]) (findSingle (x: x == 2) "none" "multi" [ 1 2 3 ]) (findFirstIndex (x: x == "c") null [ "a" "b" "c" ]) ];
  anyAll = [ (any lib.isString [ 1 "a" ]) (all (x: x > 0) [ 1 2 ]) (count (x: x == 1) [ 1 2 1 ]) ];
  optionals = [ (optional true 1) (optionals false [ 2 ]) (toList 3) (toList [ 4 ]) ];
  range = [ (range 3 7) (range 5 1) (replicate 3 "x") ];
  partition = partition (x: x > 2) [ 1 2 3 4 ];
  groupBy = groupBy (x: if x > 2 then "big" else "small") [ 1 2 3 4 ];
  groupBy' = groupBy' builtins.add 0 (x: if lib.trivial.mod x 2 == 0 then "even" else "odd") [ 1 2 3 4 5 ];
  zip = [ (zipListsWith (a: b: a + b) [ 1 2 3 ] [ 10 20 ]) (zipLists [ 1 2 ] [ "a" "b" ]) ];
  reverse = reverseList [ 1 2 3 ];
  listDfs = listDfs true (a: b: a == b + 1) [ 3 1 2 ];
  toposort = toposort (a: b: a < b) [ 3 1 2 5 4 ];
  sort = [ (sort (a: b: a > b) [ 3 1 2 ]) (sortOn builtins.stringLength [ "ccc" "a" "bb" ]) (naturalSort [ "a10" "a2" "a1" ]) ];
  compareLists = [ (compareLists lib.compare [ 1 2 ] [ 1 3 ]) (compareLists lib.compare [ 1 ] [ 1 0 ]) ];
  take = [ (take 2 [ 1 2 3 ]) (drop 2 [ 1 2 3 ]) (sublist 1 2 [ 1 2 3 4 ]) (last [ 1 2 ]) (init [ 1 2 3 ]) ];
  common = [ (commonPrefix [ 1 2 3 ] [ 1 2 4 ]) (hasPrefix [ 1 ] [ 1 2 ]) (removePrefix [ 1 ] [ 1 2 ]) ];
  crossLists = lib.cartesianProduct { a = [ 1 2 ]; b = [ "x" "y" ]; };
  unique = [ (unique [ 1 2 1 3 2 ]) (allUnique [ 1 2 ]) (intersectLists [ 1 2 3 ] [ 2 3 4 ]) (subtractLists [ 2 ] [ 1 2 3 ]) (mutuallyExclusive [ 1 ] [ 2 ]) ];
  concatMap = concatMap (x: [ x x ]) [ 1 2 ];
  ifilter0 = ifilter0 (i: v: i == 0 || v > 5) [ 1 2 9 ];
  elemAt = [ (elemAt [ "a" "b" ] 1) (head [ 9 ]) (tail [ 1 2 ]) ];
  countNum = lib.lists.foldl' (a: b: a + b) 0 (genList (i: i * i) 50);
  minMax = [ (lib.min 3 4) (lib.max 3.5 2) ];
}
