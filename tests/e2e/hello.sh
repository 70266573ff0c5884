#!/usr/bin/env bash
# `straylight instantiate -A hello` on the corpus nixpkgs must print
# nix-instantiate's .drv path and leave in the store every object of the
# closure: .drv files byte-identical to the reference copies, sources with
# the reference NAR hashes, sizes and references.
# usage: hello.sh STRAYLIGHT CORPUS_DIR HELLO_CLOSURE_DIR
set -euo pipefail
bin=$1; corpus=$2; ref=$3
nixpkgs="$corpus/nixpkgs/nixpkgs.nix"
[ -e "$nixpkgs" ] || { echo "no corpus at $corpus (run scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH
store="local:$tmp/store"
if ! "$bin" instantiate --store "$store" --meta-dir "$tmp/meta" -A hello "$nixpkgs" > "$tmp/out" 2> "$tmp/err"; then
  cat "$tmp/err"; exit 1
fi
diff -u "$ref/root" "$tmp/out"
# the store's view of the closure, in one query
"$bin" store path-info --store "$store" -r --json "$(cat "$tmp/out")" > "$tmp/closure.json"
python3 - "$ref/closure.tsv" "$tmp/closure.json" <<'PY'
import json, sys
want = {}
for line in open(sys.argv[1]):
    path, h, size, refs = line.rstrip("\n").split("\t")
    want[path] = (h, int(size), refs.split(" ") if refs else [])
got = {p["path"]: (p["narHash"], p["narSize"], sorted(p["references"])) for p in json.load(open(sys.argv[2]))}
bad = [p for p in want if got.get(p) != want[p]]
for p in bad[:10]:
    print(f"differs: {p}: {got.get(p)} (expected {want[p]})")
extra = [p for p in got if p not in want]
for p in extra[:10]:
    print(f"not in the reference closure: {p}")
sys.exit(1 if bad or extra else 0)
PY
ndrv=0
for path in $(cut -f1 "$ref/closure.tsv" | grep '\.drv$'); do
  "$bin" store cat --store "$store" "$path" > "$tmp/drv"
  cmp "$tmp/drv" "$ref/store/$(basename "$path")"
  ndrv=$((ndrv + 1))
done
# the recorded meta (docs/sbom.md): hello's meta as toJSON renders it
python3 - "$tmp/meta/$(basename "$(cat "$tmp/out")").meta.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
want = {"description": "Program that produces a familiar, friendly greeting",
        "homepage": "https://www.gnu.org/software/hello/manual/", "mainProgram": "hello",
        "name": "hello-2.12.1", "position": None}
assert m["license"]["spdxId"] == "GPL-3.0-or-later", m["license"]
assert "x86_64-linux" in m["platforms"]
for k, v in want.items():
    if v is None:
        assert k in m, k
    else:
        assert m[k] == v, (k, m.get(k))
PY
echo "hello: $(cat "$tmp/out"); closure of $(wc -l < "$ref/closure.tsv") paths with the reference NAR hashes, sizes and references; $ndrv .drv files byte-identical"
