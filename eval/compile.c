/* Compiler: AST -> resolved code tree. Every variable is resolved here to an
 * environment slot (levels up, index) or, when no lexical binding exists, to
 * a dynamic lookup through the enclosing `with` scopes, so evaluation never
 * searches by name except for `with`. Lexical bindings always win over
 * `with`, as in Nix, whatever the nesting. */
#include <stdlib.h>
#include <string.h>

#include "eval/internal.h"

typedef struct svar {
    ps_sym sym;
    uint32_t idx;
} svar;

typedef enum { SC_VARS, SC_WITH, SC_INHFROM } sckind;

typedef struct scope {
    struct scope *up;
    sckind kind;
    svar *vars;         /* sorted by sym */
    uint32_t n;
} scope;

typedef struct cctx {
    ev_state *S;
    ut_arena *A;
    ut_err *err;
    bool failed;
    const ps_source *internal_src;  /* is_internal's last answer */
    bool internal;
} cctx;

/* Sorts 64-bit keys (a symbol above, an index below). qsort's indirect
 * comparisons and its temporary buffer were a fair part of compiling
 * attribute sets; sets are often in symbol order already, mostly small. */
static void sort_keys(uint64_t *a, size_t n)
{
    size_t i = 1;
    while (i < n && a[i - 1] <= a[i])
        i++;
    if (i >= n)
        return;
    if (n <= 24) {
        for (; i < n; i++) {
            uint64_t x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1] > x) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    uint64_t *tmp = ut_xmalloc(n * sizeof *tmp), *src = a, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t p = lo, q = mid, o = lo;
            while (p < mid && q < hi)
                dst[o++] = src[q] < src[p] ? src[q++] : src[p++];
            while (p < mid)
                dst[o++] = src[p++];
            while (q < hi)
                dst[o++] = src[q++];
        }
        uint64_t *sw = src;
        src = dst;
        dst = sw;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(tmp);
}

/* keys for up to this many entries live on the stack */
#define SMALL_SORT 64

static void scope_sort(scope *s)
{
    uint64_t small[SMALL_SORT], *k = s->n <= SMALL_SORT ? small : ut_xmalloc(s->n * sizeof *k);
    for (uint32_t i = 0; i < s->n; i++)
        k[i] = (uint64_t)s->vars[i].sym << 32 | s->vars[i].idx;
    sort_keys(k, s->n);
    for (uint32_t i = 0; i < s->n; i++)
        s->vars[i] = (svar){(ps_sym)(k[i] >> 32), (uint32_t)k[i]};
    if (k != small)
        free(k);
}

static bool scope_find(const scope *s, ps_sym sym, uint32_t *idx)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->vars[mid].sym == sym) {
            *idx = s->vars[mid].idx;
            return true;
        }
        if (s->vars[mid].sym < sym)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static ev_code *mk(cctx *C, ev_op op, ps_pos pos)
{
    ev_code *c = ut_arena_alloc(C->A, sizeof *c);
    c->op = (uint8_t)op;
    c->pos = pos;
    return c;
}

/* A constant whose object lives with the code (the arena), not on the heap:
 * the collector passes over it. */
static ev_code *mk_static_const(cctx *C, ps_pos pos, ev_gch *h, ev_objkind kind, ev_value v)
{
    h->kind = (uint8_t)kind;
    h->flags = EV_GC_STATIC;
    ev_code *c = mk(C, C_CONST, pos);
    c->u.k = v;
    return c;
}

static void fail(cctx *C, ps_pos pos, const char *fmt, const char *arg)
{
    if (C->failed)
        return;
    C->failed = true;
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "error: ");
    ut_buf_printf(&b, fmt, arg);
    ut_buf_putc(&b, '\n');
    if (pos.src)
        ps_format_pos_snippet(&b, pos);
    ut_err_set(C->err, "%s", b.data);
    ut_buf_free(&b);
}

static ev_code *comp(cctx *C, const ps_expr *e, scope *sc);

/* A string constant as a static object in the code arena: never collected. */
static ev_value const_string(cctx *C, const char *s, size_t len, bool path)
{
    ev_string *o = ut_arena_alloc(C->A, sizeof(ev_string) + len + 1);
    o->h.kind = EV_OBJ_STRING;
    o->h.flags = EV_GC_STATIC;
    o->len = len;
    memcpy(o->s, s, len);
    o->s[len] = 0;
    ev_value v = {0};
    v.type = path ? EV_PATH : EV_STRING;
    v.u.s = o;
    return v;
}

