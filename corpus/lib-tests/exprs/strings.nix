{ lib }:
with lib.strings; {
  concat = concatStringsSep "," [ "a" "b" "c" ];
  mapConcat = concatMapStringsSep "-" toUpper [ "x" "yz" ];
  imap = concatImapStringsSep ";" (i: s: "${toString i}${s}") [ "a" "b" ];
  split = splitString "." "a.b..c";
  hasPre = [ (hasPrefix "foo" "foobar") (hasSuffix "bar" "foobar") (hasInfix "ob" "foobar") ];
  remove = [ (removePrefix "foo" "foobar") (removeSuffix "bar" "foobar") ];
  escapes = [ (escapeShellArg "it's") (escapeShellArgs [ "a b" "c" ]) (escapeNixString "a\"$b") (escapeRegex "a.b*c") (escapeXML "<a&'\">") (escapeURL "a b/c?d=é") (escapeC [ " " "\n" ] "a b\nc") ];
  case = [ (toUpper "aBc") (toLower "AbC") ];
  fixed = [ (fixedWidthString 5 "0" "12") (fixedWidthNumber 4 7) ];
  chars = stringToCharacters "héllo";
  versions = [ (versionOlder "1.2" "1.10") (versionAtLeast "2.0pre" "2.0") ];
  getName = [ (getName "hello-2.12.1") (getVersion "hello-2.12.1") (getName "nix-unstable-2023-01-01") ];
  makeSearch = makeSearchPath "bin" [ "/a" "/b" ];
  nameValue = nameFromURL "https://example.org/foo-1.0.tar.gz" "-";
  enables = [ (enableFeature true "x") (enableFeatureAs false "y" "z") (withFeatureAs true "w" "v") (mesonBool "b" true) (mesonOption "o" "v") (mesonEnable "e" false) (cmakeBool "B" false) (cmakeFeature "F" "v") (cmakeOptionType "string" "N" "val") ];
  toInts = [ (toInt "42") (toIntBase10 "0012") (builtins.tryEval (toInt "4x")).success ];
  repl = replaceStrings [ "a" "bb" ] [ "1" "" ] "abba cab";
  intersperse = lib.intersperse "," [ "a" "b" "c" ];
  isStorePath = [ (isStorePath "/nix/store/00000000000000000000000000000000-a") (isStorePath "/srv/x") ];
  sanitize = sanitizeDerivationName "foo bar/baz..1";
  levenshtein = [ (levenshtein "kitten" "sitting") (levenshteinAtMost 2 "abc" "abd") ];
  commonPrefix = commonPrefixLength "foobar" "foobaz";
  addContextFrom = addContextFrom "a" "b";
  normalizePath = normalizePath "//a///b/";
  optionalStr = [ (optionalString true "x") (optionalString false "y") ];
  unsafeDiscard = lib.strings.unsafeDiscardStringContext "abc";
  splitRx = builtins.split "(a)|(b)" "xaybz";
  match = [ (builtins.match "([a-z]+)-([0-9.]+)" "hello-2.1") (builtins.match "a?" "b") ];
}
