#!/usr/bin/env bash
# Parsing speed and memory: `straylight parse --quiet` over every .nix file of
# nixpkgs-core in one process, against `nix-instantiate --parse` over the
# same files (also one process: it accepts many files and prints each tree).
# Prints the best wall and CPU (user+sys) time of RUNS rounds (each round
# runs every side once, in turn) and the peak RSS of the largest process,
# and the ratios to nix-instantiate. Rows:
#  - straylight parse --quiet: the default, on as many threads as CPUs
#    (at most 4); nix-instantiate uses one;
#  - -j1: the same on one thread, the figure to compare CPU work with;
#  - printing trees: without --quiet, the trees written to /dev/null, as
#    nix-instantiate's are (it cannot skip printing);
#  - bison alone (STRAYLIGHT_PARSER=bison, one thread), the parser the
#    hand-written one stands in front of.
# On a shared machine the CPU time is the steadier figure; with INSTR=1 (and
# valgrind installed) it also counts the instructions each side executes
# (callgrind; straylight on one thread), which do not depend on the
# machine's load at all.
#   usage: [INSTR=1] bench/parse.sh [STRAYLIGHT] [NIXPKGS_CORE_DIR] [RUNS]
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")/.." && pwd)
straylight=$(realpath "${1:-$here/build/straylight}")
root=$(realpath "${2:-$here/build/corpus/nixpkgs/nixpkgs-core}")
runs=${3:-5}
command -v nix-instantiate >/dev/null || { echo "nix-instantiate (the comparison) not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && find . -name '*.nix' -type f | LC_ALL=C sort) > "$tmp/files"
n=$(wc -l < "$tmp/files")
# all read the same list; trees that are printed go to /dev/null
side() { # name, then the command's words (run in $root over the list)
    local name=$1; shift
    printf 'cd "%s" && ' "$root" > "$tmp/$name.sh"
    printf '%q ' "$@" >> "$tmp/$name.sh"
    printf '< "%s" > /dev/null\n' "$tmp/files" >> "$tmp/$name.sh"
}
side ours xargs -d '\n' "$straylight" parse --quiet
side ours1 xargs -d '\n' "$straylight" parse --quiet -j1
side print xargs -d '\n' "$straylight" parse
side bison env STRAYLIGHT_PARSER=bison xargs -d '\n' "$straylight" parse --quiet -j1
side nix xargs -d '\n' nix-instantiate --parse
# the list must fit one command line, so each side is a single process
batches=$(cd "$root" && xargs -d '\n' sh -c 'echo batch' sh < "$tmp/files" | wc -l)
[ "$batches" = 1 ] || echo "note: the file list needed $batches command lines (processes)" >&2

measure() { # scripts... -> "best-wall best-cpu peak-rss-KiB" per script, over $runs rounds
    # Rounds run every script in turn, so a change in the machine's load
    # falls on all of them alike (it is shared); times are taken here
    # rather than by /usr/bin/time, whose 10 ms steps are a tenth of what
    # is measured.
    for s in "$@"; do bash "$s" >/dev/null 2>&1 || true; done    # warm the page cache
    python3 - "$runs" "$@" <<'EOP'
import resource, subprocess, sys, time
runs, scripts = int(sys.argv[1]), sys.argv[2:]
best = {s: [None, None, 0] for s in scripts}
for _ in range(runs):
    for s in scripts:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(["bash", s], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        c = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        b = best[s]
        b[0] = w if b[0] is None else min(b[0], w)
        b[1] = c if b[1] is None else min(b[1], c)
for s in scripts:
    # peak RSS: each script once more, alone in a fresh process, as
    # RUSAGE_CHILDREN keeps the maximum over every child
    r = subprocess.run([sys.executable, "-c",
        "import resource,subprocess,sys;subprocess.run(['bash',sys.argv[1]],stdout=subprocess.DEVNULL,"
        "stderr=subprocess.DEVNULL);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)", s],
        capture_output=True, text=True)
    best[s][2] = int(r.stdout.strip() or 0)
    print(f"{best[s][0]:.4f} {best[s][1]:.4f} {best[s][2]}")
EOP
}

instructions() { # command... -> instructions executed (callgrind), in one process
    (cd "$root" && xargs -d '\n' valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
        < "$tmp/files" 2>&1 >/dev/null) | sed -n 's/.*refs: *//p' | tr -d ,
}

sides="ours ours1 print bison nix"
measure $(for x in $sides; do echo "$tmp/$x.sh"; done) > "$tmp/m"
i_ours=0 i_print=0 i_nix=0
if [ "${INSTR:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "INSTR=1 needs valgrind" >&2; exit 1; }
    i_ours=$(instructions "$straylight" parse --quiet -j1)
    i_print=$(instructions "$straylight" parse -j1)
    i_nix=$(instructions nix-instantiate --parse)
fi
python3 - "$n" "$runs" "$tmp/m" "$i_ours" "$i_print" "$i_nix" <<'EOS'
import sys
n, runs = int(sys.argv[1]), int(sys.argv[2])
rows = [list(map(float, l.split())) for l in open(sys.argv[3])]
io, ip, inx = (int(x or 0) for x in sys.argv[4:7])
labels = ["straylight parse --quiet", "  -j1 (one thread)", "  printing trees",
          "  bison alone (-j1)", "nix-instantiate --parse"]
instr = [io, io, ip, 0, inx]
nix = rows[4]
print(f"files: {n} (nixpkgs-core), best of {runs} runs")
print(f"{'':26}{'wall s':>9}{'cpu s':>9}{'peak RSS MiB':>14}" + (f"{'instructions':>15}" if io else "")
      + f"   {'nix/this: wall':>14}{'cpu':>6}")
for lab, (w, c, m), i in zip(labels, rows, instr):
    ratio = "" if lab.startswith("nix") else f"   {nix[0] / w:13.1f}x{nix[1] / c:5.1f}x"
    print(f"{lab:26}{w:9.3f}{c:9.3f}{m / 1024:14.1f}" + ((f"{i / 1e6:14.1f}M" if i else " " * 15) if io else "") + ratio)
print(f"ratios (nix / straylight --quiet): wall {nix[0] / rows[0][0]:.1f}x, cpu {nix[1] / rows[0][1]:.1f}x, "
      f"peak RSS {nix[2] / rows[0][2]:.1f}x" + (f", instructions {inx / io:.1f}x" if io else ""))
EOS
