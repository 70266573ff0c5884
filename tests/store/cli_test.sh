#!/usr/bin/env bash
# The store commands end to end: key files (mode, no overwrite), add/cat/ls/
# path-info/materialize, copy to a binary cache, verify, gc with roots,
# attest/verify/attest-push, and clean non-zero exits on bad input.
# Usage: cli_test.sh STRAYLIGHT HELLO_CLOSURE_DIR
set -euo pipefail
S=$(realpath "$1") hello=$(realpath "$2")
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
unset STRAYLIGHT_STORE
fail() { echo "FAIL: $*"; exit 1; }
expect_fail() { # expect_fail PATTERN CMD...: the command fails with PATTERN on stderr
  local pat=$1; shift
  if "$@" > out.txt 2> err.txt; then fail "succeeded: $*"; fi
  grep -q -- "$pat" err.txt || { cat err.txt; fail "no '$pat' in the message of: $*"; }
}

pub=$("$S" key generate ci-1 2>/dev/null)
[ "$(stat -c %a ci-1.sec)" = 600 ] || fail "secret key mode is $(stat -c %a ci-1.sec)"
[ "$pub" = "$(cat ci-1.pub)" ] || fail "printed public key differs from the file"
[[ $pub == ci-1:* ]] || fail "public key not in NAME:BASE64 form"
[ "$("$S" key public ci-1.sec)" = "$pub" ] || fail "key public disagrees"
expect_fail "File exists" "$S" key generate ci-1

# The default store is under XDG_DATA_HOME.
src="$hello/store/v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh"
p=$("$S" store add --name default-builder.sh "$src")
[ "$p" = /nix/store/v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh ] || fail "add gave $p"
[ -f "$work/data/straylight/nix-cache-info" ] || fail "default store not under XDG_DATA_HOME"
cmp <("$S" store cat "$p") "$src" || fail "cat differs"
[ "$("$S" store ls)" = "$p" ] || fail "ls lists $("$S" store ls)"
"$S" store path-info --json "$p" | grep -q '"narHash":"sha256:' || fail "path-info --json"
want=$(awk -F'\t' -v p="$p" '$1 == p {print $2}' "$hello/closure.tsv")
[ "$("$S" store path-info "$p" | cut -f2)" = "$want" ] || fail "NAR hash differs from Nix's"

mkdir -p tree/d && echo x > tree/d/f && ln -s d/f tree/l
t=$("$S" store add tree)
"$S" store materialize "$t" out
diff -r tree out || fail "materialize differs"
expect_fail "already exists" "$S" store materialize "$t" out
expect_fail "does not exist" "$S" store cat "$t/nope"
expect_fail "is a directory" "$S" store cat "$t/d"
expect_fail "not in the Nix store" "$S" store cat /etc/passwd
expect_fail "not in" "$S" store path-info /nix/store/00000000000000000000000000000000-x
expect_fail "unknown store URL" "$S" store --store ftp://x ls
expect_fail "unknown subcommand" "$S" store frobnicate

# Copy to a signed binary cache and verify it with and without the key.
"$S" store --secret-key-file ci-1.sec copy --to "file://$work/cache" "$p" "$t" 2>/dev/null
"$S" store --store "file://$work/cache" --trusted-public-keys "$pub" verify 2>/dev/null || fail "verify with the key"
expect_fail "without a trusted signature" "$S" store --store "file://$work/cache" \
  --trusted-public-keys "other:$(head -c 32 /dev/zero | base64)" verify

# Substituting needs trusted keys (or an explicit --no-check-sigs).
expect_fail "no trusted keys" "$S" store --store "local:$work/sub" copy --from "file://$work/cache" "$p"
"$S" store --store "local:$work/sub" --trusted-public-keys "$pub" copy --from "file://$work/cache" "$p" 2>/dev/null
"$S" store --store "local:$work/sub2" copy --no-check-sigs --from "file://$work/cache" "$p" 2>/dev/null

# gc keeps the roots' closure only.
mkdir roots && ln -s "$t" roots/tree
expect_fail "no roots" "$S" store gc
"$S" store gc --roots roots --grace 0 2>/dev/null
[ "$("$S" store ls)" = "$t" ] || fail "gc kept $("$S" store ls)"
expect_fail "is not in" "$S" store cat "$p"

# Attestations.
ref=$("$S" store --secret-key-file ci-1.sec attest --grade '{"net":"none"}' "$t")
[[ $ref == refs/attestations/* ]] || fail "attest printed $ref"
"$S" verify --trusted-public-keys "$pub" "$t" | grep -q "1 valid attestation" || fail "verify"
expect_fail "not trusted" "$S" verify --trusted-public-keys "x:$(head -c 32 /dev/zero | base64)" "$t"
expect_fail "no trusted keys" "$S" verify "$t"
git init -q --bare remote.git
"$S" store attest-push remote.git
[ "$(git -C remote.git for-each-ref --format='%(refname)')" = "$ref" ] || fail "push did not carry $ref"
"$S" verify --repo remote.git --trusted-public-keys "$pub" "$t" > /dev/null || fail "verify from the pushed repo"
# A damaged info file is reported by verify, which goes on with the rest.
head -c 500 /dev/urandom > "$work/data/straylight/0123456789abcdfghijklmnpqrsvwxyz.narinfo"
expect_fail "is corrupt" "$S" store verify
grep -q "checked 2 paths: 1 ok, 1 corrupt" err.txt || { cat err.txt; fail "verify summary"; }
echo "store cli: ok"
