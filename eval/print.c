/* Value output: nix-instantiate's printer (printAmbiguous: <LAMBDA>,
 * <CODE>, «repeated»), the error-message printer («thunk», «lambda @ pos»,
 * elision limits), JSON and XML. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/internal.h"
#include "eval/pure/fmt.h"

void ev_format_float(ut_buf *out, double f)
{
    /* std::ostream's default: %g with precision 6 */
    char buf[64];
    snprintf(buf, sizeof buf, "%g", f);
    ut_buf_puts(out, buf);
}

void ev_print_string_lit(ut_buf *out, const char *s, size_t len)
{
    ut_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        switch (c) {
        case '"': ut_buf_puts(out, "\\\""); break;
        case '\\': ut_buf_puts(out, "\\\\"); break;
        case '\n': ut_buf_puts(out, "\\n"); break;
        case '\r': ut_buf_puts(out, "\\r"); break;
        case '\t': ut_buf_puts(out, "\\t"); break;
        case '$':
            if (i + 1 < len && s[i + 1] == '{')
                ut_buf_puts(out, "\\$");
            else
                ut_buf_putc(out, '$');
            break;
        default: ut_buf_putc(out, c); break;
        }
    }
    ut_buf_putc(out, '"');
}

/* ---- a pointer set for «repeated» ---------------------------------------- */

typedef struct ptrset {
    const void **v;
    size_t cap, n;
} ptrset;

static bool ptrset_insert(ptrset *s, const void *p)
{
    if (s->n * 2 >= s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        const void **nv = ut_xcalloc(nc, sizeof *nv);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i]) {
                size_t h = ((uintptr_t)s->v[i] >> 4) * 0x9E3779B97F4A7C15ull & (nc - 1);
                while (nv[h])
                    h = (h + 1) & (nc - 1);
                nv[h] = s->v[i];
            }
        free(s->v);
        s->v = nv;
        s->cap = nc;
    }
    size_t h = ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull & (s->cap - 1);
    while (s->v[h]) {
        if (s->v[h] == p)
            return false;
        h = (h + 1) & (s->cap - 1);
    }
    s->v[h] = p;
    s->n++;
    return true;
}

/* ---- deep forcing ---------------------------------------------------- */

/* Nix's forceValueDeep: every value slot is visited once (cycles such as
 * `let x = [ x ]; in x` terminate), attributes get a trace frame, and each
 * level counts against max-call-depth like a call. */
static void force_deep_value(ev_state *S, ev_value *v, ps_pos pos, ptrset *seen);

/* Every value visited counts as a level of depth, checked before the
 * value is forced and reported at the value's own position, as in Nix. */
static void force_deep(ev_state *S, ev_value *v, ps_pos pos, ptrset *seen)
{
    S->call_depth++;
    if (S->call_depth > S->max_call_depth)
        ev_check_depth(S, ev_value_pos(S, v));
    if (ptrset_insert(seen, v))
        force_deep_value(S, v, pos, seen);
    S->call_depth--;
}

static void force_deep_value(ev_state *S, ev_value *v, ps_pos pos, ptrset *seen)
{
    ev_force(S, v, pos);
    if (v->type == EV_ATTRS) {
        ev_value *hold = ev_push1(S);
        *hold = *v;
        /* each level counts as a call (Nix's forceValueDeep), but the
         * limit is enforced by the calls made below it */
        extern void ev_check_cstack(ev_state * S, ps_pos pos);
        ev_check_cstack(S, pos);
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        for (uint32_t i = 0; i < a->h.n; i++) {
            ev_trace_push(S, ev_pos_get(S, a->a[i].pos), "while evaluating the attribute '%s'",
                          ps_sym_str(S->syms, a->a[i].name));
            force_deep(S, &a->a[i].value, pos, seen);
            S->ntraces--;
        }
        S->sp = hold;
    } else if (v->type == EV_LIST) {
        ev_value *hold = ev_push1(S);
        *hold = *v;
        extern void ev_check_cstack(ev_state * S, ps_pos pos);
        ev_check_cstack(S, pos);
        ev_list *l = v->u.l;
        for (uint32_t i = 0; i < l->h.n; i++) {
            ev_trace_push_fast(S, (ps_pos){0}, "while evaluating list element at index %ld", NULL);
            S->traces[S->ntraces - 1].iarg = (long)i;
            force_deep(S, &l->v[i], pos, seen);
            S->ntraces--;
        }
        S->sp = hold;
    }
}

