#!/usr/bin/env bash
# Builds the libFuzzer parser target with clang (ASan+UBSan) and runs it for
# SECONDS (default 600), seeded from the conformance and nixpkgs-core files.
# Crashes land in BUILD/fuzz-parser/artifacts; the corpus grows in
# BUILD/fuzz-parser/corpus and is reused by later runs.
#   usage: tests/fuzz/run-parser-fuzz.sh [SECONDS] [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-600}
build=${2:-"$here/build-fuzz"}
corpus_src=${STRAYLIGHT_CORPUS_DIR:-"$here/build/corpus"}

cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DSTRAYLIGHT_FUZZ=ON \
      -DSTRAYLIGHT_LAYERS="util;parser" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSTRAYLIGHT_CORPUS_DIR="$corpus_src" >/dev/null
cmake --build "$build" --target fuzz_parser -j2 >/dev/null

work="$build/fuzz-parser"
mkdir -p "$work/corpus" "$work/artifacts" "$work/seeds"
if [ -z "$(ls -A "$work/seeds")" ]; then
    # a leading option byte (0: defaults) before each seed file's text
    i=0
    while IFS= read -r f; do
        { printf '\0'; cat "$f"; } > "$work/seeds/$i.nix"
        i=$((i + 1))
    done < <(find "$corpus_src/nix-conformance/tests/functional/lang" "$corpus_src/nixpkgs/nixpkgs-core" \
                  -name '*.nix' -size -64k 2>/dev/null | LC_ALL=C sort)
fi
echo "fuzzing the parser for $secs s ($(ls "$work/seeds" | wc -l) seeds)"
"$build/tests/parser/fuzz_parser" "$work/corpus" "$work/seeds" \
    -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1
