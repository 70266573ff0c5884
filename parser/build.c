/* Tree construction for the grammar's actions: attribute-path merging,
 * indentation stripping, path literals and lints, with CppNix's semantics
 * and error wording. */
#include "parser/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- positions and errors ---------------------------------------------- */

ps_pos ps__pos_search(ps_pstate *st, uint32_t off)
{
    /* Nodes are mostly made in source order: after the line found last,
     * try the next few before bisecting. */
    const uint32_t *ls = st->line_starts;
    size_t lo = st->last_line, hi;
    if (ls[lo] <= off) {
        for (size_t k = 0; k < 4; k++, lo++) {
            if (ls[lo + 1] > off) {
                st->last_line = lo;
                return (ps_pos){st->src, (uint32_t)lo + 1, off - ls[lo] + 1};
            }
        }
        hi = st->nlines;    /* after the lines just tried */
    } else {
        hi = lo;            /* before the line found last */
        lo = 0;
    }
    /* find the last line in [lo, hi) whose start <= off */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (ls[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    st->last_line = lo;
    return (ps_pos){st->src, (uint32_t)lo + 1, off - ls[lo] + 1};
}

/* Nix lays a multi-line message out under its "error: " (or "warning: ")
 * prefix, each line without trailing whitespace. */
void ps__format_message(ut_buf *out, const char *msg, unsigned indent)
{
    const char *p = msg;
    for (bool first = true;; first = false) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t start = out->len;
        if (!first) {
            ut_buf_putc(out, '\n');
            start = out->len;
            ut_buf_printf(out, "%*s", (int)indent, "");
        }
        ut_buf_append(out, p, len);
        while (out->len > start && strchr(" \t\r", out->data[out->len - 1]))
            out->len--;
        if (out->data)
            out->data[out->len] = 0;
        if (!nl)
            break;
        p = nl + 1;
    }
}

bool ps__error_at(ps_pstate *st, ps_pos pos, const char *fmt, ...)
{
    if (st->failed)
        return false;   /* the first error is the one Nix reports */
    st->failed = true;
    ut_buf m = UT_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ut_buf_vprintf(&m, fmt, ap);
    va_end(ap);
    ut_buf b = UT_BUF_INIT;
    ps__format_message(&b, ut_buf_cstr(&m), 7);
    ut_buf_putc(&b, '\n');
    ps__source_whole(st);  /* after the message: it may quote yytext */
    ps_format_pos_snippet(&b, pos);
    ut_err_set(st->err, "%s", ut_buf_cstr(&b));
    ut_buf_free(&b);
    ut_buf_free(&m);
    return false;
}

static void emit_warning(ps_pstate *st, const ut_buf *b)
{
    ut_buf f = UT_BUF_INIT;
    ps_log_filter(&f, b->data, b->len);
    if (st->opts->warn)
        st->opts->warn(st->opts->warn_ctx, f.data ? f.data : "", f.len);
    else
        fwrite(f.data, 1, f.len, stderr);
    ut_buf_free(&f);
}

/* ---- small helpers ----------------------------------------------------- */

void *ps__vec_grow(ps_pstate *st, ps_vec *v, size_t elem)
{
    uint32_t cap = v->cap ? v->cap * 2 : 4;
    void *d = ps__alloc(st, (size_t)cap * elem);
    if (v->n)
        memcpy(d, v->data, (size_t)v->n * elem);
    v->data = d;
    v->cap = cap;
    return d;
}

ps_expr *ps__new(ps_pstate *st, ps_kind kind, ps_pos pos)
{
    ps_expr *e = ps__alloc(st, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    return e;
}

ps_expr *ps__string(ps_pstate *st, const char *s, size_t len, ps_pos pos)
{
    /* s is kept, not copied: it is the source's text or the tree's (see
     * the declaration) */
    ps_expr *e = ps__alloc(st, sizeof *e);
    e->kind = PS_STRING;
    e->pos = pos;
    e->u.str.s = s;
    e->u.str.len = len;
    return e;
}

ps_expr *ps__var(ps_pstate *st, ps_sym name, ps_pos pos)
{
    ps_expr *e = ps__new(st, PS_VAR, pos);
    e->u.var.name = name;
    return e;
}

ps_expr *ps__call2(ps_pstate *st, ps_pos pos, ps_expr *fn, ps_expr *a, ps_expr *b)
{
    ps_expr *e = ps__new(st, PS_CALL, pos);
    e->u.call.fn = fn;
    e->u.call.args = ps__alloc(st, 2 * sizeof(ps_expr *));
    e->u.call.args[0] = a;
    e->u.call.args[1] = b;
    e->u.call.nargs = 2;
    return e;
}

/* Consecutive applications share one call node, as in CppNix; this includes
 * `(f a) b`, since parentheses leave no trace in the tree. */
ps_expr *ps__make_call(ps_pstate *st, ps_pos pos, ps_expr *fn, ps_expr *arg)
{
    if (fn->kind == PS_CALL) {
        uint32_t n = fn->u.call.nargs;
        ps_expr **args = ps__alloc(st, (size_t)(n + 1) * sizeof *args);
        memcpy(args, fn->u.call.args, (size_t)n * sizeof *args);
        args[n] = arg;
        fn->u.call.args = args;
        fn->u.call.nargs = n + 1;
        return fn;
    }
    ps_expr *e = ps__new(st, PS_CALL, pos);
    e->u.call.fn = fn;
    e->u.call.args = ps__alloc(st, sizeof(ps_expr *));
    e->u.call.args[0] = arg;
    e->u.call.nargs = 1;
    return e;
}

ps_expr *ps__concat(ps_pstate *st, ps_pos pos, bool force_string, ps_part *parts, uint32_t n)
{
    ps_expr *e = ps__new(st, PS_CONCAT_STRINGS, pos);
    e->u.concat.force_string = force_string;
    e->u.concat.parts = ps__alloc(st, (size_t)(n ? n : 1) * sizeof(ps_expr *));
    e->u.concat.part_pos = ps__alloc(st, (size_t)(n ? n : 1) * sizeof(ps_pos));
    for (uint32_t i = 0; i < n; i++) {
        e->u.concat.parts[i] = parts[i].e;
        e->u.concat.part_pos[i] = PS_AT(st, parts[i].loc);
    }
    e->u.concat.n = n;
    return e;
}

/* ---- strings ----------------------------------------------------------- */

bool ps__unescape(ps_pstate *st, const char *s, size_t len, ps_loc loc, ps_strtok *out)
{
    (void)loc;
    /* s is scanner text; most strings hold neither escapes nor CRs and are
     * then used where they stand in the source, which outlives the tree */
    const char *bs = memchr(s, '\\', len);
    if (!bs && !memchr(s, '\r', len)) {
        *out = (ps_strtok){st->src->text + (s - st->lexbase), len, false};
        return true;
    }
    char *t = ps__alloc_bytes(st, len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            c = s[++i];
            if (c == 'n')
                t[o++] = '\n';
            else if (c == 'r')
                t[o++] = '\r';
            else if (c == 't')
                t[o++] = '\t';
            else
                t[o++] = c;
        } else if (c == '\r') {
            /* CR and CR/LF become LF; an escaped \r stays. */
            t[o++] = '\n';
            if (i + 1 < len && s[i + 1] == '\n')
                i++;
        } else {
            t[o++] = c;
        }
    }
    t[o] = 0;
    *out = (ps_strtok){t, o, false};
    return true;
}

ps_expr *ps__strip_indentation(ps_pstate *st, ps_pos pos, ps_vec *pv)
{
    ps_part *es = pv->data;
    size_t n = pv->n;
    if (n == 0)
        return ps__string(st, "", 0, pos);

    /* The minimum indentation; whitespace-only final lines do not count,
     * and interpolations or escapes end a line's leading whitespace. */
    bool at_start = true;
    size_t min_indent = 1000000, cur_indent = 0;
    for (size_t k = 0; k < n; k++) {
        if (es[k].e || !es[k].s.has_indent) {
            if (at_start) {
                at_start = false;
                if (cur_indent < min_indent)
                    min_indent = cur_indent;
            }
            continue;
        }
        const char *p = es[k].s.p;
        size_t l = es[k].s.l;
        for (size_t j = 0; j < l; j++) {
            if (at_start) {
                if (p[j] == ' ')
                    cur_indent++;
                else if (p[j] == '\n')
                    cur_indent = 0;
                else {
                    at_start = false;
                    if (cur_indent < min_indent)
                        min_indent = cur_indent;
                }
            } else {
                const char *nl = memchr(p + j, '\n', l - j);
                if (!nl)
                    break;
                j = (size_t)(nl - p);
                at_start = true;
                cur_indent = 0;
            }
        }
    }

    ps_vec out = {0};
    at_start = true;
    size_t cur_dropped = 0;
    for (size_t k = 0; k < n; k++) {
        size_t remaining = n - k;
        if (es[k].e) {
            at_start = false;
            cur_dropped = 0;
            ps_part *p = ps__vec_push(st, &out, sizeof *p);
            *p = es[k];
            continue;
        }
        const char *p = es[k].s.p;
        size_t l = es[k].s.l, j = 0;
        /* the output never outgrows the input; the rest of a line after
         * its indentation is copied whole. It is the string node's text. */
        char *d = ps__alloc_bytes(st, l + 1);
        size_t dl = 0;
        while (j < l) {
            if (at_start) {
                char c = p[j];
                if (c == ' ') {
                    if (cur_dropped++ >= min_indent)
                        d[dl++] = c;
                    j++;
                } else if (c == '\n') {
                    cur_dropped = 0;
                    d[dl++] = c;
                    j++;
                } else {
                    at_start = false;
                    cur_dropped = 0;
                }
            } else {
                const char *nl = memchr(p + j, '\n', l - j);
                size_t end = nl ? (size_t)(nl - p) + 1 : l;
                memcpy(d + dl, p + j, end - j);
                dl += end - j;
                j = end;
                if (nl)
                    at_start = true;
            }
        }
        d[dl] = 0;
        /* Drop the last line when it holds only spaces. */
        if (remaining == 1 && dl) {
            const char *nl = memrchr(d, '\n', dl);
            if (nl) {
                size_t after = (size_t)(nl - d) + 1;
                bool spaces = true;
                for (size_t j = after; j < dl; j++)
                    if (d[j] != ' ') {
                        spaces = false;
                        break;
                    }
                if (spaces)
                    dl = after;
            }
        }
        if (dl) {
            ps_part *q = ps__vec_push(st, &out, sizeof *q);
            q->loc = es[k].loc;
            q->e = ps__string(st, d, dl, PS_AT(st, es[k].loc));
        }
    }

    ps_part *o = out.data;
    if (out.n == 0)
        return ps__string(st, "", 0, pos);
    if (out.n == 1 && o[0].e->kind == PS_STRING)
        return o[0].e;
    return ps__concat(st, pos, true, o, out.n);
}

/* ---- attribute sets ---------------------------------------------------- */

ps_expr *ps__new_attrs(ps_pstate *st, ps_pos pos)
{
    return ps__new(st, PS_ATTRS, pos);
}

static size_t aslot_hash(const ps_attrs *owner, ps_sym sym)
{
    uint64_t h = (uint64_t)(uintptr_t)owner * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)sym * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return (size_t)h;
}

