/* The `nix-instantiate --parse` printer: CppNix's Expr::show, including its
 * parenthesisation and the quoting of names that are not identifiers. */
#include "parser/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_keyword(const char *s, size_t n)
{
    static const char *const kw[] = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit"};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strlen(kw[i]) == n && memcmp(kw[i], s, n) == 0)
            return true;
    return false;
}

void ps__print_string(ut_buf *out, const char *s, size_t len)
{
    ut_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"' || c == '\\') {
            ut_buf_putc(out, '\\');
            ut_buf_putc(out, c);
        } else if (c == '\n')
            ut_buf_puts(out, "\\n");
        else if (c == '\r')
            ut_buf_puts(out, "\\r");
        else if (c == '\t')
            ut_buf_puts(out, "\\t");
        else if (c == '$' && i + 1 < len && s[i + 1] == '{')
            ut_buf_puts(out, "\\$");
        else
            ut_buf_putc(out, c);
    }
    ut_buf_putc(out, '"');
}

void ps__print_ident(ut_buf *out, const char *s, size_t n)
{
    if (n == 0) {
        ut_buf_puts(out, "\"\"");
        return;
    }
    if (is_keyword(s, n)) {
        ut_buf_putc(out, '"');
        ut_buf_append(out, s, n);
        ut_buf_putc(out, '"');
        return;
    }
    char c = s[0];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    for (size_t i = 0; ok && i < n; i++) {
        c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '\'' || c == '-';
    }
    if (ok)
        ut_buf_append(out, s, n);
    else
        ps__print_string(out, s, n);
}

static void print_sym(ut_buf *out, const ps_symtab *syms, ps_sym s)
{
    ps__print_ident(out, ps_sym_str(syms, s), ps_sym_len(syms, s));
}

typedef struct pctx {
    const ps_symtab *syms;
    unsigned flags;
} pctx;

static void show(ut_buf *out, const pctx *c, const ps_expr *e);

static void print_attrpath(ut_buf *out, const pctx *c, const ps_attrname *elems, uint32_t n);

void ps__print_attrpath(ut_buf *out, const ps_symtab *syms, const ps_attrname *elems, uint32_t n)
{
    pctx c = {syms, 0};
    print_attrpath(out, &c, elems, n);
}

static void print_attrpath(ut_buf *out, const pctx *c, const ps_attrname *elems, uint32_t n)
{
    const ps_symtab *syms = c->syms;
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            ut_buf_putc(out, '.');
        if (elems[i].name)
            print_sym(out, syms, elems[i].name);
        else {
            ut_buf_puts(out, "\"${");
            show(out, c, elems[i].expr);
            ut_buf_puts(out, "}\"");
        }
    }
}

/* attrs are kept sorted by name, which is also the printing order */
static void show_bindings(ut_buf *out, const pctx *c, const ps_attrs *a)
{
    const ps_symtab *syms = c->syms;
    bool expand = (c->flags & PS_PRINT_EXPAND_INHERIT_FROM) != 0;
    bool any = false;
    for (uint32_t i = 0; i < a->nattrs; i++)
        if (a->attrs[i].kind == PS_ATTR_INHERITED) {
            if (!any)
                ut_buf_puts(out, "inherit");
            any = true;
            ut_buf_putc(out, ' ');
            print_sym(out, syms, a->attrs[i].name);
        }
    if (any)
        ut_buf_puts(out, "; ");
    for (uint32_t f = 0; f < a->ninherit_from; f++) {
        any = false;
        for (uint32_t i = 0; i < a->nattrs; i++) {
            const ps_attrdef *d = &a->attrs[i];
            if (expand || d->kind != PS_ATTR_INHERITED_FROM || d->value->u.select.e->u.inherit_from.index != f)
                continue;
            if (!any) {
                ut_buf_puts(out, "inherit (");
                show(out, c, a->inherit_from[f]);
                ut_buf_putc(out, ')');
            }
            any = true;
            ut_buf_putc(out, ' ');
            print_sym(out, syms, d->name);
        }
        if (any)
            ut_buf_puts(out, "; ");
    }
    for (uint32_t i = 0; i < a->nattrs; i++) {
        const ps_attrdef *d = &a->attrs[i];
        if (d->kind == PS_ATTR_PLAIN) {
            print_sym(out, syms, d->name);
            ut_buf_puts(out, " = ");
            show(out, c, d->value);
            ut_buf_puts(out, "; ");
        } else if (expand && d->kind == PS_ATTR_INHERITED_FROM) {
            /* Nix before 2.20 kept no inherit sources: x = (e).x; */
            print_sym(out, syms, d->name);
            ut_buf_puts(out, " = (");
            show(out, c, a->inherit_from[d->value->u.select.e->u.inherit_from.index]);
            ut_buf_puts(out, ").");
            print_sym(out, syms, d->name);
            ut_buf_puts(out, "; ");
        }
    }
    for (uint32_t i = 0; i < a->ndyn; i++) {
        ut_buf_puts(out, "\"${");
        show(out, c, a->dyn[i].name);
        ut_buf_puts(out, "}\" = ");
        show(out, c, a->dyn[i].value);
        ut_buf_puts(out, "; ");
    }
}

static void bin(ut_buf *out, const pctx *c, const ps_expr *e, const char *op)
{
    ut_buf_putc(out, '(');
    show(out, c, e->u.bin.l);
    ut_buf_putc(out, ' ');
    ut_buf_puts(out, op);
    ut_buf_putc(out, ' ');
    show(out, c, e->u.bin.r);
    ut_buf_putc(out, ')');
}

