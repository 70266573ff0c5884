/* List builtins: sort, partition, any, all, concatMap, groupBy. Forcing
 * order and error texts are Nix's (primops.cc), which the conformance tests
 * check. Values produced while calling back into Nix are kept in GC lists
 * held in stack slots, so a collection during a callback never frees them. */
#include <string.h>

#include "eval/builtins.h"
#include "eval/internal.h"

#define NOPOS ((ps_pos){0})

/* ---- sort ---------------------------------------------------------------- */

typedef struct sorter {
    ev_state *S;
    ev_value *fn;      /* the comparator (rooted argument slot) */
    ev_value *call;    /* 3 stack slots: two arguments and the result */
    ps_pos pos;
    bool less_than;    /* the comparator is builtins.lessThan itself */
} sorter;

static bool less(sorter *so, const ev_value *x, const ev_value *y)
{
    if (so->less_than) {
        /* The common cases of Nix's ordering without the general path. */
        if (x->type == EV_INT && y->type == EV_INT)
            return x->u.i < y->u.i;
        if (x->type == EV_FLOAT && y->type == EV_FLOAT)
            return x->u.f < y->u.f;
        if (x->type == EV_STRING && y->type == EV_STRING) {
            size_t n = x->u.s->len < y->u.s->len ? x->u.s->len : y->u.s->len;
            int r = memcmp(x->u.s->s, y->u.s->s, n);
            return r < 0 || (r == 0 && x->u.s->len < y->u.s->len);
        }
        so->call[0] = *x;
        so->call[1] = *y;
        return ev_compare(so->S, &so->call[0], &so->call[1], NOPOS,
                          "while evaluating the ordering function passed to builtins.sort") < 0;
    }
    so->call[0] = *x;
    so->call[1] = *y;
    ev_call(so->S, so->fn, 2, so->call, &so->call[2], NOPOS);
    return ev_force_bool(so->S, &so->call[2], so->pos,
                         "while evaluating the return value of the sorting function passed to builtins.sort");
}

/* Stable top-down merge sort of v[0..n) using tmp[0..n). Every value in
 * v is also held by the (rooted) input list, so plain copies are safe. */
static void merge_sort(sorter *so, ev_value *v, ev_value *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(so, v, tmp, h);
    merge_sort(so, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        /* Take from the right half only when strictly less: stability. */
        if (less(so, &v[j], &v[i]))
            tmp[k++] = v[j++];
        else
            tmp[k++] = v[i++];
    }
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static void prim_sort(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.sort");
    size_t n = l->h.n;
    if (n == 0) {
        *out = a[1];
        return;
    }
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.sort");
    for (size_t i = 0; i < n; i++)
        ev_force(S, &l->v[i], pos);
    ev_value *v = ev_scratch_alloc(S, n * sizeof *v);
    ev_value *tmp = ev_scratch_alloc(S, n * sizeof *tmp);
    memcpy(v, l->v, n * sizeof *v);
    sorter so = {S, &a[0], ev_stack_push(S, 3), pos, false};
    so.less_than = a[0].type == EV_PRIMOP && strcmp(a[0].u.op->name, "lessThan") == 0;
    merge_sort(&so, v, tmp, n);
    ev_list *r = ev_list_new(S, n);
    memcpy(r->v, v, n * sizeof *v);
    *out = ev_mk_list(r);
}

/* ---- predicates ------------------------------------------------------------ */

static void prim_partition(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.partition");
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.partition");
    size_t n = l->h.n;
    bool *right = ev_scratch_alloc(S, n + 1);
    ev_value *res = ev_stack_push(S, 1);
    size_t nright = 0;
    for (size_t i = 0; i < n; i++) {
        ev_force(S, &l->v[i], pos);
        ev_call(S, &a[0], 1, &l->v[i], res, NOPOS);
        right[i] = ev_force_bool(S, res, pos,
                                 "while evaluating the return value of the partition function passed to "
                                 "builtins.partition");
        nright += right[i];
    }
    ev_list *r = ev_list_new(S, nright), *w = ev_list_new(S, n - nright);
    size_t ri = 0, wi = 0;
    for (size_t i = 0; i < n; i++) {
        if (right[i])
            r->v[ri++] = l->v[i];
        else
            w->v[wi++] = l->v[i];
    }
    ev_attrs *at = ev_attrs_new(S, 2);
    ev_attrs_add(at, ev_sym(S, "right"), ev_mk_list(r), 0);
    ev_attrs_add(at, ev_sym(S, "wrong"), ev_mk_list(w), 0);
    ev_attrs_finish(at);
    *out = ev_mk_attrs(at);
}

static void any_all(ev_state *S, ev_value *a, ev_value *out, ps_pos pos, bool any)
{
    ev_force_function(S, &a[0], pos,
                      any ? "while evaluating the first argument passed to builtins.any"
                          : "while evaluating the first argument passed to builtins.all");
    ev_list *l = ev_force_list(S, &a[1], pos,
                               any ? "while evaluating the second argument passed to builtins.any"
                                   : "while evaluating the second argument passed to builtins.all");
    ev_value *res = ev_stack_push(S, 1);
    for (size_t i = 0; i < l->h.n; i++) {
        ev_call(S, &a[0], 1, &l->v[i], res, pos);
        bool b = ev_force_bool(S, res, pos,
                               any ? "while evaluating the return value of the function passed to builtins.any"
                                   : "while evaluating the return value of the function passed to builtins.all");
        if (b == any) {
            *out = ev_mk_bool(any);
            return;
        }
    }
    *out = ev_mk_bool(!any);
}

static void prim_any(ev_state *S, ev_value *a, ev_value *out, ps_pos pos) { any_all(S, a, out, pos, true); }
static void prim_all(ev_state *S, ev_value *a, ev_value *out, ps_pos pos) { any_all(S, a, out, pos, false); }

/* ---- concatMap, groupBy ------------------------------------------------ */

/* Where Nix points a check of a function's result (Value::determinePos on
 * the function): a lambda's own position, else the call. */
static ps_pos function_pos(const ev_value *fn, ps_pos fallback)
{
    if (fn->type == EV_LAMBDA && fn->u.fn->code->pos.src)
        return fn->u.fn->code->pos;
    return fallback;
}

static void prim_concatMap(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.concatMap");
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.concatMap");
    size_t n = l->h.n;
    /* The intermediate lists live in a GC list held by a stack slot. */
    ev_value *hold = ev_stack_push(S, 1);
    ev_list *parts = ev_list_new(S, n);
    *hold = ev_mk_list(parts);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        ev_call(S, &a[0], 1, &l->v[i], &parts->v[i], pos);
        ps_pos saved = S->errctx_pos;
        S->errctx_pos = function_pos(&a[0], pos);
        ev_list *p = ev_force_list(S, &parts->v[i], pos,
                                   "while evaluating the return value of the function passed to builtins.concatMap");
        S->errctx_pos = saved;
        total += p->h.n;
    }
    ev_list *r = ev_list_new(S, total);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        ev_list *p = parts->v[i].u.l;
        /* an unforced generated element is referred to where it is, so
         * that it is computed once however many lists hold it */
        for (uint32_t j = 0; j < p->h.n; j++)
            r->v[k++] = ev_share_elem(S, p, j);
    }
    *out = ev_mk_list(r);
}

