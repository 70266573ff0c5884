/* String-context builtins: hasContext, getContext, appendContext,
 * unsafeDiscardStringContext, unsafeDiscardOutputDependency,
 * addDrvOutputDependencies. Context elements are kept in Nix's encoding:
 * "/nix/store/p" (the path), "=/nix/store/d.drv" (the derivation and all its
 * outputs), "!out!/nix/store/d.drv" (one output). */
#include <stdlib.h>
#include <string.h>

#include "compat/storepath.h"
#include "eval/builtins.h"

static const char *store_dir(ev_state *S)
{
    const char *d = ev_opts(S)->store_dir;
    return d ? d : "/nix/store";
}

static bool is_drv(const char *p, size_t n)
{
    return n >= 4 && memcmp(p + n - 4, ".drv", 4) == 0;
}

/* The string form and context of v, as coerceToString with copying paths
 * to the store; the string is returned as a value. */
static ev_value coerce(ev_state *S, ev_value *v, ps_pos pos, const char *errctx, ev_ctxset *ctx)
{
    ut_buf b = UT_BUF_INIT;
    ev_coerce_to_string(S, v, pos, EV_COERCE_COPY_TO_STORE, &b, ctx, errctx);
    ev_value r = ev_mk_string(S, b.data ? b.data : "", b.len, NULL);
    ut_buf_free(&b);
    return r;
}

static void prim_unsafeDiscardStringContext(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    *out = coerce(S, &a[0], pos, "while evaluating the argument passed to builtins.unsafeDiscardStringContext", NULL);
}

static void prim_hasContext(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string(S, &a[0], pos, "while evaluating the argument passed to builtins.hasContext");
    *out = ev_mk_bool(s->ctx && s->ctx->h.n);
}

static void prim_unsafeDiscardOutputDependency(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_ctxset ctx = {0};
    ev_value s = coerce(S, &a[0], pos, "while evaluating the argument passed to builtins.unsafeDiscardOutputDependency",
                        &ctx);
    ev_ctxset c2 = {0};
    for (size_t i = 0; i < ctx.n; i++) {
        const char *e = ctx.e[i];
        if (e[0] == '=')
            e++;   /* the derivation itself, without its outputs */
        ev_ctxset_add(S, &c2, e, strlen(e));
    }
    ev_ctxset_free(&ctx);
    s.u.s->ctx = ev_ctxset_finish(S, &c2);
    *out = s;
}

static void prim_addDrvOutputDependencies(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_ctxset ctx = {0};
    ev_value s = coerce(S, &a[0], pos, "while evaluating the argument passed to builtins.addDrvOutputDependencies", &ctx);
    if (ctx.n != 1) {
        size_t n = ctx.n;
        ev_ctxset_free(&ctx);
        ev_error(S, EV_ERR_EVAL, pos, "context of string '%s' must have exactly one element, but has %zu", s.u.s->s, n);
    }
    const char *e = ev_intern_str(S, ctx.e[0], strlen(ctx.e[0]));
    ev_ctxset_free(&ctx);
    ev_ctxset c2 = {0};
    if (e[0] == '!') {
        const char *end = strchr(e + 1, '!');
        size_t olen = end ? (size_t)(end - e - 1) : strlen(e + 1);
        ev_error(S, EV_ERR_EVAL, pos,
                 "`addDrvOutputDependencies` can only act on derivations, not on a derivation output such as '%.*s'",
                 (int)olen, e + 1);
    } else if (e[0] == '=') {
        ev_ctxset_add(S, &c2, e, strlen(e));   /* already so: idempotent */
    } else {
        if (!is_drv(e, strlen(e)))
            ev_error(S, EV_ERR_EVAL, pos, "path '%s' is not a derivation", e);
        ut_buf b = UT_BUF_INIT;
        ut_buf_printf(&b, "=%s", e);
        ev_ctxset_add(S, &c2, b.data, b.len);
        ut_buf_free(&b);
    }
    s.u.s->ctx = ev_ctxset_finish(S, &c2);
    *out = s;
}

typedef struct cinfo {
    const char *path;
    size_t plen;
    bool path_flag, all;
    size_t nout;
} cinfo;

static void prim_getContext(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *s = ev_force_string(S, &a[0], pos, "while evaluating the argument passed to builtins.getContext");
    size_t n = s->ctx ? s->ctx->h.n : 0;
    /* Group the elements by store path; nothing here evaluates. */
    cinfo *info = ev_scratch_alloc(S, (n + 1) * sizeof *info);
    size_t *which = ev_scratch_alloc(S, (n + 1) * sizeof *which);
    ut_hmap *idx = ut_hmap_new();
    size_t ninfo = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = s->ctx->e[i], *p = e;
        if (e[0] == '=')
            p = e + 1;
        else if (e[0] == '!') {
            const char *end = strchr(e + 1, '!');
            p = end ? end + 1 : e;
        }
        size_t pl = strlen(p);
        uintptr_t k = (uintptr_t)ut_hmap_get(idx, p, pl);
        if (!k) {
            k = ++ninfo;
            info[k - 1] = (cinfo){p, pl, false, false, 0};
            ut_hmap_put(idx, p, pl, (void *)k);
        }
        which[i] = k - 1;
        if (e[0] == '=')
            info[k - 1].all = true;
        else if (e[0] == '!')
            info[k - 1].nout++;
        else
            info[k - 1].path_flag = true;
    }
    ut_hmap_free(idx);
    ev_attrs *res = ev_attrs_new(S, ninfo);
    ev_list **outs = ev_scratch_alloc(S, (ninfo + 1) * sizeof *outs);
    size_t *filled = ev_scratch_alloc(S, (ninfo + 1) * sizeof *filled);
    for (size_t k = 0; k < ninfo; k++) {
        outs[k] = info[k].nout ? ev_list_new(S, info[k].nout) : NULL;
        filled[k] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const char *e = s->ctx->e[i];
        if (e[0] != '!')
            continue;
        const char *end = strchr(e + 1, '!');
        size_t k = which[i];
        outs[k]->v[filled[k]++] = ev_mk_string(S, e + 1, end ? (size_t)(end - e - 1) : 0, NULL);
    }
    for (size_t k = 0; k < ninfo; k++) {
        ev_attrs *ia = ev_attrs_new(S, 3);
        if (info[k].path_flag)
            ev_attrs_add(ia, ev_sym(S, "path"), ev_mk_bool(true), 0);
        if (info[k].all)
            ev_attrs_add(ia, ev_sym(S, "allOutputs"), ev_mk_bool(true), 0);
        if (outs[k])
            ev_attrs_add(ia, ev_sym(S, "outputs"), ev_mk_list(outs[k]), 0);
        ev_attrs_finish(ia);
        ev_attrs_add(res, ps_intern(ev_syms(S), info[k].path, info[k].plen), ev_mk_attrs(ia), 0);
    }
    ev_attrs_finish(res);
    *out = ev_mk_attrs(res);
}

