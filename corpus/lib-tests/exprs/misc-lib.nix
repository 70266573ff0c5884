{ lib }:
let
  f = lib.makeOverridable ({ a ? 1, b ? 2 }: { sum = a + b; }) { a = 10; };
  pkgs = { x = 5; y = 6; };
  callPackage = lib.callPackageWith pkgs;
  cp = callPackage ({ x, y, z ? 0 }: { r = x * y + z; }) { z = 1; };
  drv = { type = "derivation"; name = "d"; outPath = "/nix/store/00000000000000000000000000000000-d"; meta = { }; };
in {
  override = [ f.sum (f.override { b = 5; }).sum ((f.override { b = 5; }).override (o: { a = o.a * 2; })).sum ];
  callPackage = cp.r;
  cli = [
    (lib.cli.toGNUCommandLineShell { } { verbose = true; out = "f o"; n = 3; l = [ "a" "b" ]; skip = false; nil = null; })
    (lib.cli.toGNUCommandLine { mkOptionName = k: "-${k}"; } { x = 1; })
  ];
  asserts = [ (lib.asserts.assertMsg true "x") (lib.assertOneOf "v" "a" [ "a" "b" ]) (builtins.tryEval (lib.assertOneOf "v" "c" [ "a" ])).success ];
  path = [ (lib.path.subpath.normalise "./a//b/./c") (lib.path.subpath.join [ "a" "./b" ]) (lib.path.subpath.isValid "../x") (lib.path.subpath.components "./a/b") ];
  pathAppend = lib.path.removePrefix /a /a/b/c;
  pathSplit = (lib.path.splitRoot /a/b).subpath;
  meta = [ (lib.meta.addMetaAttrs { x = 1; } drv).meta (lib.meta.setName "n" drv).name (lib.meta.lowPrio drv).meta.priority (lib.meta.hiPrio drv).meta.priority ];
  platformMatch = [ (lib.meta.platformMatch { system = "x86_64-linux"; parsed = lib.systems.parse.mkSystemFromString "x86_64-linux"; } "x86_64-linux") (lib.meta.availableOn (lib.systems.elaborate "x86_64-linux") { meta.platforms = lib.platforms.linux; }) ];
  getExe = lib.getExe' drv "tool";
  licenses = map (l: { inherit (l) shortName fullName free; spdx = l.spdxId or null; }) (with lib.licenses; [ mit gpl3Plus asl20 unfree bsd3 ]);
  platformsCount = map builtins.length (with lib.platforms; [ linux darwin unix all ]);
  gvariant = map (v: toString (lib.gvariant.mkValue v)) [ "s" true [ "a" "b" ] (lib.gvariant.mkUint32 3) (lib.gvariant.mkInt32 (-4)) (lib.gvariant.mkTuple [ (lib.gvariant.mkInt32 1) "x" ]) ];
  stringsWithDeps = lib.textClosureList { a = { text = "A"; deps = [ "b" ]; }; b = { text = "B"; deps = [ ]; }; } [ "a" ];
  kernel = lib.kernel.yes;
  debug = [ (lib.debug.traceValFn (x: "") 3) (lib.debug.runTests { testA = { expr = 1; expected = 2; }; testB = { expr = 1; expected = 1; }; }) ];
  sourceTypes = builtins.attrNames lib.sourceTypes;
  deepSeqLarge = builtins.length (lib.lists.genList (i: lib.toHexString i) 2000);
  splitString = lib.splitString "" "abc";
  concatLines = lib.concatLines [ "a" "b" ];
  toShellVars = lib.toShellVars { A = "x y"; B = [ "1" "2" ]; C = { k = "v"; }; };
  toShellVar = lib.toShellVar "v" true;
  isValidPosixName = map lib.isValidPosixName [ "a_b" "1a" "a-b" ];
  escapeNix = [ (lib.strings.escapeNixIdentifier "a b") (lib.strings.escapeNixIdentifier "ok") ];
  uniqueStrings = lib.lists.uniqueStrings or null;
  toJSONPretty = lib.generators.toJSON { } [ 1 ];
  versionsNames = lib.strings.getName or null;
}
