/* Values: constructors, attribute sets, string contexts, type names, typed
 * forcing, coercion to strings, equality and ordering. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/internal.h"

/* ---- strings ----------------------------------------------------------- */

/* Decimal, as printf's %lld writes it (toString of integers is frequent
 * enough in nixpkgs for printf's machinery to show) */
static void put_int(ut_buf *out, int64_t i)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    ut_buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

ev_string *ev_string_alloc(ev_state *S, size_t len)
{
    size_t size = sizeof(ev_string) + len + 1;
    /* the caller fills the bytes: only the header is cleared */
    ev_string *s = size > EV_SMALL_MAX ? ev_gc_alloc_partial(S, EV_OBJ_STRING, size, sizeof(ev_string))
                                       : ev_gc_alloc_small_partial(S, EV_OBJ_STRING, size, sizeof(ev_string));
    s->len = len;
    s->s[len] = 0;
    return s;
}

ev_value ev_mk_string(ev_state *S, const char *p, size_t len, ev_context *ctx)
{
    if (len == 0 && !ctx && S->empty_string)
        return ev_mk_string_obj(S->empty_string);
    ev_string *s = ev_string_alloc(S, len);
    memcpy(s->s, p, len);
    s->ctx = ctx;
    return ev_mk_string_obj(s);
}

ev_value ev_mk_cstring(ev_state *S, const char *p) { return ev_mk_string(S, p, strlen(p), NULL); }

ev_value ev_mk_path(ev_state *S, const char *p, size_t len)
{
    ev_string *s = ev_string_alloc(S, len);
    memcpy(s->s, p, len);
    ev_value v = {0};
    v.type = EV_PATH;
    v.u.s = s;
    return v;
}

/* ---- lists ------------------------------------------------------------ */

ev_list *ev_list_new(ev_state *S, size_t n)
{
    if (n > UINT32_MAX)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "list too long");
    ev_list *l = ev_gc_alloc_small(S, EV_OBJ_LIST, sizeof(ev_list) + n * sizeof(ev_value));
    l->h.n = (uint32_t)n;
    return l;
}

/* ---- attribute sets ------------------------------------------------------ */

ev_attrs *ev_attrs_new(ev_state *S, size_t cap)
{
    if (cap > UINT32_MAX)
        ev_error(S, EV_ERR_EVAL, (ps_pos){0}, "attribute set too large");
    /* entries past h.n are never read: only the header is cleared */
    size_t bytes = sizeof(ev_attrs) + cap * sizeof(ev_attr);
    ev_attrs *a = ev_gc_alloc_small_partial(S, EV_OBJ_ATTRS, bytes, sizeof(ev_attrs));
    a->cap = (uint32_t)cap;
    a->h.n = 0;
    return a;
}

ev_attrs *ev_attrs_empty(ev_state *S) { return ev_attrs_new(S, 0); }

void ev_attrs_add(ev_attrs *a, ps_sym name, ev_value v, uint32_t pos)
{
    if (a->h.n >= a->cap)
        ut_die("internal error: attrset builder overflow");
    ev_attr *e = &a->a[a->h.n++];
    e->name = name;
    e->pos = pos;
    e->value = v;
}

