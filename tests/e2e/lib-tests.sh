#!/usr/bin/env bash
# nixpkgs-core's lib under straylight, against nix-instantiate 2.8.0's
# outputs committed in corpus/lib-tests (corpus/gen-lib-tests.sh):
#  - the corpus's own pure lib test suites lib/tests/{misc,systems,check-eval}.nix
#    (`eval --strict`, output byte for byte);
#  - the hand-written lib expressions corpus/lib-tests/exprs/*.nix, each
#    called with `--arg lib <corpus lib>` (output byte for byte; the names in
#    known-failures.txt are reported, not failed);
#  - lib/tests/modules.sh (the module system's own shell-driven suite, whose
#    checks are regexes on the output or the error) with `nix-instantiate`
#    standing for straylight; fails when fewer checks pass than the floor;
#  - lib/tests/filesystem.sh and lib/tests/sources.sh the same way (each
#    passes or fails as a whole).
# usage: lib-tests.sh STRAYLIGHT CORPUS_DIR REF_DIR
set -euo pipefail
bin=$1; corpus=$2; ref=$3
core="$corpus/nixpkgs/nixpkgs-core"
[ -d "$core/lib/tests" ] || { echo "no corpus at $corpus (run scripts/setup.sh)"; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
core=$(cd "$core" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/config
unset STRAYLIGHT_STORE NIX_PATH
# Failing evaluations (expected by modules.sh) unwind with longjmp past C
# temporaries, so leak checking is off here as in drvpaths.sh.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fail=0

suites=0; suites_ok=0
for f in "$ref"/suites/*.out; do
  s=$(basename "$f" .out); suites=$((suites + 1))
  if "$bin" eval --strict "$core/lib/tests/$s.nix" > "$tmp/out" 2> "$tmp/err" && cmp -s "$f" "$tmp/out"; then
    suites_ok=$((suites_ok + 1))
  else
    echo "FAIL suite lib/tests/$s.nix"; head -c 2000 "$tmp/out" "$tmp/err"; fail=1
  fi
done
echo "lib test suites: $suites_ok/$suites match"

known() { grep -q "^$1 " "$ref/known-failures.txt"; }
exprs=0; exprs_ok=0
for f in "$ref"/exprs/*.out; do
  n=$(basename "$f" .out); exprs=$((exprs + 1))
  if (cd "$ref/exprs" && "$bin" eval --strict --arg lib "import $core/lib" "./$n.nix") > "$tmp/out" 2> "$tmp/err" \
     && cmp -s "$f" "$tmp/out"; then
    exprs_ok=$((exprs_ok + 1))
    known "$n" && echo "NOTE exprs/$n.nix matches now: take it out of known-failures.txt"
  elif known "$n"; then
    echo "known failure exprs/$n.nix"
  else
    echo "FAIL exprs/$n.nix"; diff "$f" "$tmp/out" | head -20 || true; head -c 1000 "$tmp/err"; fail=1
  fi
done
echo "lib expressions: $exprs_ok/$exprs match"

# modules.sh calls `nix-instantiate --timeout 1 -E EXPR -A ATTR --eval-only
# --show-trace --read-write-mode --json`; the stand-in drops the flags
# straylight eval has no use for.
mkdir "$tmp/bin"
cat > "$tmp/bin/nix-instantiate" <<SH
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
  case "\$1" in
    --timeout) shift 2;;
    --eval-only|--eval|--read-write-mode) shift;;
    --expr) args+=(-E); shift;;
    *) args+=("\$1"); shift;;
  esac
done
exec "$bin" eval "\${args[@]}"
SH
chmod +x "$tmp/bin/nix-instantiate"
PATH="$tmp/bin:$PATH" bash "$core/lib/tests/modules.sh" > "$tmp/modules.log" 2>&1 || true
pass=$(sed -n 's/^\([0-9]*\) Pass$/\1/p' "$tmp/modules.log")
total=$(cat "$ref/modules-total.txt")
floor=$(grep -v '^#' "$ref/modules-floor.txt" | head -1)
echo "modules.sh: ${pass:-0}/$total checks pass (floor $floor)"
if [ -z "$pass" ] || [ "$pass" -lt "$floor" ]; then
  grep -A3 '^error: Expected' "$tmp/modules.log" | head -100
  fail=1
fi
for t in filesystem sources; do
  # sources.sh `cd`s into the store paths the evaluation prints. straylight
  # never writes the host's /nix/store (its store is content-addressed
  # elsewhere), so those paths exist only where Nix itself happened to add
  # the same source earlier: the outcome would say nothing about straylight.
  if [ "$t" = sources ]; then
    echo "sources.sh: not run (it reads the printed store paths from the host's /nix/store, which straylight does not write)"
    continue
  fi
  if PATH="$tmp/bin:$PATH" TEST_LIB="$core/lib" bash "$core/lib/tests/$t.sh" > "$tmp/$t.log" 2>&1; then
    echo "$t.sh: ok"
  else
    echo "FAIL $t.sh"; tail -20 "$tmp/$t.log"; fail=1
  fi
done
exit $fail
