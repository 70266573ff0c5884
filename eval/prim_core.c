/* Core primops: the ones the language itself leans on (arithmetic,
 * comparison, import, throw/tryEval, seq) and the everyday list and
 * attribute-set basics. Other families live in eval/builtins/. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/internal.h"

#define NOPOS ((ps_pos){0})
UT_NORETURN void ev_error_owned(ev_state *S, ev_errkind kind, ps_pos pos, char *msg);
void ev_print_for_error(ev_state *S, ut_buf *out, ev_value *v);

/* ---- types ----------------------------------------------------------- */

static void prim_typeOf(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    *out = ev_mk_cstring(S, ev_typeof_name(&a[0]));
}

#define IS_PRIM(NAME, COND)                                                     \
    static void prim_##NAME(ev_state *S, ev_value *a, ev_value *out, ps_pos pos) \
    {                                                                           \
        ev_force(S, &a[0], pos);                                                \
        ev_value *v = &a[0];                                                    \
        *out = ev_mk_bool(COND);                                                \
    }
IS_PRIM(isNull, v->type == EV_NULL)
IS_PRIM(isInt, v->type == EV_INT)
IS_PRIM(isFloat, v->type == EV_FLOAT)
IS_PRIM(isBool, v->type == EV_BOOL)
IS_PRIM(isString, v->type == EV_STRING)
IS_PRIM(isPath, v->type == EV_PATH)
IS_PRIM(isList, v->type == EV_LIST)
IS_PRIM(isAttrs, v->type == EV_ATTRS)
IS_PRIM(isFunction, ev_is_function(v))

/* ---- arithmetic ------------------------------------------------------ */

/* Nix forces both operands first; if either is a float both must be
 * numbers ("expected a float"), otherwise both integers. */
static void num_args(ev_state *S, ev_value *a, ps_pos pos, const char *c1, const char *c2)
{
    ev_force(S, &a[0], pos);
    ev_force(S, &a[1], pos);
    bool fl = a[0].type == EV_FLOAT || a[1].type == EV_FLOAT;
    if (fl) {
        if (a[0].type != EV_INT && a[0].type != EV_FLOAT)
            ev_error_type(S, pos, "a float", &a[0], c1);
        if (a[1].type != EV_INT && a[1].type != EV_FLOAT)
            ev_error_type(S, pos, "a float", &a[1], c2);
    } else {
        if (a[0].type != EV_INT)
            ev_error_type(S, pos, "an integer", &a[0], c1);
        if (a[1].type != EV_INT)
            ev_error_type(S, pos, "an integer", &a[1], c2);
    }
}

static double fl(const ev_value *v) { return v->type == EV_INT ? (double)v->u.i : v->u.f; }

static void prim_add(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    num_args(S, a, pos, "while evaluating the first argument of the addition",
             "while evaluating the second argument of the addition");
    if (a[0].type == EV_INT && a[1].type == EV_INT) {
        int64_t r;
        if (__builtin_add_overflow(a[0].u.i, a[1].u.i, &r))
            ev_error(S, EV_ERR_EVAL, pos, "integer overflow in adding %" PRId64 " + %" PRId64, a[0].u.i, a[1].u.i);
        *out = ev_mk_int(r);
    } else {
        *out = ev_mk_float(fl(&a[0]) + fl(&a[1]));
    }
}

static void prim_sub(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    num_args(S, a, pos, "while evaluating the first argument of the subtraction",
             "while evaluating the second argument of the subtraction");
    if (a[0].type == EV_INT && a[1].type == EV_INT) {
        int64_t r;
        if (__builtin_sub_overflow(a[0].u.i, a[1].u.i, &r))
            ev_error(S, EV_ERR_EVAL, pos, "integer overflow in subtracting %" PRId64 " - %" PRId64, a[0].u.i,
                     a[1].u.i);
        *out = ev_mk_int(r);
    } else {
        *out = ev_mk_float(fl(&a[0]) - fl(&a[1]));
    }
}

static void prim_mul(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    num_args(S, a, pos, "while evaluating the first argument of the multiplication",
             "while evaluating the second argument of the multiplication");
    if (a[0].type == EV_INT && a[1].type == EV_INT) {
        int64_t r;
        if (__builtin_mul_overflow(a[0].u.i, a[1].u.i, &r))
            ev_error(S, EV_ERR_EVAL, pos, "integer overflow in multiplying %" PRId64 " * %" PRId64, a[0].u.i,
                     a[1].u.i);
        *out = ev_mk_int(r);
    } else {
        *out = ev_mk_float(fl(&a[0]) * fl(&a[1]));
    }
}

