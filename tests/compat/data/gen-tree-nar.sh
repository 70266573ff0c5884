#!/usr/bin/env bash
# Regenerates tree.nar with the oracle (`nix-store --dump`, Nix 2.8.0): a
# small tree with every NAR node kind, an executable, empty and padded files,
# symlinks and entry names whose byte order differs from case-folded order.
# test_compat_unit builds the same tree through the NAR writer and compares.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/t/bin" "$t/t/share/empty" "$t/t/a-dir"
printf '#!/bin/sh\necho hi\n' > "$t/t/bin/hello"
chmod +x "$t/t/bin/hello"
printf '' > "$t/t/empty-file"
printf '1234567' > "$t/t/seven"
printf '12345678' > "$t/t/eight"
ln -s bin/hello "$t/t/link"
ln -s ../.. "$t/t/a-dir/up"
printf 'x' > "$t/t/B-upper"
printf 'y' > "$t/t/a-dir/z"
nix-store --dump "$t/t" > "$here/tree.nar.new"
mv "$here/tree.nar.new" "$here/tree.nar"
nix-hash --type sha256 --flat --base32 "$here/tree.nar"
