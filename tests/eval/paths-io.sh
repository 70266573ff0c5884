#!/usr/bin/env bash
# Reading the file system: readDir (entry types, a fifo, a directory reached
# through ".."), readFile (a file bigger than one read buffer, an empty one,
# one through a symlink, a /proc file whose size says 0), sources copied to
# the store whole, filtered and as a single file, imports of copies and of
# directories, and the error messages for what is missing. The values are
# what nix-instantiate --eval --strict --read-write-mode prints for the same
# tree (store paths depend only on names and contents).
# Usage: paths-io.sh STRAYLIGHT
set -u
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME="$work/xdg" XDG_CACHE_HOME="$work/cache"
t="$work/tree"
mkdir -p "$t/sub/deeper" "$work/odd"
printf 'hello\n' > "$t/a.txt"
: > "$t/empty"
printf '#!/bin/sh\necho hi\n' > "$t/sub/run.sh"
printf 'x\n' > "$t/sub/deeper/x"
printf '{ v = 42; }\n' > "$t/sub/val.nix"
printf 'import ./sub/val.nix\n' > "$t/default.nix"
head -c 300000 /dev/zero | tr '\0' 'a' > "$t/big"
chmod 644 "$t/a.txt" "$t/empty" "$t/sub/deeper/x" "$t/sub/val.nix" "$t/default.nix" "$t/big"
chmod 755 "$t/sub/run.sh"
ln -s a.txt "$t/link"
ln -s nowhere "$t/dangling"
mkfifo "$work/odd/pipe"
printf 'y' > "$work/odd/y"

fail=0
expr='{ dir }: let
  t = /. + dir + "/tree";
in
{
  readDir = builtins.readDir t;
  readDirSub = builtins.readDir (t + "/sub");
  readDirOdd = builtins.readDir (/. + dir + "/odd");
  readDirDotDot = builtins.readDir (/. + dir + "/tree/sub/../sub/deeper");
  copied = "${t}";
  copiedFile = "${t + "/big"}";
  filtered = builtins.path { path = t; filter = p: type: type != "symlink" && baseNameOf p != "x"; name = "filtered"; };
  filterSource = builtins.filterSource (p: type: type == "directory" || baseNameOf p == "run.sh") t;
  importDir = (import t).v;
  importCopied = (import "${t}/sub/val.nix").v;
  importCopiedDir = (import "${t}").v;
  big = builtins.stringLength (builtins.readFile (t + "/big"));
  empty = builtins.readFile (t + "/empty");
  viaLink = builtins.readFile (t + "/link");
  fromStore = builtins.readFile "${t}/a.txt";
  proc = builtins.stringLength (builtins.readFile /proc/self/stat) > 0;
  procDir = (builtins.readDir /proc/self).cwd;
  exists = [ (builtins.pathExists (t + "/a.txt")) (builtins.pathExists (t + "/nope")) (builtins.pathExists "${t}/sub/") (builtins.pathExists "${t}/a.txt/") ];
  hash = builtins.hashFile "sha256" (t + "/big");
}'
want='{ big = 300000; copied = "/nix/store/smdin2v4id5igsrw0381zvwmb9y6q701-tree"; copiedFile = "/nix/store/2wkpcly6chrvn8zxs6wwsijhsb7sgsny-big"; empty = ""; exists = [ true false true false ]; filterSource = "/nix/store/gb8p2a7vq20v4g581q43dxvwyvhbgw5y-tree"; filtered = "/nix/store/qngqlxi2qzgdg7lvgc5320kgjmaz166g-filtered"; fromStore = "hello\n"; hash = "12e1b9b179b29a4f7e5889b185d7ac71bff0ad1f49a7b391d0911b737a0f5381"; importCopied = 42; importCopiedDir = 42; importDir = 42; proc = true; procDir = "symlink"; readDir = { "a.txt" = "regular"; big = "regular"; dangling = "symlink"; "default.nix" = "regular"; empty = "regular"; link = "symlink"; sub = "directory"; }; readDirDotDot = { x = "regular"; }; readDirOdd = { pipe = "unknown"; y = "regular"; }; readDirSub = { deeper = "directory"; "run.sh" = "regular"; "val.nix" = "regular"; }; viaLink = "hello\n"; }'
# in a local store, twice: the second run finds every copy there already
for run in first second; do
  out=$("$bin" eval --store "local:$work/st" --strict --argstr dir "$work" -E "$expr" 2>&1); rc=$?
  if [ $rc != 0 ] || [ "$out" != "$want" ]; then
    echo "FAIL ($run run): rc=$rc"; diff <(echo "$want") <(echo "$out"); fail=1
  else
    echo "ok: values ($run run)"
  fi
