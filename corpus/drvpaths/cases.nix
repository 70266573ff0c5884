# Derivations that exercise every attribute derivationStrict treats specially.
# corpus/gen-drvpaths.sh --cases writes cases.tsv from this file with
# nix-instantiate; tests/e2e checks straylight gives the same .drv paths and
# output paths (a .drv path is the hash of the file's bytes, so equal paths
# mean byte-identical .drv files).
let
  base = { system = "x86_64-linux"; builder = "/bin/sh"; };
  mk = attrs: derivation (base // attrs);
  dep = mk { name = "dep"; outputs = [ "out" "dev" "lib" ]; };
  file = builtins.toFile "script.sh" "cat ${builtins.toFile "data" "x"}";
  sha = "0000000000000000000000000000000000000000000000000000";
in {
  plain = mk { name = "plain"; };
  args = mk { name = "args"; args = [ "-c" "echo hi" 1 true null [ "a" "b" ] ]; };
  env-types = mk { name = "env-types"; i = 42; f = 1.5; t = true; n = null; l = [ 1 "x" [ 2 ] ]; p = ./src/hello.txt; dir = ./src; };
  multi-out = mk { name = "multi-out"; outputs = [ "out" "bin" "dev" ]; };
  # `derivation` needs a list; derivationStrict also takes a string of names
  outputs-string = let s = builtins.derivationStrict (base // { name = "outputs-string"; outputs = " bin\tout\n"; }); in {
    type = "derivation"; inherit (s) drvPath; outputs = [ "bin" "out" ]; outputName = "out";
    bin.outPath = s.bin; out.outPath = s.out;
  };
  deps = mk { name = "deps"; buildInputs = [ dep dep.dev ]; lib = "${dep.lib}/lib"; };
  drv-deep = mk { name = "drv-deep"; d = dep.drvPath; };
  discard-output-dep = mk { name = "discard-output-dep"; d = builtins.unsafeDiscardOutputDependency dep.drvPath; };
  to-file = mk { name = "to-file"; script = file; };
  nested = mk { name = "nested"; inner = mk { name = "inner"; x = dep; }; };
  structured = mk {
    name = "structured";
    __structuredAttrs = true;
    outputs = [ "out" "doc" ];
    int = 1; float = 0.1; big = 1.0e30; neg = -3; str = "a\"b\\c\n\t\u0001é";
    list = [ 1 [ ] { } null true ];
    set = { z = 1; a = { b = dep; }; "with space" = 2; };
    drv = dep;
    allowedReferences = [ ];
    disallowedRequisites = [ dep ];
    exportReferencesGraph.graph = [ dep ];
  };
  ignore-nulls = mk { name = "ignore-nulls"; __ignoreNulls = true; a = null; b = "b"; };
  pass-as-file = mk { name = "pass-as-file"; passAsFile = [ "text" ]; text = "hello"; };
  fixed-flat-nix32 = mk { name = "fixed-flat-nix32"; outputHashAlgo = "sha256"; outputHash = sha; };
  fixed-flat-sri = mk { name = "fixed-flat-sri"; outputHash = "sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA="; };
  fixed-recursive = mk { name = "fixed-recursive"; outputHashMode = "recursive"; outputHashAlgo = "sha256";
                         outputHash = "8d990a2afd92576f30b0cd7cb42a8dc4a0998cbc5d6087761f877544b6c7db20"; };
  fixed-sha1 = mk { name = "fixed-sha1"; outputHashAlgo = "sha1"; outputHash = "da39a3ee5e6b4b0d3255bfef95601890afd80709"; };
  fixed-sha512-b64 = mk { name = "fixed-sha512-b64"; outputHashMode = "recursive";
                          outputHash = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="; };
  fixed-md5 = mk { name = "fixed-md5"; outputHashAlgo = "md5"; outputHash = "d41d8cd98f00b204e9800998ecf8427e"; };
  fixed-dep = mk { name = "fixed-dep"; outputHash = "sha256-jZkUKv2SV28wsM18tCqNxoCZmLxdYH2Idh9RLibH2yA="; src = dep; };
  uses-fixed = mk { name = "uses-fixed"; src = mk { name = "src"; outputHashAlgo = "sha256"; outputHash = sha; }; };
  placeholder = mk { name = "placeholder"; outputs = [ "out" "dev" ]; x = "${placeholder "dev"}/include"; };
  meta-attr = mk { name = "meta-attr"; meta = "ordinary"; };
  name-chars = mk { name = "a+b-c.d_e?f=g"; };
  # floating content-addressed (experimental feature ca-derivations)
  ca-floating = mk { name = "ca-floating"; __contentAddressed = true; outputs = [ "out" "dev" ]; };
  ca-flat-sha1 = mk { name = "ca-flat-sha1"; __contentAddressed = true; outputHashMode = "flat"; outputHashAlgo = "sha1"; };
  uses-ca = mk { name = "uses-ca"; src = (mk { name = "ca-dep"; __contentAddressed = true; }); };
  uses-uses-ca = mk { name = "uses-uses-ca"; src = (mk { name = "uses-ca-inner"; src = (mk { name = "ca-dep2"; __contentAddressed = true; }); }); };
}