/* Sets of up to SMALL_ATTRS definitions are searched directly; only larger
 * ones go into the (owner, symbol) table, so most files never build it. */
#define SMALL_ATTRS 8

static int64_t attr_find(ps_pstate *st, const ps_attrs *a, ps_sym sym)
{
    if (a->nattrs <= SMALL_ATTRS) {
        for (uint32_t i = 0; i < a->nattrs; i++)
            if (a->attrs[i].name == sym)
                return i;
        return -1;
    }
    if (!st->naslots)
        return -1;
    size_t mask = st->naslots - 1;
    for (size_t j = aslot_hash(a, sym) & mask;; j = (j + 1) & mask) {
        ps_attr_slot *s = &st->aslots[j];
        if (!s->owner)
            return -1;
        if (s->owner == a && s->sym == sym) {
            if (s->idx < a->nattrs && a->attrs[s->idx].name == sym)
                return s->idx;
            return -1;
        }
    }
}

static void aslot_insert(ps_pstate *st, const ps_attrs *a, ps_sym sym, uint32_t idx)
{
    if ((st->naslots_used + 1) * 2 > st->naslots) {
        size_t n = st->naslots ? st->naslots * 2 : 256;
        ps_attr_slot *ns = ut_xcalloc(n, sizeof *ns);
        for (size_t i = 0; i < st->naslots; i++) {
            ps_attr_slot *s = &st->aslots[i];
            if (!s->owner)
                continue;
            size_t j = aslot_hash(s->owner, s->sym) & (n - 1);
            while (ns[j].owner)
                j = (j + 1) & (n - 1);
            ns[j] = *s;
        }
        free(st->aslots);
        st->aslots = ns;
        st->naslots = n;
    }
    size_t mask = st->naslots - 1;
    size_t j = aslot_hash(a, sym) & mask;
    while (st->aslots[j].owner) {
        if (st->aslots[j].owner == a && st->aslots[j].sym == sym) {
            st->aslots[j].idx = idx;   /* replaces a stale entry */
            return;
        }
        j = (j + 1) & mask;
    }
    st->aslots[j] = (ps_attr_slot){a, sym, idx};
    st->naslots_used++;
}

