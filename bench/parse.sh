#!/usr/bin/env bash
# Parsing speed and memory: `straylight parse --quiet` over every .nix file of
# nixpkgs-core in one process, against `nix-instantiate --parse` over the
# same files (also one process: it accepts many files and prints each tree).
# Prints the best wall and CPU (user+sys) time of RUNS runs and the peak RSS,
# all from /usr/bin/time, and the ratios. On a shared machine the CPU time is
# the steadier figure; with INSTR=1 (and valgrind installed) it also counts
# the instructions each side executes (callgrind), which do not depend on
# the machine's load at all.
#   usage: [INSTR=1] bench/parse.sh [STRAYLIGHT] [NIXPKGS_CORE_DIR] [RUNS]
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

measure() { # script -> "best-wall best-cpu peak-rss-KiB" over $runs runs
    local best_w= best_c= rss=0
    bash "$1" >/dev/null 2>&1 || true     # warm the page cache
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" bash "$1" >/dev/null 2>&1 || true
        read -r w u s m < "$tmp/t"
        c=$(python3 -c "print($u + $s)")
        best_w=$(python3 -c "print(min(x for x in [$w, ${best_w:-$w}]))")
        best_c=$(python3 -c "print(min(x for x in [$c, ${best_c:-$c}]))")
        [ "$m" -gt "$rss" ] && rss=$m
    done
    echo "$best_w $best_c $rss"
}

instructions() { # command... -> instructions executed (callgrind), in one process
    (cd "$root" && xargs -d '\n' valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
        < "$tmp/files" 2>&1 >/dev/null) | sed -n 's/.*refs: *//p' | tr -d ,
}

read -r t_ours c_ours m_ours < <(measure "$tmp/ours.sh")
read -r t_nix c_nix m_nix < <(measure "$tmp/nix.sh")
i_ours=0 i_nix=0
if [ "${INSTR:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "INSTR=1 needs valgrind" >&2; exit 1; }
    i_ours=$(instructions "$straylight" parse --quiet)
    i_nix=$(instructions nix-instantiate --parse)
fi
python3 - "$n" "$runs" "$t_ours" "$t_nix" "$c_ours" "$c_nix" "$m_ours" "$m_nix" "$i_ours" "$i_nix" <<'EOS'
import sys
n, runs = int(sys.argv[1]), int(sys.argv[2])
to, tn, co, cn = map(float, sys.argv[3:7])
mo, mn = int(sys.argv[7]), int(sys.argv[8])
io, inx = int(sys.argv[9] or 0), int(sys.argv[10] or 0)
print(f"files: {n} (nixpkgs-core), best of {runs} runs")
print(f"{'':26}{'wall s':>9}{'cpu s':>9}{'peak RSS MiB':>14}" + (f"{'instructions':>15}" if io else ""))
print(f"{'straylight parse --quiet':26}{to:9.3f}{co:9.3f}{mo/1024:14.1f}" + (f"{io/1e6:14.1f}M" if io else ""))
print(f"{'nix-instantiate --parse':26}{tn:9.3f}{cn:9.3f}{mn/1024:14.1f}" + (f"{inx/1e6:14.1f}M" if io else ""))
print(f"ratios (nix / straylight): wall {tn/to:.1f}x, cpu {cn/co:.1f}x, peak RSS {mn/mo:.1f}x"
      + (f", instructions {inx/io:.1f}x" if io else ""))
EOS
