/* String builtins: concatStringsSep, replaceStrings, match, split,
 * splitVersion, compareVersions, parseDrvName. Argument order, forcing
 * order and error texts follow Nix's primops.cc, since the conformance
 * tests compare error output. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eval/builtins.h"
#include "eval/pure/re.h"
#include "eval/pure/version.h"

static ev_value mk_str(ev_state *S, const char *s, size_t len)
{
    return ev_mk_string(S, len ? s : "", len, NULL);
}

static void prim_concatStringsSep(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *sep = ev_force_string(S, &a[0], pos,
                                     "while evaluating the first argument (the separator string) passed to "
                                     "builtins.concatStringsSep");
    ev_list *l = ev_force_list(S, &a[1], pos,
                               "while evaluating the second argument (the list of strings to concat) passed to "
                               "builtins.concatStringsSep");
    /* Each element becomes a string value first, kept in a GC list: an
     * error in a later element (caught by tryEval) then leaves no C
     * buffer behind. The join below runs no Nix code. */
    size_t n = l->h.n;
    ev_value *hold = ev_stack_push(S, 1);
    ev_list *parts = ev_list_new(S, n);
    *hold = ev_mk_list(parts);
    for (size_t i = 0; i < n; i++) {
        ev_force(S, &l->v[i], pos);   /* as the coercion below would */
        if (l->v[i].type == EV_STRING) {
            parts->v[i] = l->v[i];    /* shared, not copied */
            continue;
        }
        ut_buf eb = UT_BUF_INIT;
        ev_ctxset ec = {0};
        ev_coerce_to_string(S, &l->v[i], pos, EV_COERCE_COPY_TO_STORE, &eb, &ec,
                            "while evaluating one element of the list of strings to concat passed to "
                            "builtins.concatStringsSep");
        parts->v[i] = ev_mk_string(S, eb.data ? eb.data : "", eb.len, ev_ctxset_finish(S, &ec));
        ut_buf_free(&eb);
    }
    ev_ctxset ctx = {0};
    ev_ctxset_add_ctx(&ctx, sep->ctx);
    size_t total = n ? sep->len * (n - 1) : 0;
    for (size_t i = 0; i < n; i++) {
        total += parts->v[i].u.s->len;
        ev_ctxset_add_ctx(&ctx, parts->v[i].u.s->ctx);
    }
    ev_string *r = ev_string_alloc(S, total);
    char *w = r->s;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            memcpy(w, sep->s, sep->len);
            w += sep->len;
        }
        memcpy(w, parts->v[i].u.s->s, parts->v[i].u.s->len);
        w += parts->v[i].u.s->len;
    }
    r->ctx = ev_ctxset_finish(S, &ctx);
    *out = ev_mk_string_obj(r);
}

/* Pattern i matched: the first pass forces its replacement (once), the
 * second appends it. */
static void replacement(ev_state *S, int pass, ev_list *to, ev_string **ts, size_t i, ps_pos pos, ut_buf *res)
{
    if (pass == 0) {
        if (!ts[i])
            ts[i] = ev_force_string(S, &to->v[i], pos,
                                    "while evaluating one of the replacement strings passed to "
                                    "builtins.replaceStrings");
    } else {
        ut_buf_append(res, ts[i]->s, ts[i]->len);
    }
}

