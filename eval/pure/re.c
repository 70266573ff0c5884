#include "eval/pure/re.h"

#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Nix's regexes work on bytes. The C library's follow the locale (in a
 * UTF-8 locale "." would match a whole character), so compiling and
 * matching always happen in the C locale, whatever the process uses. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t enter_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c_locale(locale_t old)
{
    if (old)
        uselocale(old);
}

struct ev_regex {
    regex_t re;
    size_t ngroups;
};

struct ev_regex_cache {
    ut_hmap *map;
};

ev_regex_cache *ev_regex_cache_new(void)
{
    ev_regex_cache *c = ut_xcalloc(1, sizeof *c);
    c->map = ut_hmap_new();
    return c;
}

void ev_regex_cache_free(ev_regex_cache *c)
{
    if (!c)
        return;
    size_t it = 0;
    const char *k;
    size_t kl;
    void *v;
    while (ut_hmap_next(c->map, &it, &k, &kl, &v)) {
        ev_regex *r = v;
        regfree(&r->re);
        free(r);
    }
    ut_hmap_free(c->map);
    free(c);
}

/* Patterns the C library accepts but Nix's engine (libstdc++'s std::regex,
 * built in strict ISO mode) refuses, so they must fail here too:
 *   - a backslash before anything but . [ \ ( ) * + ? { | ^ $ outside a
 *     bracket expression ("\/", "\s", "\]", "\1" ...); the C library
 *     would read GNU extensions (\s, \w, \b, back-references) into them;
 *   - an interval "{" not followed by a count ("x{,2}").
 * Inside brackets a backslash is an ordinary character for both. */
static bool nix_accepts(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 >= n || !strchr(".[\\()*+?{|^$", p[i + 1]))
                return false;
            i += 2;
        } else if (c == '{') {
            if (i + 1 >= n || p[i + 1] < '0' || p[i + 1] > '9')
                return false;
            i++;
        } else if (c == '[') {
            /* Skip the bracket expression: an initial ^ and ], classes
             * like [:alpha:], then up to the closing ]. An unclosed one is
             * left for regcomp to refuse. */
            i++;
            if (i < n && p[i] == '^')
                i++;
            if (i < n && p[i] == ']')
                i++;
            while (i < n && p[i] != ']') {
                if (p[i] == '[' && i + 1 < n && (p[i + 1] == ':' || p[i + 1] == '=' || p[i + 1] == '.')) {
                    char k = p[i + 1];
                    size_t j = i + 2;
                    while (j + 1 < n && !(p[j] == k && p[j + 1] == ']'))
                        j++;
                    i = j + 2;
                } else {
                    i++;
                }
            }
            i++;
        } else {
            i++;
        }
    }
    return true;
}

const ev_regex *ev_regex_get(ev_regex_cache *c, const char *pat, size_t len, ut_err *e)
{
    ev_regex *r = ut_hmap_get(c->map, pat, len);
    if (r)
        return r;
    if (!nix_accepts(pat, len))
        return ut_err_set(e, "invalid regular expression '%.*s'", (int)len, pat), NULL;
    /* regcomp wants a C string; a pattern with a NUL in it cannot come from
     * a Nix string, but refuse it rather than silently cut it short. */
    if (memchr(pat, '\0', len))
        return ut_err_set(e, "invalid regular expression '%.*s'", (int)len, pat), NULL;
    char *z = ut_xstrndup(pat, len);
    r = ut_xcalloc(1, sizeof *r);
    locale_t old = enter_c_locale();
    int rc = regcomp(&r->re, z, REG_EXTENDED);
    leave_c_locale(old);
    if (rc != 0) {
        if (rc == REG_ESPACE)
            ut_err_set(e, "memory limit exceeded by regular expression '%s'", z);
        else
            ut_err_set(e, "invalid regular expression '%s'", z);
        free(z);
        free(r);
        return NULL;
    }
    free(z);
    r->ngroups = r->re.re_nsub;
    ut_hmap_put(c->map, pat, len, r);
    return r;
}

size_t ev_regex_ngroups(const ev_regex *re)
{
    return re->ngroups;
}

/* Leftmost match in s[start..len), the text before start counting as
 * context (so "^" cannot match there). 1 found, 0 none, -1 error. */
static int search(const ev_regex *re, const char *s, size_t len, size_t start, ev_regmatch *g, ut_err *e)
{
    size_t n = re->ngroups + 1;
    regmatch_t stackm[16];
    regmatch_t *pm = n <= 16 ? stackm : ut_xmalloc(n * sizeof *pm);
    pm[0].rm_so = (regoff_t)start;
    pm[0].rm_eo = (regoff_t)len;
    locale_t old = enter_c_locale();
    int rc = regexec(&re->re, s ? s : "", n, pm, REG_STARTEND);
    leave_c_locale(old);
    int res;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            g[i].so = pm[i].rm_so < 0 ? -1 : pm[i].rm_so;
            g[i].eo = pm[i].rm_so < 0 ? -1 : pm[i].rm_eo;
        }
        res = 1;
    } else if (rc == REG_NOMATCH) {
        res = 0;
    } else {
        ut_err_set(e, "memory limit exceeded by regular expression");
        res = -1;
    }
    if (pm != stackm)
        free(pm);
    return res;
}

int ev_regex_match(const ev_regex *re, const char *s, size_t len, ev_regmatch *groups, ut_err *e)
{
    /* The leftmost-longest match covers all of s whenever any match does. */
    int rc = search(re, s, len, 0, groups, e);
    if (rc <= 0)
        return rc;
    return groups[0].so == 0 && (size_t)groups[0].eo == len;
}

bool ev_regex_split(const ev_regex *re, const char *s, size_t len, ev_regex_matches *out, ut_err *e)
{
    size_t n = re->ngroups + 1;
    size_t cap = 0;
    out->count = 0;
    out->ngroups = re->ngroups;
    out->m = NULL;
    size_t start = 0;
    for (;;) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 4;
            out->m = ut_xrealloc(out->m, cap * n * sizeof *out->m);
        }
        ev_regmatch *g = out->m + out->count * n;
        int rc = search(re, s, len, start, g, e);
        if (rc < 0) {
            ev_regex_matches_free(out);
            return false;
        }
        if (rc == 0)
            break;
        out->count++;
        size_t end = (size_t)g[0].eo;
        if (g[0].so == g[0].eo) {
            /* An empty match: POSIX matching is longest-first, so no longer
             * match starts here either; go on one byte later. */
            if (end >= len)
                break;
            start = end + 1;
        } else {
            start = end;
        }
    }
    return true;
}

void ev_regex_matches_free(ev_regex_matches *m)
{
    free(m->m);
    m->m = NULL;
    m->count = 0;
}