static void prim_groupBy(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.groupBy");
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.groupBy");
    size_t n = l->h.n;
    ps_sym *names = ev_scratch_alloc(S, (n + 1) * sizeof *names);
    ev_value *res = ev_stack_push(S, 1);
    for (size_t i = 0; i < n; i++) {
        ev_call(S, &a[0], 1, &l->v[i], res, pos);
        ev_string *s = ev_force_string_noctx(S, res, pos,
                                             "while evaluating the return value of the grouping function passed to "
                                             "builtins.groupBy");
        names[i] = ps_intern(ev_syms(S), s->s, s->len);
    }
    /* Nothing below evaluates, so C-side bookkeeping cannot leak. */
    ut_hmap *groups = ut_hmap_new();   /* sym -> 1 + group index */
    size_t ngroups = 0;
    size_t *count = ev_scratch_alloc(S, (n + 1) * sizeof *count);
    size_t *group_of = ev_scratch_alloc(S, (n + 1) * sizeof *group_of);
    ps_sym *group_sym = ev_scratch_alloc(S, (n + 1) * sizeof *group_sym);
    for (size_t i = 0; i < n; i++) {
        uintptr_t g = (uintptr_t)ut_hmap_get(groups, &names[i], sizeof names[i]);
        if (!g) {
            g = ++ngroups;
            count[g - 1] = 0;
            group_sym[g - 1] = names[i];
            ut_hmap_put(groups, &names[i], sizeof names[i], (void *)g);
        }
        group_of[i] = g - 1;
        count[g - 1]++;
    }
    ut_hmap_free(groups);
    ev_list **lists = ev_scratch_alloc(S, (ngroups + 1) * sizeof *lists);
    ev_attrs *at = ev_attrs_new(S, ngroups);
    for (size_t g = 0; g < ngroups; g++) {
        lists[g] = ev_list_new(S, count[g]);
        ev_attrs_add(at, group_sym[g], ev_mk_list(lists[g]), 0);
        count[g] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t g = group_of[i];
        lists[g]->v[count[g]++] = ev_share_elem(S, l, (uint32_t)i);
    }
    ev_attrs_finish(at);
    *out = ev_mk_attrs(at);
}

const ev_primop_def ev_builtins_lists[] = {
    {"sort", 2, prim_sort, 0},
    {"partition", 2, prim_partition, 0},
    {"any", 2, prim_any, 0},
    {"all", 2, prim_all, 0},
    {"concatMap", 2, prim_concatMap, 0},
    {"groupBy", 2, prim_groupBy, 0},
    {NULL, 0, NULL, 0},
};
