/* Moving a tree from the symbol table it was parsed with to another: a file
 * parsed on another thread, with a table of its own, is handed to the
 * evaluator's. */
#include "parser/internal.h"

static void remap_expr(ps_expr *e, const ps_sym *map);

static void remap_path(ps_attrpath *p, const ps_sym *map)
{
    for (uint32_t i = 0; i < p->n; i++) {
        p->elems[i].name = map[p->elems[i].name];
        if (p->elems[i].expr)
            remap_expr(p->elems[i].expr, map);
    }
}

static void remap_attrs(ps_attrs *a, const ps_sym *map)
{
    for (uint32_t i = 0; i < a->nattrs; i++) {
        a->attrs[i].name = map[a->attrs[i].name];
        remap_expr(a->attrs[i].value, map);
    }
    for (uint32_t i = 0; i < a->ninherit_from; i++)
        remap_expr(a->inherit_from[i], map);
    for (uint32_t i = 0; i < a->ndyn; i++) {
        remap_expr(a->dyn[i].name, map);
        remap_expr(a->dyn[i].value, map);
    }
}

/* Every node is reached once: the builders never share a node between two
 * parents (tests/parser compares every field of trees moved this way with
 * trees parsed directly). The last child of most nodes is walked in the
 * loop, not by recursion, so long chains (lists of calls, `a // b // c`,
 * nested lets) do not deepen the C stack. */
static void remap_expr(ps_expr *e, const ps_sym *map)
{
    while (e) {
        switch (e->kind) {
        case PS_INT:
        case PS_FLOAT:
        case PS_STRING:
        case PS_PATH:
        case PS_CURPOS:
        case PS_INHERIT_FROM:
            return;
        case PS_VAR:
            e->u.var.name = map[e->u.var.name];
            return;
        case PS_SELECT:
            remap_path(&e->u.select.path, map);
            if (e->u.select.def)
                remap_expr(e->u.select.def, map);
            e = e->u.select.e;
            continue;
        case PS_HASATTR:
            remap_path(&e->u.hasattr.path, map);
            e = e->u.hasattr.e;
            continue;
        case PS_ATTRS:
            remap_attrs(&e->u.attrs, map);
            return;
        case PS_LIST:
            for (uint32_t i = 0; i < e->u.list.n; i++)
                remap_expr(e->u.list.elems[i], map);
            return;
        case PS_LAMBDA: {
            ps_lambda *l = &e->u.lambda;
            l->arg = map[l->arg];
            l->name = map[l->name];
            for (uint32_t i = 0; i < l->nformals; i++) {
                l->formals[i].name = map[l->formals[i].name];
                if (l->formals[i].def)
                    remap_expr(l->formals[i].def, map);
            }
            e = l->body;
            continue;
        }
        case PS_CALL:
            for (uint32_t i = 0; i < e->u.call.nargs; i++)
                remap_expr(e->u.call.args[i], map);
            e = e->u.call.fn;
            continue;
        case PS_LET:
            remap_attrs(e->u.let.binds, map);
            e = e->u.let.body;
            continue;
        case PS_WITH:
            remap_expr(e->u.with.attrs, map);
            e = e->u.with.body;
            continue;
        case PS_IF:
            remap_expr(e->u.ifte.cond, map);
            remap_expr(e->u.ifte.then, map);
            e = e->u.ifte.els;
            continue;
        case PS_ASSERT:
            remap_expr(e->u.assert_.cond, map);
            e = e->u.assert_.body;
            continue;
        case PS_NOT:
            e = e->u.not_.e;
            continue;
        case PS_EQ:
        case PS_NEQ:
        case PS_AND:
        case PS_OR:
        case PS_IMPL:
        case PS_UPDATE:
        case PS_CONCAT_LISTS:
            remap_expr(e->u.bin.l, map);
            e = e->u.bin.r;
            continue;
        case PS_CONCAT_STRINGS:
            for (uint32_t i = 0; i < e->u.concat.n; i++)
                remap_expr(e->u.concat.parts[i], map);
            return;
        }
        return;   /* every kind is named above: -Wswitch catches a new one */
    }
}

void ps_remap_syms(ps_expr *e, const ps_sym *map)
{
    remap_expr(e, map);
}