static void prim_appendContext(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *orig = ev_force_string(S, &a[0], (ps_pos){0}, "while evaluating the first argument passed to builtins.appendContext");
    ev_attrs *at = ev_force_attrs(S, &a[1], pos, "while evaluating the second argument passed to builtins.appendContext");
    /* Collect the new elements in a GC list of strings, so that a failing
     * evaluation in the middle leaves nothing to free. */
    ev_value *hold = ev_stack_push(S, 1);
    size_t cap = 8, n = 0;
    ev_list *acc = ev_list_new(S, cap);
    *hold = ev_mk_list(acc);
    ps_sym s_path = ev_sym(S, "path"), s_all = ev_sym(S, "allOutputs"), s_outputs = ev_sym(S, "outputs");
    const char *sd = store_dir(S);
#define PUSH(STR, LEN)                                                  \
    do {                                                                \
        if (n == cap) {                                                 \
            ev_list *bigger = ev_list_new(S, cap * 2);                  \
            memcpy(bigger->v, acc->v, cap * sizeof *acc->v);            \
            cap *= 2;                                                   \
            acc = bigger;                                               \
            *hold = ev_mk_list(acc);                                    \
        }                                                               \
        acc->v[n++] = ev_mk_string(S, (STR), (LEN), NULL);              \
    } while (0)
    for (uint32_t i = 0; i < at->h.n; i++) {
        ev_attr *x = &at->a[i];
        const char *name = ev_sym_str(S, x->name);
        size_t nl = strlen(name);
        ps_pos apos = ev_pos_get(S, x->pos);
        if (!nc_is_store_path(sd, (nc_str){name, nl}))
            ev_error(S, EV_ERR_EVAL, apos, "context key '%s' is not a store path", name);
        ev_attrs *v = ev_force_attrs(S, &x->value, apos, "while evaluating the value of a string context");
        ev_attr *p = ev_attrs_find(v, s_path);
        if (p && ev_force_bool(S, &p->value, ev_pos_get(S, p->pos), "while evaluating the `path` attribute of a string context"))
            PUSH(name, nl);
        ev_attr *all = ev_attrs_find(v, s_all);
        if (all && ev_force_bool(S, &all->value, ev_pos_get(S, all->pos),
                                 "while evaluating the `allOutputs` attribute of a string context")) {
            if (!is_drv(name, nl))
                ev_error(S, EV_ERR_EVAL, apos,
                         "tried to add all-outputs context of %s, which is not a derivation, to a string", name);
            ut_buf b = UT_BUF_INIT;
            ut_buf_printf(&b, "=%s", name);
            PUSH(b.data, b.len);
            ut_buf_free(&b);
        }
        ev_attr *o = ev_attrs_find(v, s_outputs);
        if (o) {
            ps_pos opos = ev_pos_get(S, o->pos);
            ev_list *ol = ev_force_list(S, &o->value, opos, "while evaluating the `outputs` attribute of a string context");
            if (ol->h.n && !is_drv(name, nl))
                ev_error(S, EV_ERR_EVAL, apos,
                         "tried to add derivation output context of %s, which is not a derivation, to a string", name);
            for (uint32_t j = 0; j < ol->h.n; j++) {
                ev_string *on = ev_force_string_noctx(S, &ol->v[j], opos,
                                                      "while evaluating an output name within a string context");
                ut_buf b = UT_BUF_INIT;
                ut_buf_printf(&b, "!%s!%s", on->s, name);
                PUSH(b.data, b.len);
                ut_buf_free(&b);
            }
        }
    }
#undef PUSH
    ev_ctxset ctx = {0};
    ev_ctxset_add_ctx(&ctx, orig->ctx);
    for (size_t i = 0; i < n; i++)
        ev_ctxset_add(S, &ctx, acc->v[i].u.s->s, acc->v[i].u.s->len);
    *out = ev_mk_string(S, orig->s, orig->len, ev_ctxset_finish(S, &ctx));
}

const ev_primop_def ev_builtins_context[] = {
    {"unsafeDiscardStringContext", 1, prim_unsafeDiscardStringContext, 0},
    {"hasContext", 1, prim_hasContext, 0},
    {"unsafeDiscardOutputDependency", 1, prim_unsafeDiscardOutputDependency, 0},
    {"addDrvOutputDependencies", 1, prim_addDrvOutputDependencies, 0},
    {"getContext", 1, prim_getContext, 0},
    {"appendContext", 2, prim_appendContext, 0},
    {NULL, 0, NULL, 0},
};
