/* ps__dump: every field of every node, positions included, one node per
 * line. ps_print shows what Nix shows; this shows what two parsers must
 * agree on. */
#include "parser/internal.h"

#include <string.h>

static const char *const kind_names[] = {
    [PS_INT] = "int", [PS_FLOAT] = "float", [PS_STRING] = "string", [PS_PATH] = "path",
    [PS_VAR] = "var", [PS_SELECT] = "select", [PS_HASATTR] = "hasattr", [PS_ATTRS] = "attrs",
    [PS_LIST] = "list", [PS_LAMBDA] = "lambda", [PS_CALL] = "call", [PS_LET] = "let",
    [PS_WITH] = "with", [PS_IF] = "if", [PS_ASSERT] = "assert", [PS_NOT] = "not", [PS_EQ] = "eq",
    [PS_NEQ] = "neq", [PS_AND] = "and", [PS_OR] = "or", [PS_IMPL] = "impl", [PS_UPDATE] = "update",
    [PS_CONCAT_LISTS] = "concat-lists", [PS_CONCAT_STRINGS] = "concat-strings",
    [PS_CURPOS] = "curpos", [PS_INHERIT_FROM] = "inherit-from",
};

static void pos(ut_buf *out, ps_pos p)
{
    if (!p.src)
        ut_buf_puts(out, " @-");
    else
        ut_buf_printf(out, " @%u:%u", p.line, p.col);
}

static void sym(ut_buf *out, const ps_symtab *syms, ps_sym s)
{
    if (s == PS_NOSYM) {
        ut_buf_puts(out, " -");
        return;
    }
    ut_buf_putc(out, ' ');
    ps__print_string(out, ps_sym_str(syms, s), ps_sym_len(syms, s));
}

static void node(ut_buf *out, const ps_symtab *syms, const ps_expr *e, unsigned d);

static void line(ut_buf *out, unsigned d, const char *what)
{
    ut_buf_printf(out, "%*s%s", (int)(2 * d), "", what);
}

static void path(ut_buf *out, const ps_symtab *syms, ps_attrpath p, unsigned d)
{
    for (uint32_t i = 0; i < p.n; i++) {
        line(out, d, "elem");
        sym(out, syms, p.elems[i].name);
        ut_buf_putc(out, '\n');
        if (p.elems[i].expr)
            node(out, syms, p.elems[i].expr, d + 1);
    }
}

static void attrs(ut_buf *out, const ps_symtab *syms, const ps_attrs *a, unsigned d)
{
    ut_buf_printf(out, "%*srec %d\n", (int)(2 * d), "", a->rec);
    for (uint32_t i = 0; i < a->nattrs; i++) {
        line(out, d, "def");
        sym(out, syms, a->attrs[i].name);
        ut_buf_printf(out, " kind %d", (int)a->attrs[i].kind);
        pos(out, a->attrs[i].pos);
        ut_buf_putc(out, '\n');
        node(out, syms, a->attrs[i].value, d + 1);
    }
    for (uint32_t i = 0; i < a->ninherit_from; i++) {
        line(out, d, "inherit-from\n");
        node(out, syms, a->inherit_from[i], d + 1);
    }
    for (uint32_t i = 0; i < a->ndyn; i++) {
        line(out, d, "dyn");
        pos(out, a->dyn[i].pos);
        ut_buf_putc(out, '\n');
        node(out, syms, a->dyn[i].name, d + 1);
        node(out, syms, a->dyn[i].value, d + 1);
    }
}