void ev_force_deep(ev_state *S, ev_value *v, ps_pos pos)
{
    /* the set is a GC scratch object so an error unwinding through here
     * leaks nothing */
    ptrset seen = {0};
    force_deep(S, v, pos, &seen);
    free(seen.v);
}


static bool is_ident(const char *s)
{
    static const char *const kw[] = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or", NULL};
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '\'' || *p == '-'))
            return false;
    for (int i = 0; kw[i]; i++)
        if (strcmp(s, kw[i]) == 0)
            return false;
    return true;
}

static void print_attr_name(ut_buf *out, const char *s)
{
    if (is_ident(s))
        ut_buf_puts(out, s);
    else
        ev_print_string_lit(out, s, strlen(s));
}

/* ---- printAmbiguous -------------------------------------------------------- */

static void print_amb(ev_state *S, ut_buf *out, ev_value *v, ptrset *seen, int depth)
{
    if (depth <= 0) {
        ut_buf_puts(out, "«too deep»");
        return;
    }
    switch (v->type) {
    case EV_INT: ut_buf_printf(out, "%" PRId64, v->u.i); break;
    case EV_BOOL: ut_buf_puts(out, v->u.b ? "true" : "false"); break;
    case EV_STRING: ev_print_string_lit(out, v->u.s->s, v->u.s->len); break;
    case EV_PATH: ut_buf_append(out, v->u.s->s, v->u.s->len); break;
    case EV_NULL: ut_buf_puts(out, "null"); break;
    case EV_FLOAT: ev_format_float(out, v->u.f); break;
    case EV_ATTRS: {
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        if (a->h.n && !ptrset_insert(seen, a)) {
            ut_buf_puts(out, "«repeated»");
            break;
        }
        ut_buf_puts(out, "{ ");
        uint32_t *idx = ut_xmalloc((a->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, a, idx);
        for (uint32_t i = 0; i < a->h.n; i++) {
            ev_attr *at = &a->a[idx[i]];
            print_attr_name(out, ps_sym_str(S->syms, at->name));
            ut_buf_puts(out, " = ");
            print_amb(S, out, &at->value, seen, depth - 1);
            ut_buf_puts(out, "; ");
        }
        free(idx);
        ut_buf_putc(out, '}');
        break;
    }
    case EV_LIST: {
        ev_list *l = v->u.l;
        if (l->h.n && !ptrset_insert(seen, v)) {
            ut_buf_puts(out, "«repeated»");
            break;
        }
        ut_buf_puts(out, "[ ");
        for (uint32_t i = 0; i < l->h.n; i++) {
            print_amb(S, out, &l->v[i], seen, depth - 1);
            ut_buf_putc(out, ' ');
        }
        ut_buf_putc(out, ']');
        break;
    }
    case EV_THUNK: {
        ev_thunk *t = v->u.t;
        if (EV_TH_STATE(t) == EV_TH_DONE) {
            print_amb(S, out, &t->u.v, seen, depth);
            break;
        }
        ut_buf_puts(out, (t->h.flags & EV_TH_BH) ? "«potential infinite recursion»" : "<CODE>");
        break;
    }
    case EV_APPI: ut_buf_puts(out, v->pad[0] ? "«potential infinite recursion»" : "<CODE>"); break;
    case EV_LREF: print_amb(S, out, ev_lref_slot(v), seen, depth); break;
    case EV_LAMBDA: ut_buf_puts(out, "<LAMBDA>"); break;
    case EV_PRIMOP: ut_buf_puts(out, "<PRIMOP>"); break;
    case EV_PRIMOP_APP: ut_buf_puts(out, "<PRIMOP-APP>"); break;
    default: ut_buf_puts(out, "<INTERNAL>"); break;
    }
}

void ev_print(ev_state *S, ut_buf *out, ev_value *v, unsigned flags)
{
    (void)flags;
    ptrset seen = {0};
    print_amb(S, out, v, &seen, 1 << 30);
    free(seen.v);
}

/* ---- error-message printer (Nix's ValuePrinter with errorPrintOptions) --- */


typedef struct errprint {
    ptrset seen;
    size_t attrs_printed, items_printed;   /* totals over the whole value, as Nix */
} errprint;

static void print_err(ev_state *S, ut_buf *out, ev_value *v, errprint *ep, int depth)
{
    switch (v->type) {
    case EV_STRING:
        if (v->u.s->len > 1024) {
            ev_print_string_lit(out, v->u.s->s, 1024);
            out->len--;
            out->data[out->len] = 0;
            ut_buf_printf(out, "\" «%zu bytes elided»", v->u.s->len - 1024);
        } else {
            ev_print_string_lit(out, v->u.s->s, v->u.s->len);
        }
        return;
    case EV_ATTRS: {
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        ev_attr *t = ev_attrs_find(a, S->s_type);
        if (t && t->value.type == EV_STRING && strcmp(t->value.u.s->s, "derivation") == 0) {
            ev_attr *d = ev_attrs_find(a, S->s_drvPath);
            ut_buf_puts(out, "«derivation");
            if (d && d->value.type == EV_STRING) {
                ut_buf_putc(out, ' ');
                ut_buf_puts(out, d->value.u.s->s);
            } else {
                ut_buf_puts(out, " ???");
            }
            ut_buf_puts(out, "»");
            return;
        }
        if (a->h.n == 0) {
            ut_buf_puts(out, "{ }");
            return;
        }
        if (!ptrset_insert(&ep->seen, a)) {
            ut_buf_puts(out, "«repeated»");
            return;
        }
        if (depth >= 10) {
            ut_buf_puts(out, "{ ... }");
            return;
        }
        ut_buf_puts(out, "{ ");
        uint32_t *idx = ut_xmalloc((a->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, a, idx);
        uint32_t shown = 0;
        for (uint32_t i = 0; i < a->h.n; i++) {
            if (ep->attrs_printed >= 10) {
                uint32_t rest = a->h.n - shown;
                ut_buf_printf(out, "«%u attribute%s elided» ", rest, rest == 1 ? "" : "s");
                break;
            }
            ev_attr *at = &a->a[idx[i]];
            print_attr_name(out, ps_sym_str(S->syms, at->name));
            ut_buf_puts(out, " = ");
            print_err(S, out, &at->value, ep, depth + 1);
            ut_buf_puts(out, "; ");
            shown++;
            ep->attrs_printed++;
        }
        free(idx);
        ut_buf_putc(out, '}');
        return;
    }
    case EV_LIST: {
        ev_list *l = v->u.l;
        if (l->h.n == 0) {
            ut_buf_puts(out, "[ ]");
            return;
        }
        if (!ptrset_insert(&ep->seen, l)) {
            ut_buf_puts(out, "«repeated»");
            return;
        }
        if (depth >= 10) {
            ut_buf_puts(out, "[ ... ]");
            return;
        }
        ut_buf_puts(out, "[ ");
        for (uint32_t i = 0; i < l->h.n; i++) {
            if (ep->items_printed >= 10) {
                uint32_t rest = l->h.n - i;
                ut_buf_printf(out, "«%u item%s elided» ", rest, rest == 1 ? "" : "s");
                break;
            }
            print_err(S, out, &l->v[i], ep, depth + 1);
            ut_buf_putc(out, ' ');
            ep->items_printed++;
        }
        ut_buf_putc(out, ']');
        return;
    }
    case EV_THUNK: {
        ev_thunk *t = v->u.t;
        if (EV_TH_STATE(t) == EV_TH_DONE && !(t->h.flags & EV_TH_BH)) {
            print_err(S, out, &t->u.v, ep, depth);
            return;
        }
        ut_buf_puts(out, (t->h.flags & EV_TH_BH) ? "«potential infinite recursion»" : "«thunk»");
        return;
    }
    case EV_LAMBDA: {
        const ev_clambda *cl = v->u.fn->code;
        ut_buf_puts(out, "«lambda");
        if (cl->name) {
            ut_buf_putc(out, ' ');
            ut_buf_puts(out, ps_sym_str(S->syms, cl->name));
        }
        if (cl->pos.src) {
            ut_buf_puts(out, " @ ");
            ps_format_pos(out, cl->pos);
        }
        ut_buf_puts(out, "»");
        return;
    }
    case EV_APPI:
        ut_buf_puts(out, v->pad[0] ? "«potential infinite recursion»" : "«thunk»");
        return;
    case EV_LREF:
        v = ev_lref_slot(v);
        ut_buf_puts(out, v->type == EV_APPI && v->pad[0] ? "«potential infinite recursion»" : "«thunk»");
        return;
    case EV_PRIMOP:
        ut_buf_printf(out, "«primop %s»", v->u.op->name);
        return;
    case EV_PRIMOP_APP:
        ut_buf_printf(out, "«partially applied primop %s»", v->u.papp->op->name);
        return;
    case EV_FLOAT:
        ev_format_float(out, v->u.f);
        return;
    default: {
        ptrset s2 = {0};
        print_amb(S, out, v, &s2, 1);
        free(s2.v);
        return;
    }
    }
}

void ev_print_for_error(ev_state *S, ut_buf *out, ev_value *v);
void ev_print_for_error(ev_state *S, ut_buf *out, ev_value *v)
{
    errprint ep = {{0}, 0, 0};
    print_err(S, out, v, &ep, 0);
    free(ep.seen.v);
}

/* "Did you mean ...?" for a missing attribute: names within Levenshtein
 * distance, as Nix's Suggestions::bestMatches. */
static int levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int *row = ut_xmalloc((lb + 1) * sizeof(int));
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int m = prev + cost;
            if (row[j] + 1 < m)
                m = row[j] + 1;
            if (row[j - 1] + 1 < m)
                m = row[j - 1] + 1;
            row[j] = m;
            prev = cur;
        }
    }
    int r = row[lb];
    free(row);
    return r;
}

