{ lib }:
# Every lib.systems.examples platform, elaborated.
builtins.mapAttrs (n: v:
  let
    e = lib.systems.elaborate v;
    r = builtins.tryEval (builtins.deepSeq e.parsed e.parsed);
  in {
    inherit (e) system config libc;
    parsed = if r.success then lib.systems.parse.tripleFromSystem r.value else null;
    emu = (builtins.tryEval (builtins.deepSeq e.emulatorAvailable e.emulatorAvailable)).value;
    rust = (builtins.tryEval e.rust.rustcTarget).value;
  }) lib.systems.examples
