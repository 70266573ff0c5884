#!/usr/bin/env bash
# Bad input ends in exit 1 with a message naming the problem, and leaves no
# output file behind.
# usage: cli_errors.sh STRAYLIGHT SOURCE_DIR WORK_DIR
set -uo pipefail
sl=$1 src=$2 work=$3
corpus="$src/corpus/hello-closure"
base=$(basename "$(cat "$corpus/root")")
rm -rf "$work" && mkdir -p "$work"/{trunc,malformed,alone,cycle,emptyout}
head -c 400 "$corpus/store/$base" > "$work/trunc/$base"
printf 'Derive([("out","/nix/store/x","","")' > "$work/malformed/$base"
cp "$corpus/store/$base" "$work/alone/"
A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa B=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
printf 'Derive([("out","/nix/store/%s-a","","")],[("/nix/store/%s-b.drv",["out"])],[],"x86_64-linux","/bin/sh",[],[("out","/nix/store/%s-a")])' $A $B $A > "$work/cycle/$A-a.drv"
printf 'Derive([("out","/nix/store/%s-b","","")],[("/nix/store/%s-a.drv",["out"])],[],"x86_64-linux","/bin/sh",[],[("out","/nix/store/%s-b")])' $B $A $B > "$work/cycle/$B-b.drv"
fails=0
expect() {   # expect PATTERN CMD...
  local pat=$1; shift
  "$@" > "$work/out" 2> "$work/err"
  local rc=$?
  if [ $rc -ne 1 ] || ! grep -q -- "$pat" "$work/err"; then
    echo "FAIL: $* -> rc $rc, stderr: $(head -c 300 "$work/err")"; fails=$((fails + 1))
  else
    echo "ok: $(head -n1 "$work/err" | cut -c1-160)"
  fi
}
for cmd in graph sbom; do
  expect "at byte" "$sl" $cmd "$work/trunc/$base"
  expect "at byte" "$sl" $cmd "$work/malformed/$base"
  expect "not found in the derivation source" "$sl" $cmd "$work/alone/$base"
  expect "input of /nix/store/$base" "$sl" $cmd "$work/alone/$base"
  expect "dependency cycle: /nix/store/$A-a.drv -> /nix/store/$B-b.drv -> /nix/store/$A-a.drv" "$sl" $cmd "$work/cycle/$A-a.drv"
  expect "neither a store path" "$sl" $cmd "$work/does-not-exist.drv"
  expect "not a derivation" "$sl" $cmd --drv-source "$corpus/store" /nix/store/v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh
done
expect "the runtime closure" "$sl" sbom --runtime "$corpus/store/$base"
expect "unknown format" "$sl" graph --format svg "$corpus/store/$base"
expect "needs --out" "$sl" graph --format rev2 "$corpus/store/$base"
expect "expected path" "$sl" graph --path-info "$corpus/root" "$corpus/store/$base"
# A failing run writes nothing.
expect "dependency cycle" "$sl" graph "$work/cycle/$A-a.drv" --out "$work/emptyout/g.json"
[ -e "$work/emptyout/g.json" ] && { echo "FAIL: output written on error"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "cli errors: all clean" || exit 1
