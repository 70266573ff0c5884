#!/usr/bin/env bash
# graph and sbom on an installable: the corpus nixpkgs stand-in's hello is
# evaluated in-process into a fresh straylight store, and
#  - its action graph equals the graph of the .drv closure nix-instantiate
#    wrote (committed in corpus/hello-closure) and of the .drv path read back
#    from the store;
#  - its SBOMs validate (CycloneDX 1.6 library, ajv + SPDX 2.3 schema) and
#    carry the meta evaluation met for the dependencies (licenses, homepages);
#  - `instantiate --meta-dir` writes that closure meta as <drv>.meta.json.
# Exit 77 (skip) only when evaluating hello fails because the evaluator cannot
# read a store path (a machine without /nix/store); any other failure fails.
# usage: installable.sh STRAYLIGHT SOURCE_DIR CORPUS_DIR NODE_DIR WORK_DIR
set -euo pipefail
sl=$1 src=$2 corpus=$3 node=$4 work=$5
pkgs="$corpus/nixpkgs/nixpkgs.nix"
ref="$src/corpus/hello-closure"
[ -f "$pkgs" ] || { echo "skip: $pkgs is not unpacked (scripts/setup.sh)"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
export STRAYLIGHT_STORE="local:$work/store" XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
unset NIX_PATH

# Meta that throws, aborts or loops is dropped silently; paths are Nix's.
robust="$src/tests/drv-data/meta-robust.nix"
"$sl" instantiate "$robust" --meta-dir "$work/rmeta" >"$work/rdrv" 2>"$work/rerr"
[ "$(cat "$work/rdrv")" = /nix/store/m99pzq3fmqsl36dv2n57r9wdyqs1xsbh-top.drv ] || { cat "$work/rdrv"; exit 1; }
[ ! -s "$work/rerr" ] || { echo "meta recording printed:"; cat "$work/rerr"; exit 1; }
m() { cat "$work/rmeta/"*-"$1".drv.meta.json; }
[ "$(m top)" = '{"description":"top"}' ] && [ "$(m dep1)" = '{"homepage":"https://a","license":{"spdxId":"MIT"}}' ] &&
  [ "$(m dep2)" = '{"homepage":"https://b"}' ] && [ "$(m dep3)" = '{"homepage":"https://c","identifiers":{}}' ] &&
  [ ! -e "$(echo "$work"/rmeta/*-dep4.drv.meta.json)" ] || { head "$work"/rmeta/*; exit 1; }
echo "meta: throwing, aborting and recursive meta fields dropped, .drv path as Nix"

# --runtime from the store's path info: register outputs for top and dep1
# (top referring to dep1) and the runtime SBOM is exactly those two.
outof() { "$sl" store cat "$1" | grep -o '("out","/nix/store/[^"]*"' | head -1 | cut -d'"' -f4; }
top=$(cat "$work/rdrv")
d1=/nix/store/$(basename "$work"/rmeta/*-dep1.drv.meta.json .meta.json)
o1=$(outof "$d1") ot=$(outof "$top")
mkdir -p "$work/o1" "$work/ot"
echo dep1 > "$work/o1/f"
echo "$o1" > "$work/ot/f"
"$sl" store import --path "$o1" --deriver "$d1" "$work/o1" > /dev/null
"$sl" store import --path "$ot" --ref "$o1" --deriver "$top" "$work/ot" > /dev/null
"$sl" sbom "$top" --runtime --meta-dir "$work/rmeta" --out "$work/rt.json"
"$sl" store path-info --json "$o1" > "$work/o1.json"
python3 - "$work/rt.json" "$work/o1.json" "$d1" "$top" <<'PY'
import json, sys
doc, info = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))[0]
def nix32_hex(s):
    alpha = "0123456789abcdfghijklmnpqrsvwxyz"
    out = bytearray(len(s) * 5 // 8)
    for i, ch in enumerate(reversed(s)):
        d, b = alpha.index(ch), i * 5
        out[b // 8] |= (d << (b % 8)) & 0xFF
        if b // 8 + 1 < len(out): out[b // 8 + 1] |= d >> (8 - b % 8)
    return out.hex()
assert doc["metadata"]["component"]["bom-ref"] == sys.argv[4]
assert [c["bom-ref"] for c in doc["components"]] == [sys.argv[3]], doc["components"]
c = doc["components"][0]
assert c["licenses"] == [{"license": {"id": "MIT"}}], c.get("licenses")
assert c["hashes"] == [{"alg": "SHA-256", "content": nix32_hex(info["narHash"].split(":")[1])}], c.get("hashes")
deps = {d["ref"]: d["dependsOn"] for d in doc["dependencies"]}
assert deps == {sys.argv[4]: [sys.argv[3]], sys.argv[3]: []}, deps
print("runtime: outputs' references and NAR hashes from the store's path info")
PY

if ! "$sl" instantiate "$pkgs" -A hello --meta-dir "$work/meta" >"$work/drv" 2>"$work/inst.err"; then
  cat "$work/inst.err"
  if grep -Eq "/nix/store/[^ ]*('| ).*(does not exist|No such file|not found|not valid)" "$work/inst.err"; then
    echo "skip: the evaluator cannot read a store path here (no /nix/store)"
    exit 77
  fi
  exit 1
fi
drv=$(cat "$work/drv")
[ "$drv" = "$(cat "$ref/root")" ] || { echo "hello's .drv path $drv differs from nix-instantiate's $(cat "$ref/root")"; exit 1; }

# One graph, three ways to name it.
"$sl" graph -f "$pkgs" -A hello --out "$work/inst.json"
"$sl" graph "$drv" --out "$work/path.json"
"$sl" graph "$ref/store/$(basename "$drv")" --out "$work/nix.json"
cmp "$work/inst.json" "$work/path.json"
cmp "$work/inst.json" "$work/nix.json"
# NAME#ATTR through the search path, -E and --store give the same graph.
NIX_PATH="nixpkgs=$pkgs" "$sl" graph 'nixpkgs#hello' --out "$work/flakeish.json"
"$sl" graph -E "(import $pkgs {}).hello" --store "local:$work/store2" --out "$work/expr.json"
cmp "$work/inst.json" "$work/flakeish.json"
cmp "$work/inst.json" "$work/expr.json"
# REv2 needs the sources' bytes: from the store (checked out) when this
# machine has no store directory; the same blobs as from the corpus copy.
XDG_CACHE_HOME="$work/cache" "$sl" graph -f "$pkgs" -A hello --format rev2 --out "$work/cas.inst"
"$sl" graph "$ref/store/$(basename "$drv")" --format rev2 --out "$work/cas.nix"
diff <(cd "$work/cas.inst" && find . | sort) <(cd "$work/cas.nix" && find . | sort)
echo "graph: installable, NAME#ATTR, -E, .drv path and nix-instantiate's .drv files agree (json, rev2)"

# Closure meta written by instantiate.
nmeta=$(ls "$work/meta" | wc -l)
[ "$nmeta" -ge 100 ] || { echo "instantiate --meta-dir wrote only $nmeta meta files"; exit 1; }
python3 - "$work/meta" "$drv" <<'PY'
import json, os, sys
d, root = sys.argv[1], os.path.basename(sys.argv[2])
top = json.load(open(os.path.join(d, root + ".meta.json")))
assert top["license"]["spdxId"] == "GPL-3.0-or-later", top["license"]
assert top["homepage"] == "https://www.gnu.org/software/hello/manual/", top["homepage"]
zl = [f for f in os.listdir(d) if f.endswith("-zlib-1.3.1.drv.meta.json")]
assert zl, "no meta for zlib"
for f in zl:
    m = json.load(open(os.path.join(d, f)))
    assert m["license"]["spdxId"] == "Zlib", m
    assert "available" not in m, "closure meta keeps only the SBOM fields"
print("meta files:", len(os.listdir(d)))
PY

for fmt in cyclonedx spdx; do
  "$sl" sbom -f "$pkgs" -A hello --format $fmt --out "$work/$fmt.json" 2>"$work/$fmt.err"
  cat "$work/$fmt.err"
done
python3 - "$work/cyclonedx.json" "$work/spdx.json" <<'PY'
import json, sys
cdx = json.load(open(sys.argv[1])); spdx = json.load(open(sys.argv[2]))
comps = [cdx["metadata"]["component"]] + cdx["components"]
drvs = [c for c in comps if any(p["name"] == "nix:drv_path" for p in c.get("properties", []))]
assert len(drvs) == 241, len(drvs)
lic = [c for c in drvs if c.get("licenses")]
web = [c for c in drvs if any(r["type"] == "website" for r in c.get("externalReferences", []))]
root = cdx["metadata"]["component"]
assert root["licenses"] == [{"license": {"id": "GPL-3.0-or-later", "url": "https://spdx.org/licenses/GPL-3.0-or-later.html"}}]
want = {"zlib": "Zlib", "binutils": "GPL-3.0-or-later", "gettext": "GPL-2.0-or-later", "perl": "Artistic-1.0"}
for name, spdxid in want.items():
    got = [c["licenses"][0]["license"].get("id") for c in lic if c["name"] == name]
    assert spdxid in got, (name, got)
assert len(lic) >= 100, len(lic)
slic = [p for p in spdx["packages"] if p.get("licenseDeclared", "NOASSERTION") != "NOASSERTION"]
assert len(slic) >= 100, len(slic)
print(f"sbom: {len(drvs)} derivations, {len(lic)} with a license, {len(web)} with a homepage; spdx {len(slic)} declared")
PY

if [ -d "$node/node_modules/@cyclonedx/cyclonedx-library" ] && [ -d "$node/node_modules/ajv" ]; then
  export NODE_PATH="$node/node_modules"
  fods=$(python3 -c "import json,sys; print(sum(1 for a in json.load(open(sys.argv[1]))['actions'] if a['class'] == 'pinned'))" "$work/inst.json")
  node "$src/tests/drv/validate_cyclonedx.js" "$work/cyclonedx.json" "$fods"
  node "$src/tests/drv/validate_spdx.js" "$work/spdx.json" "$src/tests/drv-data/spdx-2.3-schema.json"
else
  echo "note: $node/node_modules missing, schema validation not run (the checks above did run)"
fi
