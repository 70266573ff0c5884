{ lib }:
# builtins.toJSON of floats: Nix 2.8 writes them with six significant digits
# (`1.23457e+08`, `0` for 0.0).
map builtins.toJSON [ 123456789.123 0.0 1.0 3.14159265 (-2.5) 1.0e-5 1.0e300 100000.0 1000000.0 ]
