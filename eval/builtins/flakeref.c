/* builtins.parseFlakeRef and builtins.flakeRefToString for the git forge
 * schemes (github:, gitlab:, sourcehut:), following Nix's
 * GitArchiveInputScheme: "<type>:<owner>/<repo>[/<ref-or-rev>][?query]",
 * where a 40-digit hex third part is a rev and anything else a ref, and the
 * query may carry ref, rev, host, narHash and the flake's dir. Other flake
 * reference types are refused with a clear message rather than guessed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "eval/builtins.h"

static bool forge(const char *t)
{
    return strcmp(t, "github") == 0 || strcmp(t, "gitlab") == 0 || strcmp(t, "sourcehut") == 0;
}

static bool is_rev(const char *s, size_t n)
{
    if (n != 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* Nix's refRegex: a ref starts with an alphanumeric or '@' and continues
 * with alphanumerics and _ . / @ + - */
static bool is_ref(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!(alnum || c == '@' || (i > 0 && (c == '_' || c == '.' || c == '/' || c == '+' || c == '-'))))
            return false;
    }
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void percent_decode(const char *s, size_t n, ut_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ut_buf_putc(out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            ut_buf_putc(out, s[i]);
        }
    }
}

static void percent_encode(const char *s, ut_buf *out)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/:@", c);
        if (keep && c)
            ut_buf_putc(out, (char)c);
        else
            ut_buf_printf(out, "%%%02X", c);
    }
}

static void add_str(ev_state *S, ev_attrs *a, const char *name, const char *v, size_t len)
{
    ev_attrs_add(a, ev_sym(S, name), ev_mk_string(S, v, len, NULL), 0);
}

static void prim_parseFlakeRef(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *ref = ev_force_string_noctx(S, &a[0], pos, "while evaluating the argument passed to builtins.parseFlakeRef");
    const char *s = ref->s;
    const char *colon = strchr(s, ':');
    size_t tlen = colon ? (size_t)(colon - s) : 0;
    char type[16] = "";
    if (colon && tlen < sizeof type) {
        memcpy(type, s, tlen);
        type[tlen] = '\0';
    }
    if (!colon || !forge(type))
        ev_error(S, EV_ERR_EVAL, pos, "flake reference '%s' is not supported here (only github:, gitlab: and sourcehut:)", s);
    const char *path = colon + 1;
    const char *q = strchr(path, '?');
    const char *hash = strchr(path, '#');
    size_t plen = q ? (size_t)(q - path) : hash ? (size_t)(hash - path) : strlen(path);
    /* owner / repo [/ ref-or-rev...] */
    const char *p1 = memchr(path, '/', plen);
    if (!p1 || p1 == path)
        ev_error(S, EV_ERR_EVAL, pos, "URL '%s' is invalid", s);
    const char *p2 = memchr(p1 + 1, '/', plen - (size_t)(p1 + 1 - path));
    size_t olen = (size_t)(p1 - path);
    size_t rlen = p2 ? (size_t)(p2 - p1 - 1) : plen - olen - 1;
    const char *third = p2 ? p2 + 1 : NULL;
    size_t thlen = third ? plen - (size_t)(third - path) : 0;
    const char *refv = NULL, *revv = NULL;
    size_t refl = 0, revl = 0;
    if (third) {
        bool more = memchr(third, '/', thlen) != NULL;
        if (!more && is_rev(third, thlen)) {
            revv = third;
            revl = thlen;
        } else if (is_ref(third, thlen)) {
            refv = third;
            refl = thlen;
        } else {
            ev_error(S, EV_ERR_EVAL, pos, "in URL '%s', '%.*s' is not a commit hash or branch/tag name", s, (int)thlen,
                     third);
        }
    }
    ev_attrs *res = ev_attrs_new(S, 8);
    ut_buf tmp = UT_BUF_INIT;
    if (q) {
        const char *qe = hash ? hash : q + strlen(q);
        const char *k = q + 1;
        while (k < qe) {
            const char *amp = memchr(k, '&', (size_t)(qe - k));
            const char *end = amp ? amp : qe;
            const char *eq = memchr(k, '=', (size_t)(end - k));
            if (eq) {
                ut_buf key = UT_BUF_INIT;
                percent_decode(k, (size_t)(eq - k), &key);
                ut_buf_clear(&tmp);
                percent_decode(eq + 1, (size_t)(end - eq - 1), &tmp);
                const char *kn = key.data ? key.data : "";
                if (strcmp(kn, "rev") == 0) {
                    if (revv) {
                        ut_buf_free(&key);
                        ut_buf_free(&tmp);
                        ev_error(S, EV_ERR_EVAL, pos, "URL '%s' contains multiple commit hashes", s);
                    }
                    add_str(S, res, "rev", tmp.data ? tmp.data : "", tmp.len);
                    revv = "";
                } else if (strcmp(kn, "ref") == 0) {
                    if (refv) {
                        ut_buf_free(&key);
                        ut_buf_free(&tmp);
                        ev_error(S, EV_ERR_EVAL, pos, "URL '%s' contains multiple branch/tag names", s);
                    }
                    add_str(S, res, "ref", tmp.data ? tmp.data : "", tmp.len);
                    refv = "";
                } else if (strcmp(kn, "host") == 0 || strcmp(kn, "narHash") == 0 || strcmp(kn, "dir") == 0) {
                    add_str(S, res, kn, tmp.data ? tmp.data : "", tmp.len);
                }
                ut_buf_free(&key);
            }
            k = end + 1;
        }
    }
    ut_buf_free(&tmp);
    if (refv && revv)
        ev_error(S, EV_ERR_EVAL, pos, "URL '%s' contains both a commit hash and a branch/tag name", s);
    add_str(S, res, "type", type, tlen);
    add_str(S, res, "owner", path, olen);
    add_str(S, res, "repo", p1 + 1, rlen);
    if (refv && refl)
        add_str(S, res, "ref", refv, refl);
    if (revv && revl)
        add_str(S, res, "rev", revv, revl);
    ev_attrs_finish(res);
    *out = ev_mk_attrs(res);
}