static ps_attrdef *attr_append(ps_pstate *st, ps_attrs *a, ps_attrdef def)
{
    ps_vec v = {a->attrs, a->nattrs, 0};
    /* capacity is implicit: the next power of two from 4 */
    uint32_t cap = a->nattrs <= 4 ? 4 : 1;
    while (cap < a->nattrs)
        cap *= 2;
    v.cap = a->nattrs ? cap : 0;
    ps_attrdef *d = ps__vec_push(st, &v, sizeof *d);
    *d = def;
    a->attrs = v.data;
    a->nattrs = v.n;
    if (a->nattrs == SMALL_ATTRS + 1) {
        for (uint32_t i = 0; i < a->nattrs; i++)
            aslot_insert(st, a, a->attrs[i].name, i);
    } else if (a->nattrs > SMALL_ATTRS) {
        aslot_insert(st, a, def.name, a->nattrs - 1);
    }
    return d;
}

static void dyn_append(ps_pstate *st, ps_attrs *a, ps_dynattr d)
{
    ps_vec v = {a->dyn, a->ndyn, 0};
    uint32_t cap = 4;
    while (cap < a->ndyn)
        cap *= 2;
    v.cap = a->ndyn ? cap : 0;
    ps_dynattr *p = ps__vec_push(st, &v, sizeof *p);
    *p = d;
    a->dyn = v.data;
    a->ndyn = v.n;
}