static ev_code *comp_var(cctx *C, ps_sym name, ps_pos pos, scope *sc)
{
    uint32_t level = 0, idx;
    int64_t first_with = -1;
    for (scope *s = sc; s; s = s->up, level++) {
        if (s->kind == SC_WITH) {
            if (first_with < 0)
                first_with = level;
            continue;
        }
        if (s->kind == SC_VARS && scope_find(s, name, &idx)) {
            ev_code *c = mk(C, C_VAR, pos);
            c->u.var.level = level;
            c->u.var.index = idx;
            c->u.var.name = name;
            return c;
        }
    }
    /* the base environment */
    void *bi = ut_hmap_get(C->S->base_index, &name, sizeof name);
    if (bi) {
        ev_code *c = mk(C, C_VAR, pos);
        c->u.var.level = level;
        c->u.var.index = (uint32_t)((uintptr_t)bi - 1);
        c->u.var.name = name;
        c->u.var.base = true;
        return c;
    }
    if (first_with >= 0) {
        ev_code *c = mk(C, C_WITHVAR, pos);
        c->u.wvar.level = (uint32_t)first_with;
        c->u.wvar.name = name;
        return c;
    }
    fail(C, pos, "undefined variable '%s'", ps_sym_str(C->S->syms, name));
    return mk(C, C_CONST, pos);
}

static void comp_path(cctx *C, const ps_attrpath *p, scope *sc, ev_cpath **out, uint32_t *n)
{
    *n = p->n;
    *out = ut_arena_alloc(C->A, (p->n + 1) * sizeof(ev_cpath));
    for (uint32_t i = 0; i < p->n; i++) {
        (*out)[i].name = p->elems[i].name;
        if (p->elems[i].expr)
            (*out)[i].expr = comp(C, p->elems[i].expr, sc);
    }
}

/* attrs/let: builds the code for the bindings. For rec (and let) the
 * bindings form a scope; inherit-from sources form one more level. */

/* Where each static attribute goes in the set, which is sorted by symbol:
 * building a set then stores each value in place instead of sorting it
 * every time. The rec environment keeps the source order (its slots are
 * filled in that order, which decides what shares a thunk). */
static void attrs_presort(cctx *C, ev_code *c)
{
    (void)C;
    uint32_t n = c->u.attrs.nattrs;
    ev_cattr *a = c->u.attrs.attrs;
    c->u.attrs.presorted = false;
    uint64_t small[SMALL_SORT], *k = n <= SMALL_SORT ? small : ut_xmalloc(n * sizeof *k);
    for (uint32_t i = 0; i < n; i++)
        k[i] = (uint64_t)a[i].name << 32 | i;
    sort_keys(k, n);
    bool distinct = true;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && k[i - 1] >> 32 == k[i] >> 32) {
            distinct = false;   /* not expected (the parser merges or rejects repeats): sort at run time */
            break;
        }
        a[(uint32_t)k[i]].sorted = i;
    }
    if (k != small)
        free(k);
    c->u.attrs.presorted = distinct;
}

