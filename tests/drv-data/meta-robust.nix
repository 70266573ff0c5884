# Dependencies whose meta throws, aborts, recurses forever or is not an attrset:
# recording the closure meta must not change the .drv path nix-instantiate
# 2.8 gives (/nix/store/m99pzq3fmqsl36dv2n57r9wdyqs1xsbh-top.drv) nor print anything.
let
  mk = name: attrs: meta: let d = derivation ({ inherit name; builder = "/bin/sh"; system = "x86_64-linux"; } // attrs); in d // { inherit meta; };
  rec1 = rec { a = a; };
  dep1 = mk "dep1" {} { license = { spdxId = "MIT"; }; homepage = "https://a"; description = throw "x"; };
  dep2 = mk "dep2" {} { license = abort "nope"; homepage = "https://b"; };
  dep3 = mk "dep3" {} (let m = { license = m.license; homepage = "https://c"; identifiers = rec1; }; in m);
  dep4 = mk "dep4" {} (throw "whole meta throws");
in mk "top" { deps = [ dep1 dep2 dep3 dep4 ]; } { description = "top"; }
