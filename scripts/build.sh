#!/usr/bin/env bash
# Configures and builds straylight into BUILD_DIR (default build/); extra
# arguments go to cmake's configure step (e.g. -DSTRAYLIGHT_SANITIZE=ON).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-"$here/build"}
shift || true
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