static void comp_attrs(cctx *C, ev_code *c, const ps_attrs *a, scope *outer, bool rec,
                       scope **inner_out)
{
    c->u.attrs.rec = rec;
    c->u.attrs.nattrs = a->nattrs;
    c->u.attrs.attrs = ut_arena_alloc(C->A, (a->nattrs + 1) * sizeof(ev_cattr));
    scope *recsc = NULL;
    if (rec) {
        recsc = ut_arena_alloc(C->A, sizeof *recsc);
        recsc->up = outer;
        recsc->kind = SC_VARS;
        recsc->n = a->nattrs;
        recsc->vars = ut_arena_alloc(C->A, (a->nattrs + 1) * sizeof(svar));
        for (uint32_t i = 0; i < a->nattrs; i++) {
            recsc->vars[i].sym = a->attrs[i].name;
            recsc->vars[i].idx = i;
        }
        scope_sort(recsc);
    }
    scope *body = rec ? recsc : outer;
    scope *inh = NULL;
    if (a->ninherit_from) {
        inh = ut_arena_alloc(C->A, sizeof *inh);
        inh->up = body;
        inh->kind = SC_INHFROM;
        c->u.attrs.ninh = a->ninherit_from;
        c->u.attrs.inh = ut_arena_alloc(C->A, a->ninherit_from * sizeof(ev_code *));
        for (uint32_t i = 0; i < a->ninherit_from; i++)
            c->u.attrs.inh[i] = comp(C, a->inherit_from[i], body);
    }
    for (uint32_t i = 0; i < a->nattrs; i++) {
        const ps_attrdef *d = &a->attrs[i];
        ev_cattr *ca = &c->u.attrs.attrs[i];
        ca->name = d->name;
        ca->pos = ev_pos_intern(C->S, d->pos);
        switch (d->kind) {
        case PS_ATTR_INHERITED:
            ca->where = rec ? EV_AW_OUTER : EV_AW_NORMAL;
            ca->value = comp(C, d->value, outer);
            break;
        case PS_ATTR_INHERITED_FROM:
            ca->where = EV_AW_INHFROM;
            ca->value = comp(C, d->value, inh);
            break;
        default:
            ca->where = EV_AW_NORMAL;
            ca->value = comp(C, d->value, body);
            break;
        }
    }
    attrs_presort(C, c);
    c->u.attrs.ndyn = a->ndyn;
    c->u.attrs.dyn = ut_arena_alloc(C->A, (a->ndyn + 1) * sizeof(ev_cdyn));
    for (uint32_t i = 0; i < a->ndyn; i++) {
        c->u.attrs.dyn[i].name = comp(C, a->dyn[i].name, body);
        c->u.attrs.dyn[i].value = comp(C, a->dyn[i].value, body);
        c->u.attrs.dyn[i].pos = ev_pos_intern(C->S, a->dyn[i].pos);
    }
    if (inner_out)
        *inner_out = body;
}

/* The path as Nix shows it in "while evaluating the attribute". Most
 * paths are names only: written straight into the arena then. */
static const char *select_text(cctx *C, const ps_attrpath *ap)
{
    size_t len = ap->n ? ap->n - 1 : 0;
    bool names = true;
    for (uint32_t i = 0; i < ap->n && names; i++) {
        if (ap->elems[i].expr)
            names = false;
        else
            len += ps_sym_len(C->S->syms, ap->elems[i].name);
    }
    if (names) {
        char *txt = ut_arena_alloc(C->A, len + 1), *o = txt;
        for (uint32_t i = 0; i < ap->n; i++) {
            if (i)
                *o++ = '.';
            size_t l = ps_sym_len(C->S->syms, ap->elems[i].name);
            memcpy(o, ps_sym_str(C->S->syms, ap->elems[i].name), l);
            o += l;
        }
        return txt;     /* the arena's zeroes end it */
    }
    ut_buf t = UT_BUF_INIT;
    for (uint32_t i = 0; i < ap->n; i++) {
        if (i)
            ut_buf_putc(&t, '.');
        if (ap->elems[i].expr) {
            ut_buf_puts(&t, "\"${");
            ps_print(&t, C->S->syms, ap->elems[i].expr);
            ut_buf_puts(&t, "}\"");
        } else {
            ut_buf_puts(&t, ps_sym_str(C->S->syms, ap->elems[i].name));
        }
    }
    char *txt = ut_arena_alloc(C->A, t.len + 1);
    memcpy(txt, t.data ? t.data : "", t.len);
    ut_buf_free(&t);
    return txt;
}

/* Whether src is Nix's derivation wrapper; asked once per source, not
 * once per selection */
static bool is_internal(cctx *C, const ps_source *src)
{
    if (!src || !src->path)
        return false;
    if (src != C->internal_src) {
        C->internal_src = src;
        C->internal = strstr(src->path, "\xc2\xabnix-internal\xc2\xbb") != NULL;
    }
    return C->internal;
}

static ev_code *comp_node(cctx *C, const ps_expr *e, scope *sc);

static ev_code *comp(cctx *C, const ps_expr *e, scope *sc)
{
    ev_code *c = comp_node(C, e, sc);
    ev_spec_mark(c);
    return c;
}

