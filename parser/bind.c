/* After parsing: attribute sets get their final (name) order and every
 * variable is resolved, because Nix reports "undefined variable" as a parse
 * error and marks variables that can only come from a `with`. */
#include "parser/internal.h"

#include <stdlib.h>
#include <string.h>

/* What CppNix's base environment binds: the global builtins, and every other
 * builtin under its `__` name (not the ones behind
 * allow-unsafe-native-code-during-evaluation). */
static const char *const default_base_env[] = {
    "abort", "baseNameOf", "break", "builtins", "derivation", "derivationStrict", "dirOf", "false",
    "fetchGit", "fetchMercurial", "fetchTarball", "fetchTree", "fromTOML", "import", "isNull", "map",
    "null", "placeholder", "removeAttrs", "scopedImport", "throw", "toString", "true",
    "__add", "__addDrvOutputDependencies", "__addErrorContext", "__all", "__any", "__appendContext",
    "__attrNames", "__attrValues", "__bitAnd", "__bitOr", "__bitXor", "__catAttrs", "__ceil",
    "__compareVersions", "__concatLists", "__concatMap", "__concatStringsSep", "__convertHash",
    "__currentSystem", "__currentTime", "__deepSeq", "__div", "__elem", "__elemAt", "__fetchClosure",
    "__fetchurl", "__filter", "__filterSource", "__findFile", "__flakeRefToString", "__floor",
    "__foldl'", "__fromJSON", "__functionArgs", "__genList", "__genericClosure", "__getAttr",
    "__getContext", "__getEnv", "__getFlake", "__groupBy", "__hasAttr", "__hasContext", "__hashFile",
    "__hashString", "__head", "__importNative", "__intersectAttrs", "__isAttrs", "__isBool",
    "__isFloat", "__isFunction", "__isInt", "__isList", "__isPath", "__isString", "__langVersion",
    "__length", "__lessThan", "__listToAttrs", "__mapAttrs", "__match", "__mul", "__nixPath",
    "__nixVersion", "__outputOf", "__parseDrvName", "__parseFlakeRef", "__partition", "__path",
    "__pathExists", "__readDir", "__readFile", "__readFileType", "__replaceStrings", "__seq",
    "__sort", "__split", "__splitVersion", "__storeDir", "__storePath", "__stringLength", "__sub",
    "__substring", "__tail", "__toFile", "__toJSON", "__toPath", "__toXML", "__trace",
    "__traceVerbose", "__tryEval", "__typeOf", "__unsafeDiscardOutputDependency",
    "__unsafeDiscardStringContext", "__unsafeGetAttrPos", "__warn", "__zipAttrsWith",
    NULL,
};

#define MAX_DEPTH 20000

typedef struct resolver {
    ps_pstate *st;
    uint32_t *bound;    /* per symbol: how many enclosing scopes bind it */
    size_t nbound;
    uint32_t withs;     /* enclosing `with`s */
    unsigned depth;
} resolver;

static void sort_attrs(ps_pstate *st, ps_attrs *a)
{
    if (a->nattrs > 1)
        ps__sort_attrdefs(st->syms, a->attrs, a->nattrs);
}

static void bind_sym(resolver *r, ps_sym s)
{
    if (s < r->nbound)
        r->bound[s]++;
}

static void unbind_sym(resolver *r, ps_sym s)
{
    if (s < r->nbound)
        r->bound[s]--;
}

static bool resolve(resolver *r, ps_expr *e);

static bool resolve_path(resolver *r, ps_attrpath *p)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (!p->elems[i].name && !resolve(r, p->elems[i].expr))
            return false;
    return true;
}

/* CppNix order: inherit sources, then attribute values, then dynamic ones.
 * Plain `inherit x;` looks x up outside a rec set or let. */
static bool resolve_binds(resolver *r, ps_attrs *a, bool rec)
{
    sort_attrs(r->st, a);
    if (rec)
        for (uint32_t i = 0; i < a->nattrs; i++)
            if (a->attrs[i].kind == PS_ATTR_INHERITED && !resolve(r, a->attrs[i].value))
                return false;
    if (rec)
        for (uint32_t i = 0; i < a->nattrs; i++)
            bind_sym(r, a->attrs[i].name);
    bool ok = true;
    for (uint32_t i = 0; ok && i < a->ninherit_from; i++)
        ok = resolve(r, a->inherit_from[i]);
    for (uint32_t i = 0; ok && i < a->nattrs; i++) {
        if (rec && a->attrs[i].kind == PS_ATTR_INHERITED)
            continue;
        ok = resolve(r, a->attrs[i].value);
    }
    for (uint32_t i = 0; ok && i < a->ndyn; i++)
        ok = resolve(r, a->dyn[i].name) && resolve(r, a->dyn[i].value);
    if (rec)
        for (uint32_t i = 0; i < a->nattrs; i++)
            unbind_sym(r, a->attrs[i].name);
    return ok;
}