static void prim_div(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    /* Nix reads the divisor as a float first, to test for zero */
    double d = ev_force_float(S, &a[1], pos, "while evaluating the second operand of the division");
    if (d == 0)
        ev_error(S, EV_ERR_EVAL, pos, "division by zero");
    num_args(S, a, pos, "while evaluating the first operand of the division",
             "while evaluating the second operand of the division");
    if (a[0].type == EV_INT && a[1].type == EV_INT) {
        if (a[0].u.i == INT64_MIN && a[1].u.i == -1)
            ev_error(S, EV_ERR_EVAL, pos, "integer overflow in dividing %" PRId64 " / %" PRId64, a[0].u.i, a[1].u.i);
        *out = ev_mk_int(a[0].u.i / a[1].u.i);
    } else {
        *out = ev_mk_float(fl(&a[0]) / fl(&a[1]));
    }
}

static void prim_lessThan(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    ev_force(S, &a[1], pos);
    *out = ev_mk_bool(ev_compare(S, &a[0], &a[1], pos, NULL) < 0);
}

/* ---- attribute sets ------------------------------------------------------ */

static ps_sym string_sym(ev_state *S, ev_value *v, ps_pos pos, const char *ctx)
{
    ev_string *s = ev_force_string_noctx(S, v, pos, ctx);
    return ps_intern(S->syms, s->s, s->len);
}

static void prim_getAttr(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ps_sym name = string_sym(S, &a[0], pos, "while evaluating the first argument passed to builtins.getAttr");
    ev_attrs *set = ev_force_attrs_any(S, &a[1], pos, "while evaluating the second argument passed to builtins.getAttr");
    ev_attr *at = ev_attrs_find(set, name);
    if (!at) {
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "attribute '%s' missing", ps_sym_str(S->syms, name));
        extern void ev_suggest(ev_state * S, ut_buf * out, const ev_attrs *a, const char *name);
        ev_suggest(S, &b, ev_attrs_flat(S, set), ps_sym_str(S->syms, name));
        ev_trace_push(S, (ps_pos){0}, "in the attribute set under consideration", NULL);
        ev_error_owned(S, EV_ERR_EVAL, pos, ut_buf_steal(&b, NULL));
    }
    ev_force(S, &at->value, pos);
    *out = at->value;
}

static void prim_hasAttr(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ps_sym name = string_sym(S, &a[0], pos, "while evaluating the first argument passed to builtins.hasAttr");
    ev_attrs *set = ev_force_attrs_any(S, &a[1], pos, "while evaluating the second argument passed to builtins.hasAttr");
    *out = ev_mk_bool(ev_attrs_find(set, name) != NULL);
}

static void prim_attrNames(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *set = ev_force_attrs(S, &a[0], pos, "while evaluating the argument passed to builtins.attrNames");
    uint32_t *idx = ev_scratch_alloc(S, (set->h.n + 1) * sizeof *idx);
    ev_attrs_sorted_by_name(S, set, idx);
    ev_list *l = ev_list_new(S, set->h.n);
    for (uint32_t i = 0; i < set->h.n; i++) {
        ps_sym s = set->a[idx[i]].name;
        l->v[i] = ev_mk_string(S, ps_sym_str(S->syms, s), ps_sym_len(S->syms, s), NULL);
    }
    *out = ev_mk_list(l);
}

static void prim_attrValues(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *set = ev_force_attrs(S, &a[0], pos, "while evaluating the argument passed to builtins.attrValues");
    uint32_t *idx = ev_scratch_alloc(S, (set->h.n + 1) * sizeof *idx);
    ev_attrs_sorted_by_name(S, set, idx);
    ev_list *l = ev_list_new(S, set->h.n);
    for (uint32_t i = 0; i < set->h.n; i++)
        l->v[i] = ev_share(S, &set->a[idx[i]].value);
    *out = ev_mk_list(l);
}

static int sym_cmp(const void *x, const void *y)
{
    ps_sym a = *(const ps_sym *)x, b = *(const ps_sym *)y;
    return a < b ? -1 : a > b;
}

