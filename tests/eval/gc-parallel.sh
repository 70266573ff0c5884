#!/usr/bin/env bash
# A heap big enough (some 60 MiB live) for the collector to mark with its
# helper thread, and for the heap's huge pages to be faulted in by the
# other helper, checked after every collection (STRAYLIGHT_GC_VERIFY=1)
# and against a single thread (STRAYLIGHT_GC_THREADS=1). The
# expected value was produced by nix-instantiate 2.8.0.
# usage: gc-parallel.sh STRAYLIGHT
set -uo pipefail
bin=$1
err=$(mktemp); trap 'rm -f "$err"' EXIT
expr='let n = 300000; xs = builtins.genList (i: { a = i; b = toString i; c = [ i (i * 2) ]; }) n; s = builtins.foldl'"'"' (acc: x: acc + x.a + builtins.stringLength x.b + builtins.elemAt x.c 1) 0 xs; in [ s (builtins.length (builtins.filter (x: x.a / 7 * 7 == x.a) xs)) (builtins.foldl'"'"' (acc: x: acc + builtins.head x.c) 0 (builtins.sort (a: b: a.a > b.a) xs)) ]'
want='[ 135001238890 42858 44999850000 ]'
fail=0
got=$(STRAYLIGHT_GC_VERIFY=1 STRAYLIGHT_GC_STATS=1 "$bin" eval --strict -E "$expr" 2>"$err")
if [ "$got" != "$want" ]; then
  echo "FAIL: two marking threads: got $got"; grep -v '^  kind' "$err" | head -20; fail=1
elif ! grep -q '^  parallel:' "$err"; then
  echo "FAIL: no collection was marked in parallel"; grep '^gc' "$err"; fail=1
elif ! grep -q '^gc: huge pages faulted in ahead [1-9]' "$err"; then
  echo "FAIL: no huge page was faulted in ahead"; grep '^gc:' "$err"; fail=1
fi
got=$(STRAYLIGHT_GC_THREADS=1 STRAYLIGHT_GC_VERIFY=1 STRAYLIGHT_GC_STATS=1 "$bin" eval --strict -E "$expr" 2>"$err")
if [ "$got" != "$want" ]; then
  echo "FAIL: one marking thread: got $got"; grep -v '^  kind' "$err" | head -20; fail=1
elif grep -q '^  parallel:' "$err"; then
  echo "FAIL: STRAYLIGHT_GC_THREADS=1 still marked in parallel"; fail=1
elif grep -q '^gc: huge pages faulted in ahead' "$err"; then
  echo "FAIL: STRAYLIGHT_GC_THREADS=1 still faulted pages in on a helper"; fail=1
fi
[ "$fail" -eq 0 ] && echo "gc-parallel: passed"
exit "$fail"