typedef struct sugg {
    int d;
    const char *s;
} sugg;

static int sugg_cmp(const void *x, const void *y)
{
    const sugg *a = x, *b = y;
    if (a->d != b->d)
        return a->d - b->d;
    return strcmp(a->s, b->s);
}

void ev_suggest(ev_state *S, ut_buf *out, const ev_attrs *a, const char *name);
void ev_suggest(ev_state *S, ut_buf *out, const ev_attrs *a, const char *name)
{
    sugg *v = ut_xmalloc((a->h.n + 1) * sizeof *v);
    size_t n = 0;
    int limit = (int)(strlen(name) / 3) + 1;
    (void)limit;
    for (uint32_t i = 0; i < a->h.n; i++) {
        const char *s = ps_sym_str(S->syms, a->a[i].name);
        int d = levenshtein(name, s);
        if (d <= 2 || (d <= 3 && strlen(name) > 3)) {
            v[n].d = d;
            v[n].s = s;
            n++;
        }
    }
    qsort(v, n, sizeof *v, sugg_cmp);
    if (n > 3)
        n = 3;
    if (n) {
        ut_buf_puts(out, "\n\x01");
        ut_buf_puts(out, n == 1 ? "Did you mean " : "Did you mean one of ");
        for (size_t i = 0; i < n; i++) {
            if (i)
                ut_buf_puts(out, i + 1 == n ? " or " : ", ");
            ut_buf_puts(out, v[i].s);
        }
        ut_buf_putc(out, '?');
    }
    free(v);
}

