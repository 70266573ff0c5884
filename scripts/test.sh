#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite twice: an optimised build and
# an ASan+UBSan build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
"$here/scripts/build.sh" "$here/build"
(cd "$here/build" && ctest --output-on-failure -j"$(nproc)")
# The sanitizer build shares the unpacked corpora of the main build.
"$here/scripts/build.sh" "$here/build-asan" -DSTRAYLIGHT_SANITIZE=ON \
  -DSTRAYLIGHT_CORPUS_DIR="$here/build/corpus"
(cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$(nproc)")