static void show(ut_buf *out, const pctx *c, const ps_expr *e)
{
    const ps_symtab *syms = c->syms;
    switch (e->kind) {
    case PS_INT:
        ut_buf_printf(out, "%" PRId64, e->u.i);
        break;
    case PS_FLOAT:
        /* an ostream's default format for doubles */
        ut_buf_printf(out, "%g", e->u.f);
        break;
    case PS_STRING:
        ps__print_string(out, e->u.str.s, e->u.str.len);
        break;
    case PS_PATH:
        ut_buf_append(out, e->u.str.s, e->u.str.len);
        break;
    case PS_VAR:
        print_sym(out, syms, e->u.var.name);
        break;
    case PS_SELECT:
        ut_buf_putc(out, '(');
        show(out, c, e->u.select.e);
        ut_buf_puts(out, ").");
        print_attrpath(out, c, e->u.select.path.elems, e->u.select.path.n);
        if (e->u.select.def) {
            ut_buf_puts(out, " or (");
            show(out, c, e->u.select.def);
            ut_buf_putc(out, ')');
        }
        break;
    case PS_HASATTR:
        ut_buf_puts(out, "((");
        show(out, c, e->u.hasattr.e);
        ut_buf_puts(out, ") ? ");
        print_attrpath(out, c, e->u.hasattr.path.elems, e->u.hasattr.path.n);
        ut_buf_putc(out, ')');
        break;
    case PS_ATTRS:
        if (e->u.attrs.rec)
            ut_buf_puts(out, "rec ");
        ut_buf_puts(out, "{ ");
        show_bindings(out, c, &e->u.attrs);
        ut_buf_putc(out, '}');
        break;
    case PS_LIST:
        ut_buf_puts(out, "[ ");
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            ut_buf_putc(out, '(');
            show(out, c, e->u.list.elems[i]);
            ut_buf_puts(out, ") ");
        }
        ut_buf_putc(out, ']');
        break;
    case PS_LAMBDA: {
        const ps_lambda *l = &e->u.lambda;
        ut_buf_putc(out, '(');
        if (l->has_formals) {
            ut_buf_puts(out, "{ ");
            for (uint32_t i = 0; i < l->nformals; i++) {
                if (i)
                    ut_buf_puts(out, ", ");
                print_sym(out, syms, l->formals[i].name);
                if (l->formals[i].def) {
                    ut_buf_puts(out, " ? ");
                    show(out, c, l->formals[i].def);
                }
            }
            if (l->ellipsis) {
                if (l->nformals)
                    ut_buf_puts(out, ", ");
                ut_buf_puts(out, "...");
            }
            ut_buf_puts(out, " }");
            if (l->arg)
                ut_buf_puts(out, " @ ");
        }
        if (l->arg)
            print_sym(out, syms, l->arg);
        ut_buf_puts(out, ": ");
        show(out, c, l->body);
        ut_buf_putc(out, ')');
        break;
    }
    case PS_CALL:
        ut_buf_putc(out, '(');
        show(out, c, e->u.call.fn);
        for (uint32_t i = 0; i < e->u.call.nargs; i++) {
            ut_buf_putc(out, ' ');
            show(out, c, e->u.call.args[i]);
        }
        ut_buf_putc(out, ')');
        break;
    case PS_LET:
        ut_buf_puts(out, "(let ");
        show_bindings(out, c, e->u.let.binds);
        ut_buf_puts(out, "in ");
        show(out, c, e->u.let.body);
        ut_buf_putc(out, ')');
        break;
    case PS_WITH:
        ut_buf_puts(out, "(with ");
        show(out, c, e->u.with.attrs);
        ut_buf_puts(out, "; ");
        show(out, c, e->u.with.body);
        ut_buf_putc(out, ')');
        break;
    case PS_IF:
        ut_buf_puts(out, "(if ");
        show(out, c, e->u.ifte.cond);
        ut_buf_puts(out, " then ");
        show(out, c, e->u.ifte.then);
        ut_buf_puts(out, " else ");
        show(out, c, e->u.ifte.els);
        ut_buf_putc(out, ')');
        break;
    case PS_ASSERT:
        ut_buf_puts(out, "assert ");
        show(out, c, e->u.assert_.cond);
        ut_buf_puts(out, "; ");
        show(out, c, e->u.assert_.body);
        break;
    case PS_NOT:
        ut_buf_puts(out, "(! ");
        show(out, c, e->u.not_.e);
        ut_buf_putc(out, ')');
        break;
    case PS_EQ: bin(out, c, e, "=="); break;
    case PS_NEQ: bin(out, c, e, "!="); break;
    case PS_AND: bin(out, c, e, "&&"); break;
    case PS_OR: bin(out, c, e, "||"); break;
    case PS_IMPL: bin(out, c, e, "->"); break;
    case PS_UPDATE: bin(out, c, e, "//"); break;
    case PS_CONCAT_LISTS: bin(out, c, e, "++"); break;
    case PS_CONCAT_STRINGS:
        ut_buf_putc(out, '(');
        for (uint32_t i = 0; i < e->u.concat.n; i++) {
            if (i)
                ut_buf_puts(out, " + ");
            show(out, c, e->u.concat.parts[i]);
        }
        ut_buf_putc(out, ')');
        break;
    case PS_CURPOS:
        ut_buf_puts(out, "__curPos");
        break;
    case PS_INHERIT_FROM:
        /* never printed on its own: show_bindings prints the source */
        break;
    }
}

void ps_print_flags(ut_buf *out, const ps_symtab *syms, const ps_expr *e, unsigned flags)
{
    pctx c = {syms, flags};
    show(out, &c, e);
}

void ps_print(ut_buf *out, const ps_symtab *syms, const ps_expr *e)
{
    ps_print_flags(out, syms, e, 0);
}
