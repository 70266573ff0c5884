#!/usr/bin/env bash
# S3 integration: starts s3rver on a free 127.0.0.1 port (and faulty proxies
# in front of it), then runs
#   1. test_store_s3 (put/get/list/multipart/conditional/store, wrong key)
#   2. the SigV4 comparison with @smithy/signature-v4
#   3. interop both ways with the AWS SDK for JavaScript
#   4. fault tests: truncated downloads, the server stopping mid-upload
# Every server is stopped on exit. Skips (77) without the npm packages.
# Usage: s3_test.sh NODE_MODULES STRAYLIGHT TEST_S3 TEST_SIGV4 HELLO_DIR REFERENCE_DIR
set -euo pipefail
nm=$1 S=$2 TS3=$3 TSIG=$4 hello=$5 ref=$6
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$nm/s3rver" ] && [ -d "$nm/@aws-sdk/client-s3" ] || { echo "npm packages missing in $nm: skipping"; exit 77; }
command -v node >/dev/null || { echo "node missing: skipping"; exit 77; }
export NODE_PATH=$nm NODE_NO_WARNINGS=1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN AWS_PROFILE
work=$(mktemp -d)
cleanup() {
  # The helpers were started in command substitutions: their pids are in a file.
  if [ -f "$work/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done < "$work/pids"
  fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# start SCRIPT ARGS...: runs a node helper that prints its port, records its pid.
start() {
  local out="$work/port.$RANDOM"
  WATCH_PID=$$ node "$@" > "$out" 2>/dev/null < /dev/null &
  echo $! >> "$work/pids"
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
  [ -s "$out" ] || fail "$1 did not start"
  cat "$out"
}

mkdir -p "$work/s3"
port=$(start "$here/s3/server.js" "$work/s3")
ep="http://127.0.0.1:$port"
s3() { echo "s3://$1?endpoint=$ep&region=us-east-1${2:-}"; }

echo "== backend and store against s3rver on port $port"
S3_ENDPOINT=$ep timeout 180 "$TS3" "$hello"

echo "== SigV4 against @smithy/signature-v4"
timeout 60 node "$here/s3/sigv4_compare.js" "$TSIG"

echo "== interop: straylight writes, the AWS SDK reads"
mkdir -p "$work/tree/sub"
printf 'hello\n' > "$work/tree/a.txt"
head -c 12000000 /dev/urandom > "$work/tree/sub/big.bin"
mp="&part-size=5242880&multipart-threshold=5242880"
P=$(timeout 120 "$S" store --store "$(s3 interop/mine "$mp")" add "$work/tree")
keys=$(timeout 60 node "$here/s3/sdk.js" "$ep" list interop mine/)
hp=${P#/nix/store/}; hp=${hp%%-*}
grep -qx "mine/$hp.narinfo" <<<"$keys" || fail "SDK does not list the narinfo: $keys"
grep -qx "mine/nix-cache-info" <<<"$keys" || fail "SDK does not list nix-cache-info"
blob=$(grep '^mine/cas/' <<<"$keys") || fail "SDK does not list the blob"
timeout 60 node "$here/s3/sdk.js" "$ep" get interop "$blob" "$work/blob.nar"
[ "$(sha256sum < "$work/blob.nar" | cut -d' ' -f1)" = "${blob#mine/cas/}" ] || fail "the multipart blob read by the SDK does not hash to its key"
timeout 60 node "$here/s3/sdk.js" "$ep" get interop "mine/$hp.narinfo" "$work/info"
grep -q "^StorePath: $P\$" "$work/info" || fail "narinfo read by the SDK names another path"

echo "== interop: the AWS SDK writes a Nix binary cache, straylight substitutes from it"
for f in "$ref"/cache-none/*.narinfo "$ref"/cache-none/nix-cache-info; do
  timeout 60 node "$here/s3/sdk.js" "$ep" put interop "fromsdk/$(basename "$f")" "$f"
done
for f in "$ref"/cache-none/nar/*; do
  timeout 60 node "$here/s3/sdk.js" "$ep" mpu interop "fromsdk/nar/$(basename "$f")" "$f" 5242880
done
tree_path=$(cat "$ref/tree-path")
timeout 120 "$S" store --store "local:$work/sub" --trusted-public-keys "$(cat "$ref/key.pub")" \
  copy --from "$(s3 interop/fromsdk)" "$tree_path" "$(cat "$ref/text-path")"
"$S" store --store "local:$work/sub" materialize "$tree_path" "$work/sub-tree"
diff -r "$ref/tree" "$work/sub-tree" || fail "tree substituted from an SDK-written bucket differs"
if "$S" store --store "local:$work/sub2" --trusted-public-keys "someone:$(head -c 32 /dev/zero | base64)" \
     copy --from "$(s3 interop/fromsdk)" "$(cat "$ref/text-path")" 2> "$work/err"; then
  fail "substituted with no trusted signature"
fi
grep -q "not trusted" "$work/err" || { cat "$work/err"; fail "unclear message for an unknown signer"; }

echo "== two processes add the same objects to S3 at once"
cc="$(s3 straylight/concurrent "$mp")"
timeout 120 "$S" store --store "$cc" add "$work/tree" > "$work/c1" 2> "$work/e1" &
c1=$!
timeout 120 "$S" store --store "$cc" add "$work/tree" > "$work/c2" 2> "$work/e2" &
c2=$!
wait $c1 || { cat "$work/e1"; fail "first concurrent writer failed"; }
wait $c2 || { cat "$work/e2"; fail "second concurrent writer failed"; }
cmp "$work/c1" "$work/c2" || fail "concurrent writers got different paths"
"$S" store --store "$(s3 straylight/concurrent)" verify 2>/dev/null || fail "concurrent writes do not verify"
[ "$(timeout 60 node "$here/s3/sdk.js" "$ep" list straylight concurrent/cas/ | wc -l)" = 1 ] || fail "not one blob"

echo "== substitution over HTTP from a Nix-written xz cache"
hport=$(start "$here/s3/http_static.js" "$ref/cache-xz")
timeout 120 "$S" store --store "local:$work/http" --trusted-public-keys "$(cat "$ref/key.pub")" \
  copy --from "http://127.0.0.1:$hport" "$tree_path" 2>/dev/null
"$S" store --store "local:$work/http" materialize "$tree_path" "$work/http-tree"
diff -r "$ref/tree" "$work/http-tree" || fail "tree substituted over HTTP differs"
expect404=$("$S" store --store "http://127.0.0.1:$hport" path-info /nix/store/00000000000000000000000000000000-x 2>&1 || true)
grep -q "is not in" <<<"$expect404" || fail "missing path over HTTP: $expect404"

echo "== gc on S3"
timeout 60 "$S" store --store "$(s3 straylight/gcs)" add-text keep.txt "$work/tree/a.txt" > "$work/keep"
timeout 60 "$S" store --store "$(s3 straylight/gcs)" add "$work/tree/sub/big.bin" > /dev/null
mkdir "$work/roots" && ln -s "$(cat "$work/keep")" "$work/roots/keep"
timeout 60 "$S" store --store "$(s3 straylight/gcs)" gc --roots "$work/roots" --grace 0 2>/dev/null
[ "$("$S" store --store "$(s3 straylight/gcs)" ls)" = "$(cat "$work/keep")" ] || fail "gc on S3 kept the wrong paths"
[ "$(timeout 60 node "$here/s3/sdk.js" "$ep" list straylight gcs/cas/ | wc -l)" = 1 ] || fail "gc on S3 left blobs"

echo "== fault: a server answering 503 SlowDown every other request"
fport=$(start "$here/s3/proxy.js" "$port" flaky 12)
fl="s3://straylight/flaky?endpoint=http://127.0.0.1:$fport&region=us-east-1&retries=4&backoff-ms=10"
fp=$(timeout 120 "$S" store --store "$fl$mp" add "$work/tree")
[ "$fp" = "$P" ] || fail "add through a flaky server gave $fp"
timeout 120 "$S" store --store "$fl" cat "$fp/sub/big.bin" | cmp - "$work/tree/sub/big.bin" || fail "read through a flaky server differs"
"$S" store --store "$(s3 straylight/flaky)" verify "$fp" 2>/dev/null || fail "what the flaky server stored does not verify"

echo "== fault: truncated downloads"
timeout 120 "$S" store --store "$(s3 straylight/f)" add "$work/tree" >/dev/null
tport=$(start "$here/s3/proxy.js" "$port" truncate)
tp="http://127.0.0.1:$tport"
if timeout 120 "$S" store --store "s3://straylight/f?endpoint=$tp&region=us-east-1&retries=2&backoff-ms=10" \
     cat "$P/sub/big.bin" > "$work/out" 2> "$work/err"; then
  fail "a truncated download was accepted"
fi
grep -q "truncated" "$work/err" || { cat "$work/err"; fail "unclear message for a truncated download"; }
[ ! -s "$work/out" ] || fail "bytes of an unverified download reached the output"
if timeout 120 "$S" store --store "local:$work/tr" copy --from "s3://straylight/f?endpoint=$tp&region=us-east-1&retries=1&backoff-ms=10" "$P" 2> "$work/err"; then
  fail "copy through a truncating proxy succeeded"
fi
[ -z "$("$S" store --store "local:$work/tr" ls 2>/dev/null)" ] || fail "a truncated copy left a path behind"

echo "== fault: the server stops in the middle of a multipart upload"
sport=$(start "$here/s3/proxy.js" "$port" stop 7000000)
if timeout 120 "$S" store --store "s3://straylight/g?endpoint=http://127.0.0.1:$sport&region=us-east-1&retries=2&backoff-ms=10$mp" \
     add "$work/tree" > /dev/null 2> "$work/err"; then
  fail "an upload to a dead server succeeded"
fi
grep -q "after 3 attempts" "$work/err" || { cat "$work/err"; fail "unclear message for a dead server"; }
left=$(timeout 60 node "$here/s3/sdk.js" "$ep" list straylight g/)
grep -q '^g/cas/' <<<"$left" && fail "a half-uploaded blob is visible: $left"
grep -q '\.narinfo$' <<<"$left" && fail "a path was registered without its blob: $left"
[ -z "$("$S" store --store "$(s3 straylight/g)" ls)" ] || fail "the store lists a path after a failed upload"

echo "s3 integration: ok"
