#!/usr/bin/env bash
# The source hash cache end to end: `instantiate -A hello` on the corpus
# nixpkgs prints the reference .drv path and stores the same closure (every
# path, NAR hash, size and reference) with a cold cache, with a warm cache
# into a new store (cached objects absent from the store are added from
# their bytes), with a warm cache into the same store, with no usable
# cache and with the cache turned off in store.conf; the warm runs take
# their hashes from the cache (the log is not written). All entries are in
# one log file; two runs appending to a fresh cache at once leave a log
# every entry of which a later run reads. `store add` of a tree agrees with
# nix-hash before and after a change that keeps size and mtime.
# usage: pathcache_e2e.sh STRAYLIGHT CORPUS_DIR HELLO_CLOSURE_DIR
set -euo pipefail
bin=$1; corpus=$2; ref=$3
nixpkgs="$corpus/nixpkgs/nixpkgs.nix"
[ -e "$nixpkgs" ] || { echo "no corpus at $corpus (run scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH
fail() { echo "FAIL: $*"; exit 1; }
entries="$tmp/cache/straylight/path-hashes"
records() { grep -c '^@pc1 ' "$1/straylight/path-hashes/v1.log"; }
files() { ls "$1/straylight/path-hashes" | wc -l; }

run() { # run NAME STORE CACHE_HOME: instantiate, then the closure's path info
  local name=$1 store=$2
  if ! XDG_CACHE_HOME=$3 "$bin" instantiate --store "local:$store" -A hello "$nixpkgs" > "$tmp/$name.out" 2> "$tmp/$name.err"
  then cat "$tmp/$name.err"; fail "instantiate ($name)"; fi
  diff -u "$ref/root" "$tmp/$name.out" || fail "printed path ($name)"
  "$bin" store path-info --store "local:$store" -r --json "$(cat "$tmp/$name.out")" |
    python3 -c 'import json,sys; [print(p["path"], p["narHash"], p["narSize"], *sorted(p["references"])) for p in sorted(json.load(sys.stdin), key=lambda p: p["path"])]' \
    > "$tmp/$name.info"
}

run cold "$tmp/s1" "$tmp/cache"
n=$(records "$tmp/cache")
[ "$n" -ge 100 ] || fail "only $n entries recorded by the cold run"
[ "$(files "$tmp/cache")" -eq 1 ] || fail "the cache is not one file: $(ls "$entries")"
# the reference closure's source objects, as Nix hashed them
python3 - "$ref/closure.tsv" "$tmp/cold.info" <<'PY' || fail "closure differs from the reference"
import sys
want = {}
for line in open(sys.argv[1]):
    path, h, size, refs = line.rstrip("\n").split("\t")
    want[path] = f"{path} {h} {size} {refs}".rstrip()
got = {l.split(" ")[0]: l.rstrip("\n") for l in open(sys.argv[2])}
bad = [p for p in want if got.get(p) != want[p]]
for p in bad[:10]: print("differs:", got.get(p), "expected", want[p])
sys.exit(1 if bad or set(got) != set(want) else 0)
PY
touch -d '2001-01-01' "$tmp/stamp"
find "$entries" -type f -exec touch -d '2001-01-01' {} +
run warm-new-store "$tmp/s2" "$tmp/cache"
run warm-same-store "$tmp/s1" "$tmp/cache"
rewritten=$(find "$entries" -type f -newer "$tmp/stamp" | wc -l)
[ "$rewritten" -eq 0 ] || fail "the log was written by warm runs"
[ "$(records "$tmp/cache")" -eq "$n" ] || fail "warm runs added entries"
# two cold runs at once into one cache: both append; a third run takes
# every hash from what they left
run par1 "$tmp/s6" "$tmp/cache6" & p1=$!
run par2 "$tmp/s7" "$tmp/cache6" & p2=$!
wait $p1 || fail "concurrent run 1"; wait $p2 || fail "concurrent run 2"
[ "$(files "$tmp/cache6")" -eq 1 ] || fail "concurrent runs left more than the log"
size6=$(stat -c %s "$tmp/cache6/straylight/path-hashes/v1.log")
run after-par "$tmp/s8" "$tmp/cache6"
# unchanged, or (had it rewritten a log of duplicates) exactly the live entries
[ "$(stat -c %s "$tmp/cache6/straylight/path-hashes/v1.log")" -eq "$size6" ] || [ "$(records "$tmp/cache6")" -eq "$n" ] ||
  fail "a run after the concurrent ones missed"
# a file where the cache's directory should be: no cache, and no error
mkdir -p "$tmp/cache3/straylight"; touch "$tmp/cache3/straylight/path-hashes"
run no-cache "$tmp/s3" "$tmp/cache3"
# turned off in store.conf: nothing recorded
mkdir -p "$tmp/config-off/straylight"; echo 'path-hash-cache = off' > "$tmp/config-off/straylight/store.conf"
XDG_CONFIG_HOME=$tmp/config-off run off "$tmp/s5" "$tmp/cache5"
[ ! -e "$tmp/cache5/straylight/path-hashes" ] || fail "entries recorded with path-hash-cache = off"
for r in warm-new-store warm-same-store no-cache off par1 par2 after-par; do
  cmp "$tmp/cold.info" "$tmp/$r.info" || fail "closure of the $r run differs"
done
# every object of the store filled from the cache reads back and verifies
"$bin" store verify --store "local:$tmp/s2" > /dev/null || fail "verify of the warm-filled store"

# store add of a settled tree, cached, then changed in place keeping size and mtime
if command -v nix-hash > /dev/null; then
  src=$tmp/src; mkdir -p "$src/d"
  printf 'one\n' > "$src/d/f"; printf '#!/bin/sh\n' > "$src/x"; chmod +x "$src/x"; ln -s d/f "$src/l"
  sleep 3   # past the settle time, so the tree gets recorded
  hash_of() {
    local p; p=$(XDG_CACHE_HOME=$tmp/cache2 "$bin" store add --store "local:$tmp/s4" "$src") || return 1
    "$bin" store path-info --store "local:$tmp/s4" --json "$p" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["narHash"])'
  }
  want="sha256:$(nix-hash --type sha256 --base32 "$src")"
  [ "$(hash_of)" = "$want" ] || fail "store add: $(hash_of) != $want"
  [ "$(records "$tmp/cache2")" -eq 1 ] || fail "store add recorded no entry"
  old=$(stat -c %y "$src/d/f")
  printf 'two\n' > "$src/d/f"; touch -d "$old" "$src/d/f"
  want2="sha256:$(nix-hash --type sha256 --base32 "$src")"
  [ "$want2" != "$want" ] || fail "the change did not change nix-hash's hash"
  [ "$(hash_of)" = "$want2" ] || fail "store add after an in-place change: $(hash_of) != $want2"
fi
echo "pathcache: $n entries; cold, warm (new store), warm (same store) and cacheless runs agree with the reference closure"
