/* The `nix-instantiate --parse` printer: CppNix's Expr::show, including its
 * parenthesisation and the quoting of names that are not identifiers. */
#include "parser/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends without a call per piece: the printer writes a byte or a few at
 * a time, and a call into ut_buf (with its capacity check) for each was
 * half of printing a tree. The buffer stays NUL-terminated, as ut_buf
 * promises. */
static inline void put_n(ut_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len > n) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
    } else {
        ut_buf_append(b, s, n);
    }
}

static inline void put_c(ut_buf *b, char c)
{
    if (b->cap - b->len > 1) {
        b->data[b->len++] = c;
        b->data[b->len] = 0;
    } else {
        ut_buf_putc(b, c);
    }
}

#define put_s(b, lit) put_n((b), "" lit, sizeof(lit) - 1)

static bool is_keyword(const char *s, size_t n)
{
    switch (n) {
    case 2:
        return (s[0] == 'i' && (s[1] == 'f' || s[1] == 'n'));
    case 3:
        return memcmp(s, "let", 3) == 0 || memcmp(s, "rec", 3) == 0;
    case 4:
        return memcmp(s, "then", 4) == 0 || memcmp(s, "else", 4) == 0 || memcmp(s, "with", 4) == 0;
    case 6:
        return memcmp(s, "assert", 6) == 0;
    case 7:
        return memcmp(s, "inherit", 7) == 0;
    default:
        return false;
    }
}

/* 1: needs an escape (or, for $, may); 2: may start an identifier; 4: may
 * continue one */
static const unsigned char cclass[256] = {
    ['"'] = 1, ['\\'] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1, ['$'] = 1,
#define R(a, b, v) [a] = v, [a + 1] = v, [a + 2] = v, [a + 3] = v, [a + 4] = v, [a + 5] = v, [a + 6] = v, [a + 7] = v
    R('a', 'h', 6), R('i', 'p', 6), R('q', 'x', 6), ['y'] = 6, ['z'] = 6,
    R('A', 'H', 6), R('I', 'P', 6), R('Q', 'X', 6), ['Y'] = 6, ['Z'] = 6,
    R('0', '7', 4), ['8'] = 4, ['9'] = 4,
#undef R
    ['_'] = 6, ['\''] = 4, ['-'] = 4,
};

void ps__print_string(ut_buf *out, const char *s, size_t len)
{
    put_c(out, '"');
    size_t i = 0;
    for (;;) {
        /* the run up to the next character that may need an escape */
        size_t j = i;
        while (j < len && !(cclass[(unsigned char)s[j]] & 1))
            j++;
        put_n(out, s + i, j - i);
        if (j == len)
            break;
        switch (s[j]) {
        case '"': put_s(out, "\\\""); break;
        case '\\': put_s(out, "\\\\"); break;
        case '\n': put_s(out, "\\n"); break;
        case '\r': put_s(out, "\\r"); break;
        case '\t': put_s(out, "\\t"); break;
        default:    /* $, escaped only before { */
            if (j + 1 < len && s[j + 1] == '{')
                put_s(out, "\\$");
            else
                put_c(out, '$');
            break;
        }
        i = j + 1;
    }
    put_c(out, '"');
}

void ps__print_ident(ut_buf *out, const char *s, size_t n)
{
    if (n == 0) {
        put_s(out, "\"\"");
        return;
    }
    if (is_keyword(s, n)) {
        put_c(out, '"');
        put_n(out, s, n);
        put_c(out, '"');
        return;
    }
    bool ok = (cclass[(unsigned char)s[0]] & 2) != 0;
    for (size_t i = 1; ok && i < n; i++)
        ok = (cclass[(unsigned char)s[i]] & 4) != 0;
    if (ok)
        put_n(out, s, n);
    else
        ps__print_string(out, s, n);
}

/* printf's %lld, without printf */
static void put_int(ut_buf *out, int64_t v)
{
    char b[24], *p = b + sizeof b;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    put_n(out, p, (size_t)(b + sizeof b - p));
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
            put_c(out, '.');
        if (elems[i].name)
            print_sym(out, syms, elems[i].name);
        else {
            put_s(out, "\"${");
            show(out, c, elems[i].expr);
            put_s(out, "}\"");
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
                put_s(out, "inherit");
            any = true;
            put_c(out, ' ');
            print_sym(out, syms, a->attrs[i].name);
        }
    if (any)
        put_s(out, "; ");
    for (uint32_t f = 0; f < a->ninherit_from; f++) {
        any = false;
        for (uint32_t i = 0; i < a->nattrs; i++) {
            const ps_attrdef *d = &a->attrs[i];
            if (expand || d->kind != PS_ATTR_INHERITED_FROM || d->value->u.select.e->u.inherit_from.index != f)
                continue;
            if (!any) {
                put_s(out, "inherit (");
                show(out, c, a->inherit_from[f]);
                put_c(out, ')');
            }
            any = true;
            put_c(out, ' ');
            print_sym(out, syms, d->name);
        }
        if (any)
            put_s(out, "; ");
    }
    for (uint32_t i = 0; i < a->nattrs; i++) {
        const ps_attrdef *d = &a->attrs[i];
        if (d->kind == PS_ATTR_PLAIN) {
            print_sym(out, syms, d->name);
            put_s(out, " = ");
            show(out, c, d->value);
            put_s(out, "; ");
        } else if (expand && d->kind == PS_ATTR_INHERITED_FROM) {
            /* Nix before 2.20 kept no inherit sources: x = (e).x; */
            print_sym(out, syms, d->name);
            put_s(out, " = (");
            show(out, c, a->inherit_from[d->value->u.select.e->u.inherit_from.index]);
            put_s(out, ").");
            print_sym(out, syms, d->name);
            put_s(out, "; ");
        }
    }
    for (uint32_t i = 0; i < a->ndyn; i++) {
        put_s(out, "\"${");
        show(out, c, a->dyn[i].name);
        put_s(out, "}\" = ");
        show(out, c, a->dyn[i].value);
        put_s(out, "; ");
    }
}

