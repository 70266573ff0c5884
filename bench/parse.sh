#!/usr/bin/env bash
# Parsing speed and memory: `straylight parse --quiet` over every .nix file of
# nixpkgs-core in one process, against `nix-instantiate --parse` over the
# same files (also one process: it accepts many files and prints each tree).
# Prints the best wall and CPU (user+sys) time of RUNS rounds (each round
# runs every side once, in turn) and the peak RSS of the largest process,
# and the ratios; also straylight with bison alone
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

measure "$tmp/ours.sh" "$tmp/bison.sh" "$tmp/nix.sh" > "$tmp/m"
{ read -r t_ours c_ours m_ours; read -r t_bison c_bison m_bison; read -r t_nix c_nix m_nix; } < "$tmp/m"
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