/* Stable merge sort by symbol, so "first added wins" survives dedup. */
static void attr_msort(ev_attr *v, ev_attr *tmp, size_t n)
{
    if (n < 12) {
        for (size_t i = 1; i < n; i++) {
            ev_attr x = v[i];
            size_t j = i;
            while (j > 0 && v[j - 1].name > x.name) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    attr_msort(v, tmp, h);
    attr_msort(v + h, tmp, n - h);
    if (v[h - 1].name <= v[h].name)
        return;
    memcpy(tmp, v, h * sizeof *v);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        v[k++] = (v[j].name < tmp[i].name) ? v[j++] : tmp[i++];
    while (i < h)
        v[k++] = tmp[i++];
}

void ev_attrs_finish(ev_attrs *a)
{
    uint32_t n = a->h.n;
    if (n < 2)
        return;
    bool sorted = true;
    for (uint32_t i = 1; i < n; i++)
        if (a->a[i - 1].name >= a->a[i].name) {
            sorted = false;
            break;
        }
    if (sorted)
        return;
    ev_attr *tmp = ut_xmalloc((n / 2 + 1) * sizeof(ev_attr));
    attr_msort(a->a, tmp, n);
    free(tmp);
    uint32_t w = 1;
    for (uint32_t i = 1; i < n; i++)
        if (a->a[i].name != a->a[w - 1].name)
            a->a[w++] = a->a[i];
    a->h.n = w;
}

static ev_attr *find_flat(const ev_attrs *a, ps_sym name)
{
    uint32_t lo = 0, hi = a->h.n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        ps_sym s = a->a[mid].name;
        if (s == name)
            return (ev_attr *)&a->a[mid];
        if (s < name)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

ev_attr *ev_attrs_find(const ev_attrs *a, ps_sym name)
{
    uint32_t bit = ev_attrs_filter_bit(name);
    while (a->h.flags & EV_ATTRS_LAYER) {
        if (a->h.flags & EV_ATTRS_FLATTENED)
            return find_flat(a->base, name);
        if (a->filter & bit) {
            ev_attr *r = find_flat(a, name);
            if (r)
                return r;
        }
        a = a->base;
    }
    return find_flat(a, name);
}

/* Through the layers to the flat set at the bottom, where the hint is
 * the index found there last time */
ev_attr *ev_attrs_find_hint_layer(const ev_attrs *a, ps_sym name, uint32_t *hint)
{
    uint32_t bit = ev_attrs_filter_bit(name);
    while (a->h.flags & EV_ATTRS_LAYER) {
        if (a->h.flags & EV_ATTRS_FLATTENED) {
            a = a->base;
            break;
        }
        if (a->filter & bit) {
            ev_attr *r = find_flat(a, name);
            if (r)
                return r;
        }
        a = a->base;
    }
    return ev_attrs_find_hint_flat(a, name, hint);
}

uint32_t ev_attrs_merge(const ev_attrs *a, ev_attr *out, const ps_sym *skip, uint32_t nskip)
{
    /* the layers over the flat set at the bottom, the top first */
    const ev_attrs *lay[EV_ATTRS_MAX_DEPTH + 1];
    uint32_t at[EV_ATTRS_MAX_DEPTH + 1];
    unsigned k = 0;
    size_t nov = 0;
    const ev_attrs *x = a;
    while ((x->h.flags & EV_ATTRS_LAYER) && !(x->h.flags & EV_ATTRS_FLATTENED)) {
        if (k == EV_ATTRS_MAX_DEPTH + 1)
            ut_die("internal error: attribute set layers deeper than %d", EV_ATTRS_MAX_DEPTH);
        nov += x->h.n;
        lay[k++] = x;
        x = x->base;
    }
    const ev_attrs *bot = x->h.flags & EV_ATTRS_LAYER ? x->base : x;
    /* the layers' few names in one sorted run, a name from the highest
     * layer that has it (each layer is small, so this is cheap) ... */
    ev_attr stackbuf[128];
    ev_attr *ov = nov <= 128 ? stackbuf : ut_xmalloc(nov * sizeof *ov);
    memset(at, 0, k * sizeof *at);
    uint32_t m = 0;
    for (;;) {
        ps_sym min = PS_NOSYM;
        int src = -1;
        for (unsigned j = 0; j < k; j++)
            if (at[j] < lay[j]->h.n && (src < 0 || lay[j]->a[at[j]].name < min)) {
                min = lay[j]->a[at[j]].name;
                src = (int)j;
            }
        if (src < 0)
            break;
        ov[m++] = lay[src]->a[at[src]];
        for (unsigned j = (unsigned)src; j < k; j++)
            if (at[j] < lay[j]->h.n && lay[j]->a[at[j]].name == min)
                at[j]++;
    }
    /* ... placed in the bottom set by binary search, which is copied in
     * the runs between them */
    uint32_t n = 0, i = 0, room = ev_attrs_count(a);
    for (uint32_t j = 0; j < m; j++) {
        uint32_t lo = ev_attrs_lower_bound(bot, i, bot->h.n, ov[j].name);
        if (n + (lo - i) + 1 > room)
            ut_die("internal error: attribute set layer miscounted");
        memcpy(&out[n], &bot->a[i], (size_t)(lo - i) * sizeof *out);
        n += lo - i;
        i = lo;
        if (i < bot->h.n && bot->a[i].name == ov[j].name)
            i++;
        out[n++] = ov[j];
    }
    if (n + (bot->h.n - i) > room)
        ut_die("internal error: attribute set layer miscounted");
    memcpy(&out[n], &bot->a[i], (size_t)(bot->h.n - i) * sizeof *out);
    n += bot->h.n - i;
    if (ov != stackbuf)
        free(ov);
    if (nskip) {
        uint32_t w = 0, si = 0;
        for (uint32_t r = 0; r < n; r++) {
            while (si < nskip && skip[si] < out[r].name)
                si++;
            if (si == nskip || skip[si] != out[r].name)
                out[w++] = out[r];
        }
        n = w;
    }
    return n;
}

ev_attrs *ev_attrs_flat(ev_state *S, ev_attrs *a)
{
    if (!(a->h.flags & EV_ATTRS_LAYER))
        return a;
    if (a->h.flags & EV_ATTRS_FLATTENED)
        return a->base;
    ev_attrs *f = ev_attrs_new(S, a->cap);
    f->h.n = ev_attrs_merge(a, f->a, NULL, 0);
    if (f->h.n != a->cap)
        ut_die("internal error: attribute set layer miscounted");
    a->base = f;
    a->h.flags |= EV_ATTRS_FLATTENED;
    ev_gc_write(S, &a->base);
    return f;
}

/* Sorting by name compares the first eight bytes as one big-endian
 * integer (bytes after a NUL read as zero, as strcmp stops there) and the
 * rest with strcmp only when those are equal; most attribute names differ
 * early, so a sort is mostly integer comparisons. */
typedef struct name_key {
    uint64_t key;
    const char *s;
    uint32_t idx;
} name_key;

static inline int name_key_cmp(const name_key *a, const name_key *b)
{
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    /* equal so far; a name shorter than eight bytes ends within the key */
    if ((a->key & 0xff) == 0)
        return 0;
    return strcmp(a->s + 8, b->s + 8);
}

static void name_key_isort(name_key *k, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        name_key x = k[i];
        uint32_t j = i;
        while (j > 0 && name_key_cmp(&k[j - 1], &x) > 0) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = x;
    }
}

/* merge sort with the comparison inlined (qsort's indirect calls and
 * byte-wise element moves cost more than the comparisons) */
static void name_key_msort(name_key *k, name_key *tmp, uint32_t n)
{
    if (n <= 16) {
        name_key_isort(k, n);
        return;
    }
    uint32_t h = n / 2;
    name_key_msort(k, tmp, h);
    name_key_msort(k + h, tmp, n - h);
    if (name_key_cmp(&k[h - 1], &k[h]) <= 0)
        return;
    memcpy(tmp, k, h * sizeof *k);
    uint32_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        k[o++] = name_key_cmp(&k[j], &tmp[i]) < 0 ? k[j++] : tmp[i++];
    while (i < h)
        k[o++] = tmp[i++];
}

void ev_attrs_sorted_by_name(ev_state *S, const ev_attrs *a, uint32_t *idx)
{
    uint32_t n = a->h.n;
    name_key local[64];
    name_key *k = n <= 64 ? local : ut_xmalloc(n * sizeof *k);
    for (uint32_t i = 0; i < n; i++) {
        const char *s = ps_sym_str(S->syms, a->a[i].name);
        uint64_t key = 0;
        for (unsigned b = 0; b < 8 && s[b]; b++)
            key |= (uint64_t)(unsigned char)s[b] << (56 - 8 * b);
        k[i].key = key;
        k[i].s = s;
        k[i].idx = i;
    }
    if (n <= 16) {
        name_key_isort(k, n);
    } else {
        name_key *tmp = ut_xmalloc((n / 2 + 1) * sizeof *tmp);
        name_key_msort(k, tmp, n);
        free(tmp);
    }
    for (uint32_t i = 0; i < n; i++)
        idx[i] = k[i].idx;
    if (k != local)
        free(k);
}

/* ---- contexts ------------------------------------------------------------ */

const char *ev_intern_str(ev_state *S, const char *s, size_t len)
{
    char *p = ut_hmap_get(S->intern, s, len);
    if (p)
        return p;
    p = ut_xstrndup(s, len);
    ut_hmap_put(S->intern, s, len, p);
    return p;
}

static void ctxset_insert(ev_ctxset *c, const char *e)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = strcmp(c->e[mid], e);
        if (r == 0)
            return;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->e = ut_xrealloc(c->e, c->cap * sizeof *c->e);
    }
    memmove(c->e + lo + 1, c->e + lo, (c->n - lo) * sizeof *c->e);
    c->e[lo] = e;
    c->n++;
}

