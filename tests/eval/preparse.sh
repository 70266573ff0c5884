#!/usr/bin/env bash
# Files parsed ahead from the import log of an earlier run (eval/preparse.c)
# give exactly what parsing them as they are asked for gives: values,
# positions, warnings, errors and their quoted sources, and exit status. Each
# case is run with STRAYLIGHT_PREPARSE=0 for the expected result, then with
# the log (written by the run before) in every state a log can be in: none,
# current, stale because a file changed (in size, in place with its mtime
# put back, through a symlink), was deleted or no longer parses, and
# damaged (truncated, a byte changed, emptied, another entry's, listing
# things that are not files); and a file changed while the evaluation runs,
# after the thread parsed it. STRAYLIGHT_PREPARSE_STATS tells whether the
# log was used, so that the cases are not vacuous; STRAYLIGHT_PREPARSE=sync
# makes what is taken independent of timing.
# Usage: preparse.sh STRAYLIGHT
set -u
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data"
unset STRAYLIGHT_PREPARSE STRAYLIGHT_PREPARSE_STATS
t="$work/t"
mkdir -p "$t/dir" "$t/other"
logdir="$XDG_CACHE_HOME/straylight/imports"
fail=0

cat > "$t/main.nix" <<'EOF'
let
  a = import ./a.nix;
  b = if builtins.pathExists ./b.nix then import ./b.nix else "no b";
  d = import ./dir;
  w = import ./warn.nix;
  l = import ./link.nix;
  e = import ./err.nix;
in {
  inherit a b d w l;
  pos = builtins.unsafeGetAttrPos "x" e;
  cur = e.cur;
  fn = builtins.functionArgs e.f;
  bad = if builtins.getEnv "PP_FAIL" == "1" then e.f { n = 1; } else null;
}
EOF
printf '{ value = "a"; inner = rec { x = 1; y = x + 1; }; }\n' > "$t/a.nix"
printf 'let z = import ./a.nix; in [ z.value "b" ]\n' > "$t/b.nix"
printf '{ fromDir = ../a.nix; n = 3; }\n' > "$t/dir/default.nix"
printf 'let f = x: y: x; or = 2; in f 1 or\n' > "$t/warn.nix"
printf '"first target"\n' > "$t/target1.nix"
printf '"second target, longer"\n' > "$t/target2.nix"
ln -s target1.nix "$t/link.nix"
cat > "$t/err.nix" <<'EOF'
{
  x = 1;
  cur = __curPos;
  f = { n, m ? 2 }: n + "s";
}
EOF

# run NAME [ENV...]: the case with and without the log; extra arguments are
# environment settings for both runs
ran=""
run() {
  local name=$1
  shift
  env "$@" STRAYLIGHT_PREPARSE=0 "$bin" eval --strict "$t/main.nix" > "$work/want.out" 2> "$work/want.err"
  echo $? > "$work/want.rc"
  env "$@" STRAYLIGHT_PREPARSE=sync STRAYLIGHT_PREPARSE_STATS=1 "$bin" eval --strict "$t/main.nix" > "$work/got.out" 2> "$work/got.all"
  echo $? > "$work/got.rc"
  grep -v '^preparse: ' "$work/got.all" > "$work/got.err"
  ran=$(grep '^preparse: ' "$work/got.all")
  if ! cmp -s "$work/want.out" "$work/got.out" || ! cmp -s "$work/want.err" "$work/got.err" ||
     ! cmp -s "$work/want.rc" "$work/got.rc"; then
    echo "FAIL $name: differs from a run without parsing ahead"
    diff "$work/want.out" "$work/got.out" | head -20
    diff "$work/want.err" "$work/got.err" | head -20
    fail=1
  fi
}
# expect NAME REGEX: the stats line of the last run matches
expect() {
  if ! grep -Eq "$2" <<< "$ran"; then
    echo "FAIL $1: expected /$2/, got: $ran"
    fail=1
  fi
}

