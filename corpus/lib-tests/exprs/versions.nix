{ lib }:
with lib.versions; {
  splitVersion = map splitVersion [ "1.2.3" "1.2-pre3" "2023-01-02" "1.2a.b" "" "1..2" ];
  major = [ (major "1.2.3") (minor "1.2.3") (patch "1.2.3") (majorMinor "1.2.3") (pad 4 "1.2") (pad 2 "1.2.3.4") ];
  compare = map (p: builtins.compareVersions (builtins.elemAt p 0) (builtins.elemAt p 1)) [
    [ "1.0" "1.0" ] [ "1.0" "1.1" ] [ "1.1" "1.0" ] [ "1.0pre" "1.0" ] [ "1.0" "1.0a" ] [ "1.0a" "1.0b" ]
    [ "2.3.4" "2.3.10" ] [ "1.0.0" "1.0" ] [ "1" "1pre" ] [ "foo" "1" ] [ "1.0-rc1" "1.0" ] [ "0.9" "0.10" ]
    [ "1.2.3" "1.2.3.0" ] [ "a" "b" ] [ "pre" "1" ] [ "" "0" ] [ "1_2" "1.2" ]
  ];
  parse = map builtins.parseDrvName [ "hello-2.12" "nix-unstable-2023-01-01" "foo" "foo-bar-1.0-beta" "a-1b" ];
  older = [ (lib.versionOlder "1.10" "1.9") (lib.versionAtLeast "23.11" "23.05") ];
  trivial = [ lib.trivial.oldestSupportedRelease (lib.isInOldestRelease 2305) (builtins.isString lib.version) ];
}
