#!/usr/bin/env bash
# Regenerates the reference list of derivation paths of the corpus package set
# with the oracle (nix-instantiate 2.8.0): one row per attribute of
# `import nixpkgs-core { system = "x86_64-linux"; }` and per attribute of the
# sets in it marked recurseForDerivations = true (one level), for every
# attribute that is a derivation or fails to evaluate:
#   attr <TAB> drvPath <TAB> outputs (JSON: name -> path, keys sorted) <TAB> error
# error is empty when the attribute evaluates, else its class:
#   tryEval:...      Nix 2.8's tryEval catches it (throw, assert)
#   uncatchable:...  it ends the evaluation (abort, missing attribute, ...)
# followed by a short kind taken from the message (see classify below).
#
# Nix 2.8 cannot isolate uncatchable errors inside one evaluation, so every
# attribute is evaluated by its own nix-instantiate process; the whole set
# takes about an hour on one core.
#
# Usage: corpus/gen-drvpaths.sh CORPUS_DIR [OUT.tsv] [--sample N] [--jobs J]
#   CORPUS_DIR/nixpkgs/nixpkgs-core is the package set; OUT defaults to
#   corpus/drvpaths/nixpkgs-core-drvpaths.tsv. --sample N takes every
#   (count/N)-th attribute only (to check the script against a committed
#   list without the full run).
#
#        corpus/gen-drvpaths.sh --cases
#   writes corpus/drvpaths/cases.tsv (same columns) for the small hand-written
#   set corpus/drvpaths/cases.nix, in one evaluation (nothing in it fails),
#   and corpus/drvpaths/identity.txt, what nix-instantiate prints for
#   corpus/drvpaths/identity.nix, and corpus/drvpaths/gates.tsv, the .drv
#   paths of corpus/drvpaths/gates.nix.
set -euo pipefail
# Without Nix's build-users group on the machine nix-instantiate warns on every
# run; the oracle needs no build users.
export NIX_CONFIG="build-users-group =${NIX_CONFIG:+
$NIX_CONFIG}"
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = "--cases" ]; then
  nix-instantiate --extra-experimental-features ca-derivations --read-write-mode --eval --strict --json -E "
    builtins.mapAttrs (n: v: {
      drvPath = v.drvPath;
      outputs = builtins.listToAttrs (map (o: { name = o; value = v.\${o}.outPath; }) (v.outputs or [ \"out\" ]));
    }) (import $here/drvpaths/cases.nix)" |
  python3 -c '
import json,sys
d=json.load(sys.stdin)
print("attr\tdrvPath\toutputs\terror")
for k in sorted(d, key=lambda s: s.encode()):
    print("%s\t%s\t%s\t" % (k, d[k]["drvPath"], json.dumps(d[k]["outputs"], sort_keys=True, separators=(",",":"))))
' > "$here/drvpaths/cases.tsv.new"
  mv "$here/drvpaths/cases.tsv.new" "$here/drvpaths/cases.tsv"
  echo "$(($(wc -l < "$here/drvpaths/cases.tsv") - 1)) cases -> $here/drvpaths/cases.tsv"
  # which repeated derivations nix-instantiate prints (identity.nix)
  nix-instantiate --readonly-mode "$here/drvpaths/identity.nix" 2>/dev/null > "$here/drvpaths/identity.txt"
  echo "$(wc -l < "$here/drvpaths/identity.txt") lines -> $here/drvpaths/identity.txt"
  # the .drv paths of gates.nix, with the features enabled
  for a in ca impure; do
    printf '%s\t' "$a"
    nix-instantiate --readonly-mode --extra-experimental-features "ca-derivations impure-derivations" \
      "$here/drvpaths/gates.nix" -A "$a" 2>/dev/null
  done > "$here/drvpaths/gates.tsv"
  exit 0
fi
corpus=${1:?usage: gen-drvpaths.sh CORPUS_DIR [OUT.tsv] [--sample N] [--jobs J]}
shift
out="$here/drvpaths/nixpkgs-core-drvpaths.tsv"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out=$1; shift; fi
sample=0; jobs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample=$2; shift 2;;
    --jobs) jobs=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
core=$(cd "$corpus/nixpkgs/nixpkgs-core" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export NIX_PATH= NIX_STORE_DIR=/nix/store
pkgs="import $core { system = \"x86_64-linux\"; }"

# The top-level names (not evaluated); sets marked recurseForDerivations are
# found while their attribute is evaluated, and their attributes follow it.
nix-instantiate --eval --strict --json -E "builtins.attrNames ($pkgs)" 2>/dev/null |
  python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)))' > "$tmp/attrs"
if [ "$sample" -gt 0 ]; then
  step=$(( $(wc -l < "$tmp/attrs") / sample )); [ "$step" -lt 1 ] && step=1
  awk -v s="$step" 'NR % s == 1 || s == 1' "$tmp/attrs" > "$tmp/attrs.s"
  mv "$tmp/attrs.s" "$tmp/attrs"
