# Derivations that exercise each coeffect the lowering reads. Only
# instantiated (never built): the tests check the grades and the taint.
let
  mk = args: derivation ({ system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "exit 1" ]; } // args);
  nochroot = mk { name = "g-nochroot"; __noChroot = true; };
  hostdeps = mk { name = "g-hostdeps"; __impureHostDeps = [ "/usr/lib/libSystem.dylib" "/bin/sh" ]; };
  features = mk { name = "g-features"; requiredSystemFeatures = [ "kvm" "big-parallel" "cuda" ]; };
  structuredFeatures = mk { name = "g-structured"; __structuredAttrs = true; requiredSystemFeatures = [ "opengl" ]; __noChroot = false; };
  epoch = mk { name = "g-epoch"; SOURCE_DATE_EPOCH = "315532800"; };
  envIgnored = mk { name = "g-envignored"; impureEnvVars = [ "HTTP_PROXY" ]; };
  sealed = mk { name = "g-sealed"; dep = nochroot; outputHashMode = "recursive"; outputHashAlgo = "sha256";
    outputHash = "0000000000000000000000000000000000000000000000000000"; impureEnvVars = [ "http_proxy" ]; };
  fetch = derivation { name = "g-fetch"; system = "builtin"; builder = "builtin:fetchurl"; url = "https://example.org/x";
    urls = [ "https://example.org/x" "https://mirror.example.org/x" ]; outputHashMode = "flat"; outputHashAlgo = "sha256";
    outputHash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"; };
  impure = mk { name = "g-impure"; __impure = true; };
in mk {
  name = "g-root";
  deps = [ nochroot hostdeps features structuredFeatures epoch envIgnored sealed fetch impure ];
  afterSeal = mk { name = "g-after-seal"; inherit sealed; };
  afterTaint = mk { name = "g-after-taint"; inherit nochroot; };
}