static uint32_t inherit_from_append(ps_pstate *st, ps_attrs *a, ps_expr *e)
{
    ps_vec v = {a->inherit_from, a->ninherit_from, 0};
    uint32_t cap = 4;
    while (cap < a->ninherit_from)
        cap *= 2;
    v.cap = a->ninherit_from ? cap : 0;
    ps_expr **p = ps__vec_push(st, &v, sizeof *p);
    *p = e;
    a->inherit_from = v.data;
    a->ninherit_from = v.n;
    return a->ninherit_from - 1;
}

/* CppNix names a lambda after the attribute it is bound to, and the body of
 * a curried function gets the same name. */
static void set_name(ps_expr *e, ps_sym name)
{
    while (e && e->kind == PS_LAMBDA) {
        e->u.lambda.name = name;
        e = e->u.lambda.body;
    }
}

static bool dup_attr_path(ps_pstate *st, ps_attrname *path, uint32_t n, ps_pos pos, ps_pos prev)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf p = UT_BUF_INIT;
    ps__print_attrpath(&b, st->syms, path, n);
    ps_format_pos(&p, prev);
    ps__error_at(st, pos, "attribute '%s' already defined at %s", ut_buf_cstr(&b), ut_buf_cstr(&p));
    ut_buf_free(&b);
    ut_buf_free(&p);
    return false;
}

static bool dup_attr_sym(ps_pstate *st, ps_sym sym, ps_pos pos, ps_pos prev)
{
    ps_attrname n = {sym, NULL};
    return dup_attr_path(st, &n, 1, pos, prev);
}

