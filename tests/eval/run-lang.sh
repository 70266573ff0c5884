#!/usr/bin/env bash
# Runs Nix's language conformance tests (tests/functional/lang) against
# `straylight eval`, the way Nix's own lang.sh runs nix-instantiate:
#   eval-okay-*: `eval $flags --eval --strict lang/X.nix` (stdout vs X.exp),
#                and `--xml --no-location --strict` vs X.exp.xml;
#   eval-fail-*: must exit 1; stderr (with the cwd replaced by /pwd) is
#                compared with X.err.exp and the matches are counted.
# A test listed in the known-failures file must fail, and every failure must
# be listed, so the list stays honest; "stderr NAME" entries do the same for
# the messages (a test whose stderr differs from its .err.exp).
# usage: run-lang.sh STRAYLIGHT FUNCTIONAL_DIR KNOWN_FAILURES [FILTER]
set -u
bin=$(realpath "$1"); fdir=$2; known=$(realpath "$3"); filter=${4:-}
cd "$fdir" || { echo "no corpus at $fdir"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export NIX_PATH=lang/dir3:lang/dir4 HOME=/fake-home TEST_VAR=foo NIX_REMOTE=dummy:// NIX_STORE_DIR=/nix/store
# the configuration Nix's test harness (common/init.sh) gives every
# functional test: nix-command, and flakes through its included file
export NIX_CONFIG="experimental-features = nix-command
extra-experimental-features = flakes"
# <nix/fetchurl.nix> is materialised under the cache directory: keep it here
export XDG_CACHE_HOME="$tmp/cache"
declare -A listed
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue;; esac
  listed[${line%%:*}]=1
done < "$known"
# Collecting at every safe point makes the 10000-deep recursion tests
# quadratic; they are exercised by the normal run.
stress_skip=" eval-fail-deepseq-stack-overflow eval-fail-derivation-structuredAttrs-stack-overflow eval-fail-toJSON-stack-overflow eval-fail-infinite-recursion-lambda "
skip() { [ -n "${STRAYLIGHT_GC_STRESS:-}" ] && [[ "$stress_skip" == *" $1 "* ]]; }
okay_pass=0; okay_total=0; okay_err_match=0; okay_err_total=0; fail_pass=0; fail_total=0; err_match=0
unexpected=0; fixed=0
check() { # name ok reason
  local name=$1 ok=$2 why=$3
  if [ "$ok" = 1 ]; then
    if [ -n "${listed[$name]:-}" ]; then echo "UNEXPECTED PASS (remove from known-failures): $name"; fixed=$((fixed+1)); fi
  else
    if [ -z "${listed[$name]:-}" ]; then echo "FAIL: $name ($why)"; unexpected=$((unexpected+1)); fi
  fi
}
for f in lang/eval-okay-*.nix; do
  name=$(basename "$f" .nix)
  [ -n "$filter" ] && [[ "$name" != *$filter* ]] && continue
  okay_total=$((okay_total+1))
  flags=""; [ -e "lang/$name.flags" ] && flags=$(cat "lang/$name.flags")
  ok=1; why=""
  if [ -e "lang/$name.exp" ]; then
    # shellcheck disable=SC2086
    timeout 60 "$bin" eval $flags --eval --strict "lang/$name.nix" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ $rc != 0 ]; then
      ok=0; why="exit $rc: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
    elif ! sed "s!$(pwd)!/pwd!g" "$tmp/out" | cmp -s - "lang/$name.exp"; then
      ok=0; why="output differs"
    fi
    # warnings and traces a passing test prints are counted, as eval-fail's
    # messages are
    if [ -e "lang/$name.err.exp" ]; then
      okay_err_total=$((okay_err_total+1))
      sed "s!$(pwd)!/pwd!g" "$tmp/err" >"$tmp/$name.err"
      [ -e "lang/$name.postprocess" ] && bash "lang/$name.postprocess" "$tmp/$name"
      if cmp -s "$tmp/$name.err" "lang/$name.err.exp"; then
        okay_err_match=$((okay_err_match+1)); check "stderr $name" 1 ""
      else
        check "stderr $name" 0 "stderr differs from .err.exp"
      fi
    fi
  fi
  if [ $ok = 1 ] && [ -e "lang/$name.exp.xml" ]; then
    timeout 60 "$bin" eval --xml --no-location --strict "lang/$name.nix" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ $rc != 0 ]; then
      ok=0; why="xml: exit $rc: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
    elif ! sed "s!$(pwd)!/pwd!g" "$tmp/out" | cmp -s - "lang/$name.exp.xml"; then
      ok=0; why="xml output differs"
    fi
  fi
  [ $ok = 1 ] && okay_pass=$((okay_pass+1))
  check "$name" $ok "$why"
done
pwd_now=$(pwd)
for f in lang/eval-fail-*.nix; do
  name=$(basename "$f" .nix)
  [ -n "$filter" ] && [[ "$name" != *$filter* ]] && continue
  skip "$name" && continue
  fail_total=$((fail_total+1))
  flags="--eval --strict --show-trace"; [ -e "lang/$name.flags" ] && flags="$flags $(cat "lang/$name.flags")"
  # Errors unwind with longjmp; C temporaries of the frames unwound are not
  # freed (the process ends right after), so leak checking is off here.
  # shellcheck disable=SC2086
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    timeout 60 "$bin" eval $flags "lang/$name.nix" >/dev/null 2>"$tmp/err"; rc=$?
  sed "s!$pwd_now!/pwd!g" "$tmp/err" >"$tmp/err2"
  # as Nix's runner: a test's postprocess script rewrites the output (the
  # line numbers of Nix's own derivation.nix, say) before it is compared
  if [ -e "lang/$name.postprocess" ]; then
    cp "$tmp/err2" "$tmp/$name.err"
    bash "lang/$name.postprocess" "$tmp/$name" && cp "$tmp/$name.err" "$tmp/err2"
  fi
  ok=1; why=""
  if [ $rc != 1 ]; then ok=0; why="exit $rc: $(head -c 300 "$tmp/err" | tr '\n' ' ')"; fi
  [ $ok = 1 ] && fail_pass=$((fail_pass+1))
  if [ -e "lang/$name.err.exp" ]; then
    if cmp -s "$tmp/err2" "lang/$name.err.exp"; then
      err_match=$((err_match+1)); check "stderr $name" 1 ""
    else
      check "stderr $name" 0 "stderr differs from .err.exp"
    fi
  fi
  check "$name" $ok "$why"
done
echo "eval-okay: $okay_pass/$okay_total pass; stderr identical to .err.exp for $okay_err_match/$okay_err_total that have one"
echo "eval-fail: $fail_pass/$fail_total exit 1; $err_match/$fail_total stderr identical to .err.exp"
if [ $unexpected -gt 0 ] || [ $fixed -gt 0 ]; then
  echo "$unexpected unlisted failures, $fixed listed tests now passing"
  exit 1
fi
exit 0
