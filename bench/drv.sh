#!/usr/bin/env bash
# Times straylight's action-graph and SBOM exports of the hello .drv closure
# against Nix's own closure walks on the same closure, in one run:
#   nix-store -q --tree DRV          (walks the same .drv closure)
#   nix show-derivation -r DRV       (parses every .drv of it, prints JSON)
# Needs the closure in the store (the corpus copy is used for straylight when
# it is not). Prints mean wall and CPU time over N runs and peak RSS; CPU
# time is the steadier figure on a shared machine.
# Then the same from the installable (the corpus nixpkgs stand-in's hello,
# evaluated in-process into a scratch straylight store) against
# nix-instantiate followed by nix-store -q --tree, over N_EVAL runs.
# usage: bench/drv.sh [BUILD_DIR] [N] [N_EVAL]
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
n=${2:-20}
n_eval=${3:-5}
sl="$build/straylight"
corpus="$here/corpus/hello-closure"
root=$(cat "$corpus/root")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -e "$root" ]; then drv=$root; else drv="$corpus/store/$(basename "$root")"; fi

run() {   # run LABEL CMD...: mean wall and CPU (user+sys) ms over n runs, peak RSS of one run
  local label=$1; shift
  "$@" > /dev/null 2>&1 || { printf '%-34s failed\n' "$label"; return; }
  local TIMEFORMAT='%R %U %S' t
  t=$( { time (for _ in $(seq "$n"); do "$@" > /dev/null 2>&1; done) ; } 2>&1 )
  local rss=""
  if [ -x /usr/bin/time ] && [ "$(type -t "$1")" = file ]; then rss=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1); rss="${rss} KiB"; fi
  read -r real user sys <<< "$t"
  printf '%-34s wall %7.1f ms  cpu %7.1f ms  %s\n' "$label" "$(echo "$real * 1000 / $n" | bc -l)" \
    "$(echo "($user + $sys) * 1000 / $n" | bc -l)" "$rss"
}

echo "hello closure: $(ls "$corpus"/store/*.drv | wc -l) derivations, $n runs each"
run "straylight graph --format json" "$sl" graph "$drv"
run "straylight graph --format dot" "$sl" graph "$drv" --format dot
# rev2 into a fresh CAS directory each run (the first export writes every
# blob; later ones into the same directory only check they exist).
i=0
rev2_fresh() { i=$((i + 1)); "$sl" graph "$drv" --format rev2 --out "$work/cas.$i"; }
run "straylight graph --format rev2" rev2_fresh
run "  (rev2, CAS already filled)" "$sl" graph "$drv" --format rev2 --out "$work/cas.1"
run "straylight sbom (cyclonedx)" "$sl" sbom "$drv"
run "straylight sbom --format spdx" "$sl" sbom "$drv" --format spdx
if command -v nix-store > /dev/null && [ -e "$root" ]; then
  run "nix-store -q --tree" nix-store -q --tree "$root"
  run "nix show-derivation -r" nix --extra-experimental-features nix-command show-derivation -r "$root"
else
  echo "(nix-bin or the closure in the store is missing: no Nix timings)"
fi

pkgs="$build/corpus/nixpkgs/nixpkgs.nix"
if [ -x "$sl" ] && [ -f "$pkgs" ]; then
  echo "hello from the installable ($pkgs -A hello), $n_eval runs each"
  n=$n_eval
  # the first run writes the .drv closure into the scratch store, later runs
  # find it there (as nix-instantiate's later runs find theirs in /nix/store)
  st="env STRAYLIGHT_STORE=local:$work/store XDG_CACHE_HOME=$work/cache"
  run "straylight instantiate -A hello" $st "$sl" instantiate "$pkgs" -A hello
  run "straylight graph -f -A hello" $st "$sl" graph -f "$pkgs" -A hello
  run "straylight sbom -f -A hello" $st "$sl" sbom -f "$pkgs" -A hello
  run "straylight sbom --format spdx -A" $st "$sl" sbom -f "$pkgs" -A hello --format spdx
  if command -v nix-instantiate > /dev/null && command -v nix-store > /dev/null; then
    nix_tree() { nix-store -q --tree "$(nix-instantiate "$pkgs" -A hello 2>/dev/null)"; }
    run "nix-instantiate -A hello" nix-instantiate "$pkgs" -A hello
    run "nix-instantiate + nix-store --tree" nix_tree
  else
    echo "(nix-instantiate is missing: no Nix timings)"
  fi
else
  echo "(no $pkgs: scripts/setup.sh $build unpacks it)"
fi
