# Small derivations whose builders record what Nix gives them at build time:
# the environment, and the files passAsFile and structured attributes create.
# Built with the sandbox off, so the builders are the host's /bin/sh.
let
  sh = "/bin/sh";
in {
  plain = derivation {
    name = "dv-plain"; system = "x86_64-linux"; builder = sh;
    args = [ "-c" "/bin/mkdir $out; /usr/bin/env | /usr/bin/sort > $out/env; for f in .attr-*; do /bin/cp $f $out/; done" ];
    passAsFile = [ "big" "other" ]; big = "line1\nline2 'q' \"dq\""; other = "x"; flag = true; off = false;
    n = 42; lst = [ "a" "b" 3 ]; PATH = "/overridden"; NIX_BUILD_TOP = "/not-overridable"; empty = "";
  };
  structured = derivation {
    name = "dv-structured"; system = "x86_64-linux"; builder = sh; __structuredAttrs = true;
    args = [ "-c" "for o in out dev; do p=$(/bin/grep -o \"\\\\['$o'\\\\]='[^']*'\" $NIX_ATTRS_SH_FILE | /usr/bin/cut -d\"'\" -f4); /bin/mkdir $p; done; p=$(/bin/grep -o \"\\\\['out'\\\\]='[^']*'\" $NIX_ATTRS_SH_FILE | /usr/bin/cut -d\"'\" -f4); /usr/bin/env | /usr/bin/sort > $p/env; /bin/cp $NIX_ATTRS_JSON_FILE $p/attrs.json; /bin/cp $NIX_ATTRS_SH_FILE $p/attrs.sh" ];
    outputs = [ "out" "dev" ];
    str = "it's \"quoted\"\n\ttab"; int = 42; neg = -7; flt = 1.5; whole = 2.0; nul = null; t = true; f = false;
    lst = [ "a" 1 true null ]; nested = [ [ 1 ] ]; obj = { a = "x"; b = 2; "c d" = false; q = "it's"; };
    deepobj = { a = { b = 1; }; }; "bad-name" = "skip"; _under = "ok"; unicode = "é€😀";
    emptylist = [ ]; emptyobj = { }; requiredSystemFeatures = [ ]; ctrl = "a\u0001b";
  };
  fixed = derivation {
    name = "dv-fixed"; system = "x86_64-linux"; builder = sh;
    args = [ "-c" "/usr/bin/env | /usr/bin/sort > $NIX_BUILD_TOP/../dv-fixed-env; printf hello > $out" ];
    outputHashMode = "flat"; outputHashAlgo = "sha256";
    outputHash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    impureEnvVars = [ "DV_IMPURE" ];
  };
  # Refers to plain's output at run time; structured is only a build input.
  refs = derivation {
    name = "dv-refs"; system = "x86_64-linux"; builder = sh;
    args = [ "-c" "x=${(import ./envtest.nix).structured}; echo ${(import ./envtest.nix).plain} > $out" ];
  };
}