void ev_ctxset_add(ev_state *S, ev_ctxset *c, const char *elem, size_t len)
{
    ctxset_insert(c, ev_intern_str(S, elem, len));
}

void ev_ctxset_add_ctx(ev_ctxset *c, const ev_context *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->h.n; i++)
        ctxset_insert(c, ctx->e[i]);
}

ev_context *ev_ctxset_finish(ev_state *S, ev_ctxset *c)
{
    ev_context *ctx = NULL;
    if (c->n) {
        ctx = ev_gc_alloc(S, EV_OBJ_CONTEXT, sizeof(ev_context) + c->n * sizeof(char *));
        ctx->h.n = (uint32_t)c->n;
        memcpy(ctx->e, c->e, c->n * sizeof(char *));
    }
    ev_ctxset_free(c);
    return ctx;
}

void ev_ctxset_free(ev_ctxset *c)
{
    free(c->e);
    c->e = NULL;
    c->n = c->cap = 0;
}

/* ---- type names ------------------------------------------------------- */

const char *ev_type_name(const ev_value *v)
{
    switch ((ev_type)v->type) {
    case EV_NULL: return "null";
    case EV_BOOL: return "a Boolean";
    case EV_INT: return "an integer";
    case EV_FLOAT: return "a float";
    case EV_STRING: return v->u.s->ctx ? "a string with context" : "a string";
    case EV_PATH: return "a path";
    case EV_ATTRS: return "a set";
    case EV_LIST: return "a list";
    case EV_LAMBDA: return "a function";
    case EV_PRIMOP: return "a built-in function";
    case EV_PRIMOP_APP: return "a partially applied built-in function";
    case EV_THUNK:
    case EV_APPI:
    case EV_LREF: return "a thunk";
    default: return "an internal value";
    }
}