static void prim_replaceStrings(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *from = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to builtins.replaceStrings");
    ev_list *to = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.replaceStrings");
    if (from->h.n != to->h.n)
        ev_error(S, EV_ERR_EVAL, pos, "'from' and 'to' arguments passed to builtins.replaceStrings have different lengths");
    size_t n = from->h.n;
    ev_string **fs = ev_scratch_alloc(S, (n + 1) * sizeof *fs);
    for (size_t i = 0; i < n; i++)
        fs[i] = ev_force_string(S, &from->v[i], pos,
                                "while evaluating one of the strings to replace passed to builtins.replaceStrings");
    /* Replacements are forced only when their pattern occurs, once each. */
    ev_string **ts = ev_scratch_alloc(S, (n + 1) * sizeof *ts);
    memset(ts, 0, (n + 1) * sizeof *ts);
    ev_string *s = ev_force_string(S, &a[2], pos, "while evaluating the third argument passed to builtins.replaceStrings");
    /* Two passes over the same matches: the first forces the replacements
     * that occur, in order (they may fail); the second, which runs no Nix
     * code, builds the result, so a failure leaves no C buffer behind. */
    ev_ctxset ctx = {0};
    ut_buf res = UT_BUF_INIT;
    /* Without an empty pattern, a byte no pattern starts with is copied
     * as it is, and runs of such bytes at once. */
    bool any_empty = false;
    unsigned char starts[256] = {0};
    for (size_t i = 0; i < n; i++) {
        if (fs[i]->len == 0)
            any_empty = true;
        else
            starts[(unsigned char)fs[i]->s[0]] = 1;
    }
    for (int pass = 0; pass < 2 && !any_empty; pass++) {
        for (size_t p = 0; p < s->len;) {
            if (!starts[(unsigned char)s->s[p]]) {
                size_t q = p + 1;
                while (q < s->len && !starts[(unsigned char)s->s[q]])
                    q++;
                if (pass == 1)
                    ut_buf_append(&res, s->s + p, q - p);
                p = q;
                continue;
            }
            size_t i = 0;
            for (; i < n; i++) {
                ev_string *f = fs[i];
                if (f->s[0] == s->s[p] && f->len <= s->len - p && memcmp(s->s + p, f->s, f->len) == 0)
                    break;
            }
            if (i == n) {
                if (pass == 1)
                    ut_buf_putc(&res, s->s[p]);
                p++;
                continue;
            }
            replacement(S, pass, to, ts, i, pos, &res);
            p += fs[i]->len;
        }
    }
    for (int pass = 0; pass < 2 && any_empty; pass++) {
        for (size_t p = 0; p <= s->len;) {
            bool found = false;
            for (size_t i = 0; i < n; i++) {
                ev_string *f = fs[i];
                if (f->len > s->len - p || memcmp(s->s + p, f->s, f->len) != 0)
                    continue;
                found = true;
                replacement(S, pass, to, ts, i, pos, &res);
                if (pass == 1 && f->len == 0 && p < s->len)
                    ut_buf_putc(&res, s->s[p]);
                p += f->len ? f->len : 1;
                break;
            }
            if (!found) {
                if (pass == 1 && p < s->len)
                    ut_buf_putc(&res, s->s[p]);
                p++;
            }
        }
    }
    ev_ctxset_add_ctx(&ctx, s->ctx);
    for (size_t i = 0; i < n; i++)
        if (ts[i])
            ev_ctxset_add_ctx(&ctx, ts[i]->ctx);
    ev_context *c = ev_ctxset_finish(S, &ctx);
    *out = ev_mk_string(S, res.data ? res.data : "", res.len, c);
    ut_buf_free(&res);
}

/* Compiled patterns are pure data shared by every evaluator in the
 * process, so one cache serves them all; entries are never freed, which
 * keeps the pointers handed out valid without further locking. */
static pthread_mutex_t re_lock = PTHREAD_MUTEX_INITIALIZER;
static ev_regex_cache *re_cache;

static const ev_regex *regex_get(ev_state *S, ev_string *pat, ps_pos pos)
{
    ut_err e = UT_ERR_INIT;
    pthread_mutex_lock(&re_lock);
    if (!re_cache)
        re_cache = ev_regex_cache_new();
    const ev_regex *r = ev_regex_get(re_cache, pat->s, pat->len, &e);
    pthread_mutex_unlock(&re_lock);
    if (!r) {
        /* Nix reports the pattern only, not the C library's reason. */
        ut_err_clear(&e);
        ev_error(S, EV_ERR_EVAL, pos, "invalid regular expression '%s'", pat->s);
    }
    return r;
}

static void regex_fail(ev_state *S, ev_string *pat, ps_pos pos, ut_err *e)
{
    ut_err_clear(e);
    ev_error(S, EV_ERR_EVAL, pos, "memory limit exceeded by regular expression '%s'", pat->s);
}