/* Adds `symbol = def` to attrs, merging two attribute-set literals bound to
 * the same name. path (n elements, the last being symbol) names it in
 * errors; it has room for one more element per nesting level. */
static bool add_attr_sym(ps_pstate *st, ps_attrs *attrs, ps_vec *path, ps_sym sym, ps_attrdef def)
{
    int64_t j = attr_find(st, attrs, sym);
    if (j < 0) {
        attr_append(st, attrs, def);
        set_name(def.value, sym);
        return true;
    }
    ps_attrdef *prev = &attrs->attrs[j];
    ps_expr *ae = def.value;
    ps_expr *je = prev->value;
    if (!(ae->kind == PS_ATTRS && je->kind == PS_ATTRS && prev->kind == PS_ATTR_PLAIN &&
          def.kind == PS_ATTR_PLAIN))
        return dup_attr_path(st, path->data, path->n, def.pos, prev->pos);

    /* Both are attribute-set literals: move ae's definitions into je's. A
     * `rec` on ae is lost and one on je applies to all, as in CppNix. */
    ps_attrs *ja = &je->u.attrs, *aa = &ae->u.attrs;
    uint32_t shift = ja->ninherit_from;
    for (uint32_t k = 0; k < aa->nattrs; k++) {
        ps_attrdef ad = aa->attrs[k];
        if (ad.kind == PS_ATTR_INHERITED_FROM)
            ad.value->u.select.e->u.inherit_from.index += shift;
        ps_attrname *el = ps__vec_push(st, path, sizeof *el);
        el->name = ad.name;
        bool ok = add_attr_sym(st, ja, path, ad.name, ad);
        path->n--;
        if (!ok)
            return false;
    }
    aa->nattrs = 0;
    for (uint32_t k = 0; k < aa->ndyn; k++)
        dyn_append(st, ja, aa->dyn[k]);
    aa->ndyn = 0;
    for (uint32_t k = 0; k < aa->ninherit_from; k++)
        inherit_from_append(st, ja, aa->inherit_from[k]);
    aa->ninherit_from = 0;
    return true;
}

bool ps__add_attr(ps_pstate *st, ps_expr *ae, ps_vec *path, ps_loc loc, ps_expr *e)
{
    ps_attrs *attrs = &ae->u.attrs;
    ps_attrname *p = path->data;
    ps_pos pos = PS_AT(st, loc);
    uint32_t i;
    for (i = 0; i + 1 < path->n; i++) {
        ps_expr *nested;
        if (p[i].name) {
            int64_t j = attr_find(st, attrs, p[i].name);
            if (j >= 0) {
                nested = attrs->attrs[j].value;
                if (nested->kind != PS_ATTRS)
                    return dup_attr_path(st, p, i + 1, pos, attrs->attrs[j].pos);
            } else {
                nested = ps__new_attrs(st, pos);
                attr_append(st, attrs, (ps_attrdef){p[i].name, PS_ATTR_PLAIN, nested, pos});
            }
        } else {
            nested = ps__new_attrs(st, pos);
            dyn_append(st, attrs, (ps_dynattr){p[i].expr, nested, pos});
        }
        attrs = &nested->u.attrs;
    }
    if (p[i].name)
        return add_attr_sym(st, attrs, path, p[i].name, (ps_attrdef){p[i].name, PS_ATTR_PLAIN, e, pos});
    dyn_append(st, attrs, (ps_dynattr){p[i].expr, e, pos});
    return true;
}

