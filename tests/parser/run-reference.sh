#!/usr/bin/env bash
# Compares `straylight parse` with nix-instantiate 2.8.0 --parse over
# nixpkgs-core, through the hashes corpus/gen-parse-reference.sh recorded:
#  raw: the printed line itself. 2.8.0's printer differs from current Nix's,
#    which straylight follows (REF_DIR/README.md), so most files differ by
#    design; the files listed in REF_DIR/nixpkgs-core.agree agreed when the
#    list was made and must still agree, so that set can only grow.
#  normalised: both outputs parsed again and printed by straylight (ours
#    with `inherit (e) x` spelled `x = (e).x` as 2.8.0 does), which removes
#    the printer-only differences. Every file must agree, except those whose
#    2.8.0 output cannot be parsed again (recorded as FAIL), and those that
#    agree once the empty pieces 2.8.0 left in indented strings are deleted
#    from both (the "stripped" hashes): they are counted and listed.
# With --update, rewrites the raw agreement list.
set -eu
# as in gen-parse-reference.sh: ~/ paths must not depend on the user
export HOME=/homeless-shelter
straylight=$(realpath "$1")
root=$(realpath "$2")
ref=$(realpath "$3")
update=${4:-}
hashes="$ref/nixpkgs-core.sha256"
agree_list="$ref/nixpkgs-core.agree"
[ -d "$root" ] || { echo "nixpkgs-core not found at $root (run scripts/setup.sh)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hash_lines() {
    python3 -c '
import hashlib, sys
for line in sys.stdin.buffer:
    print(hashlib.sha256(line).hexdigest() if line.strip() else "FAIL")
'
}

grep -v '^#' "$hashes" | awk '{print $4}' > "$tmp/files"
grep -v '^#' "$hashes" | awk '{print $3}' > "$tmp/ref_strip"
grep -v '^#' "$hashes" | awk '{print $1}' > "$tmp/ref_raw"
grep -v '^#' "$hashes" | awk '{print $2}' > "$tmp/ref_norm"
nfiles=$(wc -l < "$tmp/files")
(cd "$root" && xargs -d '\n' "$straylight" parse -j3 < "$tmp/files") > "$tmp/out"
(cd "$root" && xargs -d '\n' "$straylight" parse --expand-inherit-from < "$tmp/files") > "$tmp/out_exp"
for f in out out_exp; do
    [ "$(wc -l < "$tmp/$f")" = "$nfiles" ] || { echo "straylight printed the wrong number of lines"; exit 1; }
done
sed "s|$root|@ROOT@|g" "$tmp/out" | hash_lines > "$tmp/our_raw"
{ "$straylight" parse --each-line < "$tmp/out_exp" 2>/dev/null || true; } | sed "s|$root|@ROOT@|g" | hash_lines > "$tmp/our_norm"
sed 's/"" + //g; s/ + ""//g' "$tmp/out_exp" > "$tmp/out_strip"
{ "$straylight" parse --each-line < "$tmp/out_strip" 2>/dev/null || true; } | sed "s|$root|@ROOT@|g" | hash_lines > "$tmp/our_strip"
for f in our_norm our_strip; do
    [ "$(wc -l < "$tmp/$f")" = "$nfiles" ] || { echo "re-parse printed the wrong number of lines"; exit 1; }
done

paste -d' ' "$tmp/ref_raw" "$tmp/our_raw" "$tmp/files" | awk '$1 == $2 {print $3}' > "$tmp/agree"
paste -d' ' "$tmp/ref_norm" "$tmp/our_norm" "$tmp/files" | awk '$1 != "FAIL" && $1 == $2 {print $3}' > "$tmp/norm_agree"
paste -d' ' "$tmp/ref_norm" "$tmp/our_norm" "$tmp/ref_strip" "$tmp/our_strip" "$tmp/files" |
    awk '$1 != "FAIL" && $1 != $2 && $3 == $4 {print $5}' > "$tmp/norm_empty_pieces"
paste -d' ' "$tmp/ref_norm" "$tmp/our_norm" "$tmp/ref_strip" "$tmp/our_strip" "$tmp/files" |
    awk '$1 != "FAIL" && $1 != $2 && $3 != $4 {print $5}' > "$tmp/norm_differ"
paste -d' ' "$tmp/ref_norm" "$tmp/files" | awk '$1 == "FAIL" {print $2}' > "$tmp/norm_na"
n=$(wc -l < "$tmp/agree")
ne=$(wc -l < "$tmp/norm_empty_pieces")
nn=$(wc -l < "$tmp/norm_agree")
nd=$(wc -l < "$tmp/norm_differ")
na=$(wc -l < "$tmp/norm_na")
echo "raw: $n/$nfiles files print exactly as nix-instantiate 2.8.0 --parse"
echo "normalised: $nn/$((nn + ne + nd)) files agree, $ne more once 2.8.0's empty indented-string pieces are deleted, $nd differ"
echo "  ($na more not comparable: 2.8.0's output does not parse again: $(tr '\n' ' ' < "$tmp/norm_na"))"
status=0
if [ "$nd" -gt 0 ]; then
    echo "files whose trees differ from 2.8.0's:"
    head -50 "$tmp/norm_differ"
    status=1
fi
if [ "$update" = "--update" ]; then
    { echo "# files whose straylight parse output equals nix-instantiate 2.8.0's (run-reference.sh --update)"; cat "$tmp/agree"; } > "$agree_list"
    echo "updated $agree_list"
    exit $status
fi
lost=$(grep -v '^#' "$agree_list" | LC_ALL=C sort | comm -23 - <(LC_ALL=C sort "$tmp/agree") || true)
if [ -n "$lost" ]; then
    echo "files that printed as 2.8.0 does before and no longer do:"
    echo "$lost"
    status=1
fi
expected=$(grep -vc '^#' "$agree_list" || true)
if [ "$n" -gt "$expected" ]; then echo "($((n - expected)) more raw agreements than recorded: run with --update to raise the bar)"; fi
exit $status