static ev_value groups_list(ev_state *S, const char *s, const ev_regmatch *g, size_t ngroups)
{
    ev_list *l = ev_list_new(S, ngroups);
    for (size_t i = 0; i < ngroups; i++)
        l->v[i] = g[i + 1].so < 0 ? ev_mk_null() : mk_str(S, s + g[i + 1].so, (size_t)(g[i + 1].eo - g[i + 1].so));
    return ev_mk_list(l);
}

static void prim_match(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *pat = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.match");
    const ev_regex *r = regex_get(S, pat, pos);
    ev_string *s = ev_force_string(S, &a[1], pos, "while evaluating the second argument passed to builtins.match");
    size_t ng = ev_regex_ngroups(r);
    ev_regmatch *g = ev_scratch_alloc(S, (ng + 1) * sizeof *g);
    ut_err e = UT_ERR_INIT;
    int rc = ev_regex_match(r, s->s, s->len, g, &e);
    if (rc < 0)
        regex_fail(S, pat, pos, &e);
    *out = rc ? groups_list(S, s->s, g, ng) : ev_mk_null();
}

static void prim_split(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *pat = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.split");
    const ev_regex *r = regex_get(S, pat, pos);
    ev_string *s = ev_force_string(S, &a[1], pos, "while evaluating the second argument passed to builtins.split");
    ev_regex_matches m;
    ut_err e = UT_ERR_INIT;
    if (!ev_regex_split(r, s->s, s->len, &m, &e))
        regex_fail(S, pat, pos, &e);
    if (m.count == 0) {
        /* No match: the string itself, context and all. */
        ev_list *l = ev_list_new(S, 1);
        l->v[0] = a[1];
        *out = ev_mk_list(l);
        ev_regex_matches_free(&m);
        return;
    }
    ev_list *l = ev_list_new(S, 2 * m.count + 1);
    *out = ev_mk_list(l);
    size_t last = 0, n = m.ngroups + 1;
    for (size_t i = 0; i < m.count; i++) {
        const ev_regmatch *g = m.m + i * n;
        l->v[2 * i] = mk_str(S, s->s + last, (size_t)g[0].so - last);
        l->v[2 * i + 1] = groups_list(S, s->s, g, m.ngroups);
        last = (size_t)g[0].eo;
    }
    l->v[2 * m.count] = mk_str(S, s->s + last, s->len - last);
    ev_regex_matches_free(&m);
}

static void prim_splitVersion(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *v = ev_force_string(S, &a[0], pos, "while evaluating the first argument passed to builtins.splitVersion");
    size_t n = ev_split_version(v->s, v->len, NULL, 0);
    ev_slice *parts = ev_scratch_alloc(S, (n + 1) * sizeof *parts);
    ev_split_version(v->s, v->len, parts, n);
    ev_list *l = ev_list_new(S, n);
    for (size_t i = 0; i < n; i++)
        l->v[i] = mk_str(S, parts[i].ptr, parts[i].len);
    *out = ev_mk_list(l);
}

static void prim_compareVersions(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *v1 = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.compareVersions");
    ev_string *v2 = ev_force_string_noctx(S, &a[1], pos, "while evaluating the second argument passed to builtins.compareVersions");
    *out = ev_mk_int(ev_compare_versions(v1->s, v1->len, v2->s, v2->len));
}

static void prim_parseDrvName(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.parseDrvName");
    ev_slice name, version;
    ev_parse_drv_name(s->s, s->len, &name, &version);
    ev_attrs *at = ev_attrs_new(S, 2);
    *out = ev_mk_attrs(at);
    ev_attrs_add(at, ev_sym(S, "name"), mk_str(S, name.ptr, name.len), 0);
    ev_attrs_add(at, ev_sym(S, "version"), mk_str(S, version.ptr, version.len), 0);
    ev_attrs_finish(at);
}

const ev_primop_def ev_builtins_strings[] = {
    {"concatStringsSep", 2, prim_concatStringsSep, 0},
    {"replaceStrings", 3, prim_replaceStrings, 0},
    {"match", 2, prim_match, 0},
    {"split", 2, prim_split, 0},
    {"splitVersion", 1, prim_splitVersion, 0},
    {"compareVersions", 2, prim_compareVersions, 0},
    {"parseDrvName", 1, prim_parseDrvName, 0},
    {NULL, 0, NULL, 0},
};
