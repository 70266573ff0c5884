#!/usr/bin/env bash
# Exports the hello closure's action graph and both SBOMs with straylight and
# validates them with independent tools: the CycloneDX library's validator
# (spec 1.6), ajv against the SPDX 2.3 schema, and a JavaScript RFC 8785
# canonicaliser that re-derives every action digest.
# usage: validate.sh STRAYLIGHT SOURCE_DIR NODE_DIR WORK_DIR
set -euo pipefail
sl=$1 src=$2 node=$3 work=$4
if [ ! -d "$node/node_modules/@cyclonedx/cyclonedx-library" ] || [ ! -d "$node/node_modules/ajv" ]; then
  echo "skip: $node/node_modules is not installed (scripts/setup.sh)"
  exit 77
fi
corpus="$src/corpus/hello-closure"
root=$(cat "$corpus/root")
drv="$corpus/store/$(basename "$root")"
rm -rf "$work" && mkdir -p "$work"
export NODE_PATH="$node/node_modules" SOURCE_DATE_EPOCH=1700000000
# The number of fixed-output derivations, counted from the .drv text.
fods=$(grep -l '("outputHash",' "$corpus"/store/*.drv | wc -l)
drvs=$(ls "$corpus"/store/*.drv | wc -l)

"$sl" graph "$drv" --path-info "$corpus/closure.tsv" --out "$work/graph.json"
node "$src/tests/drv/check_graph.js" "$work/graph.json" "$drvs" "$fods"

# The picture has one node per action and one edge per input derivation.
"$sl" graph "$drv" --format dot --out "$work/graph.dot"
edges=$(python3 -c "import json,sys; print(sum(len(a['inputs']['actions']) for a in json.load(open(sys.argv[1]))['actions']))" "$work/graph.json")
[ "$(grep -c '^  n[0-9]* \[label=' "$work/graph.dot")" = "$drvs" ] || { echo "dot: wrong node count"; exit 1; }
[ "$(grep -c '^  n[0-9]* -> n[0-9]*;' "$work/graph.dot")" = "$edges" ] || { echo "dot: wrong edge count"; exit 1; }
[ "$(grep -c 'fillcolor="#bbdefb"' "$work/graph.dot")" = "$fods" ] || { echo "dot: pinned colour count"; exit 1; }
echo "dot: $drvs nodes, $edges edges, $fods coloured pinned"

for fmt in cyclonedx spdx; do
  "$sl" sbom "$drv" --format $fmt --path-info "$corpus/closure.tsv" --meta-dir "$src/tests/drv-data/meta" --out "$work/$fmt.json"
done
node "$src/tests/drv/validate_cyclonedx.js" "$work/cyclonedx.json" "$fods"
node "$src/tests/drv/validate_spdx.js" "$work/spdx.json" "$src/tests/drv-data/spdx-2.3-schema.json"

# The recorded meta shows up; a derivation without it says so.
python3 - "$work/cyclonedx.json" "$work/spdx.json" "$corpus/closure.tsv" <<'PY'
import json, sys
cdx = json.load(open(sys.argv[1])); spdx = json.load(open(sys.argv[2]))
def nix32_hex(s):   # Nix's base-32, read from the end
    alpha = "0123456789abcdfghijklmnpqrsvwxyz"
    out = bytearray(len(s) * 5 // 8)
    for i, ch in enumerate(reversed(s)):
        d, b = alpha.index(ch), i * 5
        out[b // 8] |= (d << (b % 8)) & 0xFF
        if b // 8 + 1 < len(out): out[b // 8 + 1] |= d >> (8 - b % 8)
    return out.hex()
tsv = {l.split("\t")[0]: l.split("\t")[1] for l in open(sys.argv[3])}
for c in [cdx["metadata"]["component"]] + cdx["components"]:
    p = {q["name"]: q["value"] for q in c.get("properties", [])}
    if "nix:drv_path" in p:
        assert p["nix:drv_nar_sha256"] == nix32_hex(tsv[p["nix:drv_path"]].split(":")[1]), c["bom-ref"]
    elif "nix:store_path" in p:
        assert p["nix:nar_sha256"] == nix32_hex(tsv[p["nix:store_path"]].split(":")[1]), c["bom-ref"]
root = cdx["metadata"]["component"]
assert root["name"] == "hello" and root["version"] == "2.12.1", root
assert root["licenses"] == [{"license": {"id": "GPL-3.0-or-later", "url": "https://spdx.org/licenses/GPL-3.0-or-later.html"}}]
props = {p["name"]: p["value"] for p in root["properties"]}
assert props["straylight:meta"] == "recorded" and props["straylight:grade"] == '{"platform":"x86_64-linux"}'
tarball = [c for c in cdx["components"] if c["bom-ref"].endswith("-hello-2.12.1.tar.gz.drv")][0]
assert tarball["type"] == "file" and tarball["version"] == "2.12.1", tarball
assert tarball["hashes"] == [{"alg": "SHA-256", "content": "8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20"}]
assert tarball["externalReferences"][0]["url"] == "mirror://gnu/hello/hello-2.12.1.tar.gz"
assert {p["name"]: p["value"] for p in tarball["properties"]}["straylight:meta"] == "absent"
pkg = [p for p in spdx["packages"] if p["SPDXID"] == spdx["documentDescribes"][0]][0]
assert pkg["licenseDeclared"] == "GPL-3.0-or-later" and pkg["homepage"].startswith("https://www.gnu.org/")
src = [p for p in spdx["packages"] if p["name"] == "hello" and p.get("primaryPackagePurpose") == "SOURCE"][0]
assert src["downloadLocation"] == "mirror://gnu/hello/hello-2.12.1.tar.gz" and src["checksums"][0]["checksumValue"].startswith("8d99142a")
print("meta, fetch URLs and hashes: as recorded; every .drv and source NAR hash equals closure.tsv")
PY

# Runtime scope: the output reference closure (dv-refs refers to dv-plain's
# output; dv-structured is only a build input).
ref="$src/corpus/drv-reference"
refs="$ref/store/$(basename "$(cat "$ref/expected/refs.drvpath")")"
for fmt in cyclonedx spdx; do
  "$sl" sbom "$refs" --runtime --format $fmt --path-info "$ref/expected/refs-outputs.tsv" \
    --meta-dir "$src/tests/drv-data/meta-synthetic" --out "$work/rt-$fmt.json"
done
"$sl" sbom "$refs" --buildtime --path-info "$ref/expected/refs-outputs.tsv" --out "$work/bt.json"
node "$src/tests/drv/validate_cyclonedx.js" "$work/rt-cyclonedx.json" 0
node "$src/tests/drv/validate_spdx.js" "$work/rt-spdx.json" "$src/tests/drv-data/spdx-2.3-schema.json"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
r = [p for p in d['packages'] if p['SPDXID'] == d['documentDescribes'][0]][0]
assert r['licenseDeclared'] == 'NOASSERTION' and r['homepage'] == 'https://example.org/dv-refs', r
assert {'referenceCategory': 'SECURITY', 'referenceType': 'cpe23Type', 'referenceLocator': 'cpe:2.3:a:example:dv-refs:1:*:*:*:*:*:*:*'} in r['externalRefs']
" "$work/rt-spdx.json"
python3 - "$work/rt-cyclonedx.json" "$work/bt.json" "$ref/expected/refs-outputs.tsv" <<'PY'
import json, sys
rt = json.load(open(sys.argv[1])); bt = json.load(open(sys.argv[2]))
def nix32_hex(s):   # Nix's base-32, read from the end
    alpha = "0123456789abcdfghijklmnpqrsvwxyz"
    out = bytearray(len(s) * 5 // 8)
    for i, ch in enumerate(reversed(s)):
        d, b = alpha.index(ch), i * 5
        out[b // 8] |= (d << (b % 8)) & 0xFF
        if b // 8 + 1 < len(out): out[b // 8 + 1] |= d >> (8 - b % 8)
    return out.hex()
tsv = {l.split("\t")[0]: l.split("\t")[1] for l in open(sys.argv[3])}
names = lambda d: sorted([d["metadata"]["component"]["name"]] + [c["name"] for c in d["components"]])
assert names(rt) == ["dv-plain", "dv-refs"], names(rt)
assert names(bt) == ["dv-plain", "dv-refs", "dv-structured"], names(bt)
deps = {d["ref"]: d["dependsOn"] for d in rt["dependencies"]}
root = rt["metadata"]["component"]["bom-ref"]
assert [r.endswith("-dv-plain.drv") for r in deps[root]] == [True], deps
plain = [c for c in rt["components"] if c["name"] == "dv-plain"][0]
out = [p["value"] for p in plain["properties"] if p["name"] == "nix:output_path"][0]
assert plain["hashes"] == [{"alg": "SHA-256", "content": nix32_hex(tsv[out].split(":")[1])}], plain["hashes"]
# the synthetic meta: every field sbom reads
r = rt["metadata"]["component"]
assert r["description"].startswith("Synthetic") and r["cpe"].startswith("cpe:2.3:a:example:dv-refs")
assert r["purl"] == "pkg:generic/dv-refs@1"
assert r["licenses"] == [{"license": {"id": "MIT", "url": "https://spdx.org/licenses/MIT.html"}},
                         {"license": {"name": "Unfree redistributable"}}, {"license": {"name": "Some-Custom-Text"}}], r["licenses"]
assert {"type": "website", "url": "https://example.org/dv-refs"} in r["externalReferences"]
assert {p["name"]: p["value"] for p in r["properties"]}["nix:position"] == "pkgs/dv/refs.nix:7"
print("runtime scope: dv-refs and dv-plain only; build time adds dv-structured; synthetic meta fields carried")
PY

# Same input, same bytes (the timestamp comes from SOURCE_DATE_EPOCH).
"$sl" sbom "$drv" --format cyclonedx --path-info "$corpus/closure.tsv" --meta-dir "$src/tests/drv-data/meta" --out "$work/again.json" 2>/dev/null
cmp "$work/cyclonedx.json" "$work/again.json"
echo "validate: ok"