const char *ev_typeof_name(const ev_value *v)
{
    switch ((ev_type)v->type) {
    case EV_NULL: return "null";
    case EV_BOOL: return "bool";
    case EV_INT: return "int";
    case EV_FLOAT: return "float";
    case EV_STRING: return "string";
    case EV_PATH: return "path";
    case EV_ATTRS: return "set";
    case EV_LIST: return "list";
    case EV_LAMBDA:
    case EV_PRIMOP:
    case EV_PRIMOP_APP: return "lambda";
    default: return "thunk";
    }
}

bool ev_is_function(const ev_value *v)
{
    return v->type == EV_LAMBDA || v->type == EV_PRIMOP || v->type == EV_PRIMOP_APP;
}

/* ---- typed forcing -------------------------------------------------- */

void ev_error_type(ev_state *S, ps_pos pos, const char *what, ev_value *v, const char *errctx)
{
    ut_buf b = UT_BUF_INIT;
    extern void ev_print_for_error(ev_state * S, ut_buf * out, ev_value * v);
    ev_print_for_error(S, &b, v);
    if (errctx)
        ev_trace_push(S, S->errctx_pos, errctx, NULL);
    char *msg = ut_buf_steal(&b, NULL);
    /* the message must outlive the longjmp: copy into the error directly */
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, "expected %s but found %s: %s", what, ev_type_name(v), msg);
    free(msg);
    char *full = ut_buf_steal(&m, NULL);
    extern UT_NORETURN void ev_error_owned(ev_state * S, ev_errkind kind, ps_pos pos, char *msg);
    /* with an error-context frame, the frame carries the location */
    ev_error_owned(S, EV_ERR_EVAL, errctx ? (ps_pos){0} : pos, full);
}

int64_t ev_force_int(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type != EV_INT)
        ev_error_type(S, pos, "an integer", v, errctx);
    return v->u.i;
}

double ev_force_float(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type == EV_INT)
        return (double)v->u.i;
    if (v->type != EV_FLOAT)
        ev_error_type(S, pos, "a float", v, errctx);
    return v->u.f;
}

bool ev_force_bool(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type != EV_BOOL)
        ev_error_type(S, pos, "a Boolean", v, errctx);
    return v->u.b;
}

ev_attrs *ev_force_attrs_any(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type != EV_ATTRS)
        ev_error_type(S, pos, "a set", v, errctx);
    return v->u.a;
}

ev_attrs *ev_force_attrs(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    return ev_attrs_flat(S, ev_force_attrs_any(S, v, pos, errctx));
}

ev_list *ev_force_list(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type != EV_LIST)
        ev_error_type(S, pos, "a list", v, errctx);
    return v->u.l;
}

void ev_force_function(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (ev_is_function(v))
        return;
    if (v->type == EV_ATTRS && ev_attrs_find(v->u.a, S->s_functor))
        return;
    ev_error_type(S, pos, "a function", v, errctx);
}

ev_string *ev_force_string(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type != EV_STRING)
        ev_error_type(S, pos, "a string", v, errctx);
    return v->u.s;
}