static void prim_removeAttrs(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *set = ev_force_attrs_any(S, &a[0], pos, "while evaluating the first argument passed to builtins.removeAttrs");
    ev_list *names = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.removeAttrs");
    uint32_t m = names->h.n;
    ps_sym *rm = ev_scratch_alloc(S, (m + 1) * sizeof(ps_sym));
    for (uint32_t i = 0; i < m; i++)
        rm[i] = string_sym(S, &names->v[i], pos, "while evaluating the values of the second argument passed to builtins.removeAttrs");
    set = a[0].u.a;
    /* the set is sorted by symbol: with the names sorted too, each is found
     * by binary search after the previous one, and what stays is copied in
     * runs */
    if (m <= 16) {
        for (uint32_t i = 1; i < m; i++) {
            ps_sym x = rm[i];
            uint32_t j = i;
            while (j > 0 && rm[j - 1] > x) {
                rm[j] = rm[j - 1];
                j--;
            }
            rm[j] = x;
        }
    } else {
        qsort(rm, m, sizeof *rm, sym_cmp);
    }
    if (ev_attrs_is_layer(set) && !(set->h.flags & EV_ATTRS_FLATTENED)) {
        /* a layer (a `//` of a few names over a set) is copied from its
         * layers, once: no flat copy of it is kept for this */
        ev_attrs *r = ev_attrs_new(S, ev_attrs_count(set));
        r->h.n = ev_attrs_merge(set, r->a, rm, m);
        *out = ev_mk_attrs(r);
        return;
    }
    set = ev_attrs_flat(S, set);
    /* rm[0..nhit): positions in set of the names present, ascending (a
     * repeated name is not found twice: the search goes on past a hit) */
    uint32_t nhit = 0, lo = 0;
    for (uint32_t i = 0; i < m && lo < set->h.n; i++) {
        uint32_t hi = set->h.n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (set->a[mid].name < rm[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < set->h.n && set->a[lo].name == rm[i])
            rm[nhit++] = lo++;
    }
    /* a new set even with nothing removed: Nix makes one, and which sets
     * are the same one is visible (nix-instantiate prints a derivation
     * once per set) */
    ev_attrs *r = ev_attrs_new(S, set->h.n - nhit);
    uint32_t from = 0, k = 0;
    for (uint32_t h = 0; h < nhit; h++) {
        memcpy(&r->a[k], &set->a[from], (size_t)(rm[h] - from) * sizeof(ev_attr));
        k += rm[h] - from;
        from = rm[h] + 1;
    }
    memcpy(&r->a[k], &set->a[from], (size_t)(set->h.n - from) * sizeof(ev_attr));
    k += set->h.n - from;
    r->h.n = k;
    *out = ev_mk_attrs(r);
}

static void prim_listToAttrs(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[0], pos, "while evaluating the argument passed to builtins.listToAttrs");
    ev_attrs *r = ev_attrs_new(S, l->h.n);
    *out = ev_mk_attrs(r);
    for (uint32_t i = 0; i < l->h.n; i++) {
        ev_attrs *e = ev_force_attrs(S, &l->v[i], pos, "while evaluating an element of the list passed to builtins.listToAttrs");
        ev_attr *n = ev_attrs_find(e, S->s_name);
        if (!n) {
            ev_trace_push(S, (ps_pos){0}, "in a {name=...; value=...;} pair", NULL);
            ev_error(S, EV_ERR_EVAL, pos, "attribute 'name' missing");
        }
        /* the name is reported where it is written, as Nix does */
        ps_pos npos = n->pos ? ev_pos_get(S, n->pos) : (ps_pos){0};
        ev_trace_push(S, npos, "while evaluating the `name` attribute of an element of the list passed to builtins.listToAttrs", NULL);
        ev_string *ns = ev_force_string_noctx(S, &n->value, npos, NULL);
        ps_sym s = ps_intern(S->syms, ns->s, ns->len);
        ev_trace_pop(S);
        ev_attr *v = ev_attrs_find(e, S->s_value);
        if (!v) {
            ev_trace_push(S, (ps_pos){0}, "in a {name=...; value=...;} pair", NULL);
            ev_error(S, EV_ERR_EVAL, pos, "attribute 'value' missing");
        }
        ev_attrs_add(r, s, v->value, v->pos);
    }
    ev_attrs_finish(r);
}

static void prim_intersectAttrs(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *x = ev_force_attrs(S, &a[0], pos, "while evaluating the first argument passed to builtins.intersectAttrs");
    ev_attrs *y = ev_force_attrs_any(S, &a[1], pos, "while evaluating the second argument passed to builtins.intersectAttrs");
    uint32_t ny = ev_attrs_count(y);
    ev_attrs *r = ev_attrs_new(S, x->h.n < ny ? x->h.n : ny);
    if ((size_t)x->h.n * 8 < ny && ev_attrs_is_layer(y)) {
        /* a few names looked up through a layer, without flattening it */
        for (uint32_t i = 0; i < x->h.n; i++) {
            ev_attr *f = ev_attrs_find(y, x->a[i].name);
            if (f)
                r->a[r->h.n++] = *f;
        }
        *out = ev_mk_attrs(r);
        return;
    }
    y = ev_attrs_flat(S, y);
    uint32_t i = 0, j = 0;
    if ((size_t)x->h.n * 8 < y->h.n) {
        /* callPackage's `intersectAttrs (functionArgs f) pkgs`: a few names
         * looked up in a large set, by binary search after the previous one
         * rather than a walk through all of it */
        for (; i < x->h.n; i++) {
            ps_sym name = x->a[i].name;
            j = ev_attrs_lower_bound(y, j, y->h.n, name);
            if (j == y->h.n)
                break;
            if (y->a[j].name == name)
                r->a[r->h.n++] = y->a[j++];
        }
        *out = ev_mk_attrs(r);
        return;
    }
    while (i < x->h.n && j < y->h.n) {
        if (x->a[i].name < y->a[j].name)
            i++;
        else if (x->a[i].name > y->a[j].name)
            j++;
        else {
            r->a[r->h.n++] = y->a[j];
            i++;
            j++;
        }
    }
    *out = ev_mk_attrs(r);
}