static bool resolve_inner(resolver *r, ps_expr *e)
{
    switch (e->kind) {
    case PS_INT:
    case PS_FLOAT:
    case PS_STRING:
    case PS_PATH:
    case PS_CURPOS:
    case PS_INHERIT_FROM:
        return true;
    case PS_VAR: {
        ps_sym s = e->u.var.name;
        if (s < r->nbound && r->bound[s])
            return true;
        if (r->withs) {
            e->u.var.from_with = true;
            return true;
        }
        ut_buf b = UT_BUF_INIT;
        ps__print_ident(&b, ps_sym_str(r->st->syms, s), ps_sym_len(r->st->syms, s));
        ps__error_at(r->st, e->pos, "undefined variable '%s'", ut_buf_cstr(&b));
        ut_buf_free(&b);
        return false;
    }
    case PS_SELECT:
        return resolve(r, e->u.select.e) && (!e->u.select.def || resolve(r, e->u.select.def)) &&
               resolve_path(r, &e->u.select.path);
    case PS_HASATTR:
        return resolve(r, e->u.hasattr.e) && resolve_path(r, &e->u.hasattr.path);
    case PS_ATTRS:
        return resolve_binds(r, &e->u.attrs, e->u.attrs.rec);
    case PS_LIST:
        for (uint32_t i = 0; i < e->u.list.n; i++)
            if (!resolve(r, e->u.list.elems[i]))
                return false;
        return true;
    case PS_LAMBDA: {
        ps_lambda *l = &e->u.lambda;
        if (l->arg)
            bind_sym(r, l->arg);
        for (uint32_t i = 0; i < l->nformals; i++)
            bind_sym(r, l->formals[i].name);
        bool ok = true;
        for (uint32_t i = 0; ok && i < l->nformals; i++)
            if (l->formals[i].def)
                ok = resolve(r, l->formals[i].def);
        if (ok)
            ok = resolve(r, l->body);
        for (uint32_t i = 0; i < l->nformals; i++)
            unbind_sym(r, l->formals[i].name);
        if (l->arg)
            unbind_sym(r, l->arg);
        return ok;
    }
    case PS_CALL:
        if (!resolve(r, e->u.call.fn))
            return false;
        for (uint32_t i = 0; i < e->u.call.nargs; i++)
            if (!resolve(r, e->u.call.args[i]))
                return false;
        return true;
    case PS_LET: {
        ps_attrs *a = e->u.let.binds;
        /* binds ends with every name unbound again; rebind for the body */
        if (!resolve_binds(r, a, true))
            return false;
        for (uint32_t i = 0; i < a->nattrs; i++)
            bind_sym(r, a->attrs[i].name);
        bool ok = resolve(r, e->u.let.body);
        for (uint32_t i = 0; i < a->nattrs; i++)
            unbind_sym(r, a->attrs[i].name);
        return ok;
    }
    case PS_WITH: {
        if (!resolve(r, e->u.with.attrs))
            return false;
        r->withs++;
        bool ok = resolve(r, e->u.with.body);
        r->withs--;
        return ok;
    }
    case PS_IF:
        return resolve(r, e->u.ifte.cond) && resolve(r, e->u.ifte.then) && resolve(r, e->u.ifte.els);
    case PS_ASSERT:
        return resolve(r, e->u.assert_.cond) && resolve(r, e->u.assert_.body);
    case PS_NOT:
        return resolve(r, e->u.not_.e);
    case PS_EQ:
    case PS_NEQ:
    case PS_AND:
    case PS_OR:
    case PS_IMPL:
    case PS_UPDATE:
    case PS_CONCAT_LISTS:
        return resolve(r, e->u.bin.l) && resolve(r, e->u.bin.r);
    case PS_CONCAT_STRINGS:
        for (uint32_t i = 0; i < e->u.concat.n; i++)
            if (!resolve(r, e->u.concat.parts[i]))
                return false;
        return true;
    }
    return true;
}

static bool resolve(resolver *r, ps_expr *e)
{
    if (++r->depth > MAX_DEPTH) {
        r->depth--;
        return ps__error_at(r->st, e->pos, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
    }
    bool ok = resolve_inner(r, e);
    r->depth--;
    return ok;
}

const char *const *ps_default_base_env(void)
{
    return default_base_env;
}

bool ps__finish(ps_pstate *st, ps_expr *root)
{
    const char *const *names = st->opts->base_env;
    const char *const *extra = st->opts->extra_env;
    size_t nnames = 0, nextra = 0;
    const ps_sym *defaults = names ? ps__symtab_base(st->syms, names, &nnames)
                                   : ps__symtab_default_base(st->syms, &nnames);
    while (extra && extra[nextra])
        nextra++;
    size_t nbase = nnames + nextra;
    ps_sym *base = NULL;
    if (nextra) {
        base = ut_xmalloc(nbase * sizeof *base);
        memcpy(base, defaults, nnames * sizeof *base);
        for (size_t i = 0; i < nextra; i++)
            base[nnames + i] = ps_intern_cstr(st->syms, extra[i]);
    }
    const ps_sym *bs = base ? base : defaults;
    resolver r = {st, NULL, 0, 0, 0};
    r.bound = ps__symtab_scratch(st->syms, &r.nbound);
    for (size_t i = 0; i < nbase; i++)
        bind_sym(&r, bs[i]);
    bool ok = resolve(&r, root);
    /* every scope unbinds what it bound, also on errors; clear anyway when
     * failing, so a missed path cannot leak names into the next parse */
    if (ok)
        for (size_t i = 0; i < nbase; i++)
            unbind_sym(&r, bs[i]);
    else
        memset(r.bound, 0, r.nbound * sizeof *r.bound);
    free(base);
    return ok;
}