bool ps__inherit(ps_pstate *st, ps_expr *ae, ps_vec *names, ps_expr *from, ps_loc from_loc)
{
    ps_attrs *attrs = &ae->u.attrs;
    ps_inh *in = names->data;
    uint32_t idx = 0;
    if (from)
        idx = inherit_from_append(st, attrs, from);
    for (uint32_t k = 0; k < names->n; k++) {
        ps_pos ipos = PS_AT(st, in[k].loc);
        int64_t j = attr_find(st, attrs, in[k].name);
        if (j >= 0)
            return dup_attr_sym(st, in[k].name, ipos, attrs->attrs[j].pos);
        if (!from) {
            attr_append(st, attrs, (ps_attrdef){in[k].name, PS_ATTR_INHERITED,
                                                ps__var(st, in[k].name, ipos), ipos});
        } else {
            /* one source node per attribute, so merging can renumber each */
            ps_expr *src = ps__new(st, PS_INHERIT_FROM, PS_AT(st, from_loc));
            src->u.inherit_from.index = idx;
            ps_expr *sel = ps__new(st, PS_SELECT, ipos);
            sel->u.select.e = src;
            sel->u.select.path.elems = ps__alloc(st, sizeof(ps_attrname));
            sel->u.select.path.elems[0].name = in[k].name;
            sel->u.select.path.n = 1;
            attr_append(st, attrs, (ps_attrdef){in[k].name, PS_ATTR_INHERITED_FROM, sel, ipos});
        }
    }
    return true;
}

bool ps__attrname_from_string(ps_pstate *st, ps_expr *s, ps_attrname *out)
{
    /* "a" and ${"a"} are static names (NixOS/nix#14642). */
    if (s->kind == PS_STRING) {
        out->name = ps_intern(st->syms, s->u.str.s, s->u.str.len);
        out->expr = NULL;
    } else {
        out->name = PS_NOSYM;
        out->expr = s;
    }
    return true;
}

/* ---- functions --------------------------------------------------------- */

/* qsort's comparison has no context argument: the table it compares
 * with is per thread, as several threads may parse at once, each with its
 * own table. */
static _Thread_local const ps_symtab *sort_syms;

static int formal_cmp(const void *a, const void *b)
{
    const ps_formal *x = a, *y = b;
    if (x->name != y->name) {
        const char *sa = ps_sym_str(sort_syms, x->name), *sb = ps_sym_str(sort_syms, y->name);
        size_t la = ps_sym_len(sort_syms, x->name), lb = ps_sym_len(sort_syms, y->name);
        int c = memcmp(sa, sb, la < lb ? la : lb);
        if (c)
            return c;
        return la < lb ? -1 : la > lb;
    }
    if (x->pos.line != y->pos.line)
        return x->pos.line < y->pos.line ? -1 : 1;
    return x->pos.col < y->pos.col ? -1 : x->pos.col > y->pos.col;
}

static bool dup_formal(ps_pstate *st, ps_sym name, ps_pos pos)
{
    ut_buf b = UT_BUF_INIT;
    ps__print_ident(&b, ps_sym_str(st->syms, name), ps_sym_len(st->syms, name));
    ps__error_at(st, pos, "duplicate formal function argument '%s'", ut_buf_cstr(&b));
    ut_buf_free(&b);
    return false;
}

bool ps__lambda(ps_pstate *st, ps_expr **out, ps_pos pos, ps_sym arg, ps_formals_b *f, ps_expr *body)
{
    ps_expr *e = ps__new(st, PS_LAMBDA, pos);
    e->u.lambda.arg = arg;
    e->u.lambda.body = body;
    if (f) {
        ps_formal *fs = f->formals.data;
        uint32_t n = f->formals.n;
        sort_syms = st->syms;
        /* formal_cmp is a total order, so any sort gives the same result;
         * formal lists are short, and insertion sort skips qsort's
         * indirect calls */
        if (n > 24) {
            qsort(fs, n, sizeof *fs, formal_cmp);
        } else {
            for (uint32_t i = 1; i < n; i++) {
                ps_formal x = fs[i];
                uint32_t j = i;
                while (j > 0 && formal_cmp(&x, &fs[j - 1]) < 0) {
                    fs[j] = fs[j - 1];
                    j--;
                }
                fs[j] = x;
            }
        }
        for (uint32_t i = 0; i + 1 < n; i++)
            if (fs[i].name == fs[i + 1].name)
                return dup_formal(st, fs[i].name, fs[i + 1].pos);
        if (arg)
            for (uint32_t i = 0; i < n; i++)
                if (fs[i].name == arg)
                    return dup_formal(st, arg, pos);
        e->u.lambda.has_formals = true;
        e->u.lambda.ellipsis = f->ellipsis;
        e->u.lambda.formals = fs;
        e->u.lambda.nformals = n;
    }
    *out = e;
    return true;
}

