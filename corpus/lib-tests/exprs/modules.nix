{ lib }:
let
  inherit (lib) mkOption types mkIf mkMerge mkDefault mkForce mkOverride mkBefore mkAfter;
  eval = lib.evalModules {
    modules = [
      ({ config, ... }: {
        options = {
          name = mkOption { type = types.str; default = "x"; };
          count = mkOption { type = types.ints.between 0 10; default = 1; };
          enable = mkOption { type = types.bool; default = false; };
          list = mkOption { type = types.listOf types.str; default = [ ]; };
          attrs = mkOption { type = types.attrsOf types.int; default = { }; };
          lines = mkOption { type = types.lines; default = ""; };
          either = mkOption { type = types.either types.int types.str; };
          enum = mkOption { type = types.enum [ "a" "b" ]; default = "a"; };
          nullable = mkOption { type = types.nullOr types.port; default = null; };
          sub = mkOption {
            type = types.attrsOf (types.submodule ({ name, ... }: {
              options.label = mkOption { type = types.str; default = "label-${name}"; };
              options.prio = mkOption { type = types.int; default = 0; };
            }));
            default = { };
          };
          derived = mkOption { type = types.str; readOnly = true; };
          pkg = mkOption { type = types.package; };
          sep = mkOption { type = types.separatedString ":"; default = ""; };
          coerced = mkOption { type = types.coercedTo types.int toString types.str; };
        };
        config = {
          derived = "${config.name}-${toString config.count}";
          list = mkBefore [ "first" ];
          pkg = { type = "derivation"; name = "p"; outPath = "/nix/store/00000000000000000000000000000000-p"; };
        };
      })
      { name = mkForce "forced"; count = 7; enable = true; list = [ "mid" ]; attrs.a = 1; lines = "l1"; either = "s"; sep = "a"; coerced = 42; }
      { name = "ignored"; list = mkAfter [ "last" ]; attrs.b = mkDefault 2; lines = mkIf true "l2"; sub.foo = { }; sub.bar.prio = 5; sep = "b"; }
      { attrs = mkMerge [ { c = 3; } (mkIf false { d = 4; }) ]; enum = mkOverride 10 "b"; nullable = 8080; }
    ];
  };
  c = eval.config;
  typeCheck = t: v: (builtins.tryEval (lib.evalModules { modules = [ { options.o = mkOption { type = t; }; config.o = v; } ]; }).config.o).success;
in {
  config = { inherit (c) name count enable list attrs lines either enum nullable sub derived sep coerced; pkgName = c.pkg.name; };
  optionNames = builtins.attrNames eval.options;
  descriptions = map (n: eval.options.${n}.type.description) [ "count" "list" "attrs" "either" "enum" "nullable" "sub" "sep" "coerced" ];
  optionDocs = map (o: { inherit (o) name type; }) (lib.optionAttrSetToDocList { inherit (eval.options) name count; });
  checks = [ (typeCheck types.int "x") (typeCheck types.str "y") (typeCheck types.port 70000) (typeCheck (types.strMatching "[a-z]+") "abc") (typeCheck types.path "/x") (typeCheck types.nonEmptyStr "") ];
  showOption = [ (lib.showOption [ "a" "b c" "<name>" ]) (lib.showFiles [ "/x/y.nix" ]) ];
  mergeEqual = lib.mergeEqualOption [ "o" ] [ { file = "a"; value = 1; } { file = "b"; value = 1; } ];
  literal = [ (lib.literalExpression "pkgs.x") (lib.literalMD "*x*") ];
}
