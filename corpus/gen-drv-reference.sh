#!/usr/bin/env bash
# Regenerates corpus/drv-reference/ with the oracle (nix-build 2.8.0, sandbox
# off): builds the derivations of envtest.nix, whose builders record the
# environment and build-directory files Nix gave them, and keeps the .drv
# files (store/) and those records (expected/<name>/). The drv tests lower
# the same .drv files and compare. grades.nix is only instantiated; its
# .drv closure lands in store/ too.
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
ref="$here/drv-reference"
rm -rf "$ref/store.new" "$ref/expected.new"
mkdir -p "$ref/store.new" "$ref/expected.new"
for attr in plain structured fixed refs; do
  drv=$(nix-instantiate "$ref/envtest.nix" -A "$attr" 2>/dev/null)
  for o in $(nix-store -q --outputs "$drv"); do nix-store --delete "$o" >/dev/null 2>&1 || true; done
  out=$(DV_IMPURE=from-the-host nix-build --option sandbox false "$ref/envtest.nix" -A "$attr" --no-out-link 2>/dev/null | head -n1)
  cp "$drv" "$ref/store.new/"
  echo "$drv" > "$ref/expected.new/$attr.drvpath"
  mkdir -p "$ref/expected.new/$attr"
  if [ "$attr" = refs ]; then
    # Output metadata of refs' runtime closure, for `sbom --runtime`.
    nix-store -qR "$out" | sort | while read -r p; do
      printf '%s\t%s\t%s\t%s\n' "$p" "$(nix-store -q --hash "$p")" "$(nix-store -q --size "$p")" \
        "$(nix-store -q --references "$p" | sort | tr '\n' ' ' | sed 's/ $//')"
    done > "$ref/expected.new/refs-outputs.tsv"
  elif [ "$attr" = fixed ]; then
    # The fixed-output builder can only write its record beside its build
    # directory (its $out must hash to the pinned value).
    cp "${TMPDIR:-/tmp}/dv-fixed-env" "$ref/expected.new/$attr/env"
    rm -f "${TMPDIR:-/tmp}/dv-fixed-env"
  else
    cp -r "$out"/. "$ref/expected.new/$attr/"
  fi
done
# grades.nix is only instantiated: its closure of .drv files.
groot=$(nix-instantiate --extra-experimental-features impure-derivations "$ref/grades.nix" 2>/dev/null)
echo "$groot" > "$ref/expected.new/grades.drvpath"
nix-store -qR "$groot" | while read -r p; do cp "$p" "$ref/store.new/"; done
# The build directory's host path is not part of what is compared.
for f in "$ref"/expected.new/*/env; do
  top=$(sed -n 's/^NIX_BUILD_TOP=//p' "$f")
  sed -i "s#$top#@BUILD_TOP@#g" "$f"
done
chmod -R u+w "$ref/store.new" "$ref/expected.new"
rm -rf "$ref/store" "$ref/expected"
mv "$ref/store.new" "$ref/store"
mv "$ref/expected.new" "$ref/expected"
echo "drv-reference: $(ls "$ref/store" | wc -l) derivations"