ev_string *ev_force_string_noctx(ev_state *S, ev_value *v, ps_pos pos, const char *errctx)
{
    ev_string *s = ev_force_string(S, v, pos, errctx);
    if (s->ctx && s->ctx->h.n) {
        const char *e = s->ctx->e[0];
        if (e[0] == '=' )
            e++;
        else if (e[0] == '!') {
            const char *p = strchr(e + 1, '!');
            e = p ? p + 1 : e;
        }
        if (errctx)
            ev_trace_push(S, S->errctx_pos, errctx, NULL);
        ev_error(S, EV_ERR_EVAL, pos, "the string '%s' is not allowed to refer to a store path (such as '%s')",
                 s->s, e);
    }
    return s;
}

/* ---- coercion -------------------------------------------------------- */

static bool is_derivation(ev_state *S, ev_attrs *a)
{
    ev_attr *t = ev_attrs_find(a, S->s_type);
    if (!t)
        return false;
    ev_force(S, &t->value, (ps_pos){0});
    return t->value.type == EV_STRING && t->value.u.s->len == 10 &&
           memcmp(t->value.u.s->s, "derivation", 10) == 0;
}

void ev_coerce_to_string(ev_state *S, ev_value *v, ps_pos pos, unsigned flags,
                         ut_buf *out, ev_ctxset *ctx, const char *errctx)
{
    ev_force(S, v, pos);
    switch (v->type) {
    case EV_STRING:
        ut_buf_append(out, v->u.s->s, v->u.s->len);
        if (ctx)
            ev_ctxset_add_ctx(ctx, v->u.s->ctx);
        return;
    case EV_PATH:
        if (flags & EV_COERCE_COPY_TO_STORE) {
            char *sp = ev_copy_path_to_store(S, v->u.s->s, pos);
            ut_buf_puts(out, sp);
            if (ctx)
                ev_ctxset_add(S, ctx, sp, strlen(sp));
            free(sp);
        } else {
            ut_buf_append(out, v->u.s->s, v->u.s->len);
        }
        return;
    case EV_ATTRS: {
        ev_attr *f = ev_attrs_find(v->u.a, S->s_toString);
        if (f) {
            ps_pos fpos = ev_pos_get(S, f->pos);
            size_t mark = ev_stack_mark(S);
            ev_value *slots = ev_stack_push(S, 3);
            slots[0] = f->value;
            slots[1] = *v;
            ev_trace_push(S, fpos, "while calling the `__toString` attribute", NULL);
            ev_call(S, &slots[0], 1, &slots[1], &slots[2], fpos);
            ev_trace_pop(S);
            ev_trace_push(S, fpos, "while using the result of the `__toString` attribute", NULL);
            ev_coerce_to_string(S, &slots[2], pos, flags, out, ctx, errctx);
            ev_trace_pop(S);
            ev_stack_reset(S, mark);
            return;
        }
        ev_attr *o = ev_attrs_find(v->u.a, S->s_outPath);
        if (o) {
            ev_trace_push(S, ev_pos_get(S, o->pos), "while evaluating the `outPath` attribute", NULL);
            ev_coerce_to_string(S, &o->value, pos, flags, out, ctx, errctx);
            ev_trace_pop(S);
            return;
        }
        break;
    }
    default:
        break;
    }
    if (flags & EV_COERCE_MORE) {
        switch (v->type) {
        case EV_BOOL:
            if (v->u.b)
                ut_buf_putc(out, '1');
            return;
        case EV_NULL:
            return;
        case EV_INT:
            put_int(out, v->u.i);
            return;
        case EV_FLOAT:
            ut_buf_printf(out, "%f", v->u.f);
            return;
        case EV_LIST: {
            size_t mark = ev_stack_mark(S);
            ev_value *hold = ev_stack_push(S, 1);
            *hold = *v;
            ev_list *l = v->u.l;
            /* an element's error is reported within the list's context,
             * as Nix adds it to an error out of an element */
            if (errctx)
                ev_trace_push(S, S->errctx_pos, errctx, NULL);
            for (uint32_t i = 0; i < l->h.n; i++) {
                ev_coerce_to_string(S, &l->v[i], pos, flags, out, ctx,
                                    "while evaluating one element of the list");
                if (i + 1 < l->h.n && !(l->v[i].type == EV_LIST && l->v[i].u.l->h.n == 0))
                    ut_buf_putc(out, ' ');
            }
            if (errctx)
                ev_trace_pop(S);
            ev_stack_reset(S, mark);
            return;
        }
        default:
            break;
        }
    }
    if (errctx)
        ev_trace_push(S, S->errctx_pos, errctx, NULL);
    ut_buf b = UT_BUF_INIT;
    extern void ev_print_for_error(ev_state * S, ut_buf * out, ev_value * v);
    ev_print_for_error(S, &b, v);
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, "cannot coerce %s to a string: %s", ev_type_name(v), b.data ? b.data : "");
    ut_buf_free(&b);
    extern UT_NORETURN void ev_error_owned(ev_state * S, ev_errkind kind, ps_pos pos, char *msg);
    ev_error_owned(S, EV_ERR_EVAL, errctx ? (ps_pos){0} : pos, ut_buf_steal(&m, NULL));
}