done

# A tree no other program has copied (its contents name this run): its
# store path exists only in straylight's store, so reads below it go to
# the source it was copied from.
u="$work/uniq"
mkdir -p "$u"
printf '%s' "$work" > "$u/id"
printf '{ v = 7; }\n' > "$u/val.nix"
out=$("$bin" eval --strict --argstr dir "$work" -E '{ dir }: let u = /. + dir + "/uniq"; in
  [ (import "${u}/val.nix").v (builtins.readFile "${u}/id" == dir) (builtins.pathExists "${u}/nope")
    (builtins.readDir "${u}") (builtins.readFile "${u}/id" == dir) ]' 2>&1); rc=$?
want='[ 7 true false { id = "regular"; "val.nix" = "regular"; } true ]'
if [ $rc != 0 ] || [ "$out" != "$want" ]; then
  echo "FAIL: unique tree: rc=$rc: $out"; fail=1
else
  echo "ok: unique tree"
fi

# A source whose NAR is too big to be kept in memory while it is hashed
# is read a second time to be stored; both kinds must be stored whole.
mkdir -p "$work/huge"
head -c 5000000 /dev/zero | tr '\0' 'b' > "$work/huge/blob"
chmod 644 "$work/huge/blob"
out=$("$bin" eval --store "local:$work/st" --strict --argstr dir "$work" \
  -E '{ dir }: [ "${/. + dir + "/huge"}" "${/. + dir + "/tree"}" ]' 2>&1); rc=$?
want='[ "/nix/store/yyzm54lxs9vnsa95qhcfpvr4g5f2w435-huge" "/nix/store/smdin2v4id5igsrw0381zvwmb9y6q701-tree" ]'
if [ $rc != 0 ] || [ "$out" != "$want" ]; then
  echo "FAIL: huge source: rc=$rc: $out"; fail=1
else
  echo "ok: huge source"
fi
if ! "$bin" store --store "local:$work/st" verify >/dev/null 2>&1; then
  echo "FAIL: store verify"; "$bin" store --store "local:$work/st" verify; fail=1
fi
for p in yyzm54lxs9vnsa95qhcfpvr4g5f2w435-huge:huge smdin2v4id5igsrw0381zvwmb9y6q701-tree:tree; do
  rm -rf "$work/out"
  if ! "$bin" store --store "local:$work/st" materialize "/nix/store/${p%%:*}" "$work/out" ||
     ! diff -r --no-dereference "$work/${p##*:}" "$work/out"; then
    echo "FAIL: ${p##*:} stored differently"; fail=1
  else
    echo "ok: ${p##*:} stored whole"
  fi
done
if [ ! -x "$work/out/sub/run.sh" ] || [ -x "$work/out/a.txt" ]; then
  echo "FAIL: executable bits not kept"; fail=1
fi

err() { # expected-substring expression
  out=$("$bin" eval --strict --argstr dir "$work" -E "{ dir }: let t = /. + dir + \"/tree\"; in $2" 2>&1); rc=$?
  if [ $rc != 1 ] || [[ "$out" != *"$1"* ]]; then
    echo "FAIL: $2 -> rc=$rc: $(echo "$out" | head -3)"; fail=1
  else
    echo "ok: $2"
  fi
}
err "path '$t/nope' does not exist" 'builtins.readFile (t + "/nope")'
err "path '$t/nope' does not exist" 'builtins.readDir (t + "/nope")'
err "'$t/a.txt' is not a directory" 'builtins.readDir (t + "/a.txt")'
err "path '$t/nope.nix' does not exist" 'import (t + "/nope.nix")'
err "path '$t/nope' does not exist" '"${t + "/nope"}"'
err "reading file '$t/sub': read failed: Is a directory" 'builtins.readFile (t + "/sub")'
err "path '$t/nowhere' does not exist" 'builtins.readFile (t + "/dangling")'
err "path '$t/nowhere' does not exist" 'builtins.readDir (t + "/dangling")'
err "path '$t/dangling' does not exist" 'import (t + "/dangling")'
err "file '$work/odd/pipe' has an unsupported type" 'builtins.path { path = /. + dir + "/odd"; }'
exit $fail
