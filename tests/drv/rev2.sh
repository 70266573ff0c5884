#!/usr/bin/env bash
# Exports REv2 blobs and decodes them with protoc against the REv2 schema:
# every blob is named by its sha256, and the hello action's Action, Command
# and input root Directory hold what the lowering says.
# usage: rev2.sh STRAYLIGHT SOURCE_DIR SHARED_DIR WORK_DIR
set -euo pipefail
sl=$1 src=$2 shared=$3 work=$4
command -v protoc >/dev/null || { echo "skip: protoc not installed"; exit 77; }
corpus="$src/corpus/hello-closure"
drv="$corpus/store/$(basename "$(cat "$corpus/root")")"
rm -rf "$work" && mkdir -p "$work"
"$sl" graph "$drv" --format rev2 --out "$work/cas"
"$sl" graph "$drv" --format json --out "$work/graph.json"
S="$shared/schemas"
decode() {
  protoc -I "$src/tests/drv-data/proto" -I /usr/include \
    "-Ibuild/bazel/semver/semver.proto=$S/semver.proto" \
    "-Ibuild/bazel/remote/execution/v2/remote_execution.proto=$S/remote_execution.proto" \
    --decode "build.bazel.remote.execution.v2.$1" build/bazel/remote/execution/v2/remote_execution.proto < "$work/cas/blobs/sha256/$2"
}
bad=$(cd "$work/cas/blobs/sha256" && sha256sum -- * | awk '$1 != $2' | wc -l)
n=$(ls "$work/cas/blobs/sha256" | wc -l)
[ "$bad" = 0 ] || { echo "$bad blobs are not named by their sha256"; exit 1; }
echo "rev2: $n blobs, each named by its sha256"

python3 - "$work" "$corpus" <<'PY' > "$work/plan"
import json, sys
work, corpus = sys.argv[1], sys.argv[2]
g = json.load(open(f"{work}/cas/graph.json"))
j = json.load(open(f"{work}/graph.json"))
assert len(g["actions"]) == len(j["actions"])
fods = {a["drvPath"] for a in j["actions"] if a["class"] == "pinned"}
hello = [a for a in g["actions"] if a["drvPath"].endswith("-hello-2.12.1.drv")][0]
fod = [a for a in g["actions"] if a["drvPath"] in fods][0]
assert g["roots"][0] == hello["action"]
for a in g["actions"]:
    for d in ("action", "command", "inputRoot"):
        assert a[d]["sizeBytes"] >= 0
print(hello["action"]["hash"], hello["action"]["sizeBytes"], fod["action"]["hash"])
PY
read -r act size fodact < "$work/plan"
[ "$(stat -c %s "$work/cas/blobs/sha256/$act")" = "$size" ] || { echo "Action size_bytes mismatch"; exit 1; }
decode Action "$act" > "$work/action.txt"
cmd=$(awk '/command_digest/{f=1} f&&/hash:/{gsub(/"/,"",$2); print $2; exit}' "$work/action.txt")
root=$(awk '/input_root_digest/{f=1} f&&/hash:/{gsub(/"/,"",$2); print $2; exit}' "$work/action.txt")
grep -q 'value: "x86_64-linux"' "$work/action.txt"
! grep -q do_not_cache "$work/action.txt"
decode Command "$cmd" > "$work/command.txt"
grep -q 'arguments: "/nix/store/dy2z01kpnxn7dn2kgfdxs4fm8xy9mb89-bash-5.2p26/bin/bash"' "$work/command.txt"
grep -q 'arguments: "/nix/store/v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh"' "$work/command.txt"
grep -q 'output_paths: "../nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1"' "$work/command.txt"
grep -q 'working_directory: "build"' "$work/command.txt"
grep -A1 'name: "NIX_ATTRS_JSON_FILE"' "$work/command.txt" | grep -q 'value: "/build/.attrs.json"'
grep -A1 'name: "NIX_BUILD_CORES"' "$work/command.txt" | grep -q 'value: "0"'
# Environment variables must be sorted by name (REv2 requires it).
grep 'name:' "$work/command.txt" | sed 's/.*name: //' > "$work/names"
LC_ALL=C sort -c "$work/names"
decode Directory "$root" > "$work/root.txt"
grep -q 'name: "build"' "$work/root.txt" && grep -q 'name: "nix"' "$work/root.txt"
build=$(awk '/name: "build"/{f=1} f&&/hash:/{gsub(/"/,"",$2); print $2; exit}' "$work/root.txt")
decode Directory "$build" > "$work/build.txt"
grep -q 'name: ".attrs.json"' "$work/build.txt" && grep -q 'name: ".attrs.sh"' "$work/build.txt"
nixd=$(awk '/name: "nix"/{f=1} f&&/hash:/{gsub(/"/,"",$2); print $2; exit}' "$work/root.txt")
storeh=$(decode Directory "$nixd" | awk '/name: "store"/{f=1} f&&/hash:/{gsub(/"/,"",$2); print $2; exit}')
decode Directory "$storeh" > "$work/store.txt"
want=$(sha256sum < "$corpus/store/v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh" | cut -d' ' -f1)
grep -A3 'name: "v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh"' "$work/store.txt" | grep -q "hash: \"$want\""
decode Action "$fodact" > "$work/fod.txt"
grep -A1 'name: "nix-network"' "$work/fod.txt" | grep -q 'value: "pinned"'
# Impure actions are not cacheable; placement demands become properties.
ref="$src/corpus/drv-reference"
"$sl" graph "$ref/store/$(basename "$(cat "$ref/expected/grades.drvpath")")" --format rev2 --out "$work/gcas"
work2="$work/g"
mkdir -p "$work2"
for name in g-impure g-features g-after-seal; do
  h=$(python3 -c "import json,sys; print([a['action']['hash'] for a in json.load(open(sys.argv[1]))['actions'] if a['drvPath'].endswith('-'+sys.argv[2]+'.drv')][0])" "$work/gcas/graph.json" $name)
  cp "$work/gcas/blobs/sha256/$h" "$work/cas/blobs/sha256/$h"
  decode Action "$h" > "$work2/$name.txt"
done
grep -q 'do_not_cache: true' "$work2/g-impure.txt"
grep -A1 'name: "nix-network"' "$work2/g-impure.txt" | grep -q 'value: "open"'
grep -q 'do_not_cache: true' "$work2/g-features.txt"
grep -A1 'name: "nix-device"' "$work2/g-features.txt" | grep -q 'value: "/dev/kvm"'
grep -A1 'name: "nix-feature"' "$work2/g-features.txt" | grep -q 'value: "kvm"'
! grep -q 'do_not_cache' "$work2/g-after-seal.txt"
echo "rev2: Action, Command and Directory decode with protoc and hold the lowered action"
