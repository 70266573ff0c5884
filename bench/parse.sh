#!/usr/bin/env bash
# Parsing speed and memory: `straylight parse --quiet` over every .nix file of
# nixpkgs-core in one process, against `nix-instantiate --parse` over the
# same files (also one process: it accepts many files and prints each tree).
# Prints the best wall and CPU (user+sys) time of RUNS runs and the peak RSS
# of the largest process, and the ratios; also straylight with bison alone
# (STRAYLIGHT_PARSER=bison), the parser the hand-written one stands in front
# of. On a shared machine the CPU time is
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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && find . -name '*.nix' -type f | LC_ALL=C sort) > "$tmp/files"
n=$(wc -l < "$tmp/files")
# both read the same list; nix prints its trees, which go to /dev/null
cat > "$tmp/ours.sh" <<EOS
cd "$root" && xargs -d '\n' "$straylight" parse --quiet < "$tmp/files"
EOS
cat > "$tmp/bison.sh" <<EOS
cd "$root" && STRAYLIGHT_PARSER=bison xargs -d '\n' "$straylight" parse --quiet < "$tmp/files"
EOS
cat > "$tmp/nix.sh" <<EOS
cd "$root" && xargs -d '\n' nix-instantiate --parse < "$tmp/files" > /dev/null
EOS
# the list must fit one command line, so each side is a single process
batches=$(cd "$root" && xargs -d '\n' sh -c 'echo batch' sh < "$tmp/files" | wc -l)
[ "$batches" = 1 ] || echo "note: the file list needed $batches command lines (processes)" >&2

measure() { # script -> "best-wall best-cpu peak-rss-KiB" over $runs runs
    # (timed here rather than by /usr/bin/time, whose 10 ms steps are a
    # tenth of what is measured)
    bash "$1" >/dev/null 2>&1 || true     # warm the page cache
    python3 - "$1" "$runs" <<'EOP'
import resource, subprocess, sys, time
script, runs = sys.argv[1], int(sys.argv[2])
best_w = best_c = None
rss = 0
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(["bash", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    best_w = w if best_w is None else min(best_w, w)
    best_c = c if best_c is None else min(best_c, c)
    rss = max(rss, after.ru_maxrss)   # the largest process (KiB)
print(f"{best_w:.4f} {best_c:.4f} {rss}")
EOP
}

instructions() { # command... -> instructions executed (callgrind), in one process
    (cd "$root" && xargs -d '\n' valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
        < "$tmp/files" 2>&1 >/dev/null) | sed -n 's/.*refs: *//p' | tr -d ,
}

read -r t_ours c_ours m_ours < <(measure "$tmp/ours.sh")
read -r t_bison c_bison m_bison < <(measure "$tmp/bison.sh")
read -r t_nix c_nix m_nix < <(measure "$tmp/nix.sh")
i_ours=0 i_nix=0
if [ "${INSTR:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "INSTR=1 needs valgrind" >&2; exit 1; }
    i_ours=$(instructions "$straylight" parse --quiet)
    i_nix=$(instructions nix-instantiate --parse)
fi
python3 - "$n" "$runs" "$t_ours" "$t_nix" "$c_ours" "$c_nix" "$m_ours" "$m_nix" "$i_ours" "$i_nix" \
    "$t_bison" "$c_bison" "$m_bison" <<'EOS'
import sys
n, runs = int(sys.argv[1]), int(sys.argv[2])
to, tn, co, cn = map(float, sys.argv[3:7])
mo, mn = int(sys.argv[7]), int(sys.argv[8])
io, inx = int(sys.argv[9] or 0), int(sys.argv[10] or 0)
tb, cb, mb = float(sys.argv[11]), float(sys.argv[12]), int(sys.argv[13])
print(f"files: {n} (nixpkgs-core), best of {runs} runs")
print(f"{'':26}{'wall s':>9}{'cpu s':>9}{'peak RSS MiB':>14}" + (f"{'instructions':>15}" if io else ""))
print(f"{'straylight parse --quiet':26}{to:9.3f}{co:9.3f}{mo/1024:14.1f}" + (f"{io/1e6:14.1f}M" if io else ""))
print(f"{'  (bison alone)':26}{tb:9.3f}{cb:9.3f}{mb/1024:14.1f}")
print(f"{'nix-instantiate --parse':26}{tn:9.3f}{cn:9.3f}{mn/1024:14.1f}" + (f"{inx/1e6:14.1f}M" if io else ""))
print(f"ratios (nix / straylight): wall {tn/to:.1f}x, cpu {cn/co:.1f}x, peak RSS {mn/mo:.1f}x"
      + (f", instructions {inx/io:.1f}x" if io else ""))
EOS
