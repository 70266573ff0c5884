# Derivations that need an experimental feature: content-addressed
# (ca-derivations) and impure (impure-derivations).
let mk = a: derivation ({ builder = "/bin/sh"; system = "x86_64-linux"; } // a); in
{
  ca = mk { name = "gate-ca"; __contentAddressed = true; outputs = [ "out" "dev" ]; };
  impure = mk { name = "gate-impure"; __impure = true; };
}
