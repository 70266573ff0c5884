#!/usr/bin/env bash
# Sets up a Debian machine for straylight: installs the build and test
# dependencies that are missing and unpacks the corpora from ../shared/corpus
# into BUILD_DIR/corpus (default: build/corpus). Safe to run again.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-"$here/build"}
shared=${STRAYLIGHT_SHARED:-"$here/../shared"}

debs=(build-essential cmake pkg-config bison flex clang xz-utils python3
      libgit2-dev libsodium-dev libcurl4-openssl-dev libssl-dev libjansson-dev
      libarchive-dev libcmocka-dev protobuf-compiler libprotobuf-dev git)
# Node.js (for the S3 and SBOM test peers) may come from elsewhere with npm
# bundled; only ask Debian for it when the commands are missing.
command -v node >/dev/null 2>&1 || debs+=(nodejs)
command -v npm >/dev/null 2>&1 || debs+=(npm)
# nix-bin is the oracle: only the scripts that regenerate reference outputs and
# the benchmarks need it; set STRAYLIGHT_ORACLE=0 to skip it.
if [ "${STRAYLIGHT_ORACLE:-1}" = 1 ]; then debs+=(nix-bin); fi

missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for the S3 and SBOM tests, kept inside the build folder.
if [ -f "$here/tests/package.json" ]; then
  mkdir -p "$build_dir/node"
  cp "$here/tests/package.json" "$build_dir/node/"
  [ -f "$here/tests/package-lock.json" ] && cp "$here/tests/package-lock.json" "$build_dir/node/"
  if [ ! -d "$build_dir/node/node_modules" ] || ! cmp -s "$here/tests/package.json" "$build_dir/node/.installed"; then
    (cd "$build_dir/node" && npm install --no-audit --no-fund --silent) && cp "$here/tests/package.json" "$build_dir/node/.installed"
  fi
fi

corpus="$build_dir/corpus"
mkdir -p "$corpus"
if [ ! -d "$corpus/nix-conformance" ]; then
  tar -xJf "$shared/corpus/nix-conformance.tar.xz" -C "$corpus"
fi
if [ ! -d "$corpus/nixpkgs/nixpkgs-core" ]; then
  mkdir -p "$corpus/nixpkgs"
  tar -xJf "$shared/corpus/nixpkgs-core-2024.tar.xz" -C "$corpus/nixpkgs"
  cp "$shared/corpus/nixpkgs.nix" "$corpus/nixpkgs/nixpkgs.nix"
fi
cp -f "$shared/corpus/nixpkgs-core-drvpaths.tsv" "$corpus/"
echo "setup: corpora in $corpus"
