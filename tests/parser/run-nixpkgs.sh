#!/usr/bin/env bash
# Every .nix file of nixpkgs-core must parse; all in one `straylight parse`.
# Parsed on several threads (-j3, even on one CPU), the output must be the
# serial one byte for byte: trees, and messages interleaved with them.
set -eu
straylight=$1
dir=$2
[ -d "$dir" ] || { echo "nixpkgs-core not found at $dir (run scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
list=$tmp/list
find "$dir" -name '*.nix' -type f | LC_ALL=C sort > "$list"
n=$(wc -l < "$list")
[ "$n" -gt 0 ] || { echo "no .nix files under $dir"; exit 1; }
if xargs -d '\n' "$straylight" parse --quiet -j3 < "$list"; then
    echo "$n/$n files parse"
else
    echo "some of the $n files failed to parse (see above)"
    exit 1
fi

xargs -d '\n' "$straylight" parse -j1 < "$list" > "$tmp/serial"
xargs -d '\n' "$straylight" parse -j3 < "$list" > "$tmp/threaded"
[ "$(wc -l < "$tmp/serial")" = "$n" ] || { echo "the serial run printed the wrong number of lines"; exit 1; }
cmp "$tmp/serial" "$tmp/threaded" || { echo "the trees printed with -j3 differ from -j1's"; exit 1; }
echo "-j3 prints the $n trees as -j1 does"

# failures among the files: each message must come where its input is, after
# the trees of the inputs before it (stdout and stderr to one file)
printf '{ a = 1; a = 2; }' > "$tmp/dup.nix"
printf '1 +' > "$tmp/eof.nix"
printf 'f x or' > "$tmp/or.nix"     # a warning, then an error
printf 'http://example.org' > "$tmp/url.nix"
{ head -40 "$list"; echo "$tmp/dup.nix"; echo "$tmp/missing.nix"; sed -n '41,80p' "$list"; echo "$tmp/or.nix"
  echo "$tmp/url.nix"; echo "$tmp/eof.nix"; sed -n '81,120p' "$list"; } > "$tmp/mixed"
mapfile -t mixed < "$tmp/mixed"
rc1=0 rc3=0
"$straylight" parse -j1 --lint-url-literals warn "${mixed[@]}" > "$tmp/m1" 2>&1 || rc1=$?
"$straylight" parse -j3 --lint-url-literals warn "${mixed[@]}" > "$tmp/m3" 2>&1 || rc3=$?
[ "$rc1" = 1 ] && [ "$rc3" = 1 ] || { echo "exit codes with failures: -j1 $rc1, -j3 $rc3 (expected 1)"; exit 1; }
[ "$(grep -c '^error: ' "$tmp/m1")" = 4 ] && [ "$(grep -c '^warning: ' "$tmp/m1")" = 2 ] ||
    { echo "expected 4 errors and 2 warnings:"; grep -E '^(error|warning): ' "$tmp/m1"; exit 1; }
cmp "$tmp/m1" "$tmp/m3" || { echo "with failures, -j3's output differs from -j1's"; diff "$tmp/m1" "$tmp/m3" | head; exit 1; }
echo "with failures among them, -j3 prints what -j1 prints, in the same order"
