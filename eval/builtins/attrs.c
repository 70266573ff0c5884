/* Attribute-set builtins: catAttrs, zipAttrsWith, genericClosure. */
#include <math.h>
#include <string.h>

#include "eval/builtins.h"

#define NOPOS ((ps_pos){0})

void ev_print_for_error(ev_state *S, ut_buf *out, ev_value *v);

static void prim_catAttrs(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *name = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.catAttrs");
    ps_sym sym = ps_intern(ev_syms(S), name->s, name->len);
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.catAttrs");
    size_t n = l->h.n, found = 0;
    /* Indices of the sets that have the attribute; the values stay inside
     * those (rooted) sets until they are copied out. */
    uint32_t *hit = ev_scratch_alloc(S, (n + 1) * sizeof *hit);
    for (size_t i = 0; i < n; i++) {
        ev_attrs *at = ev_force_attrs(S, &l->v[i], pos,
                                      "while evaluating an element in the list passed as second argument to "
                                      "builtins.catAttrs");
        if (ev_attrs_find(at, sym))
            hit[found++] = (uint32_t)i;
    }
    ev_list *r = ev_list_new(S, found);
    for (size_t i = 0; i < found; i++)
        r->v[i] = ev_attrs_find(l->v[hit[i]].u.a, sym)->value;
    *out = ev_mk_list(r);
}