void ev_coerce_to_path(ev_state *S, ev_value *v, ps_pos pos, ut_buf *out, const char *errctx)
{
    ev_force(S, v, pos);
    if (v->type == EV_PATH) {
        ut_buf_append(out, v->u.s->s, v->u.s->len);
        return;
    }
    size_t start = out->len;
    ev_ctxset ctx = {0};
    ev_coerce_to_string(S, v, pos, 0, out, &ctx, errctx);
    ev_ctxset_free(&ctx);
    if (out->len == start || out->data[start] != '/') {
        char *s = ut_xstrdup(out->data + start);
        out->len = start;
        if (errctx)
            ev_trace_push(S, S->errctx_pos, errctx, NULL);
        ut_buf m = UT_BUF_INIT;
        ut_buf_printf(&m, "string '%s' doesn't represent an absolute path", s);
        free(s);
        extern UT_NORETURN void ev_error_owned(ev_state * S, ev_errkind kind, ps_pos pos, char *msg);
        ev_error_owned(S, EV_ERR_EVAL, pos, ut_buf_steal(&m, NULL));
    }
}

UT_NORETURN void ev_error_owned(ev_state *S, ev_errkind kind, ps_pos pos, char *msg);

/* ---- equality ----------------------------------------------------------- */

static bool equal_rec(ev_state *S, ev_value *a, ev_value *b, ps_pos pos, const char *errctx, bool nested)
{
    if (nested && a->type == b->type && a->type != EV_INT && a->type != EV_FLOAT &&
        a->type != EV_BOOL && a->type != EV_NULL && a->u.obj == b->u.obj &&
        a->type != EV_STRING && a->type != EV_PATH)
        return true;   /* the same value object (Nix compares Value pointers first) */
    ev_force(S, a, pos);
    ev_force(S, b, pos);
    if (a->type == EV_INT && b->type == EV_FLOAT)
        return (double)a->u.i == b->u.f;
    if (a->type == EV_FLOAT && b->type == EV_INT)
        return a->u.f == (double)b->u.i;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case EV_NULL: return true;
    case EV_BOOL: return a->u.b == b->u.b;
    case EV_INT: return a->u.i == b->u.i;
    case EV_FLOAT: return a->u.f == b->u.f;
    case EV_STRING:
    case EV_PATH:
        return a->u.s->len == b->u.s->len && memcmp(a->u.s->s, b->u.s->s, a->u.s->len) == 0;
    case EV_LIST: {
        ev_list *x = a->u.l, *y = b->u.l;
        if (x == y)
            return true;
        if (x->h.n != y->h.n)
            return false;
        ev_check_depth(S, pos);
        S->call_depth++;
        for (uint32_t i = 0; i < x->h.n; i++)
            if (!equal_rec(S, &x->v[i], &y->v[i], pos, errctx, true)) {
                S->call_depth--;
                return false;
            }
        S->call_depth--;
        return true;
    }
    case EV_ATTRS: {
        ev_attrs *x = ev_attrs_flat(S, a->u.a), *y = ev_attrs_flat(S, b->u.a);
        if (x == y)
            return true;
        if (is_derivation(S, x) && is_derivation(S, y)) {
            ev_attr *ox = ev_attrs_find(x, S->s_outPath), *oy = ev_attrs_find(y, S->s_outPath);
            if (ox && oy)
                return equal_rec(S, &ox->value, &oy->value, pos, errctx, true);
        }
        if (x->h.n != y->h.n)
            return false;
        for (uint32_t i = 0; i < x->h.n; i++)
            if (x->a[i].name != y->a[i].name)
                return false;
        ev_check_depth(S, pos);
        S->call_depth++;
        for (uint32_t i = 0; i < x->h.n; i++)
            if (!equal_rec(S, &x->a[i].value, &y->a[i].value, pos, errctx, true)) {
                S->call_depth--;
                return false;
            }
        S->call_depth--;
        return true;
    }
    case EV_LAMBDA:
    case EV_PRIMOP:
    case EV_PRIMOP_APP:
        return false;
    default:
        return false;
    }
}