static const char *str_attr(ev_state *S, ev_attrs *at, const char *name)
{
    ev_attr *y = ev_attrs_find(at, ev_sym(S, name));
    return y && y->value.type == EV_STRING ? y->value.u.s->s : NULL;
}

static void prim_flakeRefToString(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *at = ev_force_attrs(S, &a[0], (ps_pos){0}, "while evaluating the argument passed to builtins.flakeRefToString");
    /* Nix takes the attributes as they are: integers (not negative),
     * Booleans and strings only. */
    size_t n = at->h.n;
    uint32_t *idx = ev_scratch_alloc(S, (n + 1) * sizeof *idx);
    ev_attrs_sorted_by_name(S, at, idx);
    for (size_t i = 0; i < n; i++) {
        ev_attr *x = &at->a[idx[i]];
        ev_force(S, &x->value, pos);
        const char *nm = ev_sym_str(S, x->name);
        if (x->value.type == EV_INT) {
            if (x->value.u.i < 0)
                ev_error(S, EV_ERR_EVAL, pos, "negative value given for flake ref attr %s: %" PRId64, nm, x->value.u.i);
        } else if (x->value.type != EV_BOOL && x->value.type != EV_STRING) {
            ev_error(S, EV_ERR_EVAL, (ps_pos){0},
                     "flake reference attribute sets may only contain integers, Booleans, and strings, but attribute "
                     "'%s' is %s",
                     nm, ev_type_name(&x->value));
        }
    }
#define STR(NAME) str_attr(S, at, NAME)
    const char *type = STR("type");
    if (!type || !forge(type))
        ev_error(S, EV_ERR_EVAL, pos, "flake reference type '%s' is not supported here (only github, gitlab and sourcehut)",
                 type ? type : "");
    const char *owner = STR("owner"), *repo = STR("repo"), *ref = STR("ref"), *rev = STR("rev");
    if (!owner || !repo)
        ev_error(S, EV_ERR_EVAL, pos, "attribute '%s' missing in flake reference", owner ? "repo" : "owner");
    if (ref && rev)
        ev_error(S, EV_ERR_EVAL, pos, "flake reference has both a ref and a rev");
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s:%s/%s", type, owner, repo);
    if (ref)
        ut_buf_printf(&b, "/%s", ref);
    if (rev)
        ut_buf_printf(&b, "/%s", rev);
    /* The query parameters in name order, as Nix's std::map keeps them. */
    const char *qnames[] = {"dir", "host", "narHash"};
    bool first = true;
    for (size_t i = 0; i < 3; i++) {
        const char *v = STR(qnames[i]);
        if (!v || (strcmp(qnames[i], "dir") == 0 && !*v))
            continue;
        ut_buf_puts(&b, first ? "?" : "&");
        first = false;
        ut_buf_printf(&b, "%s=", qnames[i]);
        percent_encode(v, &b);
    }
#undef STR
    *out = ev_mk_string(S, b.data, b.len, NULL);
    ut_buf_free(&b);
}

const ev_primop_def ev_builtins_flakeref[] = {
    {"parseFlakeRef", 1, prim_parseFlakeRef, 0},
    {"flakeRefToString", 1, prim_flakeRefToString, 0},
    {NULL, 0, NULL, 0},
};