static void prim_zipAttrsWith(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_force_function(S, &a[0], pos, "while evaluating the first argument passed to builtins.zipAttrsWith");
    ev_list *l = ev_force_list(S, &a[1], pos, "while evaluating the second argument passed to builtins.zipAttrsWith");
    size_t n = l->h.n;
    ev_attrs **sets = ev_scratch_alloc(S, (n + 1) * sizeof *sets);
    for (size_t i = 0; i < n; i++)
        sets[i] = ev_force_attrs(S, &l->v[i], NOPOS,
                                 "while evaluating a value of the list passed as second argument to "
                                 "builtins.zipAttrsWith");
    /* From here on nothing evaluates: count the values of each name, make
     * one list per name, fill them in list order, and bind each name to the
     * lazy application `f name values`. */
    ut_hmap *idx = ut_hmap_new();   /* sym -> 1 + slot */
    size_t nnames = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        total += sets[i]->h.n;
    ps_sym *syms = ev_scratch_alloc(S, (total + 1) * sizeof *syms);
    size_t *count = ev_scratch_alloc(S, (total + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        ev_attrs *at = sets[i];
        for (uint32_t j = 0; j < at->h.n; j++) {
            ps_sym s = at->a[j].name;
            uintptr_t k = (uintptr_t)ut_hmap_get(idx, &s, sizeof s);
            if (!k) {
                k = ++nnames;
                syms[k - 1] = s;
                count[k - 1] = 0;
                ut_hmap_put(idx, &s, sizeof s, (void *)k);
            }
            count[k - 1]++;
        }
    }
    ev_list **lists = ev_scratch_alloc(S, (nnames + 1) * sizeof *lists);
    for (size_t k = 0; k < nnames; k++) {
        lists[k] = ev_list_new(S, count[k]);
        count[k] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        ev_attrs *at = sets[i];
        for (uint32_t j = 0; j < at->h.n; j++) {
            ps_sym s = at->a[j].name;
            size_t k = (uintptr_t)ut_hmap_get(idx, &s, sizeof s) - 1;
            lists[k]->v[count[k]++] = at->a[j].value;
        }
    }
    ut_hmap_free(idx);
    ev_attrs *res = ev_attrs_new(S, nnames);
    for (size_t k = 0; k < nnames; k++) {
        ev_value name = ev_mk_cstring(S, ev_sym_str(S, syms[k]));
        ev_value call1 = ev_mk_app_thunk(S, &a[0], &name);
        ev_value vals = ev_mk_list(lists[k]);
        ev_attrs_add(res, syms[k], ev_mk_app_thunk_sited(S, &call1, &vals), 0);
    }
    ev_attrs_finish(res);
    *out = ev_mk_attrs(res);
}

/* ---- genericClosure ---------------------------------------------------- */

/* The `key`s seen so far, compared as Nix compares them (1 and 1.0 are the
 * same key; keys of different types cannot be compared at all). A hash
 * table finds the candidates; ev_compare decides. Tables and values live in
 * GC memory so an error from a comparison cannot leak them. */
typedef struct keyset {
    uint32_t *slot;     /* 1 + index into the holder list; 0 = empty */
    size_t cap, n;
    int cls;            /* type class of the first key; -1 before any */
    uint32_t first;
} keyset;

static int key_class(const ev_value *v)
{
    return v->type == EV_INT ? EV_FLOAT : v->type;
}

static uint64_t key_hash(const ev_value *v)
{
    switch (v->type) {
    case EV_INT: {
        double d = (double)v->u.i;
        return ut_hash_bytes(&d, sizeof d);
    }
    case EV_FLOAT: {
        double d = v->u.f == 0 ? 0.0 : v->u.f;   /* -0.0 == 0.0 */
        return isnan(d) ? 0 : ut_hash_bytes(&d, sizeof d);
    }
    case EV_STRING:
    case EV_PATH: return ut_hash_bytes(v->u.s->s, v->u.s->len);
    default: return 0;   /* lists and the incomparable types share a bucket chain */
    }
}

/* A reusable GC buffer for printed elements that trace lines point at. */
typedef struct pbuf {
    char *s;
    size_t cap;
} pbuf;

typedef struct closure {
    ev_state *S;
    ev_value *holder;   /* stack slot holding the GC list of every element seen */
    uint32_t nheld;
    ev_value *cmp;      /* two stack slots for comparisons */
    pbuf pa, pb, pop;   /* printed elements for the trace lines */
} closure;

static ev_value *held(closure *c, uint32_t i) { return &c->holder->u.l->v[i]; }

static ev_value *key_of(closure *c, uint32_t i)
{
    return &ev_attrs_find(held(c, i)->u.a, ev_sym(c->S, "key"))->value;
}

static void hold(closure *c, const ev_value *v)
{
    ev_list *l = c->holder->u.l;
    if (c->nheld == l->h.n) {
        ev_list *bigger = ev_list_new(c->S, l->h.n * 2 + 8);
        memcpy(bigger->v, l->v, l->h.n * sizeof *l->v);
        *c->holder = ev_mk_list(bigger);
        l = bigger;
    }
    l->v[c->nheld++] = *v;
}

/* Nix adds these trace lines only when an error passes; here they are
 * pushed before the work they describe, so the element is printed first,
 * into a buffer reused from element to element. */
static char *print_elem(closure *c, pbuf *pb, uint32_t i)
{
    ut_buf b = UT_BUF_INIT;
    ev_print_for_error(c->S, &b, held(c, i));
    if (b.len + 1 > pb->cap) {
        pb->cap = b.len + 1 > 2 * pb->cap ? b.len + 1 : 2 * pb->cap;
        pb->s = ev_scratch_alloc(c->S, pb->cap);
    }
    memcpy(pb->s, b.data ? b.data : "", b.len + 1);
    ut_buf_free(&b);
    return pb->s;
}

/* Compares the keys of elements x and y, with Nix's trace lines should the
 * comparison fail. */
static int compare_keys(closure *c, uint32_t x, uint32_t y, bool may_fail)
{
    c->cmp[0] = *key_of(c, x);
    c->cmp[1] = *key_of(c, y);
    if (!may_fail)
        return ev_compare(c->S, &c->cmp[0], &c->cmp[1], NOPOS, NULL);
    ev_trace_push(c->S, NOPOS, "while comparing element %s", print_elem(c, &c->pa, x));
    ev_trace_push(c->S, NOPOS, "with element %s", print_elem(c, &c->pb, y));
    int r = ev_compare(c->S, &c->cmp[0], &c->cmp[1], NOPOS, NULL);
    ev_trace_pop(c->S);
    ev_trace_pop(c->S);
    return r;
}

/* Inserts the key of element e; false if an equal key was there. */
static bool keyset_insert(closure *c, keyset *ks, uint32_t e)
{
    ev_value *k = key_of(c, e);
    int cls = key_class(k);
    if (ks->cls < 0) {
        ks->cls = cls;
        ks->first = e;
    } else if (cls != ks->cls || (cls != EV_FLOAT && cls != EV_STRING && cls != EV_PATH)) {
        /* Different types, or a type without an order (or lists, whose
         * elements may not compare): let the comparison speak. */
        compare_keys(c, e, ks->first, true);
    }
    if (2 * (ks->n + 1) > ks->cap) {
        size_t ncap = ks->cap ? ks->cap * 2 : 64;
        uint32_t *ns = ev_scratch_alloc(c->S, ncap * sizeof *ns);
        memset(ns, 0, ncap * sizeof *ns);
        for (size_t i = 0; i < ks->cap; i++) {
            if (!ks->slot[i])
                continue;
            size_t h = key_hash(key_of(c, ks->slot[i] - 1)) & (ncap - 1);
            while (ns[h])
                h = (h + 1) & (ncap - 1);
            ns[h] = ks->slot[i];
        }
        ks->slot = ns;
        ks->cap = ncap;
    }
    uint64_t hv = key_hash(k);
    size_t h = hv & (ks->cap - 1);
    bool risky = cls != EV_FLOAT && cls != EV_STRING && cls != EV_PATH;
    for (; ks->slot[h]; h = (h + 1) & (ks->cap - 1)) {
        uint32_t other = ks->slot[h] - 1;
        if (key_hash(key_of(c, other)) != hv)
            continue;
        if (compare_keys(c, e, other, risky) == 0)
            return false;
    }
    ks->slot[h] = e + 1;
    ks->n++;
    return true;
}

static void prim_genericClosure(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    (void)pos;
    ev_attrs *args = ev_force_attrs(S, &a[0], NOPOS, "while evaluating the first argument passed to builtins.genericClosure");
    ev_attr *start = ev_attrs_find(args, ev_sym(S, "startSet"));
    if (!start) {
        ev_trace_push(S, NOPOS, "in the attrset passed as argument to builtins.genericClosure", NULL);
        ev_error(S, EV_ERR_EVAL, NOPOS, "attribute 'startSet' missing");
    }
    ev_list *sl = ev_force_list(S, &start->value, NOPOS,
                                "while evaluating the 'startSet' attribute passed as argument to builtins.genericClosure");
    if (sl->h.n == 0) {
        *out = start->value;
        return;
    }
    ev_attr *op = ev_attrs_find(args, ev_sym(S, "operator"));
    if (!op) {
        ev_trace_push(S, NOPOS, "in the attrset passed as argument to builtins.genericClosure", NULL);
        ev_error(S, EV_ERR_EVAL, NOPOS, "attribute 'operator' missing");
    }
    ev_force_function(S, &op->value, NOPOS,
                      "while evaluating the 'operator' attribute passed as argument to builtins.genericClosure");

    ev_value *slots = ev_stack_push(S, 4);
    closure c = {S, &slots[0], 0, &slots[1], {NULL, 0}, {NULL, 0}, {NULL, 0}};
    ev_value *newel = &slots[3];
    *c.holder = ev_mk_list(ev_list_new(S, sl->h.n + 8));
    for (uint32_t i = 0; i < sl->h.n; i++)
        hold(&c, &sl->v[i]);
    keyset ks = {NULL, 0, 0, -1, 0};
    uint32_t *res = NULL;
    size_t nres = 0, capres = 0;
    ps_sym s_key = ev_sym(S, "key");
    for (uint32_t next = 0; next < c.nheld; next++) {
        ev_value *e = held(&c, next);
        ev_force(S, e, NOPOS);
        if (e->type != EV_ATTRS || !ev_attrs_find(e->u.a, s_key)) {
            ev_trace_push(S, NOPOS, "in genericClosure element %s", print_elem(&c, &c.pop, next));
            if (e->type != EV_ATTRS)
                ev_force_attrs(S, e, NOPOS, NULL);
            ev_error(S, EV_ERR_EVAL, NOPOS, "attribute 'key' missing");
        }
        ev_force(S, key_of(&c, next), NOPOS);
        if (!keyset_insert(&c, &ks, next))
            continue;
        if (nres == capres) {
            capres = capres ? capres * 2 : 64;
            uint32_t *nr = ev_scratch_alloc(S, capres * sizeof *nr);
            if (nres)
                memcpy(nr, res, nres * sizeof *nr);
            res = nr;
        }
        res[nres++] = next;
        ev_trace_push(S, NOPOS, "while calling operator on genericClosure element %s", print_elem(&c, &c.pop, next));
        *c.cmp = *held(&c, next);
        ev_call(S, &op->value, 1, c.cmp, newel, NOPOS);
        ev_list *nl = ev_force_list(S, newel, NOPOS,
                                    "while evaluating the return value of the `operator` passed to "
                                    "builtins.genericClosure");
        ev_trace_pop(S);
        for (uint32_t i = 0; i < nl->h.n; i++)
            hold(&c, &nl->v[i]);
    }
    ev_list *r = ev_list_new(S, nres);
    for (size_t i = 0; i < nres; i++)
        r->v[i] = *held(&c, res[i]);
    *out = ev_mk_list(r);
}

const ev_primop_def ev_builtins_attrs[] = {
    {"catAttrs", 2, prim_catAttrs, 0},
    {"zipAttrsWith", 2, prim_zipAttrsWith, 0},
    {"genericClosure", 1, prim_genericClosure, 0},
    {NULL, 0, NULL, 0},
};
