#!/usr/bin/env bash
# A binary cache written by straylight must be accepted by real Nix: the
# signature checked against trusted-public-keys, the NAR unpacked
# byte-identical; an untrusted key must be refused. Needs nix (skips with 77
# where it is not installed; corpus/store-reference covers CI).
# Usage: nix_interop.sh STRAYLIGHT
set -euo pipefail
S=$1
command -v nix >/dev/null 2>&1 || { echo "nix not installed: skipping"; exit 77; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export NIX_CONFIG="experimental-features = nix-command"
"$S" key generate interop-1 >/dev/null 2>&1
"$S" key generate intruder-1 >/dev/null 2>&1
mkdir -p tree/sub
printf 'hello\n' > tree/a.txt
printf '#!/bin/sh\necho hi\n' > tree/sub/run.sh
chmod +x tree/sub/run.sh
ln -s a.txt tree/link
head -c 3000000 /dev/urandom > tree/big.bin
dep=/nix/store/0123456789abcdfghijklmnpqrsvwxyz-interop-dep
top=/nix/store/1123456789abcdfghijklmnpqrsvwxyz-interop-top
st="local:$work/st"
"$S" store --store "$st" import --path "$dep" tree >/dev/null
"$S" store --store "$st" import --path "$top" --ref "$dep" tree >/dev/null
# Input-addressed paths: Nix insists on a signature by a trusted key.
"$S" store --store "$st" --secret-key-file interop-1.sec copy --to "file://$work/cache" "$top" 2>/dev/null

fail() { echo "FAIL: $*"; exit 1; }
nixcopy() { timeout 120 nix copy --from "$1" --to "$2" --option trusted-public-keys "$3" "$top"; }

nixcopy "file://$work/cache" "$work/n-ok" "$(cat interop-1.pub)" 2>err.txt || { cat err.txt; fail "nix refused a straylight cache"; }
diff -r tree "n-ok$top" || fail "NAR unpacked differently"
diff -r tree "n-ok$dep" || fail "NAR of the reference unpacked differently"
timeout 120 nix store verify --store "$work/n-ok" --option trusted-public-keys "$(cat interop-1.pub)" "$top" \
  || fail "nix store verify rejected the signatures"

# An xz-compressed cache, Nix's default form.
"$S" store --store "$st" --secret-key-file interop-1.sec copy --to "file://$work/cachexz?compression=xz" "$top" 2>/dev/null
ls "$work"/cachexz/nar/*.nar.xz > /dev/null || fail "no .nar.xz blobs written"
nixcopy "file://$work/cachexz" "$work/n-xz" "$(cat interop-1.pub)" 2>err.txt || { cat err.txt; fail "nix refused an xz cache"; }
diff -r tree "n-xz$top" || fail "xz NAR unpacked differently"

if nixcopy "file://$work/cache" "$work/n-bad" "$(cat intruder-1.pub)" 2>err.txt; then
  fail "nix accepted a cache signed by an untrusted key"
fi
grep -q "lacks a valid signature" err.txt || { cat err.txt; fail "unexpected refusal message"; }

# The native layout (cas/<sha256> blobs) is itself a binary cache Nix reads.
"$S" store --store "$st" sign --secret-key-file interop-1.sec "$dep" "$top"
nixcopy "file://$work/st" "$work/n-native" "$(cat interop-1.pub)" 2>err.txt || { cat err.txt; fail "nix refused the native layout"; }
diff -r tree "n-native$top" || fail "native layout NAR unpacked differently"

# And back: a cache written by Nix, substituted by straylight with the key checked.
timeout 120 nix copy --store "$work/n-ok" --to "file://$work/nixcache?compression=xz&secret-key=$work/interop-1.sec" "$top"
"$S" store --store "local:$work/back" --trusted-public-keys "$(cat interop-1.pub)" copy --from "file://$work/nixcache" "$top" 2>/dev/null
"$S" store --store "local:$work/back" materialize "$top" "$work/back-tree"
diff -r tree back-tree || fail "round trip through Nix changed the tree"
if "$S" store --store "local:$work/back2" --trusted-public-keys "$(cat intruder-1.pub)" copy --from "file://$work/nixcache" "$top" 2>err.txt; then
  fail "straylight accepted a cache signed by an untrusted key"
fi
echo "nix interop: ok"