static void prim_mapAttrs(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *set = ev_force_attrs(S, &a[1], pos, "while evaluating the second argument passed to builtins.mapAttrs");
    ev_attrs *r = ev_attrs_new(S, set->h.n);
    *out = ev_mk_attrs(r);
    for (uint32_t i = 0; i < set->h.n; i++) {
        /* f name value, lazily: (f name) as an app thunk, then applied to value */
        ev_value name = ev_mk_string(S, ps_sym_str(S->syms, set->a[i].name), ps_sym_len(S->syms, set->a[i].name), NULL);
        ev_value *tmp = ev_push1(S);
        *tmp = ev_mk_app_thunk(S, &a[0], &name);
        ev_value v = ev_mk_app_thunk(S, tmp, &set->a[i].value);
        S->sp--;
        r->a[i].name = set->a[i].name;
        /* Nix allocates the result's attributes without a position */
        r->a[i].pos = 0;
        r->a[i].value = v;
        r->h.n++;
    }
}

/* ---- lists ------------------------------------------------------------ */

static void prim_head(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to 'builtins.head'");
    if (l->h.n == 0)
        ev_error(S, EV_ERR_EVAL, pos, "'builtins.head' called on an empty list");
    ev_force(S, &l->v[0], pos);
    *out = l->v[0];
}

static void prim_tail(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to 'builtins.tail'");
    if (l->h.n == 0)
        ev_error(S, EV_ERR_EVAL, pos, "'builtins.tail' called on an empty list");
    ev_list *r = ev_list_new(S, l->h.n - 1);
    for (uint32_t i = 1; i < l->h.n; i++)
        r->v[i - 1] = ev_share(S, &l->v[i]);
    *out = ev_mk_list(r);
}

static void prim_elemAt(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to 'builtins.elemAt'");
    int64_t n = ev_force_int(S, &a[1], pos, "while evaluating the second argument passed to 'builtins.elemAt'");
    if (n < 0 || n >= (int64_t)l->h.n)
        ev_error(S, EV_ERR_EVAL, pos, "'builtins.elemAt' called with index %" PRId64 " on a list of size %u", n, l->h.n);
    ev_force(S, &l->v[n], pos);
    *out = l->v[n];
}

static void prim_length(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to builtins.length");
    *out = ev_mk_int(l->h.n);
}

static void prim_map(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.map");
    if (l->h.n == 0) {
        *out = a[1];
        return;
    }
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.map");
    ev_list *r = ev_list_new(S, l->h.n);
    /* Each result is the inline application `f l[i]` (an EV_APPI whose
     * object is a box of f and l): no heap thunk per element. */
    ev_box *b = ev_gc_alloc(S, EV_OBJ_BOX, sizeof(ev_box) + 2 * sizeof(ev_value));
    b->h.n = 2;
    b->v[0] = a[0];
    b->v[1] = a[1];
    for (uint32_t i = 0; i < l->h.n; i++) {
        ev_value *e = &r->v[i];
        e->type = EV_APPI;
        e->aux = i;
        e->u.obj = &b->h;
    }
    *out = ev_mk_list(r);
}

static void prim_filter(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.filter");
    if (l->h.n == 0) {
        *out = a[1];
        return;
    }
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.filter");
    ev_list *keep = ev_list_new(S, l->h.n);
    ev_value *k = ev_push1(S);
    *k = ev_mk_list(keep);
    ev_value *res = ev_push1(S);
    uint32_t n = 0;
    ev_value *arg = ev_push1(S);
    for (uint32_t i = 0; i < l->h.n; i++) {
        *arg = ev_share_elem(S, l, i);
        ev_call(S, &a[0], 1, arg, res, pos);
        if (ev_force_bool(S, res, pos, "while evaluating the return value of the filtering function passed to builtins.filter"))
            keep->v[n++] = ev_share_elem(S, l, i);
    }
    if (n == l->h.n) {
        *out = a[1];
    } else {
        ev_list *r = ev_list_new(S, n);
        memcpy(r->v, keep->v, n * sizeof(ev_value));
        *out = ev_mk_list(r);
    }
    S->sp = k;
}

static void prim_foldlStrict(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.foldlStrict");
    ev_list *l = ev_force_list(S, &a[2], pos, "while evaluating the third argument passed to builtins.foldlStrict");
    if (l->h.n == 0) {
        ev_force(S, &a[1], pos);
        *out = a[1];
        return;
    }
    ev_value *acc = ev_stack_push(S, 3);
    acc[0] = a[1];
    for (uint32_t i = 0; i < l->h.n; i++) {
        acc[1] = acc[0];
        acc[2] = ev_share_elem(S, l, i);
        ev_call(S, &a[0], 2, &acc[1], &acc[0], pos);
    }
    ev_force(S, &acc[0], pos);
    *out = acc[0];
    S->sp = acc;
}

static void prim_genList(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    int64_t n = ev_force_int(S, &a[1], pos, "while evaluating the second argument passed to builtins.genList");
    if (n < 0)
        ev_error(S, EV_ERR_EVAL, pos, "cannot create list of size %" PRId64, n);
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.genList");
    ev_list *l = ev_list_new(S, (size_t)n);
    /* elements are inline deferred applications: no heap thunk per element */
    ev_value fn = ev_share(S, &a[0]);
    for (int64_t i = 0; i < n; i++) {
        ev_value *e = &l->v[i];
        e->type = EV_APPI;
        e->aux = (uint32_t)i;
        e->u.obj = fn.u.obj;
    }
    *out = ev_mk_list(l);
}

