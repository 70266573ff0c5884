# What nix-instantiate prints for a list in which derivations repeat: one
# line per distinct attribute set, not per .drv. The same set twice (d, s.a,
# d // {}, which Nix returns unchanged) is printed once; a copy
# (removeAttrs d [], d // { x = 1; }) is a new set with the same .drv and
# is printed again; a set that merely holds a derivation is not descended
# into.
let
  d = derivation { name = "identity"; builder = "/bin/sh"; system = "x86_64-linux"; };
  e = derivation { name = "identity-dev"; builder = "/bin/sh"; system = "x86_64-linux"; outputs = [ "out" "dev" ]; };
  s = { a = d; b = d; };
in
[ d d (d // { }) (builtins.removeAttrs d [ ]) s.a (d // { x = 1; }) { inherit d; } e.dev e e.dev e.out ]
