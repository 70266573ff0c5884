{ lib }:
with lib.fixedPoints;
let
  f = self: { a = 1; b = self.a + 1; c = self.b * 10; };
  ext = lib.extends (final: prev: { a = 5; d = final.c + prev.a; }) f;
  comp = lib.composeExtensions (final: prev: { x = 1; }) (final: prev: { y = prev.x + 1; });
  manyExt = lib.composeManyExtensions [ (final: prev: { n = 1; }) (final: prev: { n = prev.n * 7; }) ];
  obj = makeExtensible (self: { v = 2; w = self.v * 3; });
  obj2 = obj.extend (final: prev: { v = 10; });
in {
  fix = fix f;
  fix' = (fix' f).c;
  extends = fix ext;
  compose = fix (lib.extends comp (self: { }));
  many = fix (lib.extends manyExt (self: { }));
  extensible = { inherit (obj) v w; };
  extended = { inherit (obj2) v w; };
  converge = converge (x: if x > 100 then x else x * 2) 3;
}