static void prim_concatLists(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *ls = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to builtins.concatLists");
    size_t total = 0;
    for (uint32_t i = 0; i < ls->h.n; i++)
        total += ev_force_list(S, &ls->v[i], pos, "while evaluating a value of the list passed to builtins.concatLists")->h.n;
    ev_list *r = ev_list_new(S, total);
    size_t k = 0;
    for (uint32_t i = 0; i < ls->h.n; i++) {
        ev_list *x = ls->v[i].u.l;
        for (uint32_t j = 0; j < x->h.n; j++)
            r->v[k++] = ev_share_elem(S, x, j);
    }
    *out = ev_mk_list(r);
}

static void prim_elem(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.elem");
    bool found = false;
    for (uint32_t i = 0; i < l->h.n && !found; i++)
        found = ev_equal(S, &a[0], &l->v[i], pos, "while searching for the presence of the given element in the list");
    *out = ev_mk_bool(found);
}

/* ---- control ---------------------------------------------------------- */

static void prim_seq(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    ev_force(S, &a[1], pos);
    *out = a[1];
}

static void prim_deepSeq(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force_deep(S, &a[0], pos);
    ev_force(S, &a[1], pos);
    *out = a[1];
}

static void prim_throw(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    (void)out;
    ut_buf b = UT_BUF_INIT;
    ev_coerce_to_string(S, &a[0], pos, 0, &b, NULL, "while evaluating the error message passed to builtin.throw");
    ev_error_owned(S, EV_ERR_THROWN, NOPOS, ut_buf_steal(&b, NULL));
}

static void prim_abort(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    (void)out;
    ut_buf b = UT_BUF_INIT;
    ev_coerce_to_string(S, &a[0], pos, 0, &b, NULL, "while evaluating the error message passed to builtins.abort");
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, "evaluation aborted with the following error message: '%s'", b.data ? b.data : "");
    ut_buf_free(&b);
    ev_error_owned(S, EV_ERR_ABORT, NOPOS, ut_buf_steal(&m, NULL));
}

static void prim_tryEval(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    bool ok;
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        t.pass = EV_TRY_CATCHABLE_ONLY;
        ev_force(S, &a[0], pos);
        ev_try_end(S, &t);
        ok = true;
    } else {
        ev_try_end(S, &t);
        if (t.kind != EV_ERR_THROWN && t.kind != EV_ERR_ASSERT)
            ev_rethrow(S);
        ok = false;
    }
    /* allocated only now: nothing unrooted may live across the force */
    ev_attrs *r = ev_attrs_new(S, 2);
    ev_attrs_add(r, S->s_success, ev_mk_bool(ok), 0);
    ev_attrs_add(r, S->s_value, ok ? a[0] : ev_mk_bool(false), 0);
    ev_attrs_finish(r);
    *out = ev_mk_attrs(r);
}

static void prim_addErrorContext(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_try t;
    ev_try_enter(S, &t);
    t.passthrough = true;
    t.pass = EV_TRY_RETHROWS;
    if (setjmp(t.jb) == 0) {
        ev_force(S, &a[1], pos);
        ev_try_end(S, &t);
        *out = a[1];
    } else {
        ev_try_end(S, &t);
        ut_buf b = UT_BUF_INIT;
        /* the message itself may fail; then that error is raised */
        ev_try t2;
        ev_try_enter(S, &t2);
        t2.passthrough = true;
        t2.pass = EV_TRY_RETHROWS;
        if (setjmp(t2.jb) == 0) {
            ev_coerce_to_string(S, &a[0], pos, 0, &b, NULL, NULL);
            ev_try_end(S, &t2);
        } else {
            ev_try_end(S, &t2);
            ut_buf_free(&b);
            ev_rethrow(S);
        }
        ev_error_add_context(S, &t, b.data ? b.data : "");
        ut_buf_free(&b);
        ev_rethrow(S);
    }
}

static void prim_trace(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "trace: ");
    if (a[0].type == EV_STRING)
        ut_buf_append(&b, a[0].u.s->s, a[0].u.s->len);
    else
        ev_print_for_error(S, &b, &a[0]);
    ut_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stderr);
    ut_buf_free(&b);
    ev_force(S, &a[1], pos);
    *out = a[1];
}

/* ---- import ----------------------------------------------------------- */

static void import_path(ev_state *S, ev_value *pathv, ps_pos pos, ut_buf *b)
{
    ev_force(S, pathv, pos);
    if (pathv->type == EV_ATTRS || pathv->type == EV_STRING || pathv->type == EV_PATH) {
        ev_coerce_to_path(S, pathv, pos, b, "while evaluating the first argument passed to builtins.import");
        return;
    }
    ev_error_type(S, pos, "a path", pathv, "while evaluating the first argument passed to builtins.import");
}