/* ---- JSON ------------------------------------------------------------- */

static void json_string(ut_buf *out, const char *s, size_t len)
{
    ut_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': ut_buf_puts(out, "\\\""); break;
        case '\\': ut_buf_puts(out, "\\\\"); break;
        case '\n': ut_buf_puts(out, "\\n"); break;
        case '\r': ut_buf_puts(out, "\\r"); break;
        case '\t': ut_buf_puts(out, "\\t"); break;
        case '\b': ut_buf_puts(out, "\\b"); break;
        case '\f': ut_buf_puts(out, "\\f"); break;
        default:
            if (c < 0x20)
                ut_buf_printf(out, "\\u%04x", c);
            else
                ut_buf_putc(out, (char)c);
        }
    }
    ut_buf_putc(out, '"');
}

static void to_json_value(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool strict, ev_ctxset *ctx, int depth);

/* Every value toJSON visits counts against max-call-depth, as in Nix. */
static void to_json(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool strict, ev_ctxset *ctx, int depth)
{
    ev_check_depth(S, pos);
    S->call_depth++;
    to_json_value(S, out, v, pos, strict, ctx, depth);
    S->call_depth--;
}

static void to_json_value(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool strict, ev_ctxset *ctx, int depth)
{
    ev_force(S, v, pos);
    switch (v->type) {
    case EV_INT: ut_buf_printf(out, "%" PRId64, v->u.i); return;
    case EV_FLOAT: ev_fmt_float_json(v->u.f, out); return;
    case EV_BOOL: ut_buf_puts(out, v->u.b ? "true" : "false"); return;
    case EV_NULL: ut_buf_puts(out, "null"); return;
    case EV_STRING:
        if (ctx)
            ev_ctxset_add_ctx(ctx, v->u.s->ctx);
        json_string(out, v->u.s->s, v->u.s->len);
        return;
    case EV_PATH: {
        char *sp = ev_copy_path_to_store(S, v->u.s->s, pos);
        if (ctx)
            ev_ctxset_add(S, ctx, sp, strlen(sp));
        json_string(out, sp, strlen(sp));
        free(sp);
        return;
    }
    case EV_ATTRS: {
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        ev_attr *ts = ev_attrs_find(a, S->s_toString);
        ev_attr *op = ev_attrs_find(a, S->s_outPath);
        if (!ts && op) {
            /* outPath is peeled and converted as whatever it is */
            size_t mark = ev_stack_mark(S);
            ev_value *hold = ev_push1(S);
            *hold = *v;
            ev_trace_push(S, ev_pos_get(S, op->pos), "while using the `outPath` attribute", NULL);
            to_json(S, out, &op->value, pos, strict, ctx, depth + 1);
            ev_trace_pop(S);
            ev_stack_reset(S, mark);
            return;
        }
        if (ts) {
            /* toJSON takes __toString's result only as a string */
            ps_pos fpos = ev_pos_get(S, ts->pos);
            size_t mark = ev_stack_mark(S);
            ev_value *slots = ev_stack_push(S, 3);
            slots[0] = ts->value;
            slots[1] = *v;
            ev_trace_push(S, fpos, "while calling the `__toString` attribute", NULL);
            ev_call(S, &slots[0], 1, &slots[1], &slots[2], fpos);
            ev_force(S, &slots[2], fpos);
            ev_trace_pop(S);
            ev_trace_push(S, fpos, "while using the result of the `__toString` attribute", NULL);
            if (slots[2].type == EV_ATTRS && (ev_attrs_find(slots[2].u.a, S->s_toString) ||
                                              ev_attrs_find(slots[2].u.a, S->s_outPath))) {
                /* a set that is itself coercible is peeled further */
                ut_buf b = UT_BUF_INIT;
                ev_ctxset c2 = {0};
                ev_coerce_to_string(S, &slots[2], fpos, EV_COERCE_COPY_TO_STORE, &b, &c2, NULL);
                if (ctx)
                    for (size_t i = 0; i < c2.n; i++)
                        ev_ctxset_add(S, ctx, c2.e[i], strlen(c2.e[i]));
                ev_ctxset_free(&c2);
                json_string(out, b.data ? b.data : "", b.len);
                ut_buf_free(&b);
                ev_trace_pop(S);
                ev_stack_reset(S, mark);
                return;
            }
            if (slots[2].type != EV_STRING) {
                ut_buf shown = UT_BUF_INIT;
                extern void ev_print_for_error(ev_state * S, ut_buf * out, ev_value * v);
                ev_print_for_error(S, &shown, &slots[2]);
                ut_buf m = UT_BUF_INIT;
                ut_buf_printf(&m, "`__toString` %s return a string, but got %s: %s",
                              slots[2].type == EV_ATTRS ? "must" : "should", ev_type_name(&slots[2]),
                              shown.data ? shown.data : "");
                ut_buf_free(&shown);
                extern UT_NORETURN void ev_error_owned(ev_state * S, ev_errkind kind, ps_pos pos, char *msg);
                ev_error_owned(S, EV_ERR_EVAL, fpos, ut_buf_steal(&m, NULL));
            }
            ev_string *str = slots[2].u.s;
            if (ctx && str->ctx)
                ev_ctxset_add_ctx(ctx, str->ctx);
            json_string(out, str->s, str->len);
            ev_trace_pop(S);
            ev_stack_reset(S, mark);
            return;
        }
        size_t mark = ev_stack_mark(S);
        ev_value *hold = ev_push1(S);
        *hold = *v;
        uint32_t *idx = ev_scratch_alloc(S, (a->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, a, idx);
        ut_buf_putc(out, '{');
        for (uint32_t i = 0; i < a->h.n; i++) {
            if (i)
                ut_buf_putc(out, ',');
            const char *nm = ps_sym_str(S->syms, a->a[idx[i]].name);
            json_string(out, nm, strlen(nm));
            ut_buf_putc(out, ':');
            ev_trace_push(S, ev_pos_get(S, a->a[idx[i]].pos), "while evaluating attribute '%s'", nm);
            /* Nix passes each attribute's position down: list elements
             * below it are reported there */
            to_json(S, out, &a->a[idx[i]].value, ev_pos_get(S, a->a[idx[i]].pos), strict, ctx, depth + 1);
            S->ntraces--;
        }
        ut_buf_putc(out, '}');
        ev_stack_reset(S, mark);
        return;
    }
    case EV_LIST: {
        size_t mark = ev_stack_mark(S);
        ev_value *hold = ev_push1(S);
        *hold = *v;
        ev_list *l = v->u.l;
        ut_buf_putc(out, '[');
        for (uint32_t i = 0; i < l->h.n; i++) {
            if (i)
                ut_buf_putc(out, ',');
            ev_trace_push_fast(S, pos, "while evaluating list element at index %ld", NULL);
            S->traces[S->ntraces - 1].iarg = (long)i;
            to_json(S, out, &l->v[i], pos, strict, ctx, depth + 1);
            S->ntraces--;
        }
        ut_buf_putc(out, ']');
        ev_stack_reset(S, mark);
        return;
    }
    default:
        ev_error(S, EV_ERR_EVAL, pos, "cannot convert %s to JSON", ev_type_name(v));
    }
}

void ev_to_json(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool strict, ev_ctxset *ctx)
{
    to_json(S, out, v, pos, strict, ctx, 0);
}

/* ---- XML ------------------------------------------------------------------ */

static void xml_escape(ut_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '"': ut_buf_puts(out, "&quot;"); break;
        case '<': ut_buf_puts(out, "&lt;"); break;
        case '>': ut_buf_puts(out, "&gt;"); break;
        case '&': ut_buf_puts(out, "&amp;"); break;
        case '\n': ut_buf_puts(out, "&#xA;"); break;
        case '\r': ut_buf_puts(out, "&#xD;"); break;
        case '\t': ut_buf_puts(out, "&#x9;"); break;
        default: ut_buf_putc(out, s[i]); break;
        }
    }
}