static void bin(ut_buf *out, const pctx *c, const ps_expr *e, const char *op)
{
    put_c(out, '(');
    show(out, c, e->u.bin.l);
    put_c(out, ' ');
    put_n(out, op, 2);
    put_c(out, ' ');
    show(out, c, e->u.bin.r);
    put_c(out, ')');
}

static void show(ut_buf *out, const pctx *c, const ps_expr *e)
{
    const ps_symtab *syms = c->syms;
    switch (e->kind) {
    case PS_INT:
        put_int(out, e->u.i);
        break;
    case PS_FLOAT:
        /* an ostream's default format for doubles */
        ut_buf_printf(out, "%g", e->u.f);
        break;
    case PS_STRING:
        ps__print_string(out, e->u.str.s, e->u.str.len);
        break;
    case PS_PATH:
        put_n(out, e->u.str.s, e->u.str.len);
        break;
    case PS_VAR:
        print_sym(out, syms, e->u.var.name);
        break;
    case PS_SELECT:
        put_c(out, '(');
        show(out, c, e->u.select.e);
        put_s(out, ").");
        print_attrpath(out, c, e->u.select.path.elems, e->u.select.path.n);
        if (e->u.select.def) {
            put_s(out, " or (");
            show(out, c, e->u.select.def);
            put_c(out, ')');
        }
        break;
    case PS_HASATTR:
        put_s(out, "((");
        show(out, c, e->u.hasattr.e);
        put_s(out, ") ? ");
        print_attrpath(out, c, e->u.hasattr.path.elems, e->u.hasattr.path.n);
        put_c(out, ')');
        break;
    case PS_ATTRS:
        if (e->u.attrs.rec)
            put_s(out, "rec ");
        put_s(out, "{ ");
        show_bindings(out, c, &e->u.attrs);
        put_c(out, '}');
        break;
    case PS_LIST:
        put_s(out, "[ ");
        for (uint32_t i = 0; i < e->u.list.n; i++) {
            put_c(out, '(');
            show(out, c, e->u.list.elems[i]);
            put_s(out, ") ");
        }
        put_c(out, ']');
        break;
    case PS_LAMBDA: {
        const ps_lambda *l = &e->u.lambda;
        put_c(out, '(');
        if (l->has_formals) {
            put_s(out, "{ ");
            for (uint32_t i = 0; i < l->nformals; i++) {
                if (i)
                    put_s(out, ", ");
                print_sym(out, syms, l->formals[i].name);
                if (l->formals[i].def) {
                    put_s(out, " ? ");
                    show(out, c, l->formals[i].def);
                }
            }
            if (l->ellipsis) {
                if (l->nformals)
                    put_s(out, ", ");
                put_s(out, "...");
            }
            put_s(out, " }");
            if (l->arg)
                put_s(out, " @ ");
        }
        if (l->arg)
            print_sym(out, syms, l->arg);
        put_s(out, ": ");
        show(out, c, l->body);
        put_c(out, ')');
        break;
    }
    case PS_CALL:
        put_c(out, '(');
        show(out, c, e->u.call.fn);
        for (uint32_t i = 0; i < e->u.call.nargs; i++) {
            put_c(out, ' ');
            show(out, c, e->u.call.args[i]);
        }
        put_c(out, ')');
        break;
    case PS_LET:
        put_s(out, "(let ");
        show_bindings(out, c, e->u.let.binds);
        put_s(out, "in ");
        show(out, c, e->u.let.body);
        put_c(out, ')');
        break;
    case PS_WITH:
        put_s(out, "(with ");
        show(out, c, e->u.with.attrs);
        put_s(out, "; ");
        show(out, c, e->u.with.body);
        put_c(out, ')');
        break;
    case PS_IF:
        put_s(out, "(if ");
        show(out, c, e->u.ifte.cond);
        put_s(out, " then ");
        show(out, c, e->u.ifte.then);
        put_s(out, " else ");
        show(out, c, e->u.ifte.els);
        put_c(out, ')');
        break;
    case PS_ASSERT:
        put_s(out, "assert ");
        show(out, c, e->u.assert_.cond);
        put_s(out, "; ");
        show(out, c, e->u.assert_.body);
        break;
    case PS_NOT:
        put_s(out, "(! ");
        show(out, c, e->u.not_.e);
        put_c(out, ')');
        break;
    case PS_EQ: bin(out, c, e, "=="); break;
    case PS_NEQ: bin(out, c, e, "!="); break;
    case PS_AND: bin(out, c, e, "&&"); break;
    case PS_OR: bin(out, c, e, "||"); break;
    case PS_IMPL: bin(out, c, e, "->"); break;
    case PS_UPDATE: bin(out, c, e, "//"); break;
    case PS_CONCAT_LISTS: bin(out, c, e, "++"); break;
    case PS_CONCAT_STRINGS:
        put_c(out, '(');
        for (uint32_t i = 0; i < e->u.concat.n; i++) {
            if (i)
                put_s(out, " + ");
            show(out, c, e->u.concat.parts[i]);
        }
        put_c(out, ')');
        break;
    case PS_CURPOS:
        put_s(out, "__curPos");
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