/* ---- paths and lints --------------------------------------------------- */

/* Lexical canonicalisation, as CppNix's canonPath: no symlinks resolved. */
static char *canon_path(ps_pstate *st, const char *base, const char *rel, size_t rlen)
{
    size_t blen = base ? strlen(base) : 0;
    char *in = ut_xmalloc(blen + rlen + 2);
    size_t n = 0;
    if (base) {
        memcpy(in, base, blen);
        n = blen;
        in[n++] = '/';
    }
    memcpy(in + n, rel, rlen);
    n += rlen;
    char *o = ps__alloc_bytes(st, n + 2);
    size_t ol = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && in[i] == '/')
            i++;
        if (i >= n)
            break;
        size_t s = i;
        while (i < n && in[i] != '/')
            i++;
        size_t l = i - s;
        if (l == 1 && in[s] == '.')
            continue;
        if (l == 2 && in[s] == '.' && in[s + 1] == '.') {
            while (ol > 0 && o[ol - 1] != '/')
                ol--;
            if (ol > 0)
                ol--;
            continue;
        }
        o[ol++] = '/';
        memcpy(o + ol, in + s, l);
        ol += l;
    }
    if (ol == 0)
        o[ol++] = '/';
    o[ol] = 0;
    free(in);
    return o;
}

static void warn_or_fail(ps_pstate *st, ps_lint level, ps_pos pos, const char *name, const char *msg, bool *ok)
{
    *ok = true;
    if (level == PS_LINT_OFF)
        return;
    if (level == PS_LINT_FATAL) {
        ps__error_at(st, pos, "%s (%s)", msg, name);
        *ok = false;
        return;
    }
    ut_buf b = UT_BUF_INIT, m = UT_BUF_INIT;
    ut_buf_printf(&m, "warning: %s (%s)", msg, name);
    ps__format_message(&b, ut_buf_cstr(&m), 9);
    ut_buf_free(&m);
    ut_buf_putc(&b, '\n');
    ps__source_whole(st);
    ps__format_snippet(&b, pos, 2);
    ut_buf_putc(&b, '\n');
    emit_warning(st, &b);
    ut_buf_free(&b);
}

static ps_expr *path_node(ps_pstate *st, char *path, size_t len, ps_loc loc)
{
    ps_expr *e = ps__new(st, PS_PATH, PS_AT(st, loc));
    e->u.str.s = path;
    e->u.str.len = len;
    return e;
}

ps_expr *ps__path(ps_pstate *st, ps_strtok t, ps_loc loc)
{
    bool ok;
    ut_buf msg = UT_BUF_INIT;
    char *path;
    if (t.p[0] == '/') {
        if (st->opts->lint_absolute_path_literals) {
            ut_buf_printf(&msg, "absolute path literals are not portable. Consider replacing path literal '%.*s' by a string, relative path, or parameter",
                          (int)t.l, t.p);
            warn_or_fail(st, st->opts->lint_absolute_path_literals, PS_AT(st, loc),
                         "lint-absolute-path-literals", ut_buf_cstr(&msg), &ok);
            ut_buf_free(&msg);
            if (!ok)
                return NULL;
        }
        path = canon_path(st, NULL, t.p, t.l);
    } else {
        if (st->opts->lint_short_path_literals && t.p[0] != '.') {
            ut_buf_printf(&msg, "relative path literal '%.*s' should be prefixed with '.' for clarity: './%.*s'",
                          (int)t.l, t.p, (int)t.l, t.p);
            warn_or_fail(st, st->opts->lint_short_path_literals, PS_AT(st, loc),
                         "lint-short-path-literals", ut_buf_cstr(&msg), &ok);
            ut_buf_free(&msg);
            if (!ok)
                return NULL;
        }
        path = canon_path(st, st->src->basedir ? st->src->basedir : "/", t.p, t.l);
    }
    size_t len = strlen(path);
    /* an interpolated path keeps the slash before the ${ */
    if (t.l > 1 && t.p[t.l - 1] == '/') {
        path[len++] = '/';
        path[len] = 0;
    }
    return path_node(st, path, len, loc);
}