static void ind(ut_buf *out, int n)
{
    for (int i = 0; i < n; i++)
        ut_buf_puts(out, "  ");
}

static void xml_value(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool location, ev_ctxset *ctx, int d,
                      ptrset *drvs);

static void xml_attrs(ev_state *S, ut_buf *out, ev_attrs *a, ps_pos pos, bool location, ev_ctxset *ctx, int d,
                      ptrset *drvs)
{
    uint32_t *idx = ev_scratch_alloc(S, (a->h.n + 1) * sizeof *idx);
    ev_attrs_sorted_by_name(S, a, idx);
    for (uint32_t i = 0; i < a->h.n; i++) {
        ev_attr *at = &a->a[idx[i]];
        ind(out, d);
        ut_buf_puts(out, "<attr name=\"");
        const char *nm = ps_sym_str(S->syms, at->name);
        xml_escape(out, nm, strlen(nm));
        ut_buf_puts(out, "\">\n");
        xml_value(S, out, &at->value, pos, location, ctx, d + 1, drvs);
        ind(out, d);
        ut_buf_puts(out, "</attr>\n");
    }
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void xml_value(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool location, ev_ctxset *ctx, int d,
                      ptrset *drvs)
{
    ev_check_depth(S, pos);
    ev_force(S, v, pos);
    ind(out, d);
    char buf[64];
    switch (v->type) {
    case EV_STRING:
        if (ctx)
            ev_ctxset_add_ctx(ctx, v->u.s->ctx);
        ut_buf_puts(out, "<string value=\"");
        xml_escape(out, v->u.s->s, v->u.s->len);
        ut_buf_puts(out, "\" />\n");
        return;
    case EV_INT: ut_buf_printf(out, "<int value=\"%" PRId64 "\" />\n", v->u.i); return;
    case EV_BOOL: ut_buf_printf(out, "<bool value=\"%s\" />\n", v->u.b ? "true" : "false"); return;
    case EV_NULL: ut_buf_puts(out, "<null />\n"); return;
    case EV_FLOAT:
        snprintf(buf, sizeof buf, "%g", v->u.f);
        ut_buf_printf(out, "<float value=\"%s\" />\n", buf);
        return;
    case EV_PATH:
        ut_buf_puts(out, "<path value=\"");
        xml_escape(out, v->u.s->s, v->u.s->len);
        ut_buf_puts(out, "\" />\n");
        return;
    case EV_ATTRS: {
        size_t mark = ev_stack_mark(S);
        ev_value *hold = ev_push1(S);
        *hold = *v;
        ev_attrs *a = ev_attrs_flat(S, v->u.a);
        ev_attr *t = ev_attrs_find(a, S->s_type);
        bool isdrv = false;
        if (t) {
            ev_force(S, &t->value, pos);
            isdrv = t->value.type == EV_STRING && strcmp(t->value.u.s->s, "derivation") == 0;
        }
        if (isdrv) {
            ut_buf_puts(out, "<derivation");
            ev_attr *dp = ev_attrs_find(a, S->s_drvPath);
            if (dp) {
                ev_force(S, &dp->value, pos);
                if (dp->value.type == EV_STRING) {
                    ut_buf_puts(out, " drvPath=\"");
                    xml_escape(out, dp->value.u.s->s, dp->value.u.s->len);
                    ut_buf_putc(out, '"');
                }
            }
            ev_attr *op = ev_attrs_find(a, S->s_outPath);
            if (op) {
                ev_force(S, &op->value, pos);
                if (op->value.type == EV_STRING) {
                    ut_buf_puts(out, " outPath=\"");
                    xml_escape(out, op->value.u.s->s, op->value.u.s->len);
                    ut_buf_putc(out, '"');
                }
            }
            ut_buf_puts(out, ">\n");
            if (ptrset_insert(drvs, a))
                xml_attrs(S, out, a, pos, location, ctx, d + 1, drvs);
            else {
                ind(out, d + 1);
                ut_buf_puts(out, "<repeated />\n");
            }
            ind(out, d);
            ut_buf_puts(out, "</derivation>\n");
        } else {
            ut_buf_puts(out, "<attrs>\n");
            xml_attrs(S, out, a, pos, location, ctx, d + 1, drvs);
            ind(out, d);
            ut_buf_puts(out, "</attrs>\n");
        }
        ev_stack_reset(S, mark);
        return;
    }
    case EV_LIST: {
        size_t mark = ev_stack_mark(S);
        ev_value *hold = ev_push1(S);
        *hold = *v;
        ut_buf_puts(out, "<list>\n");
        for (uint32_t i = 0; i < v->u.l->h.n; i++)
            xml_value(S, out, &hold->u.l->v[i], pos, location, ctx, d + 1, drvs);
        ind(out, d);
        ut_buf_puts(out, "</list>\n");
        ev_stack_reset(S, mark);
        return;
    }
    case EV_LAMBDA: {
        const ev_clambda *cl = v->u.fn->code;
        ut_buf_puts(out, "<function>\n");
        if (cl->has_formals) {
            ind(out, d + 1);
            ut_buf_puts(out, "<attrspat");
            if (cl->ellipsis)
                ut_buf_puts(out, " ellipsis=\"1\"");
            if (cl->arg) {
                ut_buf_puts(out, " name=\"");
                const char *nm = ps_sym_str(S->syms, cl->arg);
                xml_escape(out, nm, strlen(nm));
                ut_buf_putc(out, '"');
            }
            ut_buf_puts(out, ">\n");
            const char **names = ut_xmalloc((cl->nformals + 1) * sizeof(char *));
            for (uint32_t i = 0; i < cl->nformals; i++)
                names[i] = ps_sym_str(S->syms, cl->formals[i].name);
            qsort(names, cl->nformals, sizeof(char *), cmp_cstr);
            for (uint32_t i = 0; i < cl->nformals; i++) {
                ind(out, d + 2);
                ut_buf_puts(out, "<attr name=\"");
                xml_escape(out, names[i], strlen(names[i]));
                ut_buf_puts(out, "\" />\n");
            }
            free(names);
            ind(out, d + 1);
            ut_buf_puts(out, "</attrspat>\n");
        } else {
            ind(out, d + 1);
            ut_buf_puts(out, "<varpat name=\"");
            const char *nm = ps_sym_str(S->syms, cl->arg);
            xml_escape(out, nm, strlen(nm));
            ut_buf_puts(out, "\" />\n");
        }
        ind(out, d);
        ut_buf_puts(out, "</function>\n");
        return;
    }
    default:
        ut_buf_puts(out, "<unevaluated />\n");
        return;
    }
}

void ev_to_xml(ev_state *S, ut_buf *out, ev_value *v, ps_pos pos, bool location, ev_ctxset *ctx)
{
    ptrset drvs = {0};
    ut_buf_puts(out, "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n");
    size_t mark = ev_stack_mark(S);
    xml_value(S, out, v, pos, location, ctx, 1, &drvs);
    ev_stack_reset(S, mark);
    ut_buf_puts(out, "</expr>\n");
    free(drvs.v);
}