static void prim_import(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    import_path(S, &a[0], pos, &b);
    char *p = ev_canon_path(b.data ? b.data : "", b.len);
    ut_buf_free(&b);
    *out = ev_import_path(S, p, pos);
    free(p);
    ev_force(S, out, pos);
}

static void prim_scopedImport(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *scope = ev_force_attrs(S, &a[0], pos, "while evaluating the first argument passed to builtins.scopedImport");
    ut_buf b = UT_BUF_INIT;
    import_path(S, &a[1], pos, &b);
    char *p = ev_canon_path(b.data ? b.data : "", b.len);
    ut_buf_free(&b);
    ev_code *c = ev_load_file(S, p, scope, pos);
    free(p);
    ev_env *env = ev_env_new(S, S->base_env, scope->h.n);
    for (uint32_t i = 0; i < scope->h.n; i++)
        env->v[i] = scope->a[i].value;
    ev_value *root = ev_push1(S);
    root->type = EV_ENV;
    root->u.env = env;
    ev_eval(S, c, env, out);
    S->sp = root;
}

/* ---- strings -------------------------------------------------------------- */

static void prim_toString(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    ev_coerce_to_string(S, &a[0], pos, EV_COERCE_MORE, &b, &ctx,
                        "while evaluating the first argument passed to builtins.toString");
    ev_context *c = ev_ctxset_finish(S, &ctx);
    *out = ev_mk_string(S, b.data ? b.data : "", b.len, c);
    ut_buf_free(&b);
}

static void prim_stringLength(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    ev_coerce_to_string(S, &a[0], pos, EV_COERCE_COPY_TO_STORE, &b, NULL,
                        "while evaluating the argument passed to builtins.stringLength");
    *out = ev_mk_int((int64_t)b.len);
    ut_buf_free(&b);
}

static void prim_substring(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    int64_t start = ev_force_int(S, &a[0], pos, "while evaluating the first argument (the start offset) passed to builtins.substring");
    if (start < 0)
        ev_error(S, EV_ERR_EVAL, pos, "negative start position in 'substring'");
    int64_t len = ev_force_int(S, &a[1], pos, "while evaluating the second argument (the substring length) passed to builtins.substring");
    ev_force(S, &a[2], pos);
    if (len == 0 && a[2].type == EV_STRING) {
        /* empty, but the context stays (Nix keeps it) */
        *out = ev_mk_string(S, "", 0, a[2].u.s->ctx);
        return;
    }
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    ev_coerce_to_string(S, &a[2], pos, EV_COERCE_COPY_TO_STORE, &b, &ctx,
                        "while evaluating the third argument (the string) passed to builtins.substring");
    size_t s = (size_t)start > b.len ? b.len : (size_t)start;
    size_t n = len < 0 || (size_t)len > b.len - s ? b.len - s : (size_t)len;
    ev_context *c = ev_ctxset_finish(S, &ctx);
    *out = ev_mk_string(S, b.data ? b.data + s : "", n, c);
    ut_buf_free(&b);
}