bool ev_equal(ev_state *S, ev_value *a, ev_value *b, ps_pos pos, const char *errctx)
{
    return equal_rec(S, a, b, pos, errctx, false);
}

/* ---- ordering ------------------------------------------------------------ */

int ev_compare(ev_state *S, ev_value *a, ev_value *b, ps_pos pos, const char *errctx)
{
    ev_force(S, a, pos);
    ev_force(S, b, pos);
    if ((a->type == EV_INT || a->type == EV_FLOAT) && (b->type == EV_INT || b->type == EV_FLOAT)) {
        if (a->type == EV_INT && b->type == EV_INT)
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        double x = a->type == EV_INT ? (double)a->u.i : a->u.f;
        double y = b->type == EV_INT ? (double)b->u.i : b->u.f;
        return x < y ? -1 : x > y;
    }
    if (a->type == b->type) {
        switch (a->type) {
        case EV_STRING:
        case EV_PATH: {
            size_t n = a->u.s->len < b->u.s->len ? a->u.s->len : b->u.s->len;
            int r = memcmp(a->u.s->s, b->u.s->s, n);
            if (r)
                return r < 0 ? -1 : 1;
            return a->u.s->len < b->u.s->len ? -1 : a->u.s->len > b->u.s->len;
        }
        case EV_LIST: {
            ev_list *x = a->u.l, *y = b->u.l;
            for (uint32_t i = 0;; i++) {
                if (i == y->h.n)
                    return i == x->h.n ? 0 : 1;
                if (i == x->h.n)
                    return -1;
                if (!ev_equal(S, &x->v[i], &y->v[i], pos, errctx))
                    return ev_compare(S, &x->v[i], &y->v[i], pos, "while comparing two list elements");
            }
        }
        default:
            break;
        }
    }
    if (errctx)
        ev_trace_push(S, S->errctx_pos, errctx, NULL);
    {
        extern void ev_print_for_error(ev_state * S, ut_buf * out, ev_value * v);
        ut_buf x = UT_BUF_INIT, y = UT_BUF_INIT, m = UT_BUF_INIT;
        ev_print_for_error(S, &x, a);
        ev_print_for_error(S, &y, b);
        if (a->type == b->type)
            ut_buf_printf(&m, "cannot compare %s with %s; values of that type are incomparable (values are %s and %s)",
                          ev_type_name(a), ev_type_name(b), x.data, y.data);
        else
            ut_buf_printf(&m, "cannot compare %s with %s; values are %s and %s", ev_type_name(a), ev_type_name(b),
                          x.data, y.data);
        ut_buf_free(&x);
        ut_buf_free(&y);
        ev_error_owned(S, EV_ERR_EVAL, pos, ut_buf_steal(&m, NULL));
    }
}

/* ---- assertion explanations ------------------------------------------- */

/* When `assert a == b` fails, Nix compares again and reports the first
 * difference with a trail of frames (assertEqValues); same here. */
static char *show_for_assert(ev_state *S, ev_value *v)
{
    ut_buf b = UT_BUF_INIT;
    extern void ev_print_for_error(ev_state * S, ut_buf * out, ev_value * v);
    ev_print_for_error(S, &b, v);
    return ut_buf_steal(&b, NULL);
}

UT_NORETURN void ev_error_owned(ev_state *S, ev_errkind kind, ps_pos pos, char *msg);

UT_NORETURN static void neq(ev_state *S, ps_pos pos, const char *fmt, ev_value *a, ev_value *b)
{
    char *x = show_for_assert(S, a), *y = show_for_assert(S, b);
    ut_buf m = UT_BUF_INIT;
    ut_buf_printf(&m, fmt, x, y);
    free(x);
    free(y);
    ev_error_owned(S, EV_ERR_ASSERT, pos, ut_buf_steal(&m, NULL));
}