fi

# A kind for an error message (the same kinds straylight's --walk-tsv uses).
classify() { # catchable(0/1) message-file
  local msg; msg=$(cat "$2")
  local pre="uncatchable:"; [ "$1" = 1 ] && pre="tryEval:"
  if [[ "$msg" == *"assertion "*" failed"* ]] && [ "$1" = 1 ]; then echo "${pre}assertion-failed"; return; fi
  if [[ "$msg" == *"infinite recursion"* ]]; then echo "${pre}infinite-recursion"; return; fi
  if [ "$1" = 1 ]; then
    case "$msg" in
      *"not available on the requested hostPlatform"*|*"is not supported on"*) echo "tryEval:throw:meta-unsupported-platform";;
      *"has an unfree license"*) echo "tryEval:throw:meta-unfree";;
      *"is marked as broken"*) echo "tryEval:throw:meta-broken";;
      *"is marked as insecure"*) echo "tryEval:throw:meta-insecure";;
      *"has been removed"*|*"was removed"*|*"has been renamed"*|*"is deprecated"*|*"has been deprecated"*|*"renamed to"*|*"replaced by"*)
        echo "tryEval:throw:removed-alias";;
      *) echo "tryEval:throw:other";;
    esac
    return
  fi
  case "$msg" in
    *"evaluation aborted with the following error message"*)
      if [[ "$msg" == *"without required argument"* ]]; then echo "uncatchable:abort:callPackage-missing-arg"
      else echo "uncatchable:abort:other"; fi;;
    *"attribute '"*"' missing"*) echo "uncatchable:attribute-missing";;
    *"undefined variable"*) echo "uncatchable:undefined-variable";;
    *"called without required argument"*) echo "uncatchable:function-missing-arg";;
    *"does not exist"*|*"No such file"*) echo "uncatchable:missing-file";;
    *"stack overflow"*|*"max-call-depth"*) echo "uncatchable:stack-overflow";;
    *) echo "uncatchable:other";;
  esac
}
export -f classify

# attr -> its row (nothing for a value that is not a derivation), then the
# rows of its attributes when it is a set marked recurseForDerivations.
one() {
  local a=$1 d; d=$(mktemp -d)
  local sel="pkgs"; local IFS=.
  for part in $a; do sel="$sel.\"$part\""; done
  unset IFS
  local val="let v = $sel; in if (v.type or null) == \"derivation\" then {
      drvPath = v.drvPath;
      outputs = builtins.listToAttrs (map (o: { name = o; value = v.\${o}.outPath; }) (v.outputs or [ \"out\" ]));
    } else if builtins.isAttrs v && (v.recurseForDerivations or false) == true then {
      sub = builtins.attrNames v;
    } else null"
  if nix-instantiate --eval --strict --json -E "let pkgs = $pkgs; in $val" >"$d/out" 2>"$d/err"; then
    python3 -c '
import json,sys
v=json.load(open(sys.argv[2]))
if v is not None and "drvPath" in v:
    print("%s\t%s\t%s\t" % (sys.argv[1], v["drvPath"], json.dumps(v["outputs"], sort_keys=True, separators=(",",":"))))
elif v is not None and "." not in sys.argv[1]:
    open(sys.argv[3], "w").write("".join(sys.argv[1] + "." + n + "\n" for n in v["sub"]))
' "$a" "$d/out" "$d/sub"
    if [ -s "$d/sub" ]; then
      while IFS= read -r s; do one "$s"; done < "$d/sub"
    fi
  else
    # Caught by 2.8's tryEval? Then it is a throw or an assertion.
    local caught=0
    if nix-instantiate --eval --strict -E "let pkgs = $pkgs; in (builtins.tryEval (builtins.deepSeq ($val) true)).success" >"$d/t" 2>/dev/null &&
       [ "$(cat "$d/t")" = false ]; then caught=1; fi
    printf '%s\t\t\t%s\n' "$a" "$(classify $caught "$d/err")"
  fi
  rm -rf "$d"
}
export -f one
export pkgs

{
  printf 'attr\tdrvPath\toutputs\terror\n'
  # keep the attribute order of the list (name order) whatever the job count
  nl -ba -w1 -s' ' "$tmp/attrs" | xargs -P "$jobs" -L1 bash -c 'one "$1" > "'"$tmp"'/row.$0"'
  n=$(wc -l < "$tmp/attrs")
  for i in $(seq 1 "$n"); do cat "$tmp/row.$i"; done
} > "$tmp/out.tsv"
mkdir -p "$(dirname "$out")"
mv "$tmp/out.tsv" "$out"
echo "$(($(wc -l < "$out") - 1)) rows ($(awk -F'\t' 'NR>1 && $2!=""' "$out" | wc -l) derivations) -> $out"
