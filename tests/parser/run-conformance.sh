#!/usr/bin/env bash
# Runs `straylight parse` over the Nix conformance suite (tests/functional/lang):
#  - parse-okay-*.nix must print exactly their .exp;
#  - parse-fail-*.nix (read from stdin, as Nix's suite does) must exit 1 with
#    exactly their .err.exp on stderr;
#  - eval-okay-*.nix must all parse (with their lint flags); parse-time
#    warnings (lints, `or` used as an argument) must match .err.exp, and a
#    case without .err.exp must parse silently;
#  - eval-fail-*.nix that straylight rejects at parse time must print their
#    .err.exp (the file's directory shown as /pwd/lang, as in the suite).
# Cases listed in KNOWN_FAILURES (name, then the reason) may fail; a listed
# case that passes is an error too, so the list stays honest.
set -u
straylight=$(realpath "$1")
lang=$2
known=$(realpath "$3")
"$straylight" parse -E 1 >/dev/null || { echo "cannot run $straylight"; exit 1; }

[ -d "$lang" ] || { echo "conformance corpus not found at $lang (run scripts/setup.sh)"; exit 1; }
cd "$lang" || exit 1
known_names=$(grep -v '^#' "$known" 2>/dev/null | awk 'NF {print $1}')
is_known() { printf '%s\n' "$known_names" | grep -qx -- "$1"; }

pass=0 fail=0 unexpected=0 stale=0
declare -A counts
result() { # name category ok
    local name=$1 cat=$2 ok=$3
    counts[$cat.total]=$(( ${counts[$cat.total]:-0} + 1 ))
    if [ "$ok" = 1 ]; then
        counts[$cat.pass]=$(( ${counts[$cat.pass]:-0} + 1 ))
        pass=$((pass + 1))
        if is_known "$name"; then echo "STALE known failure (now passes): $name"; stale=$((stale + 1)); fi
    else
        fail=$((fail + 1))
        if is_known "$name"; then echo "known failure: $name"; else echo "FAIL: $name"; unexpected=$((unexpected + 1)); fi
    fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in parse-okay-*.nix; do
    b=${f%.nix}
    "$straylight" parse - < "$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    ok=0; [ $rc = 0 ] && cmp -s "$tmp/out" "$b.exp" && ok=1
    [ $ok = 1 ] || { echo "--- $b: exit $rc"; diff "$tmp/out" "$b.exp" | head -5; head -5 "$tmp/err"; }
    result "$b" parse-okay $ok
done

for f in parse-fail-*.nix; do
    b=${f%.nix}
    "$straylight" parse - < "$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    ok=0; [ $rc = 1 ] && cmp -s "$tmp/err" "$b.err.exp" && ok=1
    [ $ok = 1 ] || { echo "--- $b: exit $rc"; diff "$tmp/err" "$b.err.exp" | head -10; }
    result "$b" parse-fail $ok
done

# the flags of a case, when they are all ones `parse` understands
parse_flags() {
    local f=$1.flags
    [ -f "$f" ] || return 0
    sed -e 's/--impure//g; s/--eval//g; s/--strict//g; s/--no-show-trace//g' "$f"
}
only_parse_flags() {
    local fl
    fl=$(parse_flags "$1")
    [ -z "$(printf '%s' "$fl" | sed -e 's/--lint-[a-z-]* [a-z]*//g; s/--extra-experimental-features [a-z-]*//g; s/ //g')" ]
}

for f in eval-okay-*.nix; do
    b=${f%.nix}
    only_parse_flags "$b" || continue
    # shellcheck disable=SC2046
    "$straylight" parse --quiet $(parse_flags "$b") "$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    sed -i "s|$PWD/|/pwd/lang/|g" "$tmp/err"
    ok=0
    if [ $rc = 0 ]; then
        ok=1
        # parse-time warnings (lints, `or` as an argument) must be Nix's;
        # other cases must parse silently unless they expect a warning
        if [ -f "$b.err.exp" ] && { grep -q -- '--lint' "$b.flags" 2>/dev/null || grep -q 'uses `or` as an identifier' "$b.err.exp"; }; then
            cmp -s "$tmp/err" "$b.err.exp" || ok=0
        elif [ -s "$tmp/err" ] && ! [ -f "$b.err.exp" ]; then
            ok=0
        fi
    fi
    [ $ok = 1 ] || { echo "--- $b: exit $rc"; head -10 "$tmp/err"; }
    result "$b" eval-okay-parses $ok
done

for f in eval-fail-*.nix; do
    b=${f%.nix}
    only_parse_flags "$b" || continue
    # shellcheck disable=SC2046
    "$straylight" parse --quiet $(parse_flags "$b") "$f" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ $rc = 0 ] && continue     # an evaluation-time failure: not ours
    sed -i "s|$PWD/|/pwd/lang/|g" "$tmp/err"
    ok=0; [ $rc = 1 ] && cmp -s "$tmp/err" "$b.err.exp" && ok=1
    [ $ok = 1 ] || { echo "--- $b: exit $rc"; diff "$tmp/err" "$b.err.exp" | head -10; }
    result "$b" eval-fail-at-parse $ok
done

for c in parse-okay parse-fail eval-okay-parses eval-fail-at-parse; do
    echo "$c: ${counts[$c.pass]:-0}/${counts[$c.total]:-0} match"
done
echo "total: $pass passed, $fail failed ($unexpected unexpected), $stale stale known failures"
[ $unexpected = 0 ] && [ $stale = 0 ]
