{ lib }:
with lib.trivial; {
  id = [ (id 1) (const 1 2) (pipe 2 [ (x: x + 1) (x: x * 3) ]) (flip builtins.sub 1 10) ];
  bool = [ (and true false) (lib.trivial.or true false) (xor true true) (boolToString false) ];
  bits = [ (bitAnd 12 10) (bitOr 12 10) (bitXor 12 10) (bitNot 5) (mod (-7) 3) (builtins.div (-7) 2) ];
  compare = [ (compare 1 2) (compare "b" "a") (compare 3 3) (splitByAndCompare (lib.hasPrefix "a") compare compare "abc" "b") ];
  functionArgs = [ (functionArgs ({ a, b ? 1, ... }: a)) (isFunction id) (setFunctionArgs (x: x) { a = true; }).__functionArgs ];
  mirror = mirrorFunctionArgs ({ x, y ? 2 }: x) (args: args);
  toFunction = [ (toFunction 5 1) (toFunction (x: x + 1) 1) ];
  hex = [ (toHexString 255) (toHexString 0) (toBaseDigits 2 10) ];
  importJSON = lib.isAttrs (lib.importJSON ./data.json);
  warnIf = warnIf false "no" 1;
  throwIf = (builtins.tryEval (throwIfNot false "t" 1)).success;
  inPure = lib.inPureEvalMode;
  seqs = [ (seq 1 2) (deepSeq { a = [ 1 ]; } 3) ];
  numbers = [ (builtins.ceil 1.5) (builtins.floor (-1.5)) (1 / 3.0) (7 / 2) (2.0 * 3) (builtins.toString 0.1) (builtins.toString 1.0e20) (builtins.toString 123.456e3) ];
  typeOf = map builtins.typeOf [ 1 1.0 "s" true null [ ] { } (x: x) ./. ];
}