static void node(ut_buf *out, const ps_symtab *syms, const ps_expr *e, unsigned d)
{
    if (!e) {
        line(out, d, "null\n");
        return;
    }
    line(out, d, (unsigned)e->kind < sizeof kind_names / sizeof *kind_names ? kind_names[e->kind] : "?");
    pos(out, e->pos);
    switch (e->kind) {
    case PS_INT:
        ut_buf_printf(out, " %lld\n", (long long)e->u.i);
        break;
    case PS_FLOAT:
        ut_buf_printf(out, " %a\n", e->u.f);
        break;
    case PS_STRING:
    case PS_PATH:
        ut_buf_putc(out, ' ');
        ps__print_string(out, e->u.str.s, e->u.str.len);
        ut_buf_putc(out, '\n');
        break;
    case PS_VAR:
        sym(out, syms, e->u.var.name);
        ut_buf_printf(out, " with %d\n", e->u.var.from_with);
        break;
    case PS_SELECT:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.select.e, d + 1);
        path(out, syms, e->u.select.path, d + 1);
        if (e->u.select.def) {
            line(out, d + 1, "default\n");
            node(out, syms, e->u.select.def, d + 2);
        }
        break;
    case PS_HASATTR:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.hasattr.e, d + 1);
        path(out, syms, e->u.hasattr.path, d + 1);
        break;
    case PS_ATTRS:
        ut_buf_putc(out, '\n');
        attrs(out, syms, &e->u.attrs, d + 1);
        break;
    case PS_LIST:
        ut_buf_putc(out, '\n');
        for (uint32_t i = 0; i < e->u.list.n; i++)
            node(out, syms, e->u.list.elems[i], d + 1);
        break;
    case PS_LAMBDA:
        sym(out, syms, e->u.lambda.arg);
        ut_buf_printf(out, " formals %d ellipsis %d name", e->u.lambda.has_formals, e->u.lambda.ellipsis);
        sym(out, syms, e->u.lambda.name);
        ut_buf_putc(out, '\n');
        for (uint32_t i = 0; i < e->u.lambda.nformals; i++) {
            line(out, d + 1, "formal");
            sym(out, syms, e->u.lambda.formals[i].name);
            pos(out, e->u.lambda.formals[i].pos);
            ut_buf_putc(out, '\n');
            if (e->u.lambda.formals[i].def)
                node(out, syms, e->u.lambda.formals[i].def, d + 2);
        }
        node(out, syms, e->u.lambda.body, d + 1);
        break;
    case PS_CALL:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.call.fn, d + 1);
        for (uint32_t i = 0; i < e->u.call.nargs; i++)
            node(out, syms, e->u.call.args[i], d + 1);
        break;
    case PS_LET:
        ut_buf_putc(out, '\n');
        attrs(out, syms, e->u.let.binds, d + 1);
        node(out, syms, e->u.let.body, d + 1);
        break;
    case PS_WITH:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.with.attrs, d + 1);
        node(out, syms, e->u.with.body, d + 1);
        break;
    case PS_IF:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.ifte.cond, d + 1);
        node(out, syms, e->u.ifte.then, d + 1);
        node(out, syms, e->u.ifte.els, d + 1);
        break;
    case PS_ASSERT:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.assert_.cond, d + 1);
        node(out, syms, e->u.assert_.body, d + 1);
        break;
    case PS_NOT:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.not_.e, d + 1);
        break;
    case PS_EQ: case PS_NEQ: case PS_AND: case PS_OR: case PS_IMPL: case PS_UPDATE: case PS_CONCAT_LISTS:
        ut_buf_putc(out, '\n');
        node(out, syms, e->u.bin.l, d + 1);
        node(out, syms, e->u.bin.r, d + 1);
        break;
    case PS_CONCAT_STRINGS:
        ut_buf_printf(out, " force %d\n", e->u.concat.force_string);
        for (uint32_t i = 0; i < e->u.concat.n; i++) {
            line(out, d + 1, "part");
            pos(out, e->u.concat.part_pos[i]);
            ut_buf_putc(out, '\n');
            node(out, syms, e->u.concat.parts[i], d + 2);
        }
        break;
    case PS_INHERIT_FROM:
        ut_buf_printf(out, " %u\n", e->u.inherit_from.index);
        break;
    case PS_CURPOS:
    default:
        ut_buf_putc(out, '\n');
        break;
    }
}

void ps__dump(ut_buf *out, const ps_symtab *syms, const ps_expr *e)
{
    node(out, syms, e, 0);
}
