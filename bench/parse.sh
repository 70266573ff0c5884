#!/usr/bin/env bash
# Parsing speed and memory: `straylight parse --quiet` over every .nix file of
# nixpkgs-core in one process, against `nix-instantiate --parse` over the
# same files (also one process: it accepts many files and prints each tree).
# Prints wall time (hyperfine, best of N runs, or /usr/bin/time) and peak RSS
# (/usr/bin/time -v), and the ratios.
#   usage: bench/parse.sh [STRAYLIGHT] [NIXPKGS_CORE_DIR] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
straylight=$(realpath "${1:-$here/build/straylight}")
root=$(realpath "${2:-$here/build/corpus/nixpkgs/nixpkgs-core}")
runs=${3:-5}
command -v nix-instantiate >/dev/null || { echo "nix-instantiate (the comparison) not found" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && find . -name '*.nix' -type f | LC_ALL=C sort) > "$tmp/files"
n=$(wc -l < "$tmp/files")
# both read the same list; nix prints its trees, which go to /dev/null
cat > "$tmp/ours.sh" <<EOS
cd "$root" && xargs -d '\n' "$straylight" parse --quiet < "$tmp/files"
EOS
cat > "$tmp/nix.sh" <<EOS
cd "$root" && xargs -d '\n' nix-instantiate --parse < "$tmp/files" > /dev/null
EOS
# the list must fit one command line, so each side is a single process
batches=$(cd "$root" && xargs -d '\n' sh -c 'echo batch' sh < "$tmp/files" | wc -l)
[ "$batches" = 1 ] || echo "note: the file list needed $batches command lines (processes)" >&2

wall() { # script -> seconds (best of $runs)
    if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 1 --runs "$runs" --export-json "$tmp/h.json" "bash $1" >/dev/null 2>&1
        python3 -c 'import json,sys; print(min(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$tmp/h.json"
    else
        best=
        for _ in $(seq "$runs"); do
            /usr/bin/time -f %e -o "$tmp/t" bash "$1" >/dev/null 2>&1
            t=$(cat "$tmp/t")
            if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; fi
        done
        echo "$best"
    fi
}
rss() { # script -> peak RSS in KiB of the biggest process
    /usr/bin/time -v bash "$1" 2> "$tmp/v" >/dev/null || true
    awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tmp/v"
}

t_ours=$(wall "$tmp/ours.sh")
t_nix=$(wall "$tmp/nix.sh")
m_ours=$(rss "$tmp/ours.sh")
m_nix=$(rss "$tmp/nix.sh")
python3 - "$n" "$t_ours" "$t_nix" "$m_ours" "$m_nix" <<'EOS'
import sys
n, to, tn, mo, mn = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"files: {n} (nixpkgs-core)")
print(f"{'':24}{'wall s':>10}{'peak RSS MiB':>14}")
print(f"{'straylight parse':24}{to:10.3f}{mo/1024:14.1f}")
print(f"{'nix-instantiate --parse':24}{tn:10.3f}{mn/1024:14.1f}")
print(f"straylight is {tn/to:.1f}x faster and uses {mn/mo:.1f}x less memory")
EOS
