{ lib }:
let
  el = s: let e = lib.systems.elaborate s; in {
    inherit (e) system config isLinux isDarwin isx86_64 isAarch64 is64bit isStatic isMusl libc linker uname linuxArch qemuArch efiArch emulatorAvailable;
    parsed = lib.systems.parse.tripleFromSystem e.parsed;
    double = lib.systems.parse.doubleFromSystem e.parsed;
    cpu = { inherit (e.parsed.cpu) name bits family; significantByte = e.parsed.cpu.significantByte.name; };
    kernel = e.parsed.kernel.name;
    abi = e.parsed.abi.name;
    rust = { inherit (e.rust) rustcTarget platform; };
    go = e.go or null;
  };
in {
  systems = map el [ "x86_64-linux" "aarch64-linux" "aarch64-darwin" "x86_64-darwin" "i686-linux" "armv7l-linux" "riscv64-linux" "powerpc64le-linux" "wasm32-wasi" "x86_64-windows" ];
  crossConfigs = map (c: (lib.systems.elaborate { config = c; }).system) [ "aarch64-unknown-linux-musl" "x86_64-w64-mingw32" "armv6l-unknown-linux-gnueabihf" "riscv64-unknown-linux-gnu" ];
  doubles = builtins.length lib.systems.doubles.all;
  flakeExposed = lib.systems.flakeExposed;
  examples = builtins.attrNames lib.systems.examples;
  inspect = builtins.attrNames lib.systems.inspect.predicates;
}
