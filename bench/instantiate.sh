#!/usr/bin/env bash
# Instantiation benchmarks against nix-instantiate, in one run:
#   hello   `instantiate -A hello` on the corpus nixpkgs (.drv closure written
#           to a fresh store for straylight, to the Nix store for Nix)
#   walk    every derivation of the corpus package set that nix-instantiate
#           evaluates (the rows of nixpkgs-core-drvpaths.tsv with a drvPath,
#           one attribute per .drv), instantiated in one evaluation without
#           writing .drv files (--dry-run, Nix's --readonly-mode); the
#           printed lists must be identical
#
# One attribute per .drv: nix-instantiate prints a derivation once per
# attribute *set*, and whether two attributes give the same set depends on
# the Nix version. Nix 2.8 evaluates the source of `inherit (e) a b` once per
# inherited name, Nix >= 2.21 and straylight once (the conformance suite's
# eval-okay-inherit-from), so for nixpkgs' `inherit (rec { llvmPackages_18 =
# ...; clang_18 = llvmPackages_18.clang; ... }) ...` clang_18 and
# llvmPackages_18.clang are two sets for Nix 2.8 and one for straylight.
# Listing every .drv once leaves nothing version-dependent to print.
#   walk-tsv straylight's per-attribute walk with error isolation (no Nix
#           equivalent: Nix 2.8 stops at the first uncatchable error)
# Wall time, CPU time (user + system) and peak RSS from /usr/bin/time, each
# the best of BENCH_RUNS runs (default 3); the ratio of the median wall
# times; and, as the two programs' runs alternate, the median of the ratios
# of each pair of runs (a Nix run over the straylight run just before it),
# which a slow spell of the machine shifts least.
# usage: bench/instantiate.sh [STRAYLIGHT] [CORPUS_DIR] [NIX_INSTANTIATE]
set -u
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
sl=$(realpath "${1:-build/straylight}")
corpus=$(realpath "${2:-build/corpus}")
nix=${3:-nix-instantiate}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH
core="$corpus/nixpkgs/nixpkgs-core"
# the attribute paths that evaluate, as a Nix list of lists of names
awk -F'\t' 'NR > 1 && $2 != "" && !seen[$2]++ { n = split($1, p, "."); s = "[";
  for (i = 1; i <= n; i++) s = s " \"" p[i] "\""; print s " ]" }' "$corpus/nixpkgs-core-drvpaths.tsv" > "$tmp/paths"
{ echo "let pkgs = import $core { system = \"x86_64-linux\"; }; paths = ["; cat "$tmp/paths"
  echo "]; in map (p: builtins.foldl' (v: n: v.\${n}) pkgs p) paths"; } > "$tmp/walk.nix"

runs=${BENCH_RUNS:-3}
# The machine's speed drifts (other tenants, the host's memory): runs of
# the two programs alternate, so that both see the same conditions, rather
# than all of one program's runs and then all of the other's.
run_once() { # timesfile outfile cmd...
  local times=$1 out=$2 rc; shift 2
  /usr/bin/time -o "$tmp/time" -f "%e %U %S %M" "$@" >"$out" 2>"$tmp/stderr"
  rc=$?
  [ $rc = 0 ] || { echo "FAILED ($rc): $*" >&2; head -5 "$tmp/stderr" >&2; }
  cat "$tmp/time" >> "$times"
}
# best wall, best CPU (user + system), least peak RSS, median wall
summary() {
  local med
  med=$(awk '{ print $1 }' "$1" | sort -n | awk '{ w[NR] = $1 } END { print w[int((NR + 1) / 2)] }')
  awk -v med="$med" 'NR == 1 || $1 < e { e = $1 } NR == 1 || $2 + $3 < c { c = $2 + $3 } NR == 1 || $4 < m { m = $4 }
       END { printf "%.2f %.2f %d %.2f\n", e, c, m, med }' "$1"
}
# pair NAME: alternates "${sl_cmd[@]}" and "${nix_cmd[@]}", outputs to
# $tmp/sl.NAME and $tmp/nix.NAME; sets s and n to their summaries
pair() {
  local i
  : > "$tmp/t.sl"; : > "$tmp/t.nix"
  for ((i = 0; i < runs; i++)); do
    run_once "$tmp/t.sl" "$tmp/sl.$1" "${sl_cmd[@]}"
    run_once "$tmp/t.nix" "$tmp/nix.$1" "${nix_cmd[@]}"
  done
  s=$(summary "$tmp/t.sl"); n=$(summary "$tmp/t.nix")
  # each Nix run against the straylight run just before it, which saw the
  # same state of the machine: the median of those ratios
  p=$(paste -d' ' "$tmp/t.sl" "$tmp/t.nix" | awk '{ print $5 / $1 }' | sort -n |
      awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }')
}
measure() { # outfile cmd...: straylight alone
  local out=$1 i; shift
  : > "$tmp/times"
  for ((i = 0; i < runs; i++)); do run_once "$tmp/times" "$out" "$@"; done
  summary "$tmp/times"
}
row() { # name "straylight e c m w" "nix e c m w" paired
  read -r se sc sm sw <<<"$2"; read -r ne nc nm nw <<<"$3"
  printf "%-9s %7s %7s %7d   %7s %7s %7d   %6.2fx %6.2fx %6.2fx   %6.2fx %6.2fx\n" "$1" "$se" "$sc" $((sm / 1024)) \
    "$ne" "$nc" $((nm / 1024)) "$(echo "$ne / $se" | bc -l)" "$(echo "$nc / $sc" | bc -l)" "$(echo "$nm / $sm" | bc -l)" \
    "$(echo "$nw / $sw" | bc -l)" "$4"
}
printf "%-9s %25s   %25s   %23s   %15s\n" "" "straylight" "nix-instantiate" "ratio (nix / straylight)" "median wall"
printf "%-9s %7s %7s %7s   %7s %7s %7s   %7s %7s %7s   %7s %7s\n" bench wall cpu MB wall cpu MB wall cpu memory ratio paired

# both with the sources already in their store (Nix's are, from earlier runs)
"$sl" instantiate --store "local:$tmp/store" -A hello "$corpus/nixpkgs/nixpkgs.nix" >/dev/null 2>&1
"$nix" -A hello "$corpus/nixpkgs/nixpkgs.nix" >/dev/null 2>&1
sl_cmd=("$sl" instantiate --store "local:$tmp/store" -A hello "$corpus/nixpkgs/nixpkgs.nix")
nix_cmd=("$nix" -A hello "$corpus/nixpkgs/nixpkgs.nix")
pair hello
cmp -s "$tmp/sl.hello" "$tmp/nix.hello" || echo "RESULT MISMATCH (hello): $(cat "$tmp/sl.hello") vs $(cat "$tmp/nix.hello")"
row hello "$s" "$n" "$p"

sl_cmd=("$sl" instantiate --dry-run "$tmp/walk.nix")
nix_cmd=("$nix" --readonly-mode "$tmp/walk.nix")
pair walk
cmp -s "$tmp/sl.walk" "$tmp/nix.walk" || echo "RESULT MISMATCH (walk): the drvPath lists differ"
row "walk" "$s" "$n" "$p"
echo "walk: $(wc -l < "$tmp/paths") derivations"

s=$(measure "$tmp/sl.tsv" "$sl" instantiate --dry-run --walk-tsv -E "import $core { system = \"x86_64-linux\"; }")
read -r se sc sm _ <<<"$s"
printf "%-9s %7s %7s %7d   (%d attributes, each isolated)\n" walk-tsv "$se" "$sc" $((sm / 1024)) $(($(wc -l < "$tmp/sl.tsv") - 1))
