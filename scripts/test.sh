#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite twice: an optimised build and
# an ASan+UBSan build.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
"$here/scripts/build.sh" "$here/build"
# What the suite caches (fetches, the store's source hash log) stays in a
# directory of its own, not the user's cache; tests that care set their own
cache=$(mktemp -d)
mkdir -p "$cache/opt" "$cache/asan"
trap 'rm -rf "$cache"' EXIT
(cd "$here/build" && XDG_CACHE_HOME="$cache/opt" ctest --output-on-failure -j"$(nproc)")
# The sanitizer build shares the unpacked corpora and npm test peers of the
# main build.
mkdir -p "$here/build-asan"
[ -e "$here/build-asan/node" ] || ln -s "$here/build/node" "$here/build-asan/node"
"$here/scripts/build.sh" "$here/build-asan" -DSTRAYLIGHT_SANITIZE=ON \
  -DSTRAYLIGHT_CORPUS_DIR="$here/build/corpus"
(cd "$here/build-asan" && XDG_CACHE_HOME="$cache/asan" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$(nproc)")