static void prim_baseNameOf(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    ev_force(S, &a[0], pos);
    bool path = a[0].type == EV_PATH;
    ev_coerce_to_string(S, &a[0], pos, 0, &b, &ctx, "while evaluating the first argument passed to builtins.baseNameOf");
    size_t n = b.len;
    if (n && b.data[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && b.data[s - 1] != '/')
        s--;
    ev_context *c = ev_ctxset_finish(S, &ctx);
    (void)path;
    *out = ev_mk_string(S, b.data ? b.data + s : "", n - s, c);
    ut_buf_free(&b);
}

static void prim_dirOf(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    bool path = a[0].type == EV_PATH;
    ut_buf b = UT_BUF_INIT;
    ev_ctxset ctx = {0};
    ev_coerce_to_string(S, &a[0], pos, 0, &b, &ctx, "while evaluating the first argument passed to builtins.dirOf");
    const char *d = b.data ? b.data : "";
    const char *sl = strrchr(d, '/');
    size_t n;
    if (!sl)
        n = 0;
    else if (sl == d)
        n = 1;
    else
        n = (size_t)(sl - d);
    if (path) {
        *out = ev_mk_path(S, d, n);
        ev_ctxset_free(&ctx);
    } else {
        ev_context *c = ev_ctxset_finish(S, &ctx);
        if (!sl)
            *out = ev_mk_string(S, ".", 1, c);
        else
            *out = ev_mk_string(S, d, n, c);
    }
    ut_buf_free(&b);
}

/* ---- functions --------------------------------------------------------- */

static void prim_functionArgs(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force(S, &a[0], pos);
    if (a[0].type == EV_PRIMOP || a[0].type == EV_PRIMOP_APP) {
        *out = ev_mk_attrs(ev_attrs_new(S, 0));
        return;
    }
    if (a[0].type != EV_LAMBDA)
        ev_error(S, EV_ERR_EVAL, pos, "'functionArgs' requires a function");
    const ev_clambda *cl = a[0].u.fn->code;
    ev_attrs *r = ev_attrs_new(S, cl->nformals);
    if (cl->has_formals)
        for (uint32_t i = 0; i < cl->nformals; i++)
            ev_attrs_add(r, cl->formals[i].name, ev_mk_bool(cl->formals[i].def != NULL),
                         ev_pos_intern(S, cl->formals[i].pos));
    ev_attrs_finish(r);
    *out = ev_mk_attrs(r);
}

static void prim_unsafeGetAttrPos(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ps_sym name = string_sym(S, &a[0], pos, "while evaluating the first argument passed to builtins.unsafeGetAttrPos");
    ev_attrs *set = ev_force_attrs_any(S, &a[1], pos, "while evaluating the second argument passed to builtins.unsafeGetAttrPos");
    ev_attr *at = ev_attrs_find(set, name);
    ev_pos_value(S, at ? ev_pos_get(S, at->pos) : NOPOS, out);
}

/* ---- search path ---------------------------------------------------------- */

static void prim_findFile(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[0], pos, "while evaluating the first argument passed to builtins.findFile");
    ev_string *name = ev_force_string(S, &a[1], pos, "while evaluating the second argument passed to builtins.findFile");
    ps_sym s_prefix = ev_sym(S, "prefix"), s_path = ev_sym(S, "path");
    for (uint32_t i = 0; i < l->h.n; i++) {
        ev_attrs *e = ev_force_attrs(S, &l->v[i], pos, "while evaluating an element of the list passed to builtins.findFile");
        ev_attr *pf = ev_attrs_find(e, s_prefix);
        ev_attr *pa = ev_attrs_find(e, s_path);
        if (!pa)
            ev_error(S, EV_ERR_EVAL, pos, "attribute 'path' missing");
        const char *prefix = "";
        size_t plen = 0;
        if (pf) {
            ev_string *ps = ev_force_string(S, &pf->value, pos, NULL);
            prefix = ps->s;
            plen = ps->len;
        }
        const char *rest = NULL;
        if (plen == 0)
            rest = name->s;
        else if (name->len >= plen && memcmp(name->s, prefix, plen) == 0 &&
                 (name->len == plen || name->s[plen] == '/'))
            rest = name->s + plen + (name->len > plen ? 1 : 0);
        if (!rest)
            continue;
        ut_buf b = UT_BUF_INIT;
        ev_coerce_to_string(S, &pa->value, pos, 0, &b, NULL, NULL);
        if (strstr(b.data ? b.data : "", "://")) {
            ut_buf_free(&b);
            continue;
        }
        if (*rest) {
            ut_buf_putc(&b, '/');
            ut_buf_puts(&b, rest);
        }
        char *c = ev_canon_path(b.data ? b.data : "", b.len);
        ut_buf_free(&b);
        if (access(c, F_OK) == 0) {
            *out = ev_mk_path(S, c, strlen(c));
            free(c);
            return;
        }
        free(c);
    }
    /* Nix's own files (<nix/fetchurl.nix>) come after every entry and are
     * not part of __nixPath */
    if (S->opts.corepkgs_dir && name->len > 4 && memcmp(name->s, "nix/", 4) == 0) {
        /* every fetchurl call looks up <nix/fetchurl.nix>: these files are
         * written before evaluation starts, so once found they stay */
        ev_value *memo = ev_memo_slot(S, "corepkgs", name->s, name->len, false);
        if (memo) {
            *out = *memo;
            return;
        }
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "%s/%s", S->opts.corepkgs_dir, name->s + 4);
        char *c = ev_canon_path(b.data, b.len);
        ut_buf_free(&b);
        if (access(c, F_OK) == 0) {
            *out = ev_mk_path(S, c, strlen(c));
            free(c);
            *ev_memo_slot(S, "corepkgs", name->s, name->len, true) = *out;
            return;
        }
        free(c);
    }
    ev_error(S, EV_ERR_THROWN, pos,
             "file '%s' was not found in the Nix search path (add it using $NIX_PATH or -I)", name->s);
}

static void prim_getEnv(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.getEnv");
    const char *v = S->opts.pure ? NULL : getenv(s->s);
    *out = ev_mk_cstring(S, v ? v : "");
}

bool ev_lambda_formals(ev_state *S, const ev_value *fn, bool *ellipsis, ps_sym **names, bool **has_default,
                       uint32_t *n);
bool ev_lambda_formals(ev_state *S, const ev_value *fn, bool *ellipsis, ps_sym **names, bool **has_default,
                       uint32_t *n)
{
    (void)S;
    if (fn->type != EV_LAMBDA || !fn->u.fn->code->has_formals)
        return false;
    const ev_clambda *cl = fn->u.fn->code;
    *ellipsis = cl->ellipsis;
    *n = cl->nformals;
    *names = ut_xmalloc((cl->nformals + 1) * sizeof(ps_sym));
    *has_default = ut_xmalloc(cl->nformals + 1);
    for (uint32_t i = 0; i < cl->nformals; i++) {
        (*names)[i] = cl->formals[i].name;
        (*has_default)[i] = cl->formals[i].def != NULL;
    }
    return true;
}

