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
  expect "dependency cycle: /nix/store/$A-a.drv -> /nix/store/$B-b.drv -> /nix/store/$A-a.drv" "$sl" $cmd --no-verify "$work/cycle/$A-a.drv"
  expect "neither a store path" "$sl" $cmd "$work/does-not-exist.drv"
  expect "not a derivation" "$sl" $cmd --drv-source "$corpus/store" /nix/store/v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh
done
expect "the runtime closure" "$sl" sbom --runtime "$corpus/store/$base"
expect "unknown format" "$sl" graph --format svg "$corpus/store/$base"
expect "needs --out" "$sl" graph --format rev2 "$corpus/store/$base"
expect "expected path" "$sl" graph --path-info "$corpus/root" "$corpus/store/$base"
# Derivations whose attributes Nix would refuse to build, or that REv2
# cannot express.
C=cccccccccccccccccccccccccccccccc D=dddddddddddddddddddddddddddddddd
mkdir -p "$work/json" "$work/bytes"
printf 'Derive([("out","/nix/store/%s-j","","")],[],[],"x86_64-linux","/bin/sh",[],[("__json","{\\"a\\":"),("out","/nix/store/%s-j")])' $C $C > "$work/json/$C-j.drv"
expect "cannot process __json attribute" "$sl" graph --no-verify "$work/json/$C-j.drv"
printf 'Derive([("out","/nix/store/%s-k","","")],[],[],"x86_64-linux","/bin/sh",[],[("__json","{\\"requiredSystemFeatures\\":\\"kvm\\"}"),("out","/nix/store/%s-k")])' $D $D > "$work/json/$D-k.drv"
expect "must be a list of strings" "$sl" graph --no-verify "$work/json/$D-k.drv"
printf 'Derive([("out","/nix/store/%s-b","","")],[],[],"x86_64-linux","/bin/sh",[],[("latin1","caf\xe9"),("out","/nix/store/%s-b")])' $C $C > "$work/bytes/$C-b.drv"
if "$sl" graph --no-verify "$work/bytes/$C-b.drv" > "$work/bytes.json" 2> "$work/err" && grep -Eq '"base64": ?"Y2Fm6Q=="' "$work/bytes.json"; then
  echo "ok: non-UTF-8 value kept as base64 in the JSON action"
else
  echo "FAIL: non-UTF-8 value: $(head -c 300 "$work/err")"; fails=$((fails + 1))
fi
expect "latin1 is not valid UTF-8, which a REv2 Command cannot hold" "$sl" graph --no-verify "$work/bytes/$C-b.drv" --format rev2 --out "$work/bytes-cas"

printf 'Derive([("out","/nix/store/%s-v","","")],[],[],"x86_64-linux","/bin/sh",[],[("out","/nix/store/%s-v"),("pname","p"),("version","caf\xe9")])' $D $D > "$work/bytes/$D-v.drv"
if "$sl" sbom --no-verify "$work/bytes/$D-v.drv" > "$work/v.json" 2> "$work/err" &&
   python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['metadata']['component']['version'] == 'caf\ufffd'" "$work/v.json"; then
  echo "ok: non-UTF-8 version shown with U+FFFD in the SBOM"
else
  echo "FAIL: non-UTF-8 version in the SBOM: $(head -c 300 "$work/err")"; fails=$((fails + 1))
fi

# A drv source is only files: a .drv whose bytes are not what its name
# says, or whose outputs are not what its hashes give, is refused.
mkdir -p "$work/tamper"
plain=$(ls "$src"/corpus/drv-reference/store/*-dv-plain.drv)
pbase=$(basename "$plain")
sed 's/"line1/"LINE1/' "$plain" > "$work/tamper/$pbase"
expect "the file's contents belong to" "$sl" graph "$work/tamper/$pbase"
out=$(sed -n 's/.*("out","\([^"]*\)".*/\1/p' "$plain" | head -n1)
sed "s#${out}#${out%?}0#g" "$plain" > "$work/tamper/$pbase"
real=$("$sl" graph "$work/tamper/$pbase" 2>&1 | sed -n 's/.*belong to \([^;]*\);.*/\1/p')
mv "$work/tamper/$pbase" "$work/tamper/$(basename "$real")"
expect "has incorrect output" "$sl" graph "$work/tamper/$(basename "$real")"
# Verified .drv files cannot form a cycle (each path hashes its inputs'
# paths); the hand-made cycle is refused for its names first.
expect "the file's contents belong to" "$sl" graph "$work/cycle/$A-a.drv"

# Recorded meta that is not a JSON object is an error with its position.
mkdir -p "$work/meta"
printf '{"description": "x",\n "license": }' > "$work/meta/$base.meta.json"
expect "$base.meta.json:2:" "$sl" sbom "$corpus/store/$base" --meta-dir "$work/meta"
printf '[1]' > "$work/meta/$base.meta.json"
expect "meta must be a JSON object" "$sl" sbom "$corpus/store/$base" --meta-dir "$work/meta"

# A failing run writes nothing.
expect "dependency cycle" "$sl" graph --no-verify "$work/cycle/$A-a.drv" --out "$work/emptyout/g.json"
[ -e "$work/emptyout/g.json" ] && { echo "FAIL: output written on error"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "cli errors: all clean" || exit 1