static ev_code *comp_node(cctx *C, const ps_expr *e, scope *sc)
{
    ev_code *c;
    switch (e->kind) {
    case PS_INT:
        c = mk(C, C_CONST, e->pos);
        c->u.k = ev_mk_int(e->u.i);
        return c;
    case PS_FLOAT:
        c = mk(C, C_CONST, e->pos);
        c->u.k = ev_mk_float(e->u.f);
        return c;
    case PS_STRING:
        if (memchr(e->u.str.s, 0, e->u.str.len)) {
            ut_buf b = UT_BUF_INIT;
            for (size_t i = 0; i < e->u.str.len; i++) {
                if (e->u.str.s[i])
                    ut_buf_putc(&b, e->u.str.s[i]);
                else
                    ut_buf_puts(&b, "\xe2\x90\x80");   /* U+2400, as Nix shows it */
            }
            fail(C, e->pos, "input string '%s' cannot be represented as Nix string because it contains null bytes",
                 b.data);
            ut_buf_free(&b);
        }
        c = mk(C, C_CONST, e->pos);
        c->u.k = const_string(C, e->u.str.s, e->u.str.len, false);
        return c;
    case PS_PATH:
        c = mk(C, C_CONST, e->pos);
        c->u.k = const_string(C, e->u.str.s, e->u.str.len, true);
        return c;
    case PS_VAR:
        return comp_var(C, e->u.var.name, e->pos, sc);
    case PS_SELECT: {
        c = mk(C, C_SELECT, e->pos);
        c->u.sel.e = comp(C, e->u.select.e, sc);
        comp_path(C, &e->u.select.path, sc, &c->u.sel.path, &c->u.sel.n);
        /* Nix shows no such frame inside its derivation wrapper */
        c->u.sel.text = is_internal(C, e->pos.src) ? NULL : select_text(C, &e->u.select.path);
        c->u.sel.def = e->u.select.def ? comp(C, e->u.select.def, sc) : NULL;
        return c;
    }
    case PS_HASATTR:
        c = mk(C, C_HASATTR, e->pos);
        c->u.sel.e = comp(C, e->u.hasattr.e, sc);
        comp_path(C, &e->u.hasattr.path, sc, &c->u.sel.path, &c->u.sel.n);
        return c;
    case PS_ATTRS:
        if (e->u.attrs.nattrs == 0 && e->u.attrs.ndyn == 0 && e->u.attrs.ninherit_from == 0) {
            /* `{ }` (a default of many nixpkgs arguments, the else of
             * optionalAttrs) is a constant, as `[ ]` is. Which sets are the
             * same one is visible only for derivations (nix-instantiate
             * prints one per set) and printing never marks an empty set
             * repeated. */
            ev_attrs *o = ut_arena_alloc(C->A, sizeof(ev_attrs));
            return mk_static_const(C, e->pos, &o->h, EV_OBJ_ATTRS, ev_mk_attrs(o));
        }
        c = mk(C, C_ATTRS, e->pos);
        comp_attrs(C, c, &e->u.attrs, sc, e->u.attrs.rec, NULL);
        return c;
    case PS_LIST:
        if (e->u.list.n == 0) {
            /* `[ ]` (a default in most of nixpkgs' functions) is a constant:
             * no thunk for it, no list allocated per evaluation. Lists have
             * no identity Nix code could observe. */
            ev_list *o = ut_arena_alloc(C->A, sizeof(ev_list));
            return mk_static_const(C, e->pos, &o->h, EV_OBJ_LIST, ev_mk_list(o));
        }
        c = mk(C, C_LIST, e->pos);
        c->u.list.n = e->u.list.n;
        c->u.list.e = ut_arena_alloc(C->A, (e->u.list.n + 1) * sizeof(ev_code *));
        for (uint32_t i = 0; i < e->u.list.n; i++)
            c->u.list.e[i] = comp(C, e->u.list.elems[i], sc);
        return c;
    case PS_LAMBDA: {
        const ps_lambda *l = &e->u.lambda;
        c = mk(C, C_LAMBDA, e->pos);
        ev_clambda *cl = ut_arena_alloc(C->A, sizeof *cl);
        c->u.lambda = cl;
        cl->arg = l->arg;
        cl->has_formals = l->has_formals;
        cl->ellipsis = l->ellipsis;
        cl->name = l->name;
        cl->pos = e->pos;
        uint32_t nslots = (l->arg ? 1 : 0) + l->nformals;
        cl->nslots = nslots;
        scope *ls = ut_arena_alloc(C->A, sizeof *ls);
        ls->up = sc;
        ls->kind = SC_VARS;
        ls->vars = ut_arena_alloc(C->A, (nslots + 1) * sizeof(svar));
        uint32_t k = 0;
        if (l->arg) {
            ls->vars[k].sym = l->arg;
            ls->vars[k].idx = k;
            k++;
        }
        cl->nformals = l->nformals;
        cl->formals = ut_arena_alloc(C->A, (l->nformals + 1) * sizeof(ev_cformal));
        for (uint32_t i = 0; i < l->nformals; i++) {
            ls->vars[k].sym = l->formals[i].name;
            ls->vars[k].idx = k;
            cl->formals[i].name = l->formals[i].name;
            cl->formals[i].slot = k;
            cl->formals[i].pos = l->formals[i].pos;
            k++;
        }
        ls->n = k;
        scope_sort(ls);
        for (uint32_t i = 0; i < l->nformals; i++)
            if (l->formals[i].def)
                cl->formals[i].def = comp(C, l->formals[i].def, ls);
        /* formals sorted by symbol number for a merge walk with the argument set */
        for (uint32_t i = 1; i < cl->nformals; i++) {
            ev_cformal x = cl->formals[i];
            uint32_t j = i;
            while (j > 0 && cl->formals[j - 1].name > x.name) {
                cl->formals[j] = cl->formals[j - 1];
                j--;
            }
            cl->formals[j] = x;
        }
        cl->body = comp(C, l->body, ls);
        cl->curried = cl->body->op == C_LAMBDA;
        return c;
    }
    case PS_CALL:
        c = mk(C, C_CALL, e->pos);
        c->u.call.fn = comp(C, e->u.call.fn, sc);
        if (c->u.call.fn->op == C_VAR && c->u.call.fn->u.var.base) {
            /* base-env bindings are fixed once evaluation starts */
            ev_value *bv = &C->S->base_env->v[c->u.call.fn->u.var.index];
            if (bv->type == EV_PRIMOP && (bv->u.op->flags & EV_PRIM_STRICT) &&
                bv->u.op->arity == e->u.call.nargs) {
                c->op = C_PRIM;
                c->u.prim.op = bv->u.op;
                const char *pn = bv->u.op->name;
                c->fast = strcmp(pn, "sub") == 0        ? EV_FAST_SUB
                          : strcmp(pn, "mul") == 0      ? EV_FAST_MUL
                          : strcmp(pn, "lessThan") == 0 ? EV_FAST_LT
                                                        : EV_FAST_NONE;
                c->sop = strcmp(pn, "add") == 0        ? EV_SOP_ADD
                         : strcmp(pn, "sub") == 0      ? EV_SOP_SUB
                         : strcmp(pn, "mul") == 0      ? EV_SOP_MUL
                         : strcmp(pn, "div") == 0      ? EV_SOP_DIV
                         : strcmp(pn, "lessThan") == 0 ? EV_SOP_LT
                                                       : EV_SOP_NONE;
                c->u.prim.args = ut_arena_alloc(C->A, (e->u.call.nargs + 1) * sizeof(ev_code *));
                for (uint32_t i = 0; i < e->u.call.nargs; i++)
                    c->u.prim.args[i] = comp(C, e->u.call.args[i], sc);
                return c;
            }
        }
        c->u.call.nargs = e->u.call.nargs;
        c->u.call.args = ut_arena_alloc(C->A, (e->u.call.nargs + 1) * sizeof(ev_code *));
        for (uint32_t i = 0; i < e->u.call.nargs; i++)
            c->u.call.args[i] = comp(C, e->u.call.args[i], sc);
        return c;
    case PS_LET: {
        c = mk(C, C_LET, e->pos);
        scope *inner = NULL;
        comp_attrs(C, c, e->u.let.binds, sc, true, &inner);
        c->u.attrs.body = comp(C, e->u.let.body, inner);
        return c;
    }
    case PS_WITH: {
        c = mk(C, C_WITH, e->pos);
        c->u.with.attrs = comp(C, e->u.with.attrs, sc);
        scope *ws = ut_arena_alloc(C->A, sizeof *ws);
        ws->up = sc;
        ws->kind = SC_WITH;
        c->u.with.body = comp(C, e->u.with.body, ws);
        return c;
    }
    case PS_IF:
        c = mk(C, C_IF, e->pos);
        c->u.ops.a = comp(C, e->u.ifte.cond, sc);
        c->u.ops.b = comp(C, e->u.ifte.then, sc);
        c->u.ops.c = comp(C, e->u.ifte.els, sc);
        return c;
    case PS_ASSERT: {
        c = mk(C, C_ASSERT, e->pos);
        c->u.ops.a = comp(C, e->u.assert_.cond, sc);
        c->u.ops.b = comp(C, e->u.assert_.body, sc);
        /* keep the condition's source form for the failure message */
        ut_buf b = UT_BUF_INIT;
        ps_print(&b, C->S->syms, e->u.assert_.cond);
        ev_code *k = mk(C, C_CONST, e->pos);
        k->u.k = const_string(C, b.data ? b.data : "", b.len, false);
        ut_buf_free(&b);
        c->u.ops.c = k;
        return c;
    }
    case PS_NOT:
        c = mk(C, C_NOT, e->pos);
        c->u.ops.a = comp(C, e->u.not_.e, sc);
        return c;
    case PS_EQ:
    case PS_NEQ:
    case PS_AND:
    case PS_OR:
    case PS_IMPL:
    case PS_UPDATE:
    case PS_CONCAT_LISTS: {
        static const ev_op map[] = {
            [PS_EQ] = C_EQ, [PS_NEQ] = C_NEQ, [PS_AND] = C_AND, [PS_OR] = C_OR,
            [PS_IMPL] = C_IMPL, [PS_UPDATE] = C_UPDATE, [PS_CONCAT_LISTS] = C_CONCAT_LISTS,
        };
        c = mk(C, map[e->kind], e->pos);
        c->u.ops.a = comp(C, e->u.bin.l, sc);
        c->u.ops.b = comp(C, e->u.bin.r, sc);
        return c;
    }
    case PS_CONCAT_STRINGS:
        c = mk(C, C_CONCAT_STRINGS, e->pos);
        c->u.concat.n = e->u.concat.n;
        c->u.concat.force_string = e->u.concat.force_string;
        c->u.concat.parts = ut_arena_alloc(C->A, (e->u.concat.n + 1) * sizeof(ev_code *));
        c->u.concat.ppos = ut_arena_alloc(C->A, (e->u.concat.n + 1) * sizeof(ps_pos));
        for (uint32_t i = 0; i < e->u.concat.n; i++) {
            c->u.concat.parts[i] = comp(C, e->u.concat.parts[i], sc);
            c->u.concat.ppos[i] = e->u.concat.part_pos ? e->u.concat.part_pos[i] : e->pos;
        }
        return c;
    case PS_CURPOS:
        return mk(C, C_CURPOS, e->pos);
    case PS_INHERIT_FROM: {
        uint32_t level = 0;
        for (scope *s = sc; s; s = s->up, level++)
            if (s->kind == SC_INHFROM)
                break;
        c = mk(C, C_VAR, e->pos);
        c->u.var.level = level;
        c->u.var.index = e->u.inherit_from.index;
        return c;
    }
    }
    fail(C, e->pos, "internal error: unknown expression kind%s", "");
    return mk(C, C_CONST, e->pos);
}

ev_code *ev_compile(ev_state *S, ut_arena *arena, const ps_expr *e, const ev_attrs *scope_attrs,
                    ut_err *err)
{
    cctx C = {S, arena, err, false, NULL, false};
    scope *top = NULL;
    if (scope_attrs) {
        top = ut_arena_alloc(arena, sizeof *top);
        top->kind = SC_VARS;
        top->n = scope_attrs->h.n;
        top->vars = ut_arena_alloc(arena, (top->n + 1) * sizeof(svar));
        for (uint32_t i = 0; i < top->n; i++) {
            top->vars[i].sym = scope_attrs->a[i].name;
            top->vars[i].idx = i;
        }
    }
    ev_code *c = comp(&C, e, top);
    return C.failed ? NULL : c;
}