ps_expr *ps__hpath(ps_pstate *st, ps_strtok t, ps_loc loc)
{
    if (st->opts->lint_absolute_path_literals) {
        bool ok;
        ut_buf msg = UT_BUF_INIT;
        ut_buf_printf(&msg, "home path literals are not portable. Consider replacing path literal '%.*s' by a string, relative path, or parameter",
                      (int)t.l, t.p);
        warn_or_fail(st, st->opts->lint_absolute_path_literals, PS_AT(st, loc),
                     "lint-absolute-path-literals", ut_buf_cstr(&msg), &ok);
        ut_buf_free(&msg);
        if (!ok)
            return NULL;
    }
    const char *home = st->home ? st->home : "";
    size_t hl = strlen(home);
    char *path = ps__alloc_bytes(st, hl + t.l + 1);
    memcpy(path, home, hl);
    memcpy(path + hl, t.p + 1, t.l - 1);
    path[hl + t.l - 1] = 0;
    return path_node(st, path, hl + t.l - 1, loc);
}

bool ps__lint_uri(ps_pstate *st, ps_strtok t, ps_loc loc)
{
    ps_lint level = st->opts->lint_url_literals;
    if (!level)
        return true;
    bool ok;
    ut_buf msg = UT_BUF_INIT;
    ut_buf_printf(&msg, "URL literals are %s. Consider using a string literal \"%.*s\" instead",
                  level == PS_LINT_FATAL ? "disallowed" : "discouraged", (int)t.l, t.p);
    warn_or_fail(st, level, PS_AT(st, loc), "lint-url-literals", ut_buf_cstr(&msg), &ok);
    ut_buf_free(&msg);
    return ok;
}

bool ps__require_pipes(ps_pstate *st, ps_loc loc)
{
    if (st->opts->pipe_operators)
        return true;
    return ps__error_at(st, PS_AT(st, loc),
                        "experimental Nix feature 'pipe-operators' is disabled; add '--extra-experimental-features pipe-operators' to enable it");
}

/* `f x or` calls x with the variable `or`; Nix will make `or` an ordinary
 * identifier, which changes such expressions, and warns where one is used
 * as an argument, a list element or an `or` default. */
void ps__cursed_or_reset(ps_pstate *st, ps_expr *e)
{
    if (st->cursed_or == e)
        st->cursed_or = NULL;
}

void ps__cursed_or_warn(ps_pstate *st, ps_expr *e)
{
    if (!e || st->cursed_or != e)
        return;
    st->cursed_or = NULL;
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "warning: at ");
    ps_format_pos(&b, PS_AT(st, st->cursed_or_loc));
    ut_buf_puts(&b, ": This expression uses `or` as an identifier in a way that will change in a future Nix release.\n"
                    "Wrap this entire expression in parentheses to preserve its current meaning:\n"
                    "    (");
    ps__source_whole(st);
    int a = st->cursed_or_loc.first, z = st->cursed_or_loc.last;
    if (a >= 0 && z >= a && (size_t)z <= st->src->len)
        ut_buf_append(&b, st->src->text + a, (size_t)(z - a));
    else
        ut_buf_puts(&b, "could not read expression");
    ut_buf_puts(&b, ")\nGive feedback at https://github.com/NixOS/nix/pull/11121\n");
    emit_warning(st, &b);
    ut_buf_free(&b);
}

/* Nix strings cannot hold NUL bytes; the lexer refuses string pieces that
 * would, showing each NUL as U+2400 as Nix does. */
bool ps__check_nul(ps_pstate *st, ps_strtok t, ps_loc loc)
{
    if (!memchr(t.p, 0, t.l))
        return true;
    ut_buf b = UT_BUF_INIT;
    for (size_t i = 0; i < t.l; i++) {
        if (t.p[i])
            ut_buf_putc(&b, t.p[i]);
        else
            ut_buf_puts(&b, "\xe2\x90\x80");
    }
    ps__error_at(st, PS_AT(st, loc), "input string '%s' cannot be represented as Nix string because it contains null bytes",
                 ut_buf_cstr(&b));
    ut_buf_free(&b);
    return false;
}