# Errors unwind with longjmp and leave C temporaries unfreed (the process
# ends right after): no leak checking for the cases that end in one
noleak="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

run cold
expect cold '^preparse: 0 files predicted'
log=$(ls "$logdir"/*.log 2>/dev/null | head -1)
if [ -z "$log" ]; then
  echo "FAIL: no import log written"
  exit 1
fi
run warm
# a, b, dir, warn, link, err: all but warn.nix (it warns) are taken
expect warm 'predicted, 5 taken .* 0 changed since, 1 left by the thread'
run warm-again
expect warm-again ' 5 taken '
run error-trace PP_FAIL=1 "$noleak"
expect error-trace ' 5 taken '
grep -q 'err.nix:4:' "$work/got.err" || { echo "FAIL error-trace: no position in err.nix"; fail=1; }

# files changed since the log was written: read as they are now
printf '{ value = "a, changed"; inner = rec { x = 1; y = x + 1; }; }\n' > "$t/a.nix"
run changed-size
expect changed-size ' 5 taken .* 0 changed since'
touch -r "$t/a.nix" "$work/stamp"
printf '{ value = "A, CHANGED"; inner = rec { x = 1; y = x + 1; }; }\n' > "$t/a.nix"
touch -r "$work/stamp" "$t/a.nix"
run changed-in-place
expect changed-in-place ' 5 taken '
ln -sfn target2.nix "$t/link.nix"
run changed-link
expect changed-link ' 5 taken '

# deleted: not imported any more
run before-delete
rm "$t/b.nix"
run deleted
# back, not parsing: the message is the parser's, as always
run before-syntax
printf 'let z = import ./a.nix; in [ z.value "b" \n' > "$t/b.nix"
run syntax-error "$noleak"
grep -q 'syntax error' "$work/got.err" || { echo "FAIL syntax-error: no parse error"; fail=1; }
printf 'let z = import ./a.nix; in [ z.value "b" ]\n' > "$t/b.nix"
run restored
run restored-again
expect restored-again ' 5 taken '

# damaged logs predict nothing
cp "$log" "$work/good.log"
head -c $(( $(stat -c %s "$log") / 2 )) "$work/good.log" > "$log"
run truncated
expect truncated '^preparse: 0 files predicted'
cp "$work/good.log" "$log"
python3 - "$log" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 3] ^= 0x20
open(p, 'wb').write(bytes(b))
EOF
run flipped
expect flipped '^preparse: 0 files predicted'
: > "$log"
run empty
expect empty '^preparse: 0 files predicted'
head -c 3000 /dev/urandom > "$log"
run garbage
expect garbage '^preparse: 0 files predicted'

# write_log LOG ENTRY LINE...: a well-formed import log for ENTRY holding
# the lines, with its end line (count and FNV-1a hash of what precedes it)
write_log() {
  python3 - "$@" <<'EOF'
import sys
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
log, entry, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
body = ('straylight import log 1\nentry %s\n' % entry + ''.join(l + '\n' for l in lines)).encode()
open(log, 'wb').write(body + b'end %d %016x\n' % (len(lines), fnv(body)))
EOF
}

# a well-formed log naming what is not a readable Nix file, and another
# entry's log: used as far as it goes, never trusted
write_log "$log" "$t/main.nix" "f $t/dir" "f /dev/null" "f $t/missing.nix" "f $t/a.nix" "f $t/other/none.nix" \
  "h $t/err.nix	$t/target1.nix"
run odd-entries
expect odd-entries '^preparse: 6 files predicted, 1 taken'
write_log "$log" "$t/other.nix" "f $t/a.nix"
run other-entry
expect other-entry '^preparse: 0 files predicted'
run rewritten
expect rewritten ' 5 taken '

# changed while the evaluation runs, after the thread parsed it: the
# evaluation waits on a fifo (opening it for writing returns once the
# evaluator reads it, after the thread's whole log in sync mode) while the
# file changes, in size, then in place with its mtime put back
mkfifo "$work/fifo"
printf 'let go = builtins.readFile %s; in builtins.seq go (import ./a.nix)\n' "$work/fifo" > "$t/during.nix"
during() {
  STRAYLIGHT_PREPARSE=sync STRAYLIGHT_PREPARSE_STATS=1 "$bin" eval --strict "$t/during.nix" > "$work/during.out" 2> "$work/during.err" &
  local pid=$!
  exec 3> "$work/fifo"
  sleep 0.1   # past the file system clock's tick of the last write
  [ -n "$1" ] && eval "$1"
  exec 3>&-
  wait $pid
}
printf '"v1"\n' > "$t/a.nix"
during ""
during ""
grep -q ' 1 taken ' "$work/during.err" || { echo "FAIL during: the log was not used: $(cat "$work/during.err")"; fail=1; }
during "printf '\"v22\"\\n' > '$t/a.nix'"
if [ "$(cat "$work/during.out")" != '"v22"' ] || ! grep -q ' 1 changed since' "$work/during.err"; then
  echo "FAIL during-size: $(cat "$work/during.out") $(cat "$work/during.err")"
  fail=1
fi
during ""
touch -r "$t/a.nix" "$work/stamp"
during "printf '\"v33\"\\n' > '$t/a.nix'; touch -r '$work/stamp' '$t/a.nix'"
if [ "$(cat "$work/during.out")" != '"v33"' ] || ! grep -q ' 1 changed since' "$work/during.err"; then
  echo "FAIL during-in-place: $(cat "$work/during.out") $(cat "$work/during.err")"
  fail=1
fi

# switched off: no thread, no log read or written
rm -f "$logdir"/*.log
STRAYLIGHT_PREPARSE=0 "$bin" eval --strict "$t/main.nix" > /dev/null 2>&1
if ls "$logdir"/*.log > /dev/null 2>&1; then
  echo "FAIL off: a log was written with STRAYLIGHT_PREPARSE=0"
  fail=1
fi

# retention: making a new log removes logs unused for 30 days, old
# temporary files, and beyond 256 logs the least lately used; a log used
# unchanged has its time renewed once a day
rm -f "$logdir"/*
for i in $(seq 1 300); do
  f=$(printf '%s/%016x.log' "$logdir" "$i")
  echo x > "$f"
  touch -d "@$(( $(date +%s) - 86400 - i * 60 ))" "$f"      # 1 is the latest used
done
printf 'x\n' > "$logdir/00000000000000aa.log"; touch -d '40 days ago' "$logdir/00000000000000aa.log"
printf 'x\n' > "$logdir/0000000000000001.log.tmp-99"; touch -d '2 days ago' "$logdir/0000000000000001.log.tmp-99"
printf 'x\n' > "$logdir/0000000000000002.log.tmp-98"
printf 'x\n' > "$logdir/README"
"$bin" eval --strict "$t/main.nix" > /dev/null 2>&1
n=$(ls "$logdir" | grep -c '^[0-9a-f]\{16\}\.log$')
if [ "$n" != 257 ] || [ -e "$logdir/00000000000000aa.log" ] || [ -e "$logdir/0000000000000001.log.tmp-99" ] ||
   [ ! -e "$logdir/0000000000000002.log.tmp-98" ] || [ ! -e "$logdir/README" ] ||
   [ ! -e "$(printf '%s/%016x.log' "$logdir" 1)" ] || [ -e "$(printf '%s/%016x.log' "$logdir" 300)" ]; then
  echo "FAIL retention: $n logs; $(ls "$logdir" | grep -v '^0000000000000[0-9a-f]*\.log$' | tr '\n' ' ')"
  fail=1
fi
main_log=$(ls -t "$logdir"/*.log | head -1)
touch -d '3 days ago' "$main_log"
"$bin" eval --strict "$t/main.nix" > /dev/null 2>&1
if [ -n "$(find "$main_log" -mtime +1)" ]; then
  echo "FAIL retention: a log used unchanged keeps its old time"
  fail=1
fi

[ $fail = 0 ] && echo "all preparse cases passed"
exit $fail
