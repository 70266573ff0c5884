/* eval/pure/re.h: builtins.match and builtins.split.
 *
 * Nix compiles these patterns as POSIX extended regular expressions; here
 * the C library's regcomp(REG_EXTENDED) does the work. A cache keeps every
 * compiled pattern for the life of the evaluation (Nix does the same: the
 * same few patterns are used thousands of times in nixpkgs).
 *
 * Patterns are first checked the way Nix's engine checks them: escaping an
 * ordinary character (\s, \/, \1) and an interval without a count
 * ("x{,2}") are errors there, where the C library would accept them (and
 * give \s, \w, \b and back-references GNU meanings).
 *
 * Known difference: Nix's engine is libstdc++'s std::regex, whose
 * backtracking reports submatches of nested repeated groups differently
 * from POSIX (and from this C library) in some cases: for "a([ab]*)+"
 * against "aa" Nix gives [ "" ] (an extra, empty last iteration) where
 * POSIX gives [ "a" ]. Whether a string matches at all, and every pattern
 * of the nixpkgs-derived conformance test, agree; differential testing on
 * random nested patterns disagreed on about 3% of them, always in such
 * groups. tests/known-failures.txt keeps examples.
 */
#ifndef STRAYLIGHT_EVAL_PURE_REGEX_H
#define STRAYLIGHT_EVAL_PURE_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/util.h"

typedef struct ev_regex ev_regex;
typedef struct ev_regex_cache ev_regex_cache;

/* One group of a match: byte offsets, so == -1 when the group took no part. */
typedef struct ev_regmatch {
    ptrdiff_t so, eo;
} ev_regmatch;

ev_regex_cache *ev_regex_cache_new(void);
void ev_regex_cache_free(ev_regex_cache *c);

/* The compiled pattern, owned by the cache. A bad pattern fails with
 * "invalid regular expression '<pattern>'", the message Nix gives. */
const ev_regex *ev_regex_get(ev_regex_cache *c, const char *pat, size_t len, ut_err *e);
size_t ev_regex_ngroups(const ev_regex *re);

/* builtins.match: does the pattern match all of s? On success groups[0] is
 * the whole string and groups[1..ngroups] the subexpressions (the array
 * must hold ngroups + 1 entries). Returns 1 on a match, 0 on none and -1
 * on an error (the engine ran out of memory). */
int ev_regex_match(const ev_regex *re, const char *s, size_t len, ev_regmatch *groups, ut_err *e);

/* builtins.split: every match, as C++'s regex_iterator visits them: after
 * an empty match the search resumes one byte further, and a match may be
 * empty right where the previous one ended. m holds count * (ngroups + 1)
 * entries, match after match. */
typedef struct ev_regex_matches {
    size_t count;
    size_t ngroups;
    ev_regmatch *m;
} ev_regex_matches;

bool ev_regex_split(const ev_regex *re, const char *s, size_t len, ev_regex_matches *out, ut_err *e);
void ev_regex_matches_free(ev_regex_matches *m);

#endif
