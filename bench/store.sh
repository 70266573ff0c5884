#!/usr/bin/env bash
# Store throughput, one run:
#   local put: `straylight store add FILE` vs `cp` + `sha256sum` of the same bytes
#   local get: `straylight store cat` (verifies the hash) vs `sha256sum` + `cat`
#   S3 put/get against s3rver on 127.0.0.1: straylight vs the AWS SDK for JavaScript
# Reports MB/s and ratios (>1 means straylight is faster).
# Usage: bench/store.sh BUILD_DIR [SIZE_MB]
set -euo pipefail
build=$(realpath "${1:?usage: bench/store.sh BUILD_DIR [SIZE_MB]}")
mb=${2:-256}
S=$build/straylight
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
head -c $((mb << 20)) /dev/urandom > data.bin
sync
now() { date +%s.%N; }
rate() { awk -v mb="$mb" -v t="$1" 'BEGIN { printf "%8.1f MB/s", mb / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%5.2fx", b / a }'; }
row() { printf '%-24s straylight %s (%6.2fs)   %-22s %s (%6.2fs)   ratio %s\n' "$1" "$(rate "$2")" "$2" "$3" "$(rate "$4")" "$4" "$(ratio "$2" "$4")"; }
timeit() { local t0; t0=$(now); "$@" > /dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }'; }

echo "store benchmark: $mb MiB of random bytes, $(nproc) cores"
t_add=$(timeit "$S" store --store "local:$work/st" add data.bin)
p=$("$S" store --store "local:$work/st" add data.bin)
t_ref=$( { t0=$(now); cp data.bin copy.bin; sha256sum data.bin > /dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }'; } )
row "local put" "$t_add" "cp + sha256sum" "$t_ref"
t_cat=$(timeit "$S" store --store "local:$work/st" cat "$p")
t_ref=$( { t0=$(now); sha256sum data.bin > /dev/null; cat data.bin > /dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }'; } )
row "local get (verified)" "$t_cat" "sha256sum + cat" "$t_ref"

nm=$build/node/node_modules
if [ -d "$nm/s3rver" ] && [ -d "$nm/@aws-sdk/client-s3" ]; then
  export NODE_PATH=$nm NODE_NO_WARNINGS=1 AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  mkdir s3
  WATCH_PID=$$ node "$here/tests/store/s3/server.js" "$work/s3" > port < /dev/null 2>/dev/null &
  echo $! >> pids
  for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
  ep="http://127.0.0.1:$(cat port)"
  url="s3://straylight/bench?endpoint=$ep&region=us-east-1"
  # Like for like: one PUT each, then straylight's parallel multipart upload.
  t_s3=$(timeit "$S" store --store "$url&multipart-threshold=1099511627776" add data.bin)
  t_sdk=$(timeit node "$here/tests/store/s3/sdk.js" "$ep" put interop data.bin data.bin)
  row "s3 put (one PUT)" "$t_s3" "AWS SDK PutObject" "$t_sdk"
  t_s3=$(timeit "$S" store --store "${url/bench/bench2}" add data.bin)
  row "s3 put (multipart x4)" "$t_s3" "AWS SDK PutObject" "$t_sdk"
  t_s3=$(timeit "$S" store --store "$url" cat "$p")
  t_sdk=$(timeit node "$here/tests/store/s3/sdk.js" "$ep" get interop data.bin "$work/got.bin")
  row "s3 get (verified)" "$t_s3" "AWS SDK GetObject" "$t_sdk"
else
  echo "s3: skipped (npm packages not installed in $nm)"
fi
