{ lib }:
with lib.generators; {
  ini = toINI { } { sec1 = { a = 1; b = true; c = "x y"; }; "sec 2" = { k = null; }; };
  iniGlobal = toINIWithGlobalSection { } { globalSection = { g = 1; }; sections = { s = { v = "w"; }; }; };
  gitINI = toGitINI { user = { name = "A"; email = "a@b"; }; "url \"git@x\"" = { insteadOf = "https://x"; }; core.sub.k = true; };
  keyValue = toKeyValue { mkKeyValue = mkKeyValueDefault { } ": "; } { a = 1; b = "s"; c = false; d = 1.5; };
  json = toJSON { } { a = [ 1 2.5 "x" null true ]; b = { c = "ü\n\t\""; }; };
  yaml = toYAML { } { x = [ 1 2 ]; };
  pretty = toPretty { } { a = 1; b = [ "s" 2.5 null true ]; c = { d = "multi\nline"; }; e = x: x; f = { a, b ? 1 }: a; g = -3; h = 1.0e-5; };
  prettyCompact = toPretty { multiline = false; } { a = [ 1 { b = 2; } ]; };
  dhall = toDhall { } { a = 1; b = "s"; c = [ true ]; };
  lua = toLua { } { a = 1; b = [ "x" "y" ]; c = { d = true; }; e = null; f = lib.generators.mkLuaInline "print(1)"; };
  luaMulti = toLua { multiline = false; } [ 1 "a\"b" ];
  plist = toPlist { } { a = 1; b = [ "x" true ]; c = { d = 2.5; }; };
  dconf = toDconfINI { "org/a" = { k = "v"; b = false; }; };
  mkValueString = map (mkValueStringDefault { }) [ 1 "s" true null 2.5 ];
  keyValueList = toKeyValue { listsAsDuplicateKeys = true; } { a = [ 1 2 ]; };
  colon = mkKeyValueDefault { } ":" "k" "v";
  builtinsJSON = builtins.toJSON { a = 1.5; b = 1.0e30; c = 0.1; f = 1.0e-7; };
  fromJSON = builtins.fromJSON ''{"a":[1,2.5,"\u00e9",null,true],"b":{"c":-1e3}}'';
  fromTOML = builtins.fromTOML ''
    a = 1
    b = "x"
    [t]
    c = [1, 2]
    d = { e = true }
  '';
  toXML = builtins.toXML { a = 1; b = [ "x" null ]; c = x: x; };
}