void ev_assert_equal(ev_state *S, ev_value *a, ev_value *b, ps_pos pos);
void ev_assert_equal(ev_state *S, ev_value *a, ev_value *b, ps_pos pos)
{
    (void)pos;
    ps_pos nopos = {0};
    ev_force(S, a, pos);
    ev_force(S, b, pos);
    if (a->type == EV_INT && b->type == EV_FLOAT) {
        if ((double)a->u.i != b->u.f)
            neq(S, nopos, "an integer with value '%s' is not equal to a float with value '%s'", a, b);
        return;
    }
    if (a->type == EV_FLOAT && b->type == EV_INT) {
        if (a->u.f != (double)b->u.i)
            neq(S, nopos, "a float with value '%s' is not equal to an integer with value '%s'", a, b);
        return;
    }
    if (a->type != b->type) {
        char *x = show_for_assert(S, a), *y = show_for_assert(S, b);
        ut_buf m = UT_BUF_INIT;
        ut_buf_printf(&m, "%s of value '%s' is not equal to %s of value '%s'", ev_type_name(a), x,
                      ev_type_name(b), y);
        free(x);
        free(y);
        ev_error_owned(S, EV_ERR_ASSERT, nopos, ut_buf_steal(&m, NULL));
    }
    switch (a->type) {
    case EV_INT:
        if (a->u.i != b->u.i)
            neq(S, nopos, "an integer with value '%s' is not equal to an integer with value '%s'", a, b);
        return;
    case EV_FLOAT:
        if (a->u.f != b->u.f)
            neq(S, nopos, "a float with value '%s' is not equal to a float with value '%s'", a, b);
        return;
    case EV_BOOL:
        if (a->u.b != b->u.b)
            neq(S, nopos, "boolean '%s' is not equal to boolean '%s'", a, b);
        return;
    case EV_STRING:
        if (!ev_equal(S, a, b, pos, NULL))
            neq(S, nopos, "string '%s' is not equal to string '%s'", a, b);
        return;
    case EV_PATH:
        if (!ev_equal(S, a, b, pos, NULL)) {
            ut_buf m = UT_BUF_INIT;
            ut_buf_printf(&m, "path '%s' is not equal to path '%s'", a->u.s->s, b->u.s->s);
            ev_error_owned(S, EV_ERR_ASSERT, nopos, ut_buf_steal(&m, NULL));
        }
        return;
    case EV_NULL:
        return;
    case EV_LIST: {
        ev_list *x = a->u.l, *y = b->u.l;
        if (x->h.n != y->h.n) {
            char *l = show_for_assert(S, a), *r = show_for_assert(S, b);
            ut_buf m = UT_BUF_INIT;
            ut_buf_printf(&m, "list of size '%u' is not equal to list of size '%u', left hand side is '%s', right hand side is '%s'",
                          x->h.n, y->h.n, l, r);
            free(l);
            free(r);
            ev_error_owned(S, EV_ERR_ASSERT, nopos, ut_buf_steal(&m, NULL));
        }
        for (uint32_t i = 0; i < x->h.n; i++) {
            ev_trace_push(S, pos, "while comparing list element %ld", NULL);
            extern void ev_trace_set_iarg(ev_state * S, long v);
            ev_trace_set_iarg(S, (long)i);
            ev_assert_equal(S, &x->v[i], &y->v[i], pos);
            ev_trace_pop(S);
        }
        return;
    }
    case EV_ATTRS: {
        ev_attrs *x = ev_attrs_flat(S, a->u.a), *y = ev_attrs_flat(S, b->u.a);
        if (is_derivation(S, x) && is_derivation(S, y)) {
            ev_attr *ox = ev_attrs_find(x, S->s_outPath), *oy = ev_attrs_find(y, S->s_outPath);
            if (ox && oy) {
                ev_trace_push(S, pos, "while comparing a derivation by its '%s' attribute", "outPath");
                ev_assert_equal(S, &ox->value, &oy->value, pos);
                ev_trace_pop(S);
                return;
            }
        }
        bool same = x->h.n == y->h.n;
        for (uint32_t i = 0; same && i < x->h.n; i++)
            same = x->a[i].name == y->a[i].name;
        if (!same)
            neq(S, nopos, "attribute names of attribute set '%s' differs from attribute set '%s'", a, b);
        uint32_t *idx = ev_scratch_alloc(S, (x->h.n + 1) * sizeof *idx);
        ev_attrs_sorted_by_name(S, x, idx);
        for (uint32_t k = 0; k < x->h.n; k++) {
            uint32_t i = idx[k];
            const char *nm = ps_sym_str(S->syms, x->a[i].name);
            ev_trace_push(S, pos, "while comparing attribute '%s'", nm);
            ev_trace_push(S, ev_pos_get(S, x->a[i].pos), "where left hand side is", NULL);
            ev_trace_push(S, ev_pos_get(S, y->a[i].pos), "where right hand side is", NULL);
            ev_assert_equal(S, &x->a[i].value, &y->a[i].value, pos);
            ev_trace_pop(S);
            ev_trace_pop(S);
            ev_trace_pop(S);
        }
        return;
    }
    case EV_LAMBDA:
    case EV_PRIMOP:
    case EV_PRIMOP_APP:
        ev_error(S, EV_ERR_ASSERT, nopos, "distinct functions and immediate comparisons of identical functions compare as unequal");
    default:
        return;
    }
}
