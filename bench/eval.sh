#!/usr/bin/env bash
# Evaluator benchmarks: straylight eval against nix-instantiate --eval on the
# same expressions, in one run (wall and CPU time and peak RSS from /usr/bin/time).
# The last two use nixpkgs-core's lib: its own test suite (lib/tests/misc.nix,
# evaluated strictly) and a mix of common lib functions over larger data.
# usage: bench/eval.sh [STRAYLIGHT] [NIX_INSTANTIATE] [CORPUS_DIR]  (BENCH_RUNS: runs per figure, default 3)
set -u
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
sl=${1:-build/straylight}
nix=${2:-nix-instantiate}
corpus=$(realpath "${3:-build/corpus}")
lib="$corpus/nixpkgs/nixpkgs-core/lib"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/foldl.nix" <<'N'
builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 10000000)
N
cat >"$tmp/calls.nix" <<'N'
let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 27
N
cat >"$tmp/attrs.nix" <<'N'
let
  step = acc: i: acc // { "k${toString (i - i / 1024 * 1024)}" = i; last = i; };
  sets = builtins.genList (i: { a = i; b = i + 1; c = { d = i; }; }) 300000;
in (builtins.foldl' step { } (builtins.genList (x: x) 200000)).last
   + builtins.length (builtins.filter (s: s.c.d > 5) sets)
N
cat >"$tmp/lists.nix" <<'N'
let
  l = builtins.genList (x: x * 2) 2000000;
  m = map (x: x + 1) l;
  c = builtins.concatLists (builtins.genList (i: [ i i ]) 500000);
in builtins.length (builtins.filter (x: x > 100) m) + builtins.length c + builtins.elemAt m 12345
N
cat >"$tmp/strings.nix" <<'N'
let
  s = builtins.foldl' (acc: i: acc + "x") "" (builtins.genList (x: x) 20000);
  t = map (i: "item-${toString i}-${s}") (builtins.genList (x: x) 2000);
in builtins.stringLength (builtins.concatStringsSep "," t)
N
cat >"$tmp/lib-fns.nix" <<N
let
  lib = import $lib;
  xs = lib.range 1 20000;
  names = map (i: "name-\${toString i}") xs;
  set = lib.genAttrs names (name: lib.stringLength name);
  mapped = lib.mapAttrs' (k: v: lib.nameValuePair (lib.toUpper k) (v * 2)) set;
  filtered = lib.filterAttrs (k: v: lib.hasSuffix "7" k) mapped;
  s = lib.concatMapStringsSep "," (x: lib.fixedWidthNumber 6 x) xs;
  parts = lib.splitString "," s;
  sorted = lib.sort (a: b: a > b) (lib.reverseList xs);
  uniq = lib.unique (map (x: lib.mod x 300) (lib.take 3000 xs));
  versions = map (i: lib.versionOlder "1.\${toString i}.0" "1.100.0") (lib.range 1 3000);
  merged = lib.recursiveUpdate { a = set; } { a = mapped; };
  folded = lib.foldl' (acc: x: acc // { "k\${toString (lib.mod x 100)}" = x; }) { } xs;
  strs = lib.concatStringsSep "" (map (x: lib.escapeShellArg "it's \${toString x}") (lib.take 5000 xs));
in
builtins.length parts + lib.length (lib.attrNames filtered) + lib.head sorted + lib.length uniq
+ lib.count (x: x) versions + lib.length (lib.attrNames merged.a) + lib.length (lib.attrNames folded)
+ lib.stringLength strs
N
runs=${BENCH_RUNS:-3}
measure() { # cmd... -> best wall s, best CPU s (user + system), least peak RSS KiB of $runs runs
  # Both clocks: CPU time is steadier on a shared machine, wall time is what
  # a user waits (and counts a collector's helper threads only once).
  : > "$tmp/times"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -o "$tmp/time" -f "%e %U %S %M" "$@" >/dev/null 2>&1
    cat "$tmp/time" >> "$tmp/times"
  done
  awk 'NR == 1 || $1 < e { e = $1 } NR == 1 || $2 + $3 < c { c = $2 + $3 } NR == 1 || $4 < m { m = $4 }
       END { printf "%.2f %.2f %d\n", e, c, m }' "$tmp/times"
}
printf "%-10s %24s %24s %23s\n" "" "straylight" "nix-instantiate" "ratio (nix / straylight)"
printf "%-10s %7s %7s %8s %7s %7s %8s %7s %7s %7s\n" bench wall cpu MB wall cpu MB wall cpu memory
for b in foldl calls attrs lists strings lib-fns lib-tests; do
  f="$tmp/$b.nix" strict=
  [ $b = lib-tests ] && { f="$lib/tests/misc.nix"; strict=--strict; }
  a=$(measure "$sl" eval $strict "$f"); n=$(measure "$nix" --eval $strict "$f")
  r1=$("$sl" eval $strict "$f" 2>&1); r2=$("$nix" --eval $strict "$f" 2>&1)
  [ "$r1" = "$r2" ] || echo "RESULT MISMATCH in $b: straylight '$r1' vs nix '$r2'"
  read -r ae ac am <<<"$a"; read -r ne nc nm <<<"$n"
  printf "%-10s %7s %7s %8d %7s %7s %8d %6.2fx %6.2fx %6.2fx\n" "$b" "$ae" "$ac" $((am / 1024)) "$ne" "$nc" $((nm / 1024)) \
    "$(echo "$ne / $ae" | bc -l)" "$(echo "$nc / $ac" | bc -l)" "$(echo "$nm / $am" | bc -l)"
done
echo "(ratios: how many times faster / smaller straylight is; each figure the best of $runs runs)"