const ev_primop_def ev_builtins_core[] = {
    {"typeOf", 1, prim_typeOf, 0},
    {"isNull", 1, prim_isNull, EV_PRIM_GLOBAL},
    {"isInt", 1, prim_isInt, 0},
    {"isFloat", 1, prim_isFloat, 0},
    {"isBool", 1, prim_isBool, 0},
    {"isString", 1, prim_isString, 0},
    {"isPath", 1, prim_isPath, 0},
    {"isList", 1, prim_isList, 0},
    {"isAttrs", 1, prim_isAttrs, 0},
    {"isFunction", 1, prim_isFunction, 0},
    {"add", 2, prim_add, EV_PRIM_STRICT},
    {"sub", 2, prim_sub, EV_PRIM_STRICT},
    {"mul", 2, prim_mul, EV_PRIM_STRICT},
    {"div", 2, prim_div, EV_PRIM_STRICT},
    {"lessThan", 2, prim_lessThan, EV_PRIM_STRICT},
    {"getAttr", 2, prim_getAttr, 0},
    {"hasAttr", 2, prim_hasAttr, 0},
    {"attrNames", 1, prim_attrNames, 0},
    {"attrValues", 1, prim_attrValues, 0},
    {"removeAttrs", 2, prim_removeAttrs, EV_PRIM_GLOBAL},
    {"listToAttrs", 1, prim_listToAttrs, 0},
    {"intersectAttrs", 2, prim_intersectAttrs, 0},
    {"mapAttrs", 2, prim_mapAttrs, 0},
    {"head", 1, prim_head, 0},
    {"tail", 1, prim_tail, 0},
    {"elemAt", 2, prim_elemAt, 0},
    {"length", 1, prim_length, 0},
    {"map", 2, prim_map, EV_PRIM_GLOBAL},
    {"filter", 2, prim_filter, 0},
    {"foldl'", 3, prim_foldlStrict, 0},
    {"genList", 2, prim_genList, 0},
    {"concatLists", 1, prim_concatLists, 0},
    {"elem", 2, prim_elem, 0},
    {"seq", 2, prim_seq, 0},
    {"deepSeq", 2, prim_deepSeq, 0},
    {"throw", 1, prim_throw, EV_PRIM_GLOBAL},
    {"abort", 1, prim_abort, EV_PRIM_GLOBAL},
    {"tryEval", 1, prim_tryEval, 0},
    {"addErrorContext", 2, prim_addErrorContext, 0},
    {"trace", 2, prim_trace, 0},
    {"import", 1, prim_import, EV_PRIM_GLOBAL},
    {"scopedImport", 2, prim_scopedImport, EV_PRIM_GLOBAL},
    {"toString", 1, prim_toString, EV_PRIM_GLOBAL},
    {"stringLength", 1, prim_stringLength, 0},
    {"substring", 3, prim_substring, 0},
    {"baseNameOf", 1, prim_baseNameOf, EV_PRIM_GLOBAL},
    {"dirOf", 1, prim_dirOf, EV_PRIM_GLOBAL},
    {"functionArgs", 1, prim_functionArgs, 0},
    {"unsafeGetAttrPos", 2, prim_unsafeGetAttrPos, 0},
    {"findFile", 2, prim_findFile, 0},
    {"getEnv", 1, prim_getEnv, 0},
    {NULL, 0, NULL, 0},
};

void ev_core_register_constants(ev_state *S)
{
    ev_register_value(S, "nixVersion", ev_mk_cstring(S, "2.28.0"), 0);
    ev_register_value(S, "langVersion", ev_mk_int(6), 0);
    ev_register_value(S, "storeDir", ev_mk_cstring(S, S->store_dir), 0);
    ev_register_value(S, "currentSystem",
                      ev_mk_cstring(S, S->opts.current_system ? S->opts.current_system : "x86_64-linux"), 0);
    /* __nixPath: [{ prefix; path; }] from -I and NIX_PATH */
    ev_list *l = ev_list_new(S, S->nsearch_path);
    ps_sym s_prefix = ev_sym(S, "prefix"), s_path = ev_sym(S, "path");
    for (size_t i = 0; i < S->nsearch_path; i++) {
        const char *e = S->search_path[i];
        const char *eq = strchr(e, '=');
        ev_attrs *a = ev_attrs_new(S, 2);
        if (eq && !strstr(e, "://")) {
            ev_attrs_add(a, s_prefix, ev_mk_string(S, e, (size_t)(eq - e), NULL), 0);
            ev_attrs_add(a, s_path, ev_mk_cstring(S, eq + 1), 0);
        } else {
            ev_attrs_add(a, s_prefix, ev_mk_cstring(S, ""), 0);
            ev_attrs_add(a, s_path, ev_mk_cstring(S, e), 0);
        }
        ev_attrs_finish(a);
        l->v[i] = ev_mk_attrs(a);
    }
    ev_register_value(S, "nixPath", ev_mk_list(l), 0);
}
